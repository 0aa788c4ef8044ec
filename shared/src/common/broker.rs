//! What travels on the broker, and how it travels without loss. Payloads live once in the
//! archive; a queue message carries only the archive key and delivery bookkeeping, so it
//! stays far below host limits (Cloudflare Queues: 128 KB). Every job is written to the
//! outbox before it is queued and removed only when it has finished, so a job the broker
//! loses (a crash, an in-memory local queue) is found by [`sweep`] and sent again: delivery
//! is at least once, and retries carry the same message so recipients de-duplicate.

use alloc::string::String;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::host::Host;
use crate::ports::{Archive, Outbox, PortResult, Queue};

/// One delivery job: push the archived message `archive_key` to the recipient its
/// protocol part names. `P` is the protocol part (`crate::protocols::Payload` in the hub),
/// flattened into the same JSON object and tagged by `protocol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job<P> {
    /// The hub's message id (also the archive object name and the outbox key).
    pub message_id: String,
    pub archive_key: String,
    /// When the hub accepted the message (ms); the delivery policy's clock starts here.
    pub accepted_at_ms: u64,
    /// Attempts already made.
    #[serde(default)]
    pub attempts: u32,
    #[serde(flatten)]
    pub payload: P,
}

impl<P: Serialize + DeserializeOwned> Job<P> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &[u8]) -> Option<Job<P>> {
        serde_json::from_slice(s).ok()
    }
}

/// What the broker should do with a message it handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// The job reached its end or was replaced by its retry: remove it.
    Done,
    /// The host failed mid-job: hand it out again.
    Retry,
}

/// Records `job` in the outbox, then queues it (after `delay_secs`).
pub async fn enqueue<P: Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, delay_secs: u32) -> PortResult<()> {
    let json = job.to_json();
    let due_at_ms = host.now_ms() + delay_secs as u64 * 1000;
    host.outbox()?.put(&job.message_id, &json, due_at_ms).await?;
    if delay_secs == 0 {
        host.queue()?.send(&json).await
    } else {
        host.queue()?.send_after(&json, delay_secs).await
    }
}

/// Accepts a new message: its payload into the archive and its job into the outbox (both
/// at once), then the job onto the broker. When this returns `Ok`, the message is durable.
pub async fn accept<P: Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, payload: &[u8]) -> PortResult<()> {
    let json = job.to_json();
    let (archive, outbox) = (host.archive()?, host.outbox()?);
    futures_util::future::try_join(
        archive.put(&job.archive_key, payload),
        outbox.put(&job.message_id, &json, host.now_ms()),
    )
    .await?;
    host.queue()?.send(&json).await
}

/// The job reached its end (delivered, failed and notified, or unreadable).
pub async fn finished<P>(host: &impl Host, job: &Job<P>) -> PortResult<()> {
    host.outbox()?.remove(&job.message_id).await
}

/// Jobs re-sent per sweep at most.
pub const SWEEP_BATCH: usize = 500;

/// Re-sends every job overdue by more than the outbox grace: the broker lost it. Returns
/// how many were re-sent. A re-sent job is due again from now, so it is not re-sent by the
/// next sweep unless it is lost again.
pub async fn sweep<P: Serialize + DeserializeOwned>(host: &impl Host) -> PortResult<usize> {
    let now = host.now_ms();
    let overdue = host.outbox()?.overdue(now.saturating_sub(host.settings().outbox_grace_ms), SWEEP_BATCH).await?;
    let mut resent = 0;
    for raw in overdue {
        match Job::<P>::from_json(&raw) {
            Some(job) => {
                enqueue(host, &job, 0).await?;
                resent += 1;
            }
            None => host.log_error("outbox: unreadable entry skipped"),
        }
    }
    Ok(resent)
}
