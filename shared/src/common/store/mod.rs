//! Typed access to the key-value tables (layout in [`keys`]). The host does the I/O through
//! the [`KeyValue`] port; this module only names keys and (de)serialises. Protocol tables
//! (the OTS directory and routing IDs) have their accessors beside their types.

pub mod keys;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::common::config::{ClientRecord, Endpoint};
use crate::ports::{KeyValue, PortError, PortResult};

pub async fn get_json<T: DeserializeOwned>(kv: &impl KeyValue, key: &str) -> PortResult<Option<T>> {
    match kv.get(key).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PortError::new(alloc::format!("corrupt record {key}: {e}"))),
    }
}

pub async fn put_json<T: Serialize>(kv: &impl KeyValue, key: &str, value: &T) -> PortResult<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| PortError::new(alloc::format!("{e}")))?;
    kv.put(key, &bytes).await
}

/// A recipient's endpoint as stored (credentials still sealed).
pub async fn endpoint(kv: &impl KeyValue, list_type: &str, id: &str) -> PortResult<Option<Endpoint>> {
    get_json(kv, &keys::endpoint(list_type, id)).await
}

pub async fn client(kv: &impl KeyValue, client_id: &str) -> PortResult<Option<ClientRecord>> {
    get_json(kv, &keys::client(client_id)).await
}
