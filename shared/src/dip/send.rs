//! The DIP send API as one function serves it (feature `schema`): `POST /dip-channel/{id}`
//! (L1, DSD002 9.2, with the contract's codes) and `POST /validate/{IF}/{Event}`. The order of
//! the checks is the protocol's, so it lives here; the function only hands requests in.
//!
//! A message is created only once it is durable: its archive object and one outbox job per
//! (recipient, role) are written before its item says MSG0000. Its senderUniqueReference is
//! claimed (strongly consistent) just before, so two copies in one batch or in two concurrent
//! requests are accepted once.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::codes::Msg;
use super::delivery::{Call, Carries};
use super::ingest::{self, Header, Item};
use super::schema::{Invalid, Schemas};
use super::{addressing, config, store};
use crate::common::broker::{self, Job};
use crate::common::http::{HttpRequest, HttpResponse, Method};
use crate::common::{archive, ids, time};
use crate::host::Host;
use crate::ports::{Archive, PortError, PortResult, Unique};

/// Messages of one batch being made durable at once (each is a few storage calls).
const MESSAGES_IN_FLIGHT: usize = 16;

std::thread_local! {
    /// The compiled schemas of the catalogue this instance last read.
    static SCHEMAS: RefCell<Option<Schemas>> = const { RefCell::new(None) };
}

/// Whether `path` is one this module serves.
pub fn serves(path: &str) -> bool {
    super::errors::owns(path)
}

pub async fn handle<P: Carries>(host: &impl Host, req: &HttpRequest) -> HttpResponse {
    match route::<P>(host, req).await {
        Ok(resp) => resp,
        Err(e) => {
            host.log_error(&alloc::format!("dip send: {}", e.0));
            HttpResponse::empty(500)
        }
    }
}

async fn route<P: Carries>(host: &impl Host, req: &HttpRequest) -> PortResult<HttpResponse> {
    let path = req.path().to_string();
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method, seg.as_slice()) {
        (Method::Post, ["dip-channel", channel]) => send::<P>(host, req, channel).await,
        (Method::Post, ["validate", channel, event]) => validate(host, req, channel, event).await,
        (_, ["dip-channel", _] | ["validate", _, _]) => Ok(HttpResponse::empty(405)),
        _ => Ok(HttpResponse::empty(404)),
    }
}

/// Loads the catalogue's schemas when it changed since this instance compiled them. `false`
/// when no catalogue is loaded.
async fn schemas_ready(host: &impl Host) -> PortResult<bool> {
    let kv = host.kv()?;
    let Some(id) = store::catalogue_id(kv).await? else { return Ok(false) };
    if SCHEMAS.with_borrow(|s| s.as_ref().is_some_and(|s| s.id() == id)) {
        return Ok(true);
    }
    let Some(catalogue) = store::catalogue(kv).await? else { return Ok(false) };
    SCHEMAS.with_borrow_mut(|s| *s = Some(Schemas::new(&id, catalogue)));
    Ok(true)
}

fn with_schemas<R>(f: impl FnOnce(&mut Schemas) -> R) -> R {
    SCHEMAS.with_borrow_mut(|s| f(s.as_mut().expect("schemas_ready was called")))
}

/// `POST /validate/{IF}/{Event}`: the messages' schema and environment checks, nothing sent.
/// 201 with `"MSG0000 - Success"`, or 400 with `"MSG1001 - Schema Failure: <where and why>"`.
async fn validate(host: &impl Host, req: &HttpRequest, channel: &str, event: &str) -> PortResult<HttpResponse> {
    let Some(owner) = super::auth::key_owner_of(req) else { return Ok(HttpResponse::empty(401)) };
    if let Some(refused) = super::auth::signed_by(host, req, owner).await? {
        return Ok(refused);
    }
    if !schemas_ready(host).await? || with_schemas(|s| s.catalogue().event(channel, event).is_none()) {
        return Ok(HttpResponse::empty(404));
    }
    let failure = |why: &str| HttpResponse::json(400, &Value::String(alloc::format!("{}: {why}", Msg::SchemaFailure.message())));
    let Some(payloads) = ingest::batch(&req.body) else {
        return Ok(failure("the body must be a non-empty array of {\"payload\": ...}"));
    };
    let environment = config::environment(host.settings())?;
    for (i, p) in payloads.iter().enumerate() {
        if let Err(e) = with_schemas(|s| s.check_event(channel, event, p)) {
            return Ok(failure(&alloc::format!("message {i}: {}", e.describe())));
        }
        if !ingest::environment_matches(&Header::of(p), environment) {
            return Ok(failure(&alloc::format!("message {i}: environmentTag is not {environment}")));
        }
    }
    Ok(HttpResponse::json(201, &Value::String(Msg::Success.message().into())))
}

/// `POST /dip-channel/{id}`.
async fn send<P: Carries>(host: &impl Host, req: &HttpRequest, channel: &str) -> PortResult<HttpResponse> {
    let Some(owner) = super::auth::key_owner_of(req) else { return Ok(HttpResponse::empty(401)) };
    if !schemas_ready(host).await? || with_schemas(|s| s.catalogue().channel(channel).is_none()) {
        return Ok(HttpResponse::empty(404));
    }
    if let Some(refused) = super::auth::signed_by(host, req, owner).await? {
        return Ok(refused);
    }
    let settings = host.settings();
    let hub = settings.dip_id.as_str();
    let environment = config::environment(settings)?;
    let received_ms = host.now_ms();

    // 9.2.2 3: one message failing its schema rejects them all.
    let Some(mut payloads) = ingest::batch(&req.body) else {
        return Ok(answer(ingest::rejected(&[], owner, hub, received_ms)));
    };
    let mut schema_ok = true;
    for p in &payloads {
        match with_schemas(|s| s.check(channel, p)) {
            Ok(()) => schema_ok &= ingest::environment_matches(&Header::of(p), environment),
            // The catalogue's own schema does not compile: the operator's problem, logged.
            Err(Invalid::BadSchema(e)) => {
                host.log_error(&alloc::format!("dip send: {e}"));
                schema_ok = false;
            }
            Err(_) => schema_ok = false,
        }
        if !schema_ok {
            break;
        }
    }
    if !schema_ok {
        return Ok(answer(ingest::rejected(&payloads, owner, hub, received_ms)));
    }

    let kv = host.kv()?;
    let channel_config = store::channel(kv, channel).await?;
    let sender = store::participant(kv, owner).await?;
    let participants = if channel_config.addressing.always.as_ref().is_some_and(|a| !a.roles.is_empty())
        || channel_config.addressing.primary.is_some()
    {
        store::participants(kv).await?
    } else {
        Default::default()
    };
    let headers: Vec<Header> = payloads.iter().map(Header::of).collect();
    let (config, sender, participants, headers) = (&channel_config, sender.as_ref(), &participants, &headers);

    // 1. Each message's checks and addressing, at once.
    let mut prepared: Vec<(usize, PortResult<Result<Prepared, Msg>>)> = stream::iter(payloads.iter().enumerate())
        .map(|(i, payload)| async move { (i, prepare(host, channel, config, owner, sender, participants, &headers[i], payload).await) })
        .buffer_unordered(MESSAGES_IN_FLIGHT)
        .collect()
        .await;
    prepared.sort_by_key(|(i, _)| *i);
    let mut outcomes: Vec<PortResult<Result<Prepared, Msg>>> = prepared.into_iter().map(|(_, p)| p).collect();

    // 2. The senderUniqueReferences claimed together, in the batch's order (strongly
    //    consistent: of two copies, in one batch or two requests, the first is accepted).
    let claiming: Vec<usize> = (0..outcomes.len()).filter(|&i| matches!(outcomes[i], Ok(Ok(_)))).collect();
    let entries: Vec<(String, Vec<u8>)> = claiming
        .iter()
        .filter_map(|&i| match &outcomes[i] {
            Ok(Ok(p)) => Some((p.unique_key.clone(), p.transaction_id.as_bytes().to_vec())),
            _ => None,
        })
        .collect();
    if !entries.is_empty() {
        match host.unique()?.insert_many(&entries).await {
            Ok(claimed) => {
                for (&i, fresh) in claiming.iter().zip(claimed) {
                    if !fresh {
                        outcomes[i] = Ok(Err(Msg::SenderUniqueReferenceDuplicated));
                    }
                }
            }
            Err(e) => {
                for &i in &claiming {
                    outcomes[i] = Err(e.clone());
                }
            }
        }
    }

    // 3. The claimed messages made durable: archived, then their jobs in the outbox, one
    //    exchange per shard. A message is created only once both are stored.
    let stored = store_claimed::<P>(host, channel, config, &mut payloads, headers, &mut outcomes).await;
    let items: Vec<Item> = outcomes
        .into_iter()
        .zip(stored)
        .enumerate()
        .map(|(i, (outcome, stored))| {
            let header = &headers[i];
            // The host failed for this message alone: it was not created (MSG1000), and the
            // others keep their answers, so no created message goes unreported.
            let outcome = outcome.and_then(|o| stored.map(|_| o)).unwrap_or_else(|e| {
                host.log_error(&alloc::format!("dip send: a message on {channel} was not stored: {}", e.0));
                Err(Msg::ProcessingFailed)
            });
            match outcome {
                Ok(p) => {
                    let mut item = Item::new(header, owner, hub, received_ms, Msg::Success);
                    item.transaction_id = Some(p.transaction_id);
                    item.correlation_id = p.initial_correlation_id.or_else(|| header.sender_correlation_id.clone());
                    item
                }
                Err(msg) => Item::new(header, owner, hub, received_ms, msg),
            }
        })
        .collect();
    Ok(answer(ingest::response(&items, host.now_ms())))
}

fn answer((status, body): (u16, Value)) -> HttpResponse {
    HttpResponse::json(status, &body)
}

/// A message that passed its checks and addressing, ready to be claimed and stored.
struct Prepared {
    transaction_id: String,
    transaction_ms: u64,
    resolved: addressing::Resolved,
    initial_correlation_id: Option<String>,
    unique_key: String,
}

/// One schema-valid message's checks in 9.2.2's order, then its addressing. `Ok(Err(msg))` is
/// the message's refusal; `Err` a host failure.
#[allow(clippy::too_many_arguments)]
async fn prepare(
    host: &impl Host,
    channel: &str,
    channel_config: &config::ChannelConfig,
    owner: &str,
    sender: Option<&config::Participant>,
    participants: &alloc::collections::BTreeMap<String, config::Participant>,
    header: &Header,
    payload: &Value,
) -> PortResult<Result<Prepared, Msg>> {
    if let Err(msg) = ingest::check_sender(header, owner, sender, channel_config).and_then(|_| ingest::sender_timestamp_ms(header).map(|_| ())) {
        return Ok(Err(msg));
    }
    let transaction_ms = host.now_ms();
    let mams = match (&channel_config.addressing.secondary, addressing::mpan(channel, payload)) {
        (Some(_), Some(mpan)) => store::mams(host.address_table()?, mpan).await?,
        _ => None,
    };
    let resolved = match addressing::resolve(channel_config, payload, participants, mams.as_ref(), transaction_ms) {
        Ok(r) => r,
        Err(msg) => return Ok(Err(msg)),
    };
    let role = header.sender_role_id.as_deref().unwrap_or_default();
    let transaction_id = ingest::transaction_id(channel, owner, role, transaction_ms, &ids::random_hex(host, 8)?);
    let sur = header.sender_unique_reference.as_deref().unwrap_or_default();
    let initial_correlation_id = match (&header.sender_correlation_id, channel_config.workflow_correlation_id) {
        (None, true) => Some(ingest::workflow_correlation_id(transaction_ms, &ids::random_hex(host, 16)?)),
        _ => None,
    };
    Ok(Ok(Prepared { transaction_id, transaction_ms, resolved, initial_correlation_id, unique_key: ingest::unique_reference_key(owner, sur) }))
}

/// One claimed message as it is stored: the stamped message for the archive and one job (with
/// the bytes it delivers) per (recipient, role).
struct Stamped<P> {
    archive_key: String,
    stamped: Vec<u8>,
    jobs: Vec<(Job<P>, Vec<u8>)>,
}

/// 7.7.4: A0 as resolved and D0 as the hub's, then one copy per role the channel obfuscates
/// for (7.8), and a job per recipient.
fn stamp<P: Carries>(host: &impl Host, channel: &str, channel_config: &config::ChannelConfig, header: &Header, payload: &mut Value, p: &Prepared) -> PortResult<Stamped<P>> {
    if let Some(common) = payload.get_mut("CommonBlock").and_then(Value::as_object_mut) {
        common.insert("A0".into(), p.resolved.a0());
        common.insert(
            "D0".into(),
            serde_json::json!({
                "transactionID": p.transaction_id,
                "transactionTimestamp": time::dt003(p.transaction_ms),
                "publicationID": ingest::publication_id(channel),
                "initialCorrelationID": p.initial_correlation_id,
                "replayIndicator": false,
                "serviceTicketURL": null,
            }),
        );
    }
    let to_bytes = |v: &Value| serde_json::to_vec(v).map_err(|e| PortError::new(e.to_string()));
    let archive_key = archive::key(super::ARCHIVE_AREA, p.transaction_ms, &p.transaction_id);
    let stamped = to_bytes(payload)?;
    let egress = to_bytes(&serde_json::json!({ "payload": payload }))?;
    let event = header.event_code.as_deref().map(super::schema::event_key).unwrap_or_default();
    let mut obfuscated: alloc::collections::BTreeMap<&str, Vec<u8>> = Default::default();
    for recipient in &p.resolved.recipients {
        let Some(pointers) = super::obfuscation::for_role(channel_config, &recipient.role) else { continue };
        if obfuscated.contains_key(recipient.role.as_str()) {
            continue;
        }
        let mut copy = payload.clone();
        with_schemas(|s| {
            if let Some(e) = s.catalogue().event(channel, event) {
                super::obfuscation::obfuscate(&mut copy, pointers, &e.schema);
            }
        });
        obfuscated.insert(&recipient.role, to_bytes(&serde_json::json!({ "payload": copy }))?);
    }
    let mut jobs = Vec::with_capacity(p.resolved.recipients.len());
    for recipient in &p.resolved.recipients {
        let job: Job<P> = Job {
            message_id: ids::uuid_v4(host)?,
            archive_key: archive_key.clone(),
            accepted_at_ms: p.transaction_ms,
            attempts: 0,
            payload: P::from(Call::publication(channel, &recipient.dip_id, &recipient.role, &p.transaction_id)),
        };
        jobs.push((job, obfuscated.get(recipient.role.as_str()).unwrap_or(&egress).clone()));
    }
    Ok(Stamped { archive_key, stamped, jobs })
}

/// Stores every claimed message (`outcomes[i]` is `Ok(Ok(_))`): archived at once, then all
/// their jobs with one outbox exchange per shard. One result per message (`Ok` for the
/// others); a message whose archive put or any of whose jobs' shard failed is not created.
async fn store_claimed<P: Carries>(
    host: &impl Host,
    channel: &str,
    channel_config: &config::ChannelConfig,
    payloads: &mut [Value],
    headers: &[Header],
    outcomes: &mut [PortResult<Result<Prepared, Msg>>],
) -> Vec<PortResult<()>> {
    let mut results: Vec<PortResult<()>> = (0..payloads.len()).map(|_| Ok(())).collect();
    let mut stamped: Vec<(usize, Stamped<P>)> = Vec::new();
    for (i, payload) in payloads.iter_mut().enumerate() {
        if let Ok(Ok(p)) = &outcomes[i] {
            match stamp::<P>(host, channel, channel_config, &headers[i], payload, p) {
                Ok(s) => stamped.push((i, s)),
                Err(e) => results[i] = Err(e),
            }
        }
    }
    let archive = match host.archive() {
        Ok(a) => a,
        Err(e) => return results.into_iter().enumerate().map(|(i, r)| if matches!(outcomes[i], Ok(Ok(_))) { Err(e.clone()) } else { r }).collect(),
    };
    let archived: Vec<PortResult<()>> = stream::iter(stamped.iter())
        .map(|(_, s)| archive.put(&s.archive_key, &s.stamped))
        .buffered(MESSAGES_IN_FLIGHT)
        .collect()
        .await;
    let mut jobs: Vec<(&Job<P>, &[u8])> = Vec::new();
    let mut owner_of: Vec<usize> = Vec::new();
    for ((i, s), put) in stamped.iter().zip(archived) {
        match put {
            Ok(()) => {
                for (job, bytes) in &s.jobs {
                    jobs.push((job, bytes));
                    owner_of.push(*i);
                }
            }
            Err(e) => results[*i] = Err(e),
        }
    }
    for (k, r) in broker::enqueue_many(host, &jobs).await.into_iter().enumerate() {
        if let Err(e) = r {
            results[owner_of[k]] = Err(e);
        }
    }
    // A registration notice keeps MAMS current (7.5). The message is created already; a failure
    // here is logged, and the operator's MAMS load remains the reference.
    for (i, _) in &stamped {
        if results[*i].is_err() {
            continue;
        }
        let Ok(Ok(p)) = &outcomes[*i] else { continue };
        if let Some((mpan, supplier, from)) = super::mams::appointment(channel, &payloads[*i]) {
            if let Err(e) = appoint(host, &mpan, &supplier, &from).await {
                host.log_error(&alloc::format!("dip send: MAMS of {mpan} not updated from {}: {}", p.transaction_id, e.0));
            }
        }
    }
    results
}

async fn appoint(host: &impl Host, mpan: &str, supplier: &str, from: &str) -> PortResult<()> {
    use crate::ports::AddressTable;
    let table = host.address_table()?;
    if let Some(next) = super::mams::appoint(store::mams(table, mpan).await?, supplier, from) {
        let bytes = serde_json::to_vec(&next).map_err(|e| PortError::new(e.to_string()))?;
        table.put_many(&[(mpan.to_string(), bytes)]).await?;
    }
    Ok(())
}
