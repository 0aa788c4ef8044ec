//! The delivery engine: one job, from the archive to the recipient's registered endpoint,
//! ending delivered, retried under the policy, or ended with whatever the protocol sends back
//! (OTS: a failure notification to the originator). The engine knows no protocol: each job's
//! protocol part supplies its [`Rules`] (what an answer means, the policy, the push, what an
//! ending sends back). Guarantees:
//! - a job leaves the outbox only after its outcome is itself durable (its retry or its
//!   notification is in the outbox and on the broker);
//! - every attempt pushes the same archived bytes;
//! - no call goes to an address the rules in [`outbound`] refuse; an endpoint or token URL
//!   that is refused ends the job as [`Ending::NoRoute`];
//! - one attempt never takes longer than [`ATTEMPT_TIMEOUT_MS`].

pub mod credentials;
pub mod outbound;
pub mod policy;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::Serialize;

use self::credentials::{CachedToken, Credential};
use self::policy::DeliveryPolicy;
use crate::common::auth::seal;
use crate::common::broker::{self, Job};
use crate::common::config::{Endpoint, EndpointAuth};
use crate::common::http::HttpRequest;
use crate::common::store::{self, keys};
use crate::common::ids;
use crate::host::Host;
use crate::ports::{Archive, HttpClient, KeyValue, OutboundError, PortResult};

/// How long one push may take before it counts as "no response" (OTS practice: a 3 s hop).
pub const ATTEMPT_TIMEOUT_MS: u32 = 3_000;

/// What a recipient's answer (or its absence) means, as a protocol's rules classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Stop: delivery ended without success.
    Failed(Ending),
    /// Try again under the delivery policy.
    Retry,
}

/// Why delivery ended without success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// No endpoint is registered, or its address is one the hub may not call.
    NoRoute,
    /// The recipient gave an answer the protocol treats as final.
    Answered(u16),
    /// The delivery policy ran out of time.
    Expired,
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    Delivered,
    /// Delivery ended; whatever the protocol sends back for it is on the broker.
    Failed(Ending),
    /// Re-queued for another attempt after this many seconds.
    Retrying(u32),
    /// The archived message is missing; logged and dropped.
    Unreadable,
}

/// What ending a job sends back: a message to archive and the job that delivers it.
pub struct Reply<P> {
    pub payload: Vec<u8>,
    pub job: P,
}

/// A protocol's delivery rules, implemented by each protocol's job part.
#[allow(async_fn_in_trait)]
pub trait Rules: broker::Addressed + Clone + Serialize + DeserializeOwned {
    /// The archive area replies are stored under (`ots`, `dip`).
    fn archive_area(&self) -> &'static str;
    /// What the recipient's answer means.
    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome;
    /// The request that pushes `payload` to `url`: a JSON POST with the credential, unless a
    /// protocol says otherwise.
    fn push(&self, url: &str, payload: &[u8], credential: &Credential) -> HttpRequest {
        credentials::post_json(url, payload, credential)
    }
    /// How long and how often this job is retried.
    async fn policy(&self, host: &impl Host) -> PortResult<DeliveryPolicy>;
    /// Where the recipient's endpoint is recorded (its sealed credentials are bound to it).
    fn endpoint_key(&self) -> String {
        let (list_type, id) = self.recipient();
        keys::endpoint(list_type, id)
    }
    /// What it means that the recipient has no endpoint registered: delivery ends, or the
    /// job waits (under the policy) for the recipient to register one.
    fn unregistered(&self) -> Outcome {
        Outcome::Failed(Ending::NoRoute)
    }
    /// The push as it leaves the hub: a protocol that signs its calls adds its signature here.
    /// `Err` is the host's (no signing key): the job stays and is tried again.
    async fn sign(&self, _host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        Ok(request)
    }
    /// What delivery ending for `why` sends back, if anything. `Err` is a log line: the
    /// protocol wanted to reply and could not (the reply is then not sent).
    fn ended(&self, payload: &[u8], why: Ending, settings: &crate::host::Settings) -> Result<Option<Reply<Self>>, String>;
}

/// Runs one job; `payload` is the message when the outbox holds it (otherwise it is read from
/// the archive). `Err` means the host failed: the job must stay in the outbox. A job that
/// ended leaves the outbox; a retry replaced its entry with the new due time.
pub async fn run<P: Rules>(host: &impl Host, job: &Job<P>, payload: Option<Vec<u8>>) -> PortResult<Finished> {
    let finished = attempt_job(host, job, payload).await?;
    if !matches!(finished, Finished::Retrying(_)) {
        broker::finished(host, job).await?;
    }
    Ok(finished)
}

async fn attempt_job<P: Rules>(host: &impl Host, job: &Job<P>, payload: Option<Vec<u8>>) -> PortResult<Finished> {
    let payload = match payload {
        Some(p) => Some(p),
        None => host.archive()?.get(&job.archive_key).await?,
    };
    let Some(payload) = payload else {
        host.log_error(&format!("deliver {}: archived message {} is missing", job.message_id, job.archive_key));
        return Ok(Finished::Unreadable);
    };
    let (list_type, id) = job.payload.recipient();
    let record_key = job.payload.endpoint_key();
    let Some(stored) = store::get_json::<Endpoint>(host.kv()?, &record_key).await? else {
        return match job.payload.unregistered() {
            Outcome::Retry => retry(host, job, &payload).await,
            Outcome::Failed(why) => end(host, job, &payload, why).await,
            Outcome::Delivered => end(host, job, &payload, Ending::NoRoute).await,
        };
    };
    let settings = host.settings();
    // Checked again before every call: an endpoint registered under older rules, or a
    // development endpoint in production, is never called.
    if credentials::addresses(&stored).iter().any(|url| outbound::check_outbound_url(url, settings.allow_loopback_http).is_err()) {
        host.log_error(&format!("deliver {}: endpoint of {list_type}/{id} names an address the hub may not call", job.message_id));
        return end(host, job, &payload, Ending::NoRoute).await;
    }
    let endpoint = match credentials::open_endpoint(stored, settings.seal_key()?, &record_key) {
        Ok(e) => e,
        Err(e) => {
            // The hub's own configuration is at fault: retry under the policy, so the
            // operator can register the credentials again before the message expires.
            let why = match e {
                seal::SealError::Retired => "are sealed in the retired v1 format; register them again",
                seal::SealError::Invalid => "do not open under the seal key",
            };
            host.log_error(&format!("deliver {}: credentials of {list_type}/{id} {why}", job.message_id));
            return retry(host, job, &payload).await;
        }
    };

    let mut outcome = attempt(host, job, &endpoint, &payload, false).await?;
    if outcome == Attempt::Unauthorised {
        // The recipient may have revoked our cached token: fetch a new one, try once more.
        outcome = attempt(host, job, &endpoint, &payload, true).await?;
    }
    match outcome {
        Attempt::Answered(Outcome::Delivered) => Ok(Finished::Delivered),
        Attempt::Answered(Outcome::Failed(why)) => end(host, job, &payload, why).await,
        Attempt::Answered(Outcome::Retry) | Attempt::Unauthorised => retry(host, job, &payload).await,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Answered(Outcome),
    /// 401 from a recipient we authenticate to with OAuth2.
    Unauthorised,
}

async fn attempt<P: Rules>(host: &impl Host, job: &Job<P>, ep: &Endpoint, payload: &[u8], refresh: bool) -> PortResult<Attempt> {
    let credential = match credential(host, job, ep, refresh).await? {
        Some(c) => c,
        // No usable credential now (token endpoint down, API key expired): try again later.
        None => return Ok(Attempt::Answered(Outcome::Retry)),
    };
    let req = job.payload.sign(host, job.payload.push(&ep.url, payload, &credential)).await?;
    let result = host.http()?.send(req, ATTEMPT_TIMEOUT_MS).await;
    if !refresh && result.as_ref().is_ok_and(|r| credentials::refresh_token_on(r.status, &ep.auth)) {
        return Ok(Attempt::Unauthorised);
    }
    Ok(Attempt::Answered(job.payload.classify(result.as_ref().map(|r| r.status))))
}

/// The credential for a push, or `None` when none can be had right now.
async fn credential<P: Rules>(host: &impl Host, job: &Job<P>, ep: &Endpoint, refresh: bool) -> PortResult<Option<Credential>> {
    let now = host.now_ms();
    match &ep.auth {
        EndpointAuth::None => Ok(Some(Credential::None)),
        EndpointAuth::Apikey { key, expires_at } => {
            Ok(credentials::api_key_usable(expires_at, now).then(|| Credential::ApiKey(key.clone())))
        }
        EndpointAuth::Oauth2 { token_url, client_id, client_secret } => {
            let kv = host.kv()?;
            let seal_key = host.settings().seal_key()?;
            let (list_type, id) = job.payload.recipient();
            let cache_key = keys::outbound_token(list_type, id);
            if !refresh {
                let cached = kv.get(&cache_key).await?.and_then(|v| seal::open(seal_key, cache_key.as_bytes(), &String::from_utf8_lossy(&v)).ok());
                if let Some(t) = cached.and_then(|json| serde_json::from_str::<CachedToken>(&json).ok()).filter(|t| t.fresh(now)) {
                    return Ok(Some(Credential::Bearer(t.access_token)));
                }
            }
            let req = credentials::token_request(token_url, client_id, client_secret);
            let Ok(resp) = host.http()?.send(req, ATTEMPT_TIMEOUT_MS).await else {
                return Ok(None);
            };
            let Some(token) = credentials::parse_token_response(&resp, now) else {
                return Ok(None);
            };
            let mut nonce = [0u8; seal::NONCE_LEN];
            host.fill(&mut nonce)?;
            let sealed = seal::seal(seal_key, &nonce, cache_key.as_bytes(), &serde_json::to_string(&token).unwrap_or_default());
            kv.put(&cache_key, sealed.as_bytes()).await?;
            Ok(Some(Credential::Bearer(token.access_token)))
        }
    }
}

async fn retry<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8]) -> PortResult<Finished> {
    let policy = job.payload.policy(host).await?;
    let attempts = job.attempts + 1;
    let elapsed = host.now_ms().saturating_sub(job.accepted_at_ms);
    let mut jitter = [0u8; 4];
    host.fill(&mut jitter)?;
    match policy::next_delay_secs(&policy, attempts, elapsed, u32::from_le_bytes(jitter)) {
        Some(delay) => {
            let next = Job { attempts, ..job.clone() };
            broker::enqueue(host, &next, delay, None).await?;
            Ok(Finished::Retrying(delay))
        }
        None => end(host, job, payload, Ending::Expired).await,
    }
}

/// Delivery ended: whatever the protocol sends back is archived and queued like any message.
async fn end<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8], why: Ending) -> PortResult<Finished> {
    let reply = match job.payload.ended(payload, why, host.settings()) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(Finished::Failed(why)),
        Err(log) => {
            host.log_error(&format!("deliver {}: {log}", job.message_id));
            return Ok(Finished::Failed(why));
        }
    };
    let accepted_at_ms = host.now_ms();
    let message_id = ids::uuid_v4(host)?;
    let archive_key = crate::common::archive::key(reply.job.archive_area(), accepted_at_ms, &message_id);
    host.archive()?.put(&archive_key, &reply.payload).await?;
    let next = Job { message_id, archive_key, accepted_at_ms, attempts: 0, payload: reply.job };
    broker::enqueue(host, &next, 0, Some(&reply.payload)).await?;
    Ok(Finished::Failed(why))
}
