//! Typed access to the key-value tables (layout in [`keys`]). The host does the I/O through
//! the [`KeyValue`] port; this module only names keys and (de)serialises. Protocol tables
//! (the OTS directory and routing IDs) have their accessors beside their types. Every change
//! of configuration goes through [`commit`] or [`remove`], which move [`keys::GENERATION`] on,
//! so a host may cache configuration and stay exactly as current as its store.

pub mod keys;

use serde::de::DeserializeOwned;
use serde::Serialize;

use alloc::string::String;
use alloc::vec::Vec;

use crate::common::config::{ClientRecord, Endpoint};
use crate::ports::{Entropy, KeyValue, PortError, PortResult};

/// Writes configuration records, then moves the generation on.
pub async fn commit(kv: &impl KeyValue, entropy: &impl Entropy, writes: &[(String, Vec<u8>)]) -> PortResult<()> {
    for (k, v) in writes {
        kv.put(k, v).await?;
    }
    bump(kv, entropy).await
}

/// Deletes configuration records, then moves the generation on.
pub async fn remove(kv: &impl KeyValue, entropy: &impl Entropy, keys: &[String]) -> PortResult<()> {
    for k in keys {
        kv.delete(k).await?;
    }
    bump(kv, entropy).await
}

async fn bump(kv: &impl KeyValue, entropy: &impl Entropy) -> PortResult<()> {
    kv.put(keys::GENERATION, crate::common::ids::uuid_v4(entropy)?.as_bytes()).await
}

pub async fn get_json<T: DeserializeOwned>(kv: &impl KeyValue, key: &str) -> PortResult<Option<T>> {
    match kv.get(key).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PortError::new(alloc::format!("corrupt record {key}: {e}"))),
    }
}

/// A record as [`commit`] takes it.
pub fn record<T: Serialize>(key: &str, value: &T) -> PortResult<(String, Vec<u8>)> {
    Ok((key.into(), serde_json::to_vec(value).map_err(|e| PortError::new(alloc::format!("{e}")))?))
}

/// Writes a record that is not configuration (caches are not told).
pub async fn put_json<T: Serialize>(kv: &impl KeyValue, key: &str, value: &T) -> PortResult<()> {
    let (k, bytes) = record(key, value)?;
    kv.put(&k, &bytes).await
}

/// A recipient's endpoint as stored (credentials still sealed).
pub async fn endpoint(kv: &impl KeyValue, list_type: &str, id: &str) -> PortResult<Option<Endpoint>> {
    get_json(kv, &keys::endpoint(list_type, id)).await
}

pub async fn client(kv: &impl KeyValue, client_id: &str) -> PortResult<Option<ClientRecord>> {
    get_json(kv, &keys::client(client_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, MemHost};

    #[test]
    fn every_change_of_configuration_moves_the_generation_on() {
        let h = MemHost::new();
        let generation = || block_on(h.kv.get(keys::GENERATION)).unwrap();
        block_on(commit(&h.kv, &h, &[(keys::client("c"), b"{}".to_vec())])).unwrap();
        let first = generation().expect("a commit sets the generation");
        block_on(remove(&h.kv, &h, &[keys::client("c")])).unwrap();
        assert_ne!(generation().unwrap(), first);
        assert!(keys::is_config(&keys::endpoint("RCPID", "A")) && keys::is_config(&keys::routing_id("r")));
        assert!(!keys::is_config(&keys::outbound_token("RCPID", "A")) && !keys::is_config(keys::GENERATION));
    }
}
