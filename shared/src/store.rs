//! Typed access to the key-value tables (layout in [`crate::directory::keys`]). The host does
//! the I/O through the [`KeyValue`] port; this module only names keys and (de)serialises.

use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::{ClientRecord, Endpoint, RoutingIdConfig};
use crate::directory::{keys, Participant};
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

pub async fn list_type_known(kv: &impl KeyValue, list_type: &str) -> PortResult<bool> {
    Ok(kv.get(&keys::list_type(list_type)).await?.is_some())
}

pub async fn list_types(kv: &impl KeyValue) -> PortResult<Vec<String>> {
    let prefix = keys::list_type_prefix();
    Ok(kv.list(prefix).await?.into_iter().map(|k| String::from(&k[prefix.len()..])).collect())
}

pub async fn participant(kv: &impl KeyValue, list_type: &str, id: &str) -> PortResult<Option<Participant>> {
    get_json(kv, &keys::participant(list_type, id)).await
}

/// Every participant of a list type, in id order.
pub async fn participants(kv: &impl KeyValue, list_type: &str) -> PortResult<Vec<Participant>> {
    let mut out = Vec::new();
    for key in kv.list(&keys::participant_prefix(list_type)).await? {
        if let Some(p) = get_json::<Participant>(kv, &key).await? {
            out.push(p);
        }
    }
    Ok(out)
}

pub async fn endpoint(kv: &impl KeyValue, list_type: &str, id: &str) -> PortResult<Option<Endpoint>> {
    get_json(kv, &keys::endpoint(list_type, id)).await
}

pub async fn routing_id(kv: &impl KeyValue, routing_id: &str) -> PortResult<Option<RoutingIdConfig>> {
    get_json(kv, &keys::routing_id(routing_id)).await
}

pub async fn client(kv: &impl KeyValue, client_id: &str) -> PortResult<Option<ClientRecord>> {
    get_json(kv, &keys::client(client_id)).await
}
