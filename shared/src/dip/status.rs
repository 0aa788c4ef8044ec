//! `POST /statusmessage` (DSD002 8.7 and the DIP contract): a recipient's L4 report on messages
//! it received, relayed to each message's original sender's status webhook, routed by
//! transactionID. A report is relayed only for a message the hub holds and the reporter
//! received (it is in the message's A0); anything else is refused item by item.

use alloc::string::ToString;
use alloc::vec::Vec;
use serde_json::{json, Value};

use super::codes::Msg;
use super::delivery::{Call, Carries};
use crate::common::broker::{self, Job};
use crate::common::http::{HttpRequest, HttpResponse, Method};
use crate::common::{archive, ids, time};
use crate::host::Host;
use crate::ports::{Archive, PortError, PortResult};

/// The day a transaction ID (DT-014: `T-<channel>-<sender>-<role>-<yyyymmdd>-<unique>`) was
/// minted, as Unix ms at midnight UTC: where its message is archived.
pub fn transaction_day_ms(transaction_id: &str) -> Option<u64> {
    let date = transaction_id.split('-').rev().nth(1)?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    time::parse_rfc3339(&alloc::format!("{}-{}-{}T00:00:00Z", &date[..4], &date[4..6], &date[6..]))
}

/// The archived message of `transaction_id`, if the hub holds it.
async fn original(host: &impl Host, transaction_id: &str) -> PortResult<Option<Value>> {
    let Some(day) = transaction_day_ms(transaction_id) else { return Ok(None) };
    if !transaction_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(None);
    }
    let key = archive::key(super::ARCHIVE_AREA, day, transaction_id);
    Ok(host.archive()?.get(&key).await?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Whether `party` is among the recipients the hub resolved for `message` (its A0).
fn received_by(message: &Value, party: &str) -> bool {
    ["primaryRecipients", "secondaryRecipients", "always"].iter().any(|list| {
        message.pointer(&alloc::format!("/CommonBlock/A0/{list}")).and_then(Value::as_array).is_some_and(|ids| ids.iter().any(|id| id == party))
    })
}

pub async fn handle<P: Carries>(host: &impl Host, req: &HttpRequest) -> HttpResponse {
    match relay::<P>(host, req).await {
        Ok(resp) => resp,
        Err(e) => {
            host.log_error(&alloc::format!("dip status: {}", e.0));
            HttpResponse::empty(500)
        }
    }
}

async fn relay<P: Carries>(host: &impl Host, req: &HttpRequest) -> PortResult<HttpResponse> {
    if req.method != Method::Post {
        return Ok(HttpResponse::empty(405));
    }
    let Some(owner) = super::auth::key_owner_of(req) else { return Ok(HttpResponse::empty(401)) };
    if let Some(refused) = super::auth::signed_by(host, req, owner).await? {
        return Ok(refused);
    }
    let now = host.now_ms();
    let hub = host.settings().dip_id.clone();
    let items = match crate::common::json::parse_value(&req.body) {
        Ok(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_object) => items,
        _ => {
            let item = super::ingest::Item::new(&Default::default(), owner, &hub, now, Msg::SchemaFailure);
            let (status, body) = super::ingest::response(&[item], now);
            return Ok(HttpResponse::json(status, &body));
        }
    };
    // The reporter speaks for itself only (the DIP contract: 403).
    if items.iter().any(|i| i.get("senderID").and_then(Value::as_str) != Some(owner)) {
        return Ok(HttpResponse::empty(403));
    }
    let mut answers = Vec::with_capacity(items.len());
    for item in &items {
        let text = |field: &str| item.get(field).and_then(Value::as_str).map(ToString::to_string);
        let transaction_id = text("transactionID").unwrap_or_default();
        let mut answer = super::ingest::Item::new(&Default::default(), owner, &hub, now, Msg::ProcessingFailed);
        answer.transaction_id = text("transactionID");
        answer.sender_unique_reference = text("senderUniqueReference");
        let message = original(host, &transaction_id).await?;
        if let Some(message) = message.filter(|m| received_by(m, owner)) {
            let sender = message.pointer("/CommonBlock/S1/senderDIPID").and_then(Value::as_str).unwrap_or_default().to_string();
            let reference = message.pointer("/CommonBlock/S1/senderUniqueReference").cloned().unwrap_or(Value::Null);
            // One StandardResponseBodyType item; the status webhook receives its calls as a
            // StandardResponseArray (several relays to one sender may share a call).
            let relayed = json!({
                "transactionID": transaction_id,
                "senderUniqueReference": reference,
                "correlationID": item.get("correlationID").cloned().unwrap_or(Value::Null),
                "sentTimestamp": time::dt003(now),
                "senderID": owner,
                "recipientID": sender,
                "DIPConnectionProviderID": item.get("DIPConnectionProviderID").cloned().unwrap_or(Value::Null),
                "message": item.get("message").cloned().unwrap_or(Value::Null),
                "help": item.get("help").cloned().unwrap_or(Value::Null),
                "serviceTicketURL": item.get("serviceTicketURL").cloned().unwrap_or(Value::Null),
            });
            let bytes = serde_json::to_vec(&relayed).map_err(|e| PortError::new(e.to_string()))?;
            let message_id = ids::uuid_v4(host)?;
            let job: Job<P> = Job {
                archive_key: archive::key(super::ARCHIVE_AREA, now, &alloc::format!("status-{message_id}")),
                message_id,
                accepted_at_ms: now,
                attempts: 0,
                payload: P::from(Call::status(&sender, &transaction_id)),
            };
            broker::accept(host, &job, &bytes).await?;
            answer.message = Msg::Success.message().into();
            answer.sender_unique_reference = reference.as_str().map(ToString::to_string);
        }
        answers.push(answer);
    }
    let (status, body) = super::ingest::response(&answers, host.now_ms());
    Ok(HttpResponse::json(status, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_name_their_day() {
        assert_eq!(transaction_day_ms("T-IF-021-1000000001-SDS-20260401-0123456789abcdef"), Some(1_775_001_600_000));
        assert_eq!(transaction_day_ms("T-REP-002A-1000000001-SDS-20260401-ab"), Some(1_775_001_600_000));
        assert_eq!(transaction_day_ms("T-IF-021-x-SDS-2026041-ab"), None);
        assert_eq!(transaction_day_ms(""), None);
    }
}
