//! Spin's own interfaces (`fermyon:spin/*@2.0.0`, generated from the WIT inside spin-sdk),
//! each limited to what the calling component declares in the manifest:
//! - key-value: only the labels in `key_value_stores` open; any other label is
//!   `access-denied`, as on Spin.
//! - variables: only the names in `[component.X.variables]`; any other is `undefined`.
//! - sqlite (`fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`): only the labels in
//!   `sqlite_databases`; any other is `access-denied`.

use crate::app::Ctx;
use crate::manifest::check_variable_name;
use rusqlite::types::Value as SqlValue;
use wasmtime::component::{HasSelf, Linker, Resource};

wasmtime::component::bindgen!({
    world: "host",
    path: "wit",
    with: {
        "fermyon:spin/key-value.store": KvStore,
        "fermyon:spin/sqlite.connection": SqliteConnection,
        "spin:sqlite/sqlite.connection": SqliteConnection,
    },
});

use fermyon::spin::{key_value as kv, sqlite, variables};
use spin::sqlite::sqlite as sqlite3;

/// An open key-value store: its label.
pub struct KvStore(String);

/// An open SQLite connection: its label, and what its last statement did (`spin:sqlite@3`).
pub struct SqliteConnection {
    label: String,
    last_insert_rowid: i64,
    changes: u64,
}

pub fn add_to_linker(linker: &mut Linker<Ctx>) -> wasmtime::Result<()> {
    // `Host_`: bindgen's name for world `host`.
    Host_::add_to_linker::<Ctx, HasSelf<Ctx>>(linker, |c| c)?;
    Ok(())
}

fn kv_other(e: impl std::fmt::Display) -> kv::Error {
    kv::Error::Other(e.to_string())
}

impl kv::Host for Ctx {}

impl kv::HostStore for Ctx {
    fn open(&mut self, label: String) -> Result<Resource<KvStore>, kv::Error> {
        if !self.component().key_value_stores.iter().any(|l| *l == label) {
            eprintln!("spin-host: component {} may not open key-value store {label:?} (not in key_value_stores)", self.component().id);
            return Err(kv::Error::AccessDenied);
        }
        self.table.push(KvStore(label)).map_err(kv_other)
    }

    fn get(&mut self, store: Resource<KvStore>, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        let label = &self.table.get(&store).map_err(kv_other)?.0;
        self.app.state.kv_get(label, &key).map_err(kv_other)
    }

    fn set(&mut self, store: Resource<KvStore>, key: String, value: Vec<u8>) -> Result<(), kv::Error> {
        let label = &self.table.get(&store).map_err(kv_other)?.0;
        self.app.state.kv_set(label, &key, &value).map_err(kv_other)
    }

    fn delete(&mut self, store: Resource<KvStore>, key: String) -> Result<(), kv::Error> {
        let label = &self.table.get(&store).map_err(kv_other)?.0;
        self.app.state.kv_delete(label, &key).map_err(kv_other)
    }

    fn exists(&mut self, store: Resource<KvStore>, key: String) -> Result<bool, kv::Error> {
        let label = &self.table.get(&store).map_err(kv_other)?.0;
        self.app.state.kv_exists(label, &key).map_err(kv_other)
    }

    fn get_keys(&mut self, store: Resource<KvStore>) -> Result<Vec<String>, kv::Error> {
        let label = &self.table.get(&store).map_err(kv_other)?.0;
        self.app.state.kv_keys(label).map_err(kv_other)
    }

    fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl variables::Host for Ctx {
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        if let Err(e) = check_variable_name(&name) {
            return Err(variables::Error::InvalidName(e.to_string()));
        }
        match self.component().variables.get(&name) {
            Some(v) => Ok(v.clone()),
            None => Err(variables::Error::Undefined(format!("no variable for {name:?}"))),
        }
    }
}

fn sql_io(e: impl std::fmt::Display) -> sqlite::Error {
    sqlite::Error::Io(e.to_string())
}

/// The values both SQLite interface versions share (their WIT is identical).
macro_rules! sql_values {
    ($m:ident) => {
        pub(super) fn to_sql(v: $m::Value) -> SqlValue {
            match v {
                $m::Value::Integer(i) => SqlValue::Integer(i),
                $m::Value::Real(f) => SqlValue::Real(f),
                $m::Value::Text(s) => SqlValue::Text(s),
                $m::Value::Blob(b) => SqlValue::Blob(b),
                $m::Value::Null => SqlValue::Null,
            }
        }

        fn from_sql(v: SqlValue) -> $m::Value {
            match v {
                SqlValue::Integer(i) => $m::Value::Integer(i),
                SqlValue::Real(f) => $m::Value::Real(f),
                SqlValue::Text(s) => $m::Value::Text(s),
                SqlValue::Blob(b) => $m::Value::Blob(b),
                SqlValue::Null => $m::Value::Null,
            }
        }

        pub(super) fn query_result(o: crate::state::SqlOutcome) -> $m::QueryResult {
            $m::QueryResult { columns: o.columns, rows: o.rows.into_iter().map(|r| $m::RowResult { values: r.into_iter().map(from_sql).collect() }).collect() }
        }
    };
}

mod v2 {
    use super::*;
    sql_values!(sqlite);
}

mod v3 {
    use super::*;
    sql_values!(sqlite3);
}

impl Ctx {
    fn sqlite_open(&mut self, database: String) -> Result<Resource<SqliteConnection>, bool> {
        if !self.component().sqlite_databases.iter().any(|l| *l == database) {
            eprintln!("spin-host: component {} may not open SQLite database {database:?} (not in sqlite_databases)", self.component().id);
            return Err(true);
        }
        self.table.push(SqliteConnection { label: database, last_insert_rowid: 0, changes: 0 }).map_err(|_| false)
    }

    fn sqlite_execute(&mut self, conn: &Resource<SqliteConnection>, statement: &str, parameters: Vec<SqlValue>) -> Result<crate::state::SqlOutcome, String> {
        let label = self.table.get(conn).map_err(|e| e.to_string())?.label.clone();
        let outcome = self.app.state.sqlite_execute(&label, statement, parameters).map_err(|e| format!("{e:#}"))?;
        if let Ok(c) = self.table.get_mut(conn) {
            c.last_insert_rowid = outcome.last_insert_rowid;
            c.changes = outcome.changes;
        }
        Ok(outcome)
    }
}

impl sqlite::Host for Ctx {}

impl sqlite::HostConnection for Ctx {
    fn open(&mut self, database: String) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        self.sqlite_open(database).map_err(|denied| if denied { sqlite::Error::AccessDenied } else { sqlite::Error::InvalidConnection })
    }

    fn execute(&mut self, conn: Resource<SqliteConnection>, statement: String, parameters: Vec<sqlite::Value>) -> Result<sqlite::QueryResult, sqlite::Error> {
        let params = parameters.into_iter().map(v2::to_sql).collect();
        self.sqlite_execute(&conn, &statement, params).map(v2::query_result).map_err(sql_io)
    }

    fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

impl sqlite3::Host for Ctx {}

impl sqlite3::HostConnection for Ctx {
    fn open(&mut self, database: String) -> Result<Resource<SqliteConnection>, sqlite3::Error> {
        self.sqlite_open(database).map_err(|denied| if denied { sqlite3::Error::AccessDenied } else { sqlite3::Error::InvalidConnection })
    }

    fn execute(&mut self, conn: Resource<SqliteConnection>, statement: String, parameters: Vec<sqlite3::Value>) -> Result<sqlite3::QueryResult, sqlite3::Error> {
        let params = parameters.into_iter().map(v3::to_sql).collect();
        self.sqlite_execute(&conn, &statement, params).map(v3::query_result).map_err(sqlite3::Error::Io)
    }

    fn last_insert_rowid(&mut self, conn: Resource<SqliteConnection>) -> i64 {
        self.table.get(&conn).map(|c| c.last_insert_rowid).unwrap_or(0)
    }

    fn changes(&mut self, conn: Resource<SqliteConnection>) -> u64 {
        self.table.get(&conn).map(|c| c.changes).unwrap_or(0)
    }

    fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}
