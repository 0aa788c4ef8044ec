//! What a host provides. The core never performs I/O: functions hand it data read through
//! these ports and write back what it decides. Each host adapter implements every port with
//! its platform's bindings and adds no rules of its own.
#![allow(async_fn_in_trait)] // hosts are single-threaded wasm; futures need not be Send

use alloc::string::String;
use alloc::vec::Vec;

use crate::common::http::{HttpRequest, HttpResponse};

/// A failure of the host, not of the caller: storage, broker or network unavailable.
/// Each protocol answers these with its own 500 body and never acknowledges the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError(pub String);

impl PortError {
    pub fn new(msg: impl Into<String>) -> Self {
        PortError(msg.into())
    }
}

impl core::fmt::Display for PortError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// Wall-clock time in milliseconds since the Unix epoch.
pub trait Clock {
    fn now_ms(&self) -> u64;
}

/// Cryptographically secure random bytes (ids, salts, secrets).
pub trait Entropy {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()>;
}

/// The routing table, directory and configuration: eventually consistent key-value.
pub trait KeyValue {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    async fn put(&self, key: &str, value: &[u8]) -> PortResult<()>;
    async fn delete(&self, key: &str) -> PortResult<()>;
    /// Keys starting with `prefix`, in lexical order.
    async fn list(&self, prefix: &str) -> PortResult<Vec<String>>;
}

/// The broker: a durable, sharded record of every delivery job not yet finished, which the
/// host pushes when each job falls due (on Cloudflare a Durable Object per shard, woken by
/// the put or its alarm; on Spin the drain). A job stays until it is removed, so a crash
/// loses nothing: what was in flight is pushed again when its shard resumes.
///
/// Jobs that share a `group` are handed out together, the earliest first, with at most one
/// hand-out of a group in flight (a batch: one call carries several messages). A `held` job
/// waits, whatever its due time says, until [`Outbox::release`] names its key (or its due
/// time, the end of its wait, comes).
pub trait Outbox {
    /// Records `entry` in `shard` (an entry keeps its payload when a later put gives none).
    /// Replaces an entry with the same id: a retry is a put with a later due time.
    async fn put(&self, shard: &str, entry: &OutboxEntry<'_>) -> PortResult<()>;
    /// Records every entry in `shard` as [`Outbox::put`] does, in one exchange where the host
    /// can (the jobs of one request for the recipients of one shard).
    async fn put_many(&self, shard: &str, entries: &[OutboxEntry<'_>]) -> PortResult<()> {
        for e in entries {
            self.put(shard, e).await?;
        }
        Ok(())
    }
    async fn remove(&self, shard: &str, message_id: &str) -> PortResult<()>;
    /// Makes `shard` push what is due and re-arm its wake-up (the safety net after a restart).
    async fn resume(&self, shard: &str) -> PortResult<()>;
    /// Makes every job of `shard` held under `held` due now.
    async fn release(&self, shard: &str, held: &str) -> PortResult<()>;
    /// The shard's own small records (a circuit breaker's state), strongly consistent: every
    /// job that reads one lives in the same shard, and the shard runs one step at a time.
    async fn state(&self, shard: &str, key: &str) -> PortResult<Option<String>>;
    /// Replaces (or with `None` removes) a record [`Outbox::state`] reads.
    async fn set_state(&self, shard: &str, key: &str, value: Option<&str>) -> PortResult<()>;
}

/// One outbox row as [`Outbox::put`] records it.
#[derive(Debug, Clone, Copy)]
pub struct OutboxEntry<'a> {
    /// `listType/id`: the hand-outs in flight are bounded per recipient.
    pub recipient: &'a str,
    pub id: &'a str,
    pub job: &'a str,
    pub payload: Option<&'a [u8]>,
    pub due_at_ms: u64,
    /// Jobs pushed together in one call (see [`Outbox`]).
    pub group: Option<&'a str>,
    /// The key a held job waits under until it is released.
    pub held: Option<&'a str>,
}

/// The archive (object store): payloads are written once and read by key.
pub trait Archive {
    async fn put(&self, key: &str, body: &[u8]) -> PortResult<()>;
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    /// Keys starting with `prefix`, in lexical order, at most `limit` of them after `start_after`
    /// (exclusive), so replay and retention can page through a day of messages.
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> PortResult<Vec<String>>;
}

/// A strongly consistent set of keys: of any number of concurrent inserts of one key, exactly
/// one succeeds, on every instance of every function (DIP senderUniqueReference, MSG1006).
pub trait Unique {
    /// Records `key` with `value`; `false` (and nothing written) when it was already there.
    async fn insert_if_absent(&self, key: &str, value: &[u8]) -> PortResult<bool>;
    /// [`Unique::insert_if_absent`] for every entry, in order (of two entries with one key the
    /// first is recorded), in as few exchanges as the host can: one answer per entry.
    async fn insert_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<Vec<bool>> {
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            out.push(self.insert_if_absent(k, v).await?);
        }
        Ok(out)
    }
}

/// The address table: one record per meter point (DIP: an MPAN core's MAMS history, 7.5),
/// millions of them, loaded in bulk and read once per message. Unlike [`KeyValue`] it is
/// strongly consistent (a write is seen by the next read on every instance) and a bulk load
/// is a few calls, not one per record. Values are JSON documents. Records are data, not
/// configuration: writing one never moves the configuration generation.
pub trait AddressTable {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    /// Stores every entry, each replacing the whole record of its key (of two entries with one
    /// key, the later wins). Atomic per shard of the table, not across shards: after a failure
    /// some entries may be written, and the caller retries the whole call.
    async fn put_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<()>;
    /// Removes `key`'s record; `false` when there was none.
    async fn delete(&self, key: &str) -> PortResult<bool>;
}

/// Outbound HTTP to addresses recipients registered. `timeout_ms` bounds the whole exchange.
pub trait HttpClient {
    async fn send(&self, request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, OutboundError>;
}

/// Why an outbound call produced no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    Timeout,
    Connection(String),
    /// The address is not one the hub may call (see [`crate::common::delivery::outbound`]).
    Refused(String),
}

/// Per-key throttling windows, updated one at a time (see [`crate::ratelimit`]).
pub trait Throttle {
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<crate::common::ratelimit::Decision>;
}

/// RSA PKCS#1 v1.5 with SHA-256 over the given bytes, with a key the host holds.
pub trait Signer {
    async fn sign(&self, data: &[u8]) -> PortResult<Vec<u8>>;
}

/// Verification of RSA PKCS#1 v1.5 SHA-256 signatures against an SPKI public key (DER).
pub trait Verifier {
    async fn verify(&self, spki_der: &[u8], data: &[u8], signature: &[u8]) -> PortResult<bool>;
}

