//! State that outlives requests and restarts, kept under the `--state` directory:
//! - `key_value.db`: one SQLite table per key-value store label (`kv:<label>`).
//! - `sqlite/<label>.db`: one SQLite database per `sqlite_databases` label.
//!
//! Every write is committed before the call returns to the component, so a SIGKILL after a
//! response loses nothing the component was told was stored. One connection per file,
//! shared by every request behind a mutex: calls are short and serialised, as Spin's own
//! default SQLite-backed key-value store serialises them.

use anyhow::{Context, Result};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct SqlOutcome {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub last_insert_rowid: i64,
    pub changes: u64,
}

pub struct State {
    kv: Mutex<Connection>,
    sqlite_dir: PathBuf,
    sqlite: Mutex<HashMap<String, Arc<Mutex<Connection>>>>,
}

fn table(label: &str) -> String {
    format!("\"kv:{}\"", label.replace('"', "\"\""))
}

impl State {
    pub fn open(dir: &Path) -> Result<State> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let kv = Connection::open(dir.join("key_value.db")).context("opening key_value.db")?;
        kv.pragma_update(None, "journal_mode", "WAL")?;
        kv.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(State { kv: Mutex::new(kv), sqlite_dir: dir.join("sqlite"), sqlite: Mutex::new(HashMap::new()) })
    }

    /// Creates the table for `label` if needed (at start-up, for every declared label).
    pub fn kv_create(&self, label: &str) -> Result<()> {
        let t = table(label);
        self.kv.lock().unwrap().execute_batch(&format!("CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"))?;
        Ok(())
    }

    pub fn kv_get(&self, label: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let db = self.kv.lock().unwrap();
        Ok(db.query_row(&format!("SELECT value FROM {} WHERE key = ?1", table(label)), params![key], |r| r.get(0)).optional()?)
    }

    pub fn kv_set(&self, label: &str, key: &str, value: &[u8]) -> Result<()> {
        let db = self.kv.lock().unwrap();
        db.execute(&format!("INSERT INTO {} (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", table(label)), params![key, value])?;
        Ok(())
    }

    pub fn kv_delete(&self, label: &str, key: &str) -> Result<()> {
        let db = self.kv.lock().unwrap();
        db.execute(&format!("DELETE FROM {} WHERE key = ?1", table(label)), params![key])?;
        Ok(())
    }

    pub fn kv_exists(&self, label: &str, key: &str) -> Result<bool> {
        Ok(self.kv_get(label, key)?.is_some())
    }

    pub fn kv_keys(&self, label: &str) -> Result<Vec<String>> {
        let db = self.kv.lock().unwrap();
        let mut stmt = db.prepare(&format!("SELECT key FROM {} ORDER BY key", table(label)))?;
        let keys = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(keys)
    }

    /// Runs one statement on database `label`; the rowid and change count are read under the
    /// same lock, so they are this statement's even when requests run side by side.
    pub fn sqlite_execute(&self, label: &str, statement: &str, parameters: Vec<Value>) -> Result<SqlOutcome> {
        let db = self.sqlite(label)?;
        let db = db.lock().unwrap();
        let mut stmt = db.prepare(statement)?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = Vec::new();
        {
            let mut cursor = stmt.query(rusqlite::params_from_iter(parameters))?;
            while let Some(row) = cursor.next()? {
                rows.push((0..columns.len()).map(|i| row.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()?);
            }
        }
        Ok(SqlOutcome { columns, rows, last_insert_rowid: db.last_insert_rowid(), changes: db.changes() })
    }

    /// The connection of SQLite database `label`, opened (and created) on first use.
    fn sqlite(&self, label: &str) -> Result<Arc<Mutex<Connection>>> {
        let mut open = self.sqlite.lock().unwrap();
        if let Some(c) = open.get(label) {
            return Ok(c.clone());
        }
        std::fs::create_dir_all(&self.sqlite_dir)?;
        let file: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
        let conn = Connection::open(self.sqlite_dir.join(format!("{file}.db")))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let c = Arc::new(Mutex::new(conn));
        open.insert(label.to_string(), c.clone());
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_survives_reopen_and_stores_are_separate() {
        let dir = std::env::temp_dir().join(format!("spin-host-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let s = State::open(&dir).unwrap();
            s.kv_create("default").unwrap();
            s.kv_create("other").unwrap();
            s.kv_set("default", "k", b"v1").unwrap();
            s.kv_set("default", "k", b"v2").unwrap();
            s.kv_set("other", "x", b"y").unwrap();
        }
        let s = State::open(&dir).unwrap();
        assert_eq!(s.kv_get("default", "k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(s.kv_keys("default").unwrap(), ["k"]);
        assert!(!s.kv_exists("other", "k").unwrap());
        s.kv_delete("default", "k").unwrap();
        assert_eq!(s.kv_get("default", "k").unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
