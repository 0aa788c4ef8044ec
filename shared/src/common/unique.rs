//! The strongly consistent key set ([`crate::ports::Unique`]) as SQL, for hosts whose storage
//! is SQLite (a Durable Object's, Spin's): one statement checks and records a key, so of two
//! inserts of one key exactly one records it.

pub mod sql {
    pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS unique_keys (k TEXT PRIMARY KEY, v TEXT NOT NULL)";
    /// (k, v) -> one row (`k`) when the key was absent and is now recorded, none when it was there.
    pub const INSERT: &str = "INSERT INTO unique_keys (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO NOTHING RETURNING k";
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_recorded_once() {
        use rusqlite::{params, Connection};
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(super::sql::SCHEMA).unwrap();
        let insert = |k: &str| db.prepare(super::sql::INSERT).unwrap().query_map(params![k, "v"], |_| Ok(())).unwrap().count();
        assert_eq!(insert("dip/1/S-1"), 1);
        assert_eq!(insert("dip/1/S-1"), 0);
        assert_eq!(insert("dip/1/S-2"), 1);
    }
}
