//! Archive layout: every accepted message is stored once, before it is acknowledged, under a
//! key that sorts by protocol and acceptance day (`ots/2026/11/23/<message id>.json`), so
//! replay and retention list a day with one prefix.

use alloc::format;
use alloc::string::String;

use crate::common::time::civil;

/// The archive key of message `message_id` of `area` (`ots`, `dip`) accepted at `accepted_at_ms`.
pub fn key(area: &str, accepted_at_ms: u64, message_id: &str) -> String {
    let (y, m, d, ..) = civil(accepted_at_ms);
    format!("{area}/{y:04}/{m:02}/{d:02}/{message_id}.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_sorts_by_day() {
        assert_eq!(super::key("ots", 1_684_384_980_000, "abc"), "ots/2023/05/18/abc.json");
    }
}
