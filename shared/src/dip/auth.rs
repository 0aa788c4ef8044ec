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

/// The caller the gateway authenticated by its API key (its trusted header).
pub fn key_owner_of(req: &HttpRequest) -> Option<&str> {
    req.header(crate::gateway::trusted::DIP_KEY_OWNER)
}

/// §10.4 for a request from `party`: `None` when it is signed as it must be, else the 401.
pub async fn signed_by(host: &impl crate::host::Host, req: &HttpRequest, party: &str) -> PortResult<Option<crate::common::http::HttpResponse>> {
    use super::signature;
    let Some(url) = req.header(crate::gateway::trusted::ADDRESSED_URL) else {
        return Err(crate::ports::PortError::new("the gateway did not hand on the addressed URL"));
    };
    let environment = config::environment(host.settings())?;
    let trust = super::store::trust(host.kv()?, environment, req.header(signature::headers::SIGNATURE_CERTIFICATE)).await?;
    let refused = || Ok(Some(crate::common::http::HttpResponse::empty(401)));
    let Ok(received) = signature::Received::from_request(req, url) else { return refused() };
    match signature::verify(host.verifier(), &trust, &received, party, host.now_ms()).await {
        Ok(_) => Ok(None),
        Err(signature::SignatureError::Host(e)) => Err(e),
        Err(_) => refused(),
    }
}
