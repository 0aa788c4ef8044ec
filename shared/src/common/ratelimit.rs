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

/// Places a caller may take from its window in one call to the store that keeps it: the
/// gateway spends them locally, so a throttled client costs one strongly consistent call per
/// few messages, not per message. Places taken but not spent (an isolate that went away)
/// count as used: a client is never let through more than its quota.
pub const PLACES_PER_RESERVATION: u32 = 8;

/// What a reservation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// `places` messages may go before `window_ends_ms`; the caller spends them.
    Granted { places: u32, window_ends_ms: u64 },
    Throttled { next_access_ms: u64 },
}

/// Takes up to `want` places of the window at once (at least one, when any is left).
pub fn reserve(window: Option<Window>, limit: u32, want: u32, now_ms: u64) -> (Reservation, Window) {
    let current = window.filter(|w| now_ms < w.started_ms + WINDOW_MS).unwrap_or(Window { started_ms: now_ms, count: 0 });
    let free = limit.saturating_sub(current.count);
    if free == 0 {
        return (Reservation::Throttled { next_access_ms: current.started_ms + WINDOW_MS }, current);
    }
    let places = free.min(want.max(1));
    (Reservation::Granted { places, window_ends_ms: current.started_ms + WINDOW_MS }, Window { count: current.count + places, ..current })
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

/// Throttling windows as SQL, for hosts whose only strongly consistent store is SQLite one
/// statement at a time (Spin): a window is replaced only if it is still the version that was
/// read (compare and set), and a host retries on a lost race.
pub mod sql {
    pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS throttle_windows (k TEXT PRIMARY KEY, v TEXT NOT NULL, version INTEGER NOT NULL)";
    /// (k) -> (v, version)
    pub const READ: &str = "SELECT v, version FROM throttle_windows WHERE k = ?1";
    /// (k, v) -> a row when the window was absent and is now written.
    pub const CREATE: &str = "INSERT INTO throttle_windows (k, v, version) VALUES (?1, ?2, 1) ON CONFLICT (k) DO NOTHING RETURNING k";
    /// (k, v, version read) -> a row when the window was still that version and is now replaced.
    pub const REPLACE: &str = "UPDATE throttle_windows SET v = ?2, version = version + 1 WHERE k = ?1 AND version = ?3 RETURNING k";
    /// Attempts before a host gives up on a window other hits keep changing.
    pub const ATTEMPTS: usize = 8;
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

    #[test]
    fn reservations_never_exceed_the_quota() {
        let (r, w) = reserve(None, 5, PLACES_PER_RESERVATION, 1_000);
        assert_eq!(r, Reservation::Granted { places: 5, window_ends_ms: 61_000 });
        assert_eq!(reserve(Some(w), 5, 8, 2_000).0, Reservation::Throttled { next_access_ms: 61_000 });
        let (r, w) = reserve(None, 20, 8, 0);
        assert_eq!((r, w.count), (Reservation::Granted { places: 8, window_ends_ms: 60_000 }, 8));
        let (r, w) = reserve(Some(w), 20, 8, 10);
        let (r2, _) = reserve(Some(w), 20, 8, 20);
        assert_eq!((r, r2), (Reservation::Granted { places: 8, window_ends_ms: 60_000 }, Reservation::Granted { places: 4, window_ends_ms: 60_000 }));
        assert_eq!(reserve(Some(w), 20, 8, 60_000).0, Reservation::Granted { places: 8, window_ends_ms: 120_000 }, "a new window");
    }

    #[test]
    fn windows_are_replaced_only_from_the_version_read() {
        use rusqlite::{params, Connection};
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(sql::SCHEMA).unwrap();
        let rows = |q: &str, p: &[&dyn rusqlite::ToSql]| db.prepare(q).unwrap().query_map(p, |_| Ok(())).unwrap().count();
        assert_eq!(rows(sql::CREATE, params!["k", "w1"]), 1);
        assert_eq!(rows(sql::CREATE, params!["k", "w1"]), 0, "created once");
        let version: i64 = db.query_row(sql::READ, params!["k"], |r| r.get(1)).unwrap();
        assert_eq!(rows(sql::REPLACE, params!["k", "w2", version]), 1);
        assert_eq!(rows(sql::REPLACE, params!["k", "w3", version]), 0, "a second writer from the same read loses");
    }
}
