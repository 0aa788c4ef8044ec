//! The operator's API under `/admin/v1` (docs/admin-openapi.yaml). The gateway has already
//! checked the admin token. Secrets are shown once, when minted, and stored only hashed
//! (client secrets, API keys) or sealed (recipients' outbound credentials).

use base64::Engine;
use serde_json::json;
use switchyard_core::admin::bundle::Bundle;
use switchyard_core::admin::{self, Write};
use switchyard_core::common::config::{ClientGrant, Endpoint, KeySlot};
use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::common::store::{self, keys};
use switchyard_core::common::{ids, json, time};
use switchyard_core::host::Host;
use switchyard_core::ots::directory;
use switchyard_core::ots::errors::{respond, Failure, OtsError};
use switchyard_core::ports::{AddressTable, KeyValue, PortError, Signer};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    respond(host, "admin", route(host, &req).await)
}

async fn route(host: &impl Host, req: &HttpRequest) -> Result<HttpResponse, Failure> {
    let path = req.path().to_string();
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(["admin", "v1", rest @ ..]) = Some(seg.as_slice()) else {
        return Err(OtsError::NotFound.into());
    };
    use Method::*;
    match (req.method, rest) {
        (Put, ["participants", lt, id]) => put_participant(host, lt, id, &req.body).await,
        (Get, ["participants", lt, id]) => get_json(host, &keys::participant(lt, id)).await,
        (Delete, ["participants", lt, id]) => delete(host, &[keys::participant(lt, id), keys::endpoint(lt, id)]).await,
        (Put, ["participants", lt, id, "endpoint"]) => put_endpoint(host, lt, id, &req.body).await,
        (Get, ["participants", lt, id, "endpoint"]) => get_endpoint(host, lt, id).await,
        (Delete, ["participants", lt, id, "endpoint"]) => delete(host, &[keys::endpoint(lt, id)]).await,
        (Post, ["clients"]) => create_client(host, &req.body).await,
        (Get, ["clients", id]) => get_client(host, id).await,
        (Delete, ["clients", id]) => delete(host, &[keys::client(id)]).await,
        (Post, ["clients", id, "keys", slot]) => rotate_key(host, id, slot).await,
        (Put, ["routing-ids", rid]) => {
            write_all(host, admin::routing_id_writes(rid, &req.body)?).await?;
            get_json(host, &keys::routing_id(rid)).await
        }
        (Get, ["routing-ids", rid]) => get_json(host, &keys::routing_id(rid)).await,
        (Delete, ["routing-ids", rid]) => delete(host, &[keys::routing_id(rid)]).await,
        (Post, ["apply"]) => apply(host, &req.body).await,
        (method, ["dip", rest @ ..]) => dip(host, method, rest, &req.body).await,
        // A development aid only: signing arbitrary bytes with the hub's key is an oracle.
        (Post, ["signing", "test"]) if host.settings().enable_signing_test => sign(host, &req.body).await,
        (_, ["participants", _, _] | ["participants", _, _, "endpoint"] | ["clients"] | ["clients", _]
            | ["clients", _, "keys", _] | ["routing-ids", _] | ["apply"]) => {
            Err(OtsError::MethodNotAllowed.into())
        }
        _ => Err(OtsError::NotFound.into()),
    }
}

async fn write_all(host: &impl Host, writes: Vec<Write>) -> Result<(), Failure> {
    store::commit(host.kv()?, host, &writes).await?;
    Ok(())
}

async fn get_json(host: &impl Host, key: &str) -> Result<HttpResponse, Failure> {
    let value: serde_json::Value = store::get_json(host.kv()?, key).await?.ok_or(OtsError::NotFound)?;
    Ok(HttpResponse::json(200, &value))
}

async fn delete(host: &impl Host, keys: &[String]) -> Result<HttpResponse, Failure> {
    let kv = host.kv()?;
    if kv.get(&keys[0]).await?.is_none() {
        return Err(OtsError::NotFound.into());
    }
    store::remove(kv, host, keys).await?;
    Ok(HttpResponse::empty(204))
}

async fn put_participant(host: &impl Host, lt: &str, id: &str, body: &[u8]) -> Result<HttpResponse, Failure> {
    let (p, writes) = admin::participant_writes(lt, id, body)?;
    write_all(host, writes).await?;
    Ok(HttpResponse::json(200, &json!(p)))
}

async fn put_endpoint(host: &impl Host, lt: &str, id: &str, body: &[u8]) -> Result<HttpResponse, Failure> {
    let kv = host.kv()?;
    directory::participant(kv, lt, id).await?.ok_or(OtsError::NotFound)?;
    let ep: Endpoint = json::parse(body).map_err(|e| OtsError::BadRequest(format!("invalid endpoint: {e}")))?;
    let s = host.settings();
    let record_key = keys::endpoint(lt, id);
    let sealed = admin::sealed_endpoint(ep, s.seal_key()?, host, s.allow_loopback_http, &record_key)?;
    store::commit(kv, host, &[store::record(&record_key, &sealed)?]).await?;
    // A cached outbound token belongs to the old credentials.
    kv.delete(&keys::outbound_token(lt, id)).await?;
    Ok(HttpResponse::json(200, &json!(admin::redacted_endpoint(sealed))))
}

async fn get_endpoint(host: &impl Host, lt: &str, id: &str) -> Result<HttpResponse, Failure> {
    let ep = store::endpoint(host.kv()?, lt, id).await?.ok_or(OtsError::NotFound)?;
    Ok(HttpResponse::json(200, &json!(admin::redacted_endpoint(ep))))
}

async fn create_client(host: &impl Host, body: &[u8]) -> Result<HttpResponse, Failure> {
    let grant: ClientGrant = json::parse(body).map_err(|e| OtsError::BadRequest(format!("invalid client: {e}")))?;
    let client_id = ids::random_hex(host, 16)?;
    let client_secret = ids::random_hex(host, 32)?;
    let record = admin::client_record(&client_id, &client_secret, grant, host)?;
    store::commit(host.kv()?, host, &[store::record(&keys::client(&client_id), &record)?]).await?;
    Ok(HttpResponse::json(201, &json!({ "client_id": client_id, "client_secret": client_secret }))
        .with_header("cache-control", "no-store"))
}

async fn get_client(host: &impl Host, id: &str) -> Result<HttpResponse, Failure> {
    let c = store::client(host.kv()?, id).await?.ok_or(OtsError::NotFound)?;
    let slot = |k: &Option<KeySlot>| k.as_ref().map(|s| json!({ "expiresAt": time::rfc3339(s.expires_at_ms) }));
    let mut body = json!(c.grant);
    body["client_id"] = json!(c.client_id);
    body["keys"] = json!({ "primary": slot(&c.primary_key), "secondary": slot(&c.secondary_key) });
    Ok(HttpResponse::json(200, &body))
}

async fn rotate_key(host: &impl Host, id: &str, slot: &str) -> Result<HttpResponse, Failure> {
    let kv = host.kv()?;
    let mut client = store::client(kv, id).await?.ok_or(OtsError::NotFound)?;
    let (key, expires_at_ms) = admin::rotate_key(&mut client, slot, host.settings().token_secret()?, host.now_ms(), host)?;
    store::commit(kv, host, &[store::record(&keys::client(id), &client)?]).await?;
    Ok(HttpResponse::json(201, &json!({ "key": key, "expiresAt": time::rfc3339(expires_at_ms) }))
        .with_header("cache-control", "no-store"))
}

async fn apply(host: &impl Host, body: &[u8]) -> Result<HttpResponse, Failure> {
    let bundle: Bundle = json::parse(body).map_err(|e| OtsError::BadRequest(format!("invalid bundle: {e}")))?;
    let s = host.settings();
    let mut writes = admin::bundle_writes(&bundle, s.seal_key()?, host, s.allow_loopback_http)?;
    let mut mams = Vec::new();
    if let Some(dip) = &bundle.dip {
        let stored = dip.channels.is_empty() || dip.catalogue.is_some();
        let catalogue = if stored { None } else { switchyard_core::dip::store::catalogue(host.kv()?).await? };
        let (dip_writes, dip_mams) = admin::dip::bundle_writes(dip, catalogue.as_ref(), host)?;
        writes.extend(dip_writes);
        mams = dip_mams;
    }
    write_all(host, writes).await?;
    if !mams.is_empty() {
        host.address_table()?.put_many(&mams).await?;
    }
    let mut counts = json!({
        "participants": bundle.participants.len(),
        "routingIDs": bundle.routing_ids.len(),
        "clients": bundle.clients.len()
    });
    if let Some(d) = &bundle.dip {
        counts["dip"] = json!({
            "trustAnchors": d.trust_anchors.len(),
            "participants": d.participants.len(),
            "catalogue": d.catalogue.is_some(),
            "channels": d.channels.len(),
            "mams": d.mams.len()
        });
    }
    Ok(HttpResponse::json(200, &counts))
}

/// Signs the body with the hub's signing key, so an operator can check the configured key
/// (and the tests can check that every host signs byte-for-byte alike).
async fn sign(host: &impl Host, body: &[u8]) -> Result<HttpResponse, Failure> {
    let signature = host.signer().await?.sign(body).await?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(signature);
    Ok(HttpResponse::json(200, &json!({ "algorithm": "RSASSA-PKCS1-v1_5-SHA256", "signature": b64 })))
}

/// Dead letters one `GET /admin/v1/dip/dead-letters` lists at most (the count is of all).
const DEAD_LETTERS_LISTED: usize = 1000;

/// `/admin/v1/dip/...` (the DIP contract's admin configuration).
async fn dip(host: &impl Host, method: Method, rest: &[&str], body: &[u8]) -> Result<HttpResponse, Failure> {
    use switchyard_core::admin::dip as rules;
    use Method::*;
    let kv = host.kv()?;
    match (method, rest) {
        (Get, ["environment"]) => Ok(HttpResponse::json(200, &json!({ "environmentTag": switchyard_core::dip::config::environment(host.settings())? }))),
        (Get, ["signing-certificate"]) => {
            let pem = host.settings().signing_certificate.clone().ok_or(OtsError::NotFound)?;
            Ok(HttpResponse::json(200, &json!({ "certificatePem": pem })))
        }
        (Put, ["catalogue"]) => {
            let (c, writes) = rules::catalogue_writes(body)?;
            write_all(host, writes).await?;
            let events: usize = c.channels.values().map(|ch| ch.events.len()).sum();
            Ok(HttpResponse::json(200, &json!({ "release": c.release, "channels": c.channels.len(), "events": events })))
        }
        (Get, ["catalogue"]) => {
            let c: switchyard_core::dip::catalogue::Catalogue = store::get_json(kv, keys::DIP_CATALOGUE).await?.ok_or(OtsError::NotFound)?;
            let channels: serde_json::Map<String, serde_json::Value> =
                c.channels.iter().map(|(id, ch)| (id.clone(), json!(ch.events.keys().collect::<Vec<_>>()))).collect();
            Ok(HttpResponse::json(200, &json!({ "release": c.release, "channels": channels })))
        }
        (Put, ["participants", id]) => {
            let (p, writes) = rules::participant_writes(id, body)?;
            write_all(host, writes).await?;
            Ok(HttpResponse::json(200, &json!(p)))
        }
        (Get, ["participants", id]) => get_json(host, &keys::dip_participant(id)).await,
        (Delete, ["participants", id]) => delete(host, &[keys::dip_participant(id), keys::dip_api_keys(id)]).await,
        (Post, ["participants", id, "keys", slot]) => {
            kv.get(&keys::dip_participant(id)).await?.ok_or(OtsError::NotFound)?;
            let current = store::get_json(kv, &keys::dip_api_keys(id)).await?.unwrap_or_default();
            let (key, slots) = rules::rotate_api_key(id, slot, current, host)?;
            store::commit(kv, host, &[store::record(&keys::dip_api_keys(id), &slots)?]).await?;
            Ok(HttpResponse::json(201, &json!({ "key": key })).with_header("cache-control", "no-store"))
        }
        (Put, ["channels", id]) => {
            let catalogue = store::get_json(kv, keys::DIP_CATALOGUE).await?.ok_or(OtsError::NotFound)?;
            let (c, writes) = rules::channel_writes(&catalogue, id, body)?.ok_or(OtsError::NotFound)?;
            write_all(host, writes).await?;
            Ok(HttpResponse::json(200, &json!(c)))
        }
        (Get, ["channels", id]) => get_json(host, &keys::dip_channel(id)).await,
        (Put, ["trust-anchors", id]) => {
            let (a, writes) = rules::trust_anchor_writes(id, body)?;
            write_all(host, writes).await?;
            Ok(HttpResponse::json(200, &json!(a)))
        }
        (Get, ["trust-anchors", id]) => get_json(host, &keys::dip_trust_anchor(id)).await,
        (Delete, ["trust-anchors", id]) => delete(host, &[keys::dip_trust_anchor(id)]).await,
        (Put, ["revoked-certificates", sha]) => {
            let (r, writes) = rules::revocation_writes(sha, body)?;
            write_all(host, writes).await?;
            Ok(HttpResponse::json(200, &json!(r)))
        }
        (Get, ["revoked-certificates", sha]) => get_json(host, &keys::dip_revoked(sha)).await,
        (Delete, ["revoked-certificates", sha]) => delete(host, &[keys::dip_revoked(sha)]).await,
        // MAMS rows go to the address table, not the configuration store: writing them never
        // moves the configuration generation (a million MPANs are data, not configuration).
        (Put, ["mams", mpan]) => {
            let (m, row) = rules::mams_writes(mpan, body)?;
            host.address_table()?.put_many(&[row]).await?;
            Ok(HttpResponse::json(200, &json!(m)))
        }
        (Post, ["mams"]) => {
            let rows = rules::mams_bulk_writes(body)?;
            host.address_table()?.put_many(&rows).await?;
            Ok(HttpResponse::json(200, &json!({ "loaded": rows.len() })))
        }
        (Get, ["mams", mpan]) => {
            let stored = host.address_table()?.get(mpan).await?.ok_or(OtsError::NotFound)?;
            let history: serde_json::Value = serde_json::from_slice(&stored).map_err(|e| PortError::new(format!("corrupt MAMS record {mpan}: {e}")))?;
            Ok(HttpResponse::json(200, &history))
        }
        (Delete, ["mams", mpan]) => match host.address_table()?.delete(mpan).await? {
            true => Ok(HttpResponse::empty(204)),
            false => Err(OtsError::NotFound.into()),
        },
        (Get, ["dead-letters"]) => {
            let (count, listed) = switchyard_core::dip::store::dead_letters(kv, DEAD_LETTERS_LISTED).await?;
            Ok(HttpResponse::json(200, &json!({ "count": count, "deadLetters": listed })))
        }
        (Get, ["dead-letters", id]) => get_json(host, &keys::dip_dead_letter(id)).await,
        (Delete, ["dead-letters", id]) => match kv.get(&keys::dip_dead_letter(id)).await? {
            Some(_) => {
                kv.delete(&keys::dip_dead_letter(id)).await?;
                Ok(HttpResponse::empty(204))
            }
            None => Err(OtsError::NotFound.into()),
        },
        (_, ["environment"] | ["signing-certificate"] | ["catalogue"] | ["participants", _] | ["participants", _, "keys", _]
            | ["channels", _] | ["trust-anchors", _] | ["revoked-certificates", _] | ["mams"] | ["mams", _] | ["dead-letters"] | ["dead-letters", _]) => {
            Err(OtsError::MethodNotAllowed.into())
        }
        _ => Err(OtsError::NotFound.into()),
    }
}
