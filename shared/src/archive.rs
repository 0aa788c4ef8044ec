//! Archive layout: every accepted message is stored once, before it is acknowledged, under a
//! key that sorts by acceptance day (`ots/2026/11/23/<message id>.json`).

use alloc::format;
use alloc::string::String;

use crate::time::civil;

pub fn ots_key(accepted_at_ms: u64, message_id: &str) -> String {
    let (y, m, d, ..) = civil(accepted_at_ms);
    format!("ots/{y:04}/{m:02}/{d:02}/{message_id}.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_sorts_by_day() {
        assert_eq!(super::ots_key(1_684_384_980_000, "abc"), "ots/2023/05/18/abc.json");
    }
}
