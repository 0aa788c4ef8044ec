//! Typed access to the DIP's configuration tables (layout in `common::store::keys`).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use super::catalogue::Catalogue;
use super::config::{ChannelConfig, Mams, Participant, TrustAnchor as StoredAnchor};
use super::signature::{self, CertificateProfile, Trust, TrustAnchor};
use crate::common::store::{get_json, keys};
use crate::ports::{AddressTable, KeyValue, PortError, PortResult};

pub async fn participant(kv: &impl KeyValue, dip_id: &str) -> PortResult<Option<Participant>> {
    get_json(kv, &keys::dip_participant(dip_id)).await
}

/// Every participant, by DIP ID (always-addressing by role reads them all).
pub async fn participants(kv: &impl KeyValue) -> PortResult<BTreeMap<String, Participant>> {
    let prefix = keys::dip_participant("");
    let mut out = BTreeMap::new();
    for key in kv.list(&prefix).await? {
        if let Some(p) = get_json::<Participant>(kv, &key).await? {
            out.insert(key[prefix.len()..].into(), p);
        }
    }
    Ok(out)
}

/// A channel's configuration; a channel of the catalogue nobody configured lets no one send.
pub async fn channel(kv: &impl KeyValue, channel: &str) -> PortResult<ChannelConfig> {
    Ok(get_json(kv, &keys::dip_channel(channel)).await?.unwrap_or_default())
}

/// An MPAN's appointment history, from the address table (not KV: a million MPANs are data,
/// strongly consistent and loaded in bulk, see [`crate::ports::AddressTable`]).
pub async fn mams(table: &impl AddressTable, mpan_core: &str) -> PortResult<Option<Mams>> {
    match table.get(mpan_core).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| PortError::new(alloc::format!("corrupt MAMS record {mpan_core}: {e}"))),
    }
}

/// The stored catalogue's digest (changes with every upload), if one is loaded.
pub async fn catalogue_id(kv: &impl KeyValue) -> PortResult<Option<String>> {
    Ok(kv.get(keys::DIP_CATALOGUE_ID).await?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

pub async fn catalogue(kv: &impl KeyValue) -> PortResult<Option<Catalogue>> {
    get_json(kv, keys::DIP_CATALOGUE).await
}

/// What a signature check on `certificate_header` trusts now: every configured anchor (one
/// that does not parse is skipped: it can vouch for nothing), whether that certificate is
/// revoked, and the certificate profile of `environment`.
pub async fn trust(kv: &impl KeyValue, environment: &str, certificate_header: Option<&str>) -> PortResult<Trust> {
    let mut anchors = Vec::new();
    for key in kv.list(keys::dip_trust_anchor_prefix()).await? {
        if let Some(a) = get_json::<StoredAnchor>(kv, &key).await? {
            if let Ok(anchor) = TrustAnchor::from_pem(&a.certificate_pem) {
                anchors.push(anchor);
            }
        }
    }
    let mut revoked = BTreeSet::new();
    if let Some(der) = certificate_header.and_then(|h| signature::decode_certificate_header(h).ok()) {
        let fingerprint = signature::fingerprint(&der);
        if kv.get(&keys::dip_revoked(&fingerprint)).await?.is_some() {
            revoked.insert(fingerprint);
        }
    }
    Ok(Trust { anchors, revoked, profile: CertificateProfile::for_environment(environment) })
}

/// How many copies are in the dead-letter store, and the records of the first `limit`, oldest
/// id first (8.9.2; the operator's view of the alarm of 7.16).
pub async fn dead_letters(kv: &impl KeyValue, limit: usize) -> PortResult<(usize, Vec<super::delivery::DeadLetter>)> {
    let keys = kv.list(&keys::dip_dead_letter("")).await?;
    let mut out = Vec::new();
    for key in keys.iter().take(limit) {
        if let Some(d) = get_json(kv, key).await? {
            out.push(d);
        }
    }
    Ok((keys.len(), out))
}
