//! Ingest. DIP: `POST /dip-channel/{id}` and `POST /validate/{IF}/{Event}`, served by
//! `switchyard_core::dip::send` (this is the one function that carries the schema validator).
//!
//! OTS: `POST /letterbox/{v1|v2}/post` (TOTSCo API v2.0 §2.1): the envelope is validated
//! in the order of §2.1.8.1 and the message is acknowledged with 202 and an empty body only
//! once it is in the archive and its delivery job in its outbox shard (which starts the push
//! at once, see `switchyard_core::common::broker`). A failure before that answers 500 and
//! leaves the sender free to retry; nothing acknowledged is lost.

use futures_util::future::try_join;
use switchyard_core::common::broker;
use switchyard_core::common::config::ClientRecord;
use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::common::{archive, ids, store};
use switchyard_core::gateway::trusted;
use switchyard_core::host::Host;
use switchyard_core::ots::delivery::Letterbox;
use switchyard_core::ots::errors::{respond, Failure, OtsError};
use switchyard_core::ots::ingest;
use switchyard_core::ots::{self, envelope};
use switchyard_core::protocols::{DeliveryJob, Payload};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::unique_object!();
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::address_table_object!();
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    if req.path() == "/statusmessage" {
        return switchyard_core::dip::status::handle::<Payload>(host, &req).await;
    }
    if switchyard_core::dip::send::serves(req.path()) {
        return switchyard_core::dip::send::handle::<Payload>(host, &req).await;
    }
    respond(host, "send", accept(host, &req).await)
}

async fn accept(host: &impl Host, req: &HttpRequest) -> Result<HttpResponse, Failure> {
    let version = ots::letterbox_version(req.path()).ok_or(OtsError::NotFound)?;
    if req.method != Method::Post {
        return Err(OtsError::MethodNotAllowed.into());
    }
    let env = envelope::parse(&req.body, version)?;

    // The gateway authenticated the caller, named its client and passed the grant it loaded;
    // without the grant, the client record is read.
    let kv = host.kv()?;
    let client_id = req.header(trusted::CLIENT_ID).ok_or(OtsError::MissingCredentials)?;
    let forwarded = req.header(trusted::CLIENT_GRANT).and_then(trusted::decode_grant).map(|grant| ClientRecord {
        client_id: client_id.into(),
        secret_hash: String::new(),
        grant,
        primary_key: None,
        secondary_key: None,
    });
    let (client, found) = try_join(
        async { if forwarded.is_some() { Ok(forwarded) } else { store::client(kv, client_id).await } },
        ingest::lookups(kv, &env),
    )
    .await?;
    let client = client.ok_or(OtsError::ResourceForbidden)?;
    ingest::check(&env, &client, req.header(trusted::REMOTE_IP), found)?;

    // Durable before acknowledged: the archive and the outbox shard, both at once.
    let accepted_at_ms = host.now_ms();
    let message_id = ids::uuid_v4(host)?;
    let job = DeliveryJob {
        archive_key: archive::key(ots::ARCHIVE_AREA, accepted_at_ms, &message_id),
        message_id,
        accepted_at_ms,
        attempts: 0,
        payload: Payload::Ots(Letterbox::to_destination(&env)),
    };
    broker::accept(host, &job, &req.body).await?;
    Ok(HttpResponse::empty(202))
}
