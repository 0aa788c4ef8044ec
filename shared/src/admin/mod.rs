//! The operator's rules: what a valid participant, endpoint, client and routing ID look like,
//! and which key-value writes a change (or a whole seed bundle) amounts to. The admin
//! function performs the writes; secrets are hashed or sealed here before they are stored.
//! Invalid input is an [`AdminError::Invalid`]; the admin API answers it with the OTS book's
//! generic 400.

pub mod bundle;
pub mod dip;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use self::bundle::Bundle;
use crate::common::auth::{seal, secret, token};
use crate::common::config::{ClientGrant, ClientRecord, Endpoint, EndpointAuth, KeySlot};
use crate::common::delivery::outbound::check_outbound_url;
use crate::common::store::keys;
use crate::ots::directory::Participant;
use crate::ots::routing::RoutingIdConfig;
use crate::ports::{Entropy, PortError};

/// One key-value write a change consists of.
pub type Write = (String, Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    Invalid(String),
    Host(PortError),
}

impl From<PortError> for AdminError {
    fn from(e: PortError) -> Self {
        AdminError::Host(e)
    }
}

impl From<AdminError> for crate::ots::errors::Failure {
    /// The admin API answers invalid input with the generic 400 body.
    fn from(e: crate::admin::AdminError) -> Self {
        match e {
            AdminError::Invalid(d) => crate::ots::errors::OtsError::BadRequest(d).into(),
            AdminError::Host(e) => e.into(),
        }
    }
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Identifiers used in keys and URLs: 1-64 characters of `[A-Za-z0-9._-]`.
pub fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `PUT /admin/v1/participants/{listType}/{id}`: the body is the directory entry without `id`.
pub fn participant_writes(list_type: &str, id: &str, body: &[u8]) -> Result<(Participant, Vec<Write>), AdminError> {
    if !valid_name(list_type) || !valid_name(id) {
        return Err(invalid("listType and id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"));
    }
    let mut doc: serde_json::Value = crate::common::json::parse_value(body).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
    let obj = doc.as_object_mut().ok_or_else(|| invalid("the body must be a JSON object"))?;
    match obj.get("id") {
        Some(v) if v.as_str() != Some(id) => return Err(invalid("id in the body differs from the path")),
        _ => {}
    }
    obj.insert("id".into(), serde_json::Value::String(id.into()));
    let p: Participant = serde_json::from_value(doc).map_err(|e| invalid(format!("invalid participant: {e}")))?;
    if p.name.trim().is_empty() {
        return Err(invalid("name is required"));
    }
    Ok(participant_entry(list_type, p))
}

fn participant_entry(list_type: &str, p: Participant) -> (Participant, Vec<Write>) {
    let writes = alloc::vec![(keys::list_type(list_type), b"1".to_vec()), (keys::participant(list_type, &p.id), json(&p))];
    (p, writes)
}

/// Validates an endpoint and seals its outbound credentials for storage under `record_key`
/// (the key the endpoint is stored at: the sealed value opens only there). Addresses the hub
/// may not call are refused, and so are values that are already sealed: a sealed value is
/// only ever made here, from clear text, so one presented by a caller was copied.
pub fn sealed_endpoint(mut e: Endpoint, seal_key: &[u8], entropy: &impl Entropy, allow_loopback_http: bool, record_key: &str) -> Result<Endpoint, AdminError> {
    let check = |url: &str, what: &str| {
        check_outbound_url(url, allow_loopback_http).map_err(|e| {
            let why = match e {
                crate::ports::OutboundError::Refused(why) => why,
                other => format!("{other:?}"),
            };
            invalid(format!("{what} is not an address the hub may call: {why}"))
        })
    };
    check(&e.url, "url")?;
    let mut nonce = [0u8; seal::NONCE_LEN];
    entropy.fill(&mut nonce)?;
    let seal_value = |value: &mut String, what: &str| {
        if seal::is_sealed(value) {
            return Err(invalid(format!("{what} must be given in clear; sealed values are refused")));
        }
        *value = seal::seal(seal_key, &nonce, record_key.as_bytes(), value);
        Ok(())
    };
    match &mut e.auth {
        EndpointAuth::Oauth2 { token_url, client_id, client_secret } => {
            check(token_url, "auth.tokenUrl")?;
            if client_id.is_empty() || client_secret.is_empty() {
                return Err(invalid("auth.clientId and auth.clientSecret are required"));
            }
            seal_value(client_secret, "auth.clientSecret")?;
        }
        EndpointAuth::Apikey { key, expires_at } => {
            if crate::common::time::parse_rfc3339(expires_at).is_none() {
                return Err(invalid("auth.expiresAt must be an RFC 3339 date-time"));
            }
            // TOTSCo API v2.0 §3.2.2: recipients accept API keys of up to 5000 characters.
            if key.is_empty() || key.len() > token::MAX_TOKEN_LEN {
                return Err(invalid("auth.key must be 1-5000 characters"));
            }
            seal_value(key, "auth.key")?;
        }
        EndpointAuth::None => {}
    }
    Ok(e)
}

/// The endpoint as the admin API shows it: credentials are never returned.
pub fn redacted_endpoint(mut e: Endpoint) -> Endpoint {
    match &mut e.auth {
        EndpointAuth::Oauth2 { client_secret, .. } => *client_secret = "********".into(),
        EndpointAuth::Apikey { key, .. } => *key = "********".into(),
        EndpointAuth::None => {}
    }
    e
}

pub fn validate_grant(g: &ClientGrant) -> Result<(), AdminError> {
    if g.identities.is_empty() {
        return Err(invalid("identities must name at least one {listType, id}"));
    }
    if let Some(bad) = g.networks.iter().find(|n| !crate::common::net::valid_cidr(n)) {
        return Err(invalid(format!("networks: {bad} is not a CIDR block")));
    }
    if g.rate_limit.is_some_and(|r| r.messages_per_minute == 0) {
        return Err(invalid("rateLimit.messagesPerMinute must be at least 1"));
    }
    Ok(())
}

/// A client record with `secret` hashed under a fresh salt.
pub fn client_record(client_id: &str, secret_plain: &str, grant: ClientGrant, entropy: &impl Entropy) -> Result<ClientRecord, AdminError> {
    if !valid_name(client_id) {
        return Err(invalid("client id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"));
    }
    if secret_plain.len() < crate::host::MIN_SECRET_LEN {
        return Err(invalid(format!("client secret must be at least {} characters", crate::host::MIN_SECRET_LEN)));
    }
    validate_grant(&grant)?;
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt)?;
    Ok(ClientRecord {
        client_id: client_id.into(),
        secret_hash: secret::hash(secret_plain, &salt),
        grant,
        primary_key: None,
        secondary_key: None,
    })
}

/// Mints an API key for one slot of `client` and stores only its hash there; the other slot
/// is untouched, so primary and secondary rotate independently.
pub fn rotate_key(client: &mut ClientRecord, slot: &str, token_secret: &[u8], now_ms: u64, entropy: &impl Entropy) -> Result<(String, u64), AdminError> {
    if slot != "primary" && slot != "secondary" {
        return Err(invalid("slot must be primary or secondary"));
    }
    let claims = token::Claims::issue(&client.client_id, now_ms, token::Kind::Apikey, Some(slot), crate::common::ids::uuid_v4(entropy)?);
    let key = token::mint(&claims, token_secret);
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt)?;
    let expires_at_ms = claims.exp * 1000;
    let entry = Some(KeySlot { key_hash: secret::hash(&key, &salt), expires_at_ms });
    if slot == "primary" {
        client.primary_key = entry;
    } else {
        client.secondary_key = entry;
    }
    Ok((key, expires_at_ms))
}

pub fn routing_id_writes(routing_id: &str, body: &[u8]) -> Result<Vec<Write>, AdminError> {
    if !valid_name(routing_id) {
        return Err(invalid("routingID must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"));
    }
    let cfg: RoutingIdConfig = crate::common::json::parse(body).map_err(|e| invalid(format!("invalid routing ID config: {e}")))?;
    routing_entry(routing_id, &cfg)
}

fn routing_entry(routing_id: &str, cfg: &RoutingIdConfig) -> Result<Vec<Write>, AdminError> {
    if cfg.process.trim().is_empty() {
        return Err(invalid("process is required"));
    }
    cfg.delivery_policy.validate().map_err(invalid)?;
    Ok(alloc::vec![(keys::routing_id(routing_id), json(cfg))])
}

/// Every write of a seed bundle (`POST /admin/v1/apply`). Applying the same bundle twice
/// leaves the same configuration (client secrets are re-hashed under new salts).
pub fn bundle_writes(bundle: &Bundle, seal_key: &[u8], entropy: &impl Entropy, allow_loopback_http: bool) -> Result<Vec<Write>, AdminError> {
    let mut writes = Vec::new();
    for sp in &bundle.participants {
        if !valid_name(&sp.list_type) || !valid_name(&sp.entry.id) {
            return Err(invalid(format!("participant {}/{}: invalid listType or id", sp.list_type, sp.entry.id)));
        }
        writes.extend(participant_entry(&sp.list_type, sp.entry.clone()).1);
        if let Some(ep) = &sp.endpoint {
            let record_key = keys::endpoint(&sp.list_type, &sp.entry.id);
            let sealed = sealed_endpoint(ep.clone(), seal_key, entropy, allow_loopback_http, &record_key)
                .map_err(|e| match e {
                    AdminError::Invalid(m) => invalid(format!("participant {}: {m}", sp.entry.id)),
                    other => other,
                })?;
            writes.push((record_key, json(&sealed)));
        }
    }
    for r in &bundle.routing_ids {
        writes.extend(routing_entry(&r.routing_id, &r.config)?);
    }
    for c in &bundle.clients {
        let record = client_record(&c.client_id, &c.client_secret, c.grant.clone(), entropy)?;
        writes.push((keys::client(&c.client_id), json(&record)));
    }
    Ok(writes)
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::PortResult;

    struct Counter;
    impl Entropy for Counter {
        fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
            buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
            Ok(())
        }
    }

    #[test]
    fn endpoint_secrets_are_sealed_and_reopen() {
        use crate::common::delivery::credentials::open_endpoint;
        let key = b"0123456789abcdef";
        let ep = Endpoint {
            url: "https://cp.example/letterbox/v2/post".into(),
            auth: EndpointAuth::Oauth2 { token_url: "https://cp.example/token".into(), client_id: "hub".into(), client_secret: "hunter2hunter2".into() },
        };
        let sealed = sealed_endpoint(ep.clone(), key, &Counter, false, "endpoint/RCPID/A").unwrap();
        assert!(!serde_json::to_string(&sealed).unwrap().contains("hunter2"));
        assert_eq!(open_endpoint(sealed.clone(), key, "endpoint/RCPID/A").unwrap(), ep);
        assert!(open_endpoint(sealed.clone(), key, "endpoint/RCPID/B").is_err(), "bound to its record");
        assert!(!serde_json::to_string(&redacted_endpoint(sealed.clone())).unwrap().contains("sealed:"));
        let EndpointAuth::Oauth2 { client_secret, .. } = &sealed.auth else { unreachable!() };
        let copied = Endpoint { auth: EndpointAuth::Oauth2 { token_url: "https://cp.example/token".into(), client_id: "hub".into(), client_secret: client_secret.clone() }, ..ep };
        assert!(sealed_endpoint(copied, key, &Counter, false, "endpoint/RCPID/B").is_err(), "sealed values are refused");
        let plain_http = Endpoint { url: "http://127.0.0.1:9/x".into(), auth: EndpointAuth::None };
        assert!(sealed_endpoint(plain_http.clone(), key, &Counter, false, "k").is_err());
        assert!(sealed_endpoint(plain_http, key, &Counter, true, "k").is_ok());
    }

    #[test]
    fn key_slots_rotate_independently() {
        let grant = ClientGrant { identities: alloc::vec![crate::common::config::PartyRef { list_type: "RCPID".into(), id: "BBCD".into() }], networks: alloc::vec![], routing_ids: alloc::vec![], rate_limit: None };
        let mut c = client_record("c1", "0123456789abcdef", grant, &Counter).unwrap();
        let (k1, _) = rotate_key(&mut c, "primary", b"s", 1_000_000, &Counter).unwrap();
        let (k2, _) = rotate_key(&mut c, "secondary", b"s", 1_000_000, &Counter).unwrap();
        assert!(secret::verify(&k1, &c.primary_key.as_ref().unwrap().key_hash));
        assert!(secret::verify(&k2, &c.secondary_key.as_ref().unwrap().key_hash));
        assert!(rotate_key(&mut c, "tertiary", b"s", 0, &Counter).is_err());
    }
}
