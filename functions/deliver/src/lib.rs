//! Delivery: the outbox shards hand out jobs as they fall due; each is decoded and run by the
//! core's delivery engine (`switchyard_core::common::delivery`), which follows the rules of
//! the job's protocol. A job whose host operations failed is handed out again; every other
//! job is done once its outcome (retry or notification) is itself durable.

use switchyard_core::common::broker::{self, Ack};
use switchyard_core::common::delivery;
use switchyard_core::host::Host;
use switchyard_core::ports::PortResult;
use switchyard_core::protocols::DeliveryJob;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::deliver_entry!(crate::run_job, crate::sweep);
#[cfg(target_os = "wasi")]
switchyard_host_spin::drain_entry!(crate::run_job);

/// Runs one job as the outbox holds it, with the message when the outbox holds that too.
pub async fn run_job(host: &impl Host, raw: &[u8], payload: Option<Vec<u8>>) -> Ack {
    let Some(job) = DeliveryJob::from_json(raw) else {
        host.log_error("deliver: unreadable job dropped");
        return Ack::Done;
    };
    match delivery::run(host, &job, payload).await {
        Ok(_) => Ack::Done,
        Err(e) => {
            host.log_error(&format!("deliver {}: {e}", job.message_id));
            Ack::Retry
        }
    }
}

/// Every outbox shard pushes what is due and re-arms its wake-up (the safety net).
pub async fn sweep(host: &impl Host) -> PortResult<usize> {
    broker::sweep(host).await
}
