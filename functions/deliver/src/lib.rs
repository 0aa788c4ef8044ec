//! Delivery: the outbox shards hand out jobs as they fall due (a job alone, or a group's due
//! jobs together); each hand-out is decoded and run by the core's delivery engine
//! (`switchyard_core::common::delivery`), which follows the rules of the jobs' protocol. A job
//! whose host operations failed is handed out again; every other job is done once its outcome
//! (retry, hold or notification) is itself durable.

use switchyard_core::common::broker::{self, Ack};
use switchyard_core::common::delivery;
use switchyard_core::host::Host;
use switchyard_core::ports::PortResult;
use switchyard_core::protocols::DeliveryJob;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::deliver_entry!(crate::run_jobs, crate::sweep);
#[cfg(target_os = "wasi")]
switchyard_host_spin::drain_entry!(crate::run_jobs);

/// Runs the jobs of one hand-out as the outbox holds them (each with its message when the
/// outbox holds that too): one acknowledgement per job, in order.
pub async fn run_jobs(host: &impl Host, raw: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack> {
    let mut acks = vec![Ack::Done; raw.len()];
    let mut jobs = Vec::with_capacity(raw.len());
    let mut slots = Vec::with_capacity(raw.len());
    for (k, (json, payload)) in raw.into_iter().enumerate() {
        match DeliveryJob::from_json(&json) {
            Some(job) => {
                jobs.push((job, payload));
                slots.push(k);
            }
            // A job no release of the hub reads (its message stays in the archive); what it
            // says is logged (ids and routing only, never a secret) for the operator.
            None => host.log_error(&format!("deliver: unreadable job dropped: {}", String::from_utf8_lossy(&json[..json.len().min(300)]))),
        }
    }
    let ids: Vec<String> = jobs.iter().map(|(j, _)| j.message_id.clone()).collect();
    for ((k, id), result) in slots.into_iter().zip(ids).zip(delivery::run_batch(host, jobs).await) {
        if let Err(e) = result {
            host.log_error(&format!("deliver {id}: {e}"));
            acks[k] = Ack::Retry;
        }
    }
    acks
}

/// Every outbox shard pushes what is due and re-arms its wake-up (the safety net).
pub async fn sweep(host: &impl Host) -> PortResult<usize> {
    broker::sweep(host).await
}
