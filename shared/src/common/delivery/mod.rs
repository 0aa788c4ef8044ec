//! The delivery engine: jobs, from the archive to the recipient's registered endpoint, each
//! ending delivered, retried under the policy, or ended with whatever the protocol sends back
//! (OTS: a failure notification to the originator; DIP: a status message to the sender).
//! Jobs of one group are handed out together and leave in as few calls as the recipient's
//! limits allow, in their order; a job alone is a group of one. The engine knows no
//! protocol: each job's protocol part supplies its [`Rules`] (what an answer means for each
//! job of a call, the policy, the limits, the push, what an ending sends back). Guarantees:
//! - a job leaves the outbox only after its outcome is itself durable (its retry or its
//!   notification is in the outbox and on the broker);
//! - every attempt pushes the same archived bytes;
//! - no call goes to an address the rules in [`outbound`] refuse; an endpoint or token URL
//!   that is refused ends the job as [`Ending::NoRoute`];
//! - one attempt never takes longer than its protocol's timeout ([`ATTEMPT_TIMEOUT_MS`] unless
//!   the protocol says otherwise);
//! - after a call fails, the rest of its group waits with it (no hammering of a dead
//!   endpoint), and a protocol's circuit breaker ([`breaker`]) keeps every call from an
//!   endpoint that keeps failing until a probe finds it working.

pub mod breaker;
pub mod credentials;
pub mod outbound;
pub mod policy;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use serde::de::DeserializeOwned;
use serde::Serialize;

use self::breaker::{Admit, BreakerPolicy, Circuit};
use self::credentials::{CachedToken, Credential};
use self::policy::DeliveryPolicy;
use crate::common::auth::seal;
use crate::common::broker::{self, Addressed, Job};
use crate::common::config::{Endpoint, EndpointAuth};
use crate::common::http::{HttpRequest, HttpResponse};
use crate::common::store::{self, keys};
use crate::common::ids;
use crate::host::Host;
use crate::ports::{Archive, HttpClient, KeyValue, OutboundError, Outbox, PortResult};

/// How long one push may take before it counts as "no response" (OTS practice: a 3 s hop).
pub const ATTEMPT_TIMEOUT_MS: u32 = 3_000;
/// A `Retry-After` longer than this is honoured only this far.
pub const MAX_RETRY_AFTER_SECS: u32 = 3_600;

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
    /// Kept until the recipient registers its endpoint (or the policy's time runs out).
    Held,
    /// The archived message is missing; logged and dropped.
    Unreadable,
}

/// One job's part of a call's answer, as its protocol reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    /// What the recipient said about this job, for whatever the ending sends back.
    pub detail: Option<String>,
    /// The recipient asked for no new call before this many seconds (`Retry-After`).
    pub retry_after_secs: Option<u32>,
}

impl Verdict {
    pub fn of(outcome: Outcome) -> Verdict {
        Verdict { outcome, detail: None, retry_after_secs: None }
    }
}

/// How much one call may carry: messages, and bytes of the combined body (a single larger
/// message still goes, alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_messages: usize,
    pub max_bytes: usize,
}

impl Limits {
    pub const ONE: Limits = Limits { max_messages: 1, max_bytes: usize::MAX };
}

/// A job's ending, as the protocol's [`Rules::ended`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub why: Ending,
    /// What the recipient said, when it answered.
    pub detail: Option<&'a str>,
    pub message_id: &'a str,
    pub archive_key: &'a str,
    pub accepted_at_ms: u64,
    pub attempts: u32,
    /// When it ended.
    pub now_ms: u64,
}

/// What ending a job sends back: a message to archive and the job that delivers it.
pub struct Reply<P> {
    pub payload: Vec<u8>,
    pub job: P,
}

/// A protocol's delivery rules, implemented by each protocol's job part.
#[allow(async_fn_in_trait)]
pub trait Rules: Addressed + Clone + Serialize + DeserializeOwned {
    /// The archive area replies are stored under (`ots`, `dip`).
    fn archive_area(&self) -> &'static str;
    /// What the recipient's answer means.
    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome;
    /// Each job's verdict on a call that carried `items` (their payloads, in order): unless a
    /// protocol reads the answer per message, the call's classification for every one.
    /// `now_ms` reads a `Retry-After` date.
    fn verdicts(&self, answer: Result<&HttpResponse, &OutboundError>, items: &[&[u8]], _now_ms: u64) -> Vec<Verdict> {
        let outcome = self.classify(answer.map(|r| r.status));
        items.iter().map(|_| Verdict::of(outcome)).collect()
    }
    /// The body of one call carrying `items`: unless a protocol combines them, the one item.
    fn combine(&self, items: &[&[u8]]) -> Vec<u8> {
        items.first().map(|i| i.to_vec()).unwrap_or_default()
    }
    /// How long one call may take before it counts as unanswered.
    fn attempt_timeout_ms(&self) -> u32 {
        ATTEMPT_TIMEOUT_MS
    }
    /// How much one call to the recipient may carry.
    async fn limits(&self, _host: &impl Host) -> PortResult<Limits> {
        Ok(Limits::ONE)
    }
    /// The circuit breaker the protocol keeps per endpoint, if any.
    fn breaker(&self, _settings: &crate::host::Settings) -> Option<BreakerPolicy> {
        None
    }
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
    /// Whether a job whose recipient has no endpoint registered waits (until the policy's
    /// time runs out) for one; otherwise its delivery ends at once ([`Ending::NoRoute`]).
    fn holds_until_registered(&self) -> bool {
        false
    }
    /// The push as it leaves the hub: a protocol that signs its calls adds its signature here.
    /// `Err` is the host's (no signing key): the job stays and is tried again.
    async fn sign(&self, _host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        Ok(request)
    }
    /// Keeps a job whose time ran out ([`Ending::Expired`]) where the protocol keeps them
    /// (DIP: the dead-letter store), before [`Rules::ended`] is asked what to send back.
    async fn dead_letter(&self, _host: &impl Host, _payload: &[u8], _ended: &Ended<'_>) -> PortResult<()> {
        Ok(())
    }
    /// What delivery ending sends back, if anything. `Err` is a log line: the protocol wanted
    /// to reply and could not (the reply is then not sent).
    fn ended(&self, payload: &[u8], ended: &Ended<'_>, settings: &crate::host::Settings) -> Result<Option<Reply<Self>>, String>;
}

/// Runs one job; `payload` is the message when the outbox holds it (otherwise it is read from
/// the archive). `Err` means the host failed: the job must stay in the outbox. A job that
/// ended leaves the outbox; a retry replaced its entry with the new due time.
pub async fn run<P: Rules>(host: &impl Host, job: &Job<P>, payload: Option<Vec<u8>>) -> PortResult<Finished> {
    run_batch(host, alloc::vec![(job.clone(), payload)]).await.pop().unwrap_or(Ok(Finished::Unreadable))
}

/// Runs jobs handed out together (one group, in order: all of one recipient and endpoint),
/// each with its message when the outbox holds it. One result per job, in order, as [`run`].
pub async fn run_batch<P: Rules>(host: &impl Host, jobs: Vec<(Job<P>, Option<Vec<u8>>)>) -> Vec<PortResult<Finished>> {
    let mut results: Vec<Option<PortResult<Finished>>> = (0..jobs.len()).map(|_| None).collect();
    let mut live: Vec<(usize, Job<P>, Vec<u8>)> = Vec::with_capacity(jobs.len());
    for (i, (job, payload)) in jobs.into_iter().enumerate() {
        let payload = match payload {
            Some(p) => Ok(Some(p)),
            None => match host.archive() {
                Ok(a) => a.get(&job.archive_key).await,
                Err(e) => Err(e),
            },
        };
        match payload {
            Ok(Some(p)) => live.push((i, job, p)),
            Ok(None) => {
                host.log_error(&format!("deliver {}: archived message {} is missing", job.message_id, job.archive_key));
                results[i] = Some(finish(host, &job, Finished::Unreadable).await);
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    if !live.is_empty() {
        let done = match deliver(host, &live).await {
            Ok(done) => done,
            Err(e) => live.iter().map(|_| Err(e.clone())).collect(),
        };
        for ((i, ..), r) in live.iter().zip(done) {
            results[*i] = Some(r);
        }
    }
    results.into_iter().map(|r| r.unwrap_or(Ok(Finished::Unreadable))).collect()
}

/// A job reached its end: it leaves the outbox.
async fn finish<P: Rules>(host: &impl Host, job: &Job<P>, finished: Finished) -> PortResult<Finished> {
    broker::finished(host, job).await?;
    Ok(finished)
}

/// The calls for one group's jobs. `Err`: a host failure before any job was decided.
async fn deliver<P: Rules>(host: &impl Host, live: &[(usize, Job<P>, Vec<u8>)]) -> PortResult<Vec<PortResult<Finished>>> {
    let lead = &live[0].1;
    let rules = &lead.payload;
    let (list_type, id) = rules.recipient();
    let record_key = rules.endpoint_key();
    let mut out = Vec::with_capacity(live.len());
    let Some(stored) = store::get_json::<Endpoint>(host.kv()?, &record_key).await? else {
        if !rules.holds_until_registered() {
            for (_, job, payload) in live {
                out.push(end(host, job, payload, Ending::NoRoute, None).await);
            }
            return Ok(out);
        }
        for (_, job, payload) in live {
            out.push(hold(host, job, payload, &record_key).await);
        }
        // A registration made since the read above would not have released these: look again.
        if host.kv()?.get(&record_key).await?.is_some() {
            broker::release(host, (list_type, id), &record_key).await?;
        }
        return Ok(out);
    };
    let settings = host.settings();
    // Checked again before every call: an endpoint registered under older rules, or a
    // development endpoint in production, is never called.
    if credentials::addresses(&stored).iter().any(|url| outbound::check_outbound_url(url, settings.allow_loopback_http).is_err()) {
        host.log_error(&format!("deliver {}: endpoint of {list_type}/{id} names an address the hub may not call", lead.message_id));
        for (_, job, payload) in live {
            out.push(end(host, job, payload, Ending::NoRoute, None).await);
        }
        return Ok(out);
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
            host.log_error(&format!("deliver {}: credentials of {list_type}/{id} {why}", lead.message_id));
            return retry_all(host, live.iter().map(|(_, j, p)| (j, p.as_slice())), None).await;
        }
    };

    let circuit = Breaker::open(host, lead, &record_key).await?;
    if let Some(c) = &circuit {
        // A probe is the first call below: when it fails, the rest of the group waits with it.
        if let Admit::Wait(until) = c.admit(host).await? {
            for (_, job, payload) in live {
                out.push(postpone(host, job, payload, until).await);
            }
            return Ok(out);
        }
    }

    let limits = rules.limits(host).await?;
    let items: Vec<&[u8]> = live.iter().map(|(_, _, p)| p.as_slice()).collect();
    // After a call that failed (or a probe that failed), the calls left wait as long as it.
    let mut waiting_until: Option<u64> = None;
    for calls in split(&items, limits) {
        let jobs = &live[calls.clone()];
        if let Some(at) = waiting_until {
            for (_, job, payload) in jobs {
                out.push(postpone(host, job, payload, at).await);
            }
            continue;
        }
        // From here on a host failure must not undo what earlier calls delivered: it fails
        // this call's jobs and the rest (they are handed out again), not the whole group.
        let mut jitter = [0u8; 4];
        let answer = match host.fill(&mut jitter) {
            Ok(()) => call(host, lead, &endpoint, &rules.combine(&items[calls.clone()])).await,
            Err(e) => Err(e),
        };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                out.extend((calls.start..live.len()).map(|_| Err(e.clone())));
                return Ok(out);
            }
        };
        let jitter = u32::from_le_bytes(jitter);
        let verdicts = match &answer {
            Some(a) => rules.verdicts(a.as_ref(), &items[calls.clone()], host.now_ms()),
            // No usable credential now (token endpoint down, API key expired): try again later.
            None => items[calls].iter().map(|_| Verdict::of(Outcome::Retry)).collect(),
        };
        debug_assert_eq!(verdicts.len(), jobs.len(), "one verdict per job of the call");
        let failed = verdicts.iter().all(|v| v.outcome == Outcome::Retry);
        if let (Some(c), Some(_)) = (&circuit, &answer) {
            // The call is made: a circuit that cannot be written is logged, not a reason to
            // hand its jobs out again.
            if let Err(e) = c.record(host, !failed).await {
                host.log_error(&format!("deliver {}: circuit not recorded: {e}", lead.message_id));
            }
        }
        let retry_after = verdicts.iter().filter_map(|v| v.retry_after_secs).max();
        for ((_, job, payload), verdict) in jobs.iter().zip(verdicts) {
            out.push(match verdict.outcome {
                Outcome::Delivered => finish(host, job, Finished::Delivered).await,
                Outcome::Failed(why) => end(host, job, payload, why, verdict.detail.as_deref()).await,
                Outcome::Retry => retry(host, job, payload, retry_after, jitter).await,
            });
        }
        if failed {
            let delay = out.iter().rev().find_map(|r| match r {
                Ok(Finished::Retrying(s)) => Some(*s),
                _ => None,
            });
            waiting_until = Some(host.now_ms() + delay.unwrap_or(1) as u64 * 1000);
        }
    }
    Ok(out)
}

/// The circuit breaker of one endpoint, when its protocol keeps one.
struct Breaker {
    policy: BreakerPolicy,
    shard: String,
    key: String,
    /// How long a probe may be out before another may go.
    probe_ms: u64,
}

impl Breaker {
    async fn open<P: Rules>(host: &impl Host, job: &Job<P>, endpoint_key: &str) -> PortResult<Option<Breaker>> {
        let settings = host.settings();
        let probe_ms = job.payload.attempt_timeout_ms() as u64 * 2;
        Ok(job.payload.breaker(settings).map(|policy| Breaker { policy, shard: job.placement(settings.outbox_shards).0, key: format!("circuit/{endpoint_key}"), probe_ms }))
    }

    async fn load(&self, host: &impl Host) -> PortResult<Circuit> {
        Ok(host.outbox()?.state(&self.shard, &self.key).await?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    async fn save(&self, host: &impl Host, circuit: Circuit) -> PortResult<()> {
        let value = (circuit != Circuit::default()).then(|| serde_json::to_string(&circuit).unwrap_or_default());
        host.outbox()?.set_state(&self.shard, &self.key, value.as_deref()).await
    }

    async fn admit(&self, host: &impl Host) -> PortResult<Admit> {
        let now = self.load(host).await?;
        let (admit, next) = breaker::admit(now, host.now_ms(), self.probe_ms);
        if next != now {
            self.save(host, next).await?;
        }
        Ok(admit)
    }

    async fn record(&self, host: &impl Host, ok: bool) -> PortResult<()> {
        let now = self.load(host).await?;
        let next = breaker::record(&self.policy, now, ok, host.now_ms());
        if next != now {
            if matches!(next, Circuit::Open { .. }) {
                host.log_error(&format!("deliver: circuit of {} is open ({next:?})", self.key));
            }
            self.save(host, next).await?;
        }
        Ok(())
    }
}

/// The jobs of each call, in order: as many as `limits` allow, the body counted as a JSON
/// array of the items (brackets and commas); a single item larger than the limit goes alone.
pub fn split(items: &[&[u8]], limits: Limits) -> Vec<Range<usize>> {
    let mut calls = Vec::new();
    let (mut start, mut bytes) = (0, 1usize);
    for (i, item) in items.iter().enumerate() {
        let count = i - start;
        let grown = bytes + item.len() + 1;
        if count > 0 && (count >= limits.max_messages.max(1) || grown > limits.max_bytes) {
            calls.push(start..i);
            start = i;
            bytes = 1 + item.len() + 1;
        } else {
            bytes = grown;
        }
    }
    if start < items.len() {
        calls.push(start..items.len());
    }
    calls
}

/// One call with `body`: `None` when no credential can be had right now.
async fn call<P: Rules>(host: &impl Host, job: &Job<P>, ep: &Endpoint, body: &[u8]) -> PortResult<Option<Result<HttpResponse, OutboundError>>> {
    for refresh in [false, true] {
        let Some(credential) = credential(host, job, ep, refresh).await? else { return Ok(None) };
        let req = job.payload.sign(host, job.payload.push(&ep.url, body, &credential)).await?;
        let result = host.http()?.send(req, job.payload.attempt_timeout_ms()).await;
        // A 401 from a recipient we authenticate to with OAuth2 may mean it revoked our
        // cached token: fetch a new one, try once more.
        if !refresh && result.as_ref().is_ok_and(|r| credentials::refresh_token_on(r.status, &ep.auth)) {
            continue;
        }
        return Ok(Some(result));
    }
    Ok(None)
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

async fn retry_all<'a, P: Rules + 'a>(host: &impl Host, jobs: impl Iterator<Item = (&'a Job<P>, &'a [u8])>, retry_after: Option<u32>) -> PortResult<Vec<PortResult<Finished>>> {
    let mut jitter = [0u8; 4];
    host.fill(&mut jitter)?;
    let mut out = Vec::new();
    for (job, payload) in jobs {
        out.push(retry(host, job, payload, retry_after, u32::from_le_bytes(jitter)).await);
    }
    Ok(out)
}

/// Another attempt under the policy (not before the recipient's `Retry-After`), or the end
/// when the policy's time would run out first.
async fn retry<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8], retry_after: Option<u32>, jitter: u32) -> PortResult<Finished> {
    let policy = job.payload.policy(host).await?;
    let attempts = job.attempts + 1;
    let elapsed = host.now_ms().saturating_sub(job.accepted_at_ms);
    let delay = policy::next_delay_secs(&policy, attempts, elapsed, jitter)
        .map(|d| d.max(retry_after.unwrap_or(0).min(MAX_RETRY_AFTER_SECS)))
        .filter(|d| elapsed + *d as u64 * 1000 < policy.timeout_seconds as u64 * 1000);
    match delay {
        Some(delay) => {
            let next = Job { attempts, ..job.clone() };
            broker::enqueue(host, &next, delay, None).await?;
            Ok(Finished::Retrying(delay))
        }
        None => end(host, job, payload, Ending::Expired, None).await,
    }
}

/// Puts a job that made no attempt back, due at `at_ms`, or ends it when its policy's time
/// has run out (a circuit that stays open for as long dead-letters what waits on it).
async fn postpone<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8], at_ms: u64) -> PortResult<Finished> {
    let policy = job.payload.policy(host).await?;
    if host.now_ms().saturating_sub(job.accepted_at_ms) >= policy.timeout_seconds as u64 * 1000 {
        return end(host, job, payload, Ending::Expired, None).await;
    }
    broker::postpone(host, job, at_ms).await?;
    Ok(Finished::Retrying((at_ms.saturating_sub(host.now_ms()) / 1000) as u32))
}

/// Keeps a job until its recipient registers an endpoint: released by the registration, or
/// due (and then ended) when the policy's time runs out.
async fn hold<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8], endpoint_key: &str) -> PortResult<Finished> {
    let policy = job.payload.policy(host).await?;
    let until = job.accepted_at_ms + policy.timeout_seconds as u64 * 1000;
    if host.now_ms() >= until {
        return end(host, job, payload, Ending::Expired, None).await;
    }
    broker::hold(host, job, endpoint_key, until).await?;
    Ok(Finished::Held)
}

/// Delivery ended: whatever the protocol sends back is archived and queued like any message,
/// then the job leaves the outbox.
async fn end<P: Rules>(host: &impl Host, job: &Job<P>, payload: &[u8], why: Ending, detail: Option<&str>) -> PortResult<Finished> {
    let ended = Ended {
        why,
        detail,
        message_id: &job.message_id,
        archive_key: &job.archive_key,
        accepted_at_ms: job.accepted_at_ms,
        attempts: job.attempts,
        now_ms: host.now_ms(),
    };
    if why == Ending::Expired {
        job.payload.dead_letter(host, payload, &ended).await?;
    }
    match job.payload.ended(payload, &ended, host.settings()) {
        Ok(Some(reply)) => {
            let accepted_at_ms = host.now_ms();
            let message_id = ids::uuid_v4(host)?;
            let archive_key = crate::common::archive::key(reply.job.archive_area(), accepted_at_ms, &message_id);
            host.archive()?.put(&archive_key, &reply.payload).await?;
            let next = Job { message_id, archive_key, accepted_at_ms, attempts: 0, payload: reply.job };
            broker::enqueue(host, &next, 0, Some(&reply.payload)).await?;
        }
        Ok(None) => {}
        Err(log) => host.log_error(&format!("deliver {}: {log}", job.message_id)),
    }
    finish(host, job, Finished::Failed(why)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_take_what_the_limits_allow_and_a_large_item_goes_alone() {
        let items: Vec<&[u8]> = alloc::vec![b"aaaa", b"bbbb", b"cccc", b"dddddddddddddddddddd", b"ee"];
        let by_count = Limits { max_messages: 2, max_bytes: usize::MAX };
        assert_eq!(split(&items, by_count), alloc::vec![0..2, 2..4, 4..5]);
        // [aaaa,bbbb] is 11 bytes; a third item would make 16.
        let by_size = Limits { max_messages: 100, max_bytes: 12 };
        assert_eq!(split(&items, by_size), alloc::vec![0..2, 2..3, 3..4, 4..5]);
        assert_eq!(split(&items, Limits::ONE).len(), 5);
        assert!(split(&[], by_count).is_empty());
    }
}
