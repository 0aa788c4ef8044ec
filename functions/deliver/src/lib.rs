//! Delivery: the broker hands out jobs; each is decoded and run by the core's delivery
//! engine (`switchyard_core::common::delivery`), which follows the rules of the job's
//! protocol. A job whose host operations failed is handed out again; every other job is done
//! once its outcome (retry or notification) is itself durable.

use switchyard_core::common::broker::{self, Ack};
use switchyard_core::common::delivery;
use switchyard_core::host::Host;
use switchyard_core::ports::PortResult;
use switchyard_core::protocols::{DeliveryJob, Payload};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::consumer_entry!(crate::run_job, crate::sweep);
#[cfg(target_os = "wasi")]
switchyard_host_spin::drain_entry!(crate::run_job);

/// Runs one job as the broker carries it.
pub async fn run_job(host: &impl Host, raw: &[u8]) -> Ack {
    let Some(job) = DeliveryJob::from_json(raw) else {
        host.log_error("deliver: unreadable job dropped");
        return Ack::Done;
    };
    match delivery::run(host, &job).await {
        Ok(_) => Ack::Done,
        Err(e) => {
            host.log_error(&format!("deliver {}: {e}", job.message_id));
            Ack::Retry
        }
    }
}

/// Re-sends the jobs the broker lost.
pub async fn sweep(host: &impl Host) -> PortResult<usize> {
    broker::sweep::<Payload>(host).await
}
