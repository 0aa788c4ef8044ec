//! Spin's own interfaces (`fermyon:spin/*@2.0.0`, generated from the WIT inside spin-sdk),
//! each limited to what the calling component declares in the manifest:
//! - key-value: only the labels in `key_value_stores` open; any other label is
//!   `access-denied`, as on Spin.
//! - variables: only the names in `[component.X.variables]`; any other is `undefined`.
//! - sqlite: only the labels in `sqlite_databases`; any other is `access-denied`.

use crate::app::Ctx;
use crate::manifest::check_variable_name;
use rusqlite::types::{Value as SqlValue, ValueRef};
use wasmtime::component::{HasSelf, Linker, Resource};

wasmtime::component::bindgen!({
    world: "host",
    path: "wit",
    with: {
        "fermyon:spin/key-value.store": KvStore,
        "fermyon:spin/sqlite.connection": SqliteConnection,
    },
});

use fermyon::spin::{key_value as kv, sqlite, variables};

/// An open key-value store: its label.
pub struct KvStore(String);

/// An open SQLite connection: its label.
pub struct SqliteConnection(String);

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

impl sqlite::Host for Ctx {}

impl sqlite::HostConnection for Ctx {
    fn open(&mut self, database: String) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        if !self.component().sqlite_databases.iter().any(|l| *l == database) {
            eprintln!("spin-host: component {} may not open SQLite database {database:?} (not in sqlite_databases)", self.component().id);
            return Err(sqlite::Error::AccessDenied);
        }
        self.table.push(SqliteConnection(database)).map_err(sql_io)
    }

    fn execute(&mut self, conn: Resource<SqliteConnection>, statement: String, parameters: Vec<sqlite::Value>) -> Result<sqlite::QueryResult, sqlite::Error> {
        let label = self.table.get(&conn).map_err(|_| sqlite::Error::InvalidConnection)?.0.clone();
        let db = self.app.state.sqlite(&label).map_err(sql_io)?;
        let db = db.lock().unwrap();
        let mut stmt = db.prepare(&statement).map_err(sql_io)?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let params: Vec<SqlValue> = parameters
            .into_iter()
            .map(|p| match p {
                sqlite::Value::Integer(i) => SqlValue::Integer(i),
                sqlite::Value::Real(f) => SqlValue::Real(f),
                sqlite::Value::Text(s) => SqlValue::Text(s),
                sqlite::Value::Blob(b) => SqlValue::Blob(b),
                sqlite::Value::Null => SqlValue::Null,
            })
            .collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(sql_io)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_io)? {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(match row.get_ref(i).map_err(sql_io)? {
                    ValueRef::Null => sqlite::Value::Null,
                    ValueRef::Integer(i) => sqlite::Value::Integer(i),
                    ValueRef::Real(f) => sqlite::Value::Real(f),
                    ValueRef::Text(t) => sqlite::Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => sqlite::Value::Blob(b.to_vec()),
                });
            }
            out.push(sqlite::RowResult { values });
        }
        Ok(sqlite::QueryResult { columns, rows: out })
    }

    fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}
