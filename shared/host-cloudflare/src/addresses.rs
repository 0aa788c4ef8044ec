//! The address table on Cloudflare: [`switchyard_core::common::address_table::SHARDS`] Durable
//! Objects with SQLite storage (class `AddressShard`, defined by send, bound by admin with
//! `script_name`), each holding the rows whose key hashes to it. A Durable Object runs one
//! request's storage calls at a time and its SQLite is the only copy, so a read after a write
//! sees it, on every Worker. A bulk put is one call per shard, and a shard writes all its
//! rows without an `await` in between: the runtime commits them as one transaction.

use futures_util::future::try_join_all;
use switchyard_core::common::address_table::{self, sql};
use switchyard_core::ports::{AddressTable, PortError, PortResult};
use worker::{Method, ObjectNamespace, Request, RequestInit, Response, SqlStorageValue as V, State};

fn err(e: impl std::fmt::Display) -> PortError {
    PortError::new(e.to_string())
}

/// Rows a shard binds to one statement, by size: SQLite in a Durable Object takes values up
/// to 2 MB, so a shard's rows go as several statements when they are larger.
const MAX_STATEMENT_ROWS_BYTES: usize = 512 * 1024;

pub struct CfAddressTable(pub ObjectNamespace);

impl CfAddressTable {
    async fn call(&self, shard: &str, op: &str, body: Vec<u8>) -> PortResult<Response> {
        let stub = self.0.id_from_name(shard).map_err(err)?.get_stub().map_err(err)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
        let req = Request::new_with_init(&format!("https://addresses.internal/{op}"), &init).map_err(err)?;
        stub.fetch_with_request(req).await.map_err(err)
    }
}

async fn unexpected(shard: &str, mut resp: Response) -> PortError {
    PortError::new(format!("address shard {shard} answered {}: {}", resp.status_code(), resp.text().await.unwrap_or_default()))
}

impl AddressTable for CfAddressTable {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        let shard = address_table::shard_of(key);
        let mut resp = self.call(&shard, "get", key.as_bytes().to_vec()).await?;
        match resp.status_code() {
            200 => resp.bytes().await.map(Some).map_err(err),
            404 => Ok(None),
            _ => Err(unexpected(&shard, resp).await),
        }
    }

    /// One call per shard, all at once. The body is one line per statement, each line a
    /// JSON array of `[key, value]` pairs (values are JSON, so they go in as they are).
    async fn put_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<()> {
        let calls = address_table::by_shard(entries).into_iter().map(|(shard, rows)| async move {
            let mut body = Vec::with_capacity(rows.iter().map(|(k, v)| k.len() + v.len() + 8).sum());
            let mut line_start = 0;
            for (key, value) in rows {
                if body.len() > line_start && body.len() - line_start + value.len() > MAX_STATEMENT_ROWS_BYTES {
                    body.extend_from_slice(b"]\n");
                    line_start = body.len();
                }
                body.push(if body.len() == line_start { b'[' } else { b',' });
                body.push(b'[');
                body.extend_from_slice(serde_json::to_string(key).map_err(err)?.as_bytes());
                body.push(b',');
                body.extend_from_slice(value);
                body.push(b']');
            }
            body.push(b']');
            let resp = self.call(&shard, "put", body).await?;
            match resp.status_code() {
                200 => Ok(()),
                _ => Err(unexpected(&shard, resp).await),
            }
        });
        try_join_all(calls).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> PortResult<bool> {
        let shard = address_table::shard_of(key);
        let resp = self.call(&shard, "delete", key.as_bytes().to_vec()).await?;
        match resp.status_code() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(unexpected(&shard, resp).await),
        }
    }
}

/// Creates the shard's table (the object's constructor runs this once per instance).
pub fn address_shard_init(state: &State) {
    if let Err(e) = state.storage().sql().exec(sql::SCHEMA, None) {
        worker::console_error!("address table schema: {e}");
    }
}

/// The shard object's requests: `get` and `delete` (body: the key; 200 or 404) and `put`
/// (body: lines of `[[key, value], ...]`; 200 once every row is stored).
pub async fn address_shard_fetch(state: &State, mut req: Request) -> worker::Result<Response> {
    let body = req.bytes().await?;
    let sql = state.storage().sql();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|e| worker::Error::RustError(e.to_string()));
    match req.path().as_str() {
        "/get" => {
            let row: Option<Vec<V>> = sql.exec(sql::GET, vec![V::from(text(&body)?)])?.raw().next().transpose()?;
            match row.and_then(|r| r.into_iter().next()) {
                Some(V::String(history)) => Response::ok(history),
                _ => Ok(Response::empty()?.with_status(404)),
            }
        }
        "/put" => {
            // No await from here to the answer: the runtime commits these statements together.
            for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                sql.exec(sql::PUT_ROWS, vec![V::from(text(line)?)])?;
            }
            Response::ok("")
        }
        "/delete" => {
            let removed = sql.exec(sql::DELETE, vec![V::from(text(&body)?)])?.raw().next().transpose()?;
            Ok(Response::empty()?.with_status(if removed.is_some() { 200 } else { 404 }))
        }
        _ => Response::error("Not Found", 404),
    }
}
