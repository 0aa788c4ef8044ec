//! Ingest. `POST /letterbox/{v1|v2}/post` (TOTSCo API v2.0 §2.1): the envelope is validated
//! in the order of §2.1.8.1 and the message is acknowledged with 202 and an empty body only
//! once it is in the archive and its delivery job is on the broker. A failure before that
//! answers 500 and leaves the sender free to retry; nothing acknowledged is lost (the job
//! is in the outbox before it is queued, see `switchyard_core::broker`).

use futures_util::future::{try_join, try_join3};
use switchyard_core::common::broker;
use switchyard_core::common::config::ClientRecord;
use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::common::{archive, ids, store};
use switchyard_core::gateway::trusted;
use switchyard_core::host::Host;
use switchyard_core::ots::delivery::Letterbox;
use switchyard_core::ots::errors::{respond, Failure, OtsError};
use switchyard_core::ots::ingest::{self, Lookups};
use switchyard_core::ots::{self, directory, envelope, routing};
use switchyard_core::protocols::{DeliveryJob, Payload};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::unique_object!();
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
    let env = envelope::parse(&req.body, version)?;
    let (src, dst) = (&env.source, &env.destination);

    // Every lookup at once: participants are read even when their list type turns out to be
    // unknown (they are then absent), which costs less than waiting for the answer first.
    let kv = host.kv()?;
    // The gateway authenticated the caller and named its client.
    let client_id = req.header(trusted::CLIENT_ID).ok_or(OtsError::MissingCredentials)?;
    let same_list = src.list_type == dst.list_type;
    // The gateway passes the grant it loaded; without it, read the client record.
    let forwarded = req.header(trusted::CLIENT_GRANT).and_then(trusted::decode_grant).map(|grant| ClientRecord {
        client_id: client_id.into(),
        secret_hash: String::new(),
        grant,
        primary_key: None,
        secondary_key: None,
    });
    let ((client, destination_list_known, source_list_known), (destination, source, routing)) = try_join(
        try_join3(
            async { if forwarded.is_some() { Ok(forwarded) } else { store::client(kv, client_id).await } },
            directory::list_type_known(kv, &dst.list_type),
            async { if same_list { Ok(true) } else { directory::list_type_known(kv, &src.list_type).await } },
        ),
        try_join3(
            directory::participant(kv, &dst.list_type, &dst.identity),
            directory::participant(kv, &src.list_type, &src.identity),
            routing::routing_id(kv, &env.routing_id),
        ),
    )
    .await?;
    let client = client.ok_or(OtsError::ResourceForbidden)?;
    let source_list_known = if same_list { destination_list_known } else { source_list_known };
    let found = Lookups {
        destination_list_known,
        source_list_known,
        destination: destination.filter(|_| destination_list_known),
        source: source.filter(|_| source_list_known),
        routing,
    };
    ingest::check(&env, &client, req.header(trusted::REMOTE_IP), found)?;

    // Durable before acknowledged: archive and outbox, then the broker.
    let accepted_at_ms = host.now_ms();
    let message_id = ids::uuid_v4(host)?;
    let job = DeliveryJob {
        archive_key: archive::key(ots::ARCHIVE_AREA, accepted_at_ms, &message_id),
        message_id,
        accepted_at_ms,
        attempts: 0,
        payload: Payload::Ots(Letterbox {
            recipient_list_type: dst.list_type.clone(),
            recipient: dst.identity.clone(),
            routing_id: env.routing_id.clone(),
        }),
    };
    broker::accept(host, &job, &req.body).await?;
    Ok(HttpResponse::empty(202))
}
