//! Per-client throttling (TOTSCo API v2.0 §2.1.8.1, 429/900804). A client's window opens
//! with its first message and lasts one minute; once its quota is used, it is told to come
//! back when the window closes ("one minute after first message arrives"). The host keeps
//! the window where updates are serialised (a Durable Object on Workers).

use serde::{Deserialize, Serialize};

pub const WINDOW_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub started_ms: u64,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Throttled { next_access_ms: u64 },
}

/// Counts one message against `limit` per minute; returns the decision and the window to keep.
pub fn hit(window: Option<Window>, limit: u32, now_ms: u64) -> (Decision, Window) {
    let current = window.filter(|w| now_ms < w.started_ms + WINDOW_MS);
    match current {
        None => (Decision::Allowed, Window { started_ms: now_ms, count: 1 }),
        Some(w) if w.count < limit => (Decision::Allowed, Window { count: w.count + 1, ..w }),
        Some(w) => (Decision::Throttled { next_access_ms: w.started_ms + WINDOW_MS }, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_opens_with_the_first_message() {
        let (d, w) = hit(None, 2, 1_000);
        assert_eq!(d, Decision::Allowed);
        let (d, w) = hit(Some(w), 2, 30_000);
        assert_eq!(d, Decision::Allowed);
        let (d, w) = hit(Some(w), 2, 59_000);
        assert_eq!(d, Decision::Throttled { next_access_ms: 61_000 });
        assert_eq!(w.count, 2, "refused messages do not count");
        let (d, w) = hit(Some(w), 2, 61_000);
        assert_eq!((d, w.started_ms, w.count), (Decision::Allowed, 61_000, 1));
    }
}
