//! Delivery. Each job names an archived message and its recipient; the message is pushed
//! byte for byte to the recipient's registered letterbox with the recipient's chosen
//! outbound security. Only 202 is delivered (TOTSCo API v2.0 §2.1.8.2); 400, 404 and
//! 501/502/511 end delivery with a failure notification to the originator; anything else is
//! retried with backoff under the routing ID's delivery policy until it times out (9008).
//! A job is finished (acknowledged, and removed from the outbox) only after its retry or
//! notification is itself in the outbox and on the broker.

use switchyard_core::admin;
use switchyard_core::archive;
use switchyard_core::auth::seal;
use switchyard_core::broker::{self, DeliveryJob, Protocol};
use switchyard_core::config::{DeliveryPolicy, Endpoint, EndpointAuth};
use switchyard_core::delivery::{self, CachedToken, Credential, Outcome};
use switchyard_core::directory::keys;
use switchyard_core::host::Host;
use switchyard_core::ots::envelope::{self, Envelope};
use switchyard_core::ots::failure::{self, FaultCode};
use switchyard_core::ots::MESSAGE_DELIVERY_FAILURE;
use switchyard_core::ports::{Archive, HttpClient, KeyValue, PortResult};
use switchyard_core::{ids, store};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod cloudflare;
#[cfg(target_os = "wasi")]
mod spin;

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    Delivered,
    /// Delivery ended; a notification with this code went to the originator (or, for a
    /// notification that itself failed, nowhere: notifications never loop).
    Failed(FaultCode),
    /// Re-queued for another attempt after this many seconds.
    Retrying(u32),
    /// The job or its archived message is unreadable; logged and dropped.
    Unreadable,
}

/// Runs one job. `Err` means the host failed: the job must stay on the broker. A job that
/// ended leaves the outbox; a retry replaced its entry with the new due time.
pub async fn deliver(host: &impl Host, job: &DeliveryJob) -> PortResult<Finished> {
    let finished = attempt_job(host, job).await?;
    if !matches!(finished, Finished::Retrying(_)) {
        broker::finished(host, job).await?;
    }
    Ok(finished)
}

async fn attempt_job(host: &impl Host, job: &DeliveryJob) -> PortResult<Finished> {
    let Some(payload) = host.archive()?.get(&job.archive_key).await? else {
        host.log_error(&format!("deliver {}: archived message {} is missing", job.message_id, job.archive_key));
        return Ok(Finished::Unreadable);
    };
    let Ok(env) = envelope::parse_archived(&payload) else {
        host.log_error(&format!("deliver {}: archived message does not parse", job.message_id));
        return Ok(Finished::Unreadable);
    };
    let kv = host.kv()?;
    let Some(stored) = store::endpoint(kv, &job.recipient_list_type, &job.recipient).await? else {
        return fail(host, &env, FaultCode::NoRoute).await;
    };
    let settings = host.settings();
    let endpoint = admin::opened_endpoint(stored, &settings.seal_key)?;
    if delivery::check_outbound_url(&endpoint.url, settings.allow_loopback_http).is_err() {
        return fail(host, &env, FaultCode::NoRoute).await;
    }

    let mut outcome = attempt(host, job, &endpoint, &payload, false).await?;
    if outcome == Attempt::Unauthorised {
        // The recipient may have revoked our cached token: fetch a new one, try once more.
        outcome = attempt(host, job, &endpoint, &payload, true).await?;
    }
    match outcome {
        Attempt::Answered(Outcome::Delivered) => Ok(Finished::Delivered),
        Attempt::Answered(Outcome::Failed(code)) => fail(host, &env, code).await,
        Attempt::Answered(Outcome::Retry) | Attempt::Unauthorised => retry(host, job, &env).await,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Answered(Outcome),
    /// 401 from a recipient we authenticate to with OAuth2.
    Unauthorised,
}

async fn attempt(host: &impl Host, job: &DeliveryJob, ep: &Endpoint, payload: &[u8], refresh: bool) -> PortResult<Attempt> {
    let credential = match credential(host, job, ep, refresh).await? {
        Some(c) => c,
        // No usable credential now (token endpoint down, API key expired): try again later.
        None => return Ok(Attempt::Answered(Outcome::Retry)),
    };
    let req = delivery::push_request(&ep.url, payload, &credential);
    let result = host.http()?.send(req, delivery::ATTEMPT_TIMEOUT_MS).await;
    if !refresh && result.as_ref().is_ok_and(|r| delivery::refresh_token_on(r.status, &ep.auth)) {
        return Ok(Attempt::Unauthorised);
    }
    Ok(Attempt::Answered(delivery::classify(result.as_ref().map(|r| r.status))))
}

/// The credential for a push, or `None` when none can be had right now.
async fn credential(host: &impl Host, job: &DeliveryJob, ep: &Endpoint, refresh: bool) -> PortResult<Option<Credential>> {
    let now = host.now_ms();
    match &ep.auth {
        EndpointAuth::None => Ok(Some(Credential::None)),
        EndpointAuth::Apikey { key, expires_at } => {
            Ok(delivery::api_key_usable(expires_at, now).then(|| Credential::ApiKey(key.clone())))
        }
        EndpointAuth::Oauth2 { token_url, client_id, client_secret } => {
            let kv = host.kv()?;
            let seal_key = &host.settings().seal_key;
            let cache_key = keys::outbound_token(&job.recipient_list_type, &job.recipient);
            if !refresh {
                let cached = kv.get(&cache_key).await?.and_then(|v| seal::open(seal_key, &String::from_utf8_lossy(&v)));
                if let Some(t) = cached.and_then(|json| serde_json::from_str::<CachedToken>(&json).ok()).filter(|t| t.fresh(now)) {
                    return Ok(Some(Credential::Bearer(t.access_token)));
                }
            }
            if delivery::check_outbound_url(token_url, host.settings().allow_loopback_http).is_err() {
                return Ok(None);
            }
            let req = delivery::token_request(token_url, client_id, client_secret);
            let Ok(resp) = host.http()?.send(req, delivery::ATTEMPT_TIMEOUT_MS).await else {
                return Ok(None);
            };
            let Some(token) = delivery::parse_token_response(&resp, now) else {
                return Ok(None);
            };
            let mut nonce = [0u8; 16];
            host.fill(&mut nonce)?;
            let sealed = seal::seal(seal_key, &nonce, &serde_json::to_string(&token).unwrap_or_default());
            kv.put(&cache_key, sealed.as_bytes()).await?;
            Ok(Some(Credential::Bearer(token.access_token)))
        }
    }
}

async fn retry(host: &impl Host, job: &DeliveryJob, env: &Envelope) -> PortResult<Finished> {
    let policy = policy(host, &job.routing_id).await?;
    let attempts = job.attempts + 1;
    let elapsed = host.now_ms().saturating_sub(job.accepted_at_ms);
    let mut jitter = [0u8; 4];
    host.fill(&mut jitter)?;
    match delivery::next_delay_secs(&policy, attempts, elapsed, u32::from_le_bytes(jitter)) {
        Some(delay) => {
            let next = DeliveryJob { attempts, ..job.clone() };
            broker::enqueue(host, &next, delay).await?;
            Ok(Finished::Retrying(delay))
        }
        None => fail(host, env, FaultCode::TimedOut).await,
    }
}

async fn policy(host: &impl Host, routing_id: &str) -> PortResult<DeliveryPolicy> {
    Ok(store::routing_id(host.kv()?, routing_id).await?.map(|r| r.delivery_policy).unwrap_or_default())
}

/// Sends the §2.1.8.2 notification to the originator (archived and queued like any message).
async fn fail(host: &impl Host, original: &Envelope, code: FaultCode) -> PortResult<Finished> {
    let Some(body) = failure::notification(original, code, &host.settings().hub_identity) else {
        host.log_error(&format!("a {MESSAGE_DELIVERY_FAILURE} to {} failed with {}; not notified again", original.destination.identity, code.code()));
        return Ok(Finished::Failed(code));
    };
    let accepted_at_ms = host.now_ms();
    let message_id = ids::uuid_v4(host)?;
    let archive_key = archive::ots_key(accepted_at_ms, &message_id);
    host.archive()?.put(&archive_key, &body).await?;
    let job = DeliveryJob {
        message_id,
        protocol: Protocol::Ots,
        archive_key,
        recipient_list_type: original.source.list_type.clone(),
        recipient: original.source.identity.clone(),
        routing_id: MESSAGE_DELIVERY_FAILURE.into(),
        accepted_at_ms,
        attempts: 0,
    };
    broker::enqueue(host, &job, 0).await?;
    Ok(Finished::Failed(code))
}
