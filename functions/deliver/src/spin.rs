//! Spin entry: Spin has no queue trigger, so `POST /deliver/drain` (a private route, called
//! by the gateway after each accepted message and by a scheduler) runs the outbox jobs that
//! are due. A job leaves the outbox only after it finished.

use switchyard_core::broker::DeliveryJob;
use switchyard_core::host::Host;
use switchyard_core::http::HttpResponse;
use switchyard_core::ports::Clock;
use switchyard_host_spin::SpinHost;

/// Jobs run per drain call.
const DRAIN_BATCH: usize = 50;

#[spin_sdk::http_component]
async fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    switchyard_host_spin::serve(req, async |host: &SpinHost, _req| drain(host).await).await
}

async fn drain(host: &SpinHost) -> HttpResponse {
    let outbox = match host.queue() {
        Ok(q) => q,
        Err(e) => return failed(host, &e.0),
    };
    let due = match outbox.due(host.now_ms(), DRAIN_BATCH).await {
        Ok(d) => d,
        Err(e) => return failed(host, &e.0),
    };
    let mut done = 0usize;
    for (key, raw) in due {
        let finished = match DeliveryJob::from_json(&raw) {
            Some(job) => super::deliver(host, &job).await.is_ok(),
            None => true,
        };
        if finished && outbox.remove(&key).await.is_ok() {
            done += 1;
        }
    }
    HttpResponse::json(200, &serde_json::json!({ "finished": done }))
}

fn failed(host: &SpinHost, cause: &str) -> HttpResponse {
    host.log_error(&format!("drain: {cause}"));
    switchyard_core::ots::errors::OtsError::Backend.response()
}
