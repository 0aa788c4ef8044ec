//! Ingest. `POST /letterbox/{v1|v2}/post` (TOTSCo API v2.0 §2.1): the envelope is validated
//! in the order of §2.1.8.1 and the message is acknowledged with 202 and an empty body only
//! once it is in the archive and its delivery job is on the broker. A failure before that
//! answers 500 and leaves the sender free to retry; nothing acknowledged is lost (the job
//! is in the outbox before it is queued, see `switchyard_core::broker`).

use switchyard_core::broker::{self, DeliveryJob, Protocol};
use switchyard_core::host::{respond, Host};
use switchyard_core::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::ots::envelope;
use switchyard_core::ots::errors::{Failure, OtsError};
use switchyard_core::ots::ingest::{self, Lookups};
use switchyard_core::ots;
use switchyard_core::ports::Archive;
use switchyard_core::routes::trusted;
use switchyard_core::{archive, ids, store};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    respond(host, "send", accept(host, &req).await)
}

async fn accept(host: &impl Host, req: &HttpRequest) -> Result<HttpResponse, Failure> {
    let version = ots::letterbox_version(req.path()).ok_or(OtsError::NotFound)?;
    if req.method != Method::Post {
        return Err(OtsError::MethodNotAllowed.into());
    }
    let kv = host.kv()?;
    // The gateway authenticated the caller and named its client.
    let client_id = req.header(trusted::CLIENT_ID).ok_or(OtsError::MissingCredentials)?;
    let client = store::client(kv, client_id).await?.ok_or(OtsError::ResourceForbidden)?;

    let env = envelope::parse(&req.body, version)?;
    let (src, dst) = (&env.source, &env.destination);
    let destination_list_known = store::list_type_known(kv, &dst.list_type).await?;
    let source_list_known = if src.list_type == dst.list_type {
        destination_list_known
    } else {
        store::list_type_known(kv, &src.list_type).await?
    };
    let found = Lookups {
        destination_list_known,
        source_list_known,
        destination: if destination_list_known { store::participant(kv, &dst.list_type, &dst.identity).await? } else { None },
        source: if source_list_known { store::participant(kv, &src.list_type, &src.identity).await? } else { None },
        routing: store::routing_id(kv, &env.routing_id).await?,
    };
    ingest::check(&env, &client, req.header(trusted::REMOTE_IP), found)?;

    // Durable before acknowledged: archive first, then the broker.
    let accepted_at_ms = host.now_ms();
    let message_id = ids::uuid_v4(host)?;
    let archive_key = archive::ots_key(accepted_at_ms, &message_id);
    host.archive()?.put(&archive_key, &req.body).await?;
    let job = DeliveryJob {
        message_id,
        protocol: Protocol::Ots,
        archive_key,
        recipient_list_type: dst.list_type.clone(),
        recipient: dst.identity.clone(),
        routing_id: env.routing_id.clone(),
        accepted_at_ms,
        attempts: 0,
    };
    broker::enqueue(host, &job, 0).await?;
    Ok(HttpResponse::empty(202))
}
