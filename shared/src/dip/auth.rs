//! DIP API keys (DSD002 9.12, 9.14; the DIP contract): two slots per participant, each
//! rotated on its own, stored only as salted hashes. A key names its owner and slot in the
//! clear (`dip.<DIPID>.<slot>.<64 hex>`), so the gateway finds the one hash to compare with in
//! a single read; the random part is all the secret there is.

use alloc::format;
use alloc::string::String;

use super::config::{self, ApiKeys};
use crate::common::auth::{secret, AuthError, AuthFailure};
use crate::common::http::HttpRequest;
use crate::common::store::{self, keys};
use crate::ports::{Entropy, KeyValue, PortResult};

/// The header a DIP caller presents its key in.
pub const API_KEY_HEADER: &str = "x-api-key";

pub fn mint_api_key(dip_id: &str, slot: &str, entropy: &impl Entropy) -> PortResult<String> {
    Ok(format!("dip.{dip_id}.{slot}.{}", crate::common::ids::random_hex(entropy, 32)?))
}

/// The owner and slot a presented key claims, if it has the shape of a key.
pub fn api_key_owner(key: &str) -> Option<(&str, &str)> {
    let mut parts = key.splitn(4, '.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("dip"), Some(id), Some(slot @ ("primary" | "secondary")), Some(rest)) if config::valid_dip_id(id) && rest.len() == 64 => {
            Some((id, slot))
        }
        _ => None,
    }
}

/// Whether `key` is the one its slot of `keys` holds now (constant-time comparison).
pub fn api_key_matches(keys: &ApiKeys, key: &str) -> bool {
    let Some((_, slot)) = api_key_owner(key) else { return false };
    let stored = if slot == "primary" { &keys.primary } else { &keys.secondary };
    stored.as_deref().is_some_and(|h| secret::verify(key, h))
}

/// The DIP ID whose current key the request carries in `X-API-Key`.
pub async fn key_owner(req: &HttpRequest, kv: &impl KeyValue) -> Result<String, AuthFailure> {
    let key = req.header(API_KEY_HEADER).ok_or(AuthError::Missing)?;
    let (owner, _) = api_key_owner(key).ok_or(AuthError::InvalidApiKey)?;
    let slots: ApiKeys = store::get_json(kv, &keys::dip_api_keys(owner)).await?.ok_or(AuthError::InvalidApiKey)?;
    if !api_key_matches(&slots, key) {
        return Err(AuthError::InvalidApiKey.into());
    }
    Ok(owner.into())
}
