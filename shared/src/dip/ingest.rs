//! Level 1 of `POST /dip-channel/{id}` (DSD002 9.2 and the DIP contract): what a batch is, the
//! checks each message meets after its schema (sender, role, connection provider, timestamp),
//! the ids the hub mints, and the StandardResponse it answers with. Schema validation itself
//! and the storage calls are the caller's; every decision is here.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;
use serde_json::Value;

use super::codes::Msg;
use super::config::{ChannelConfig, Participant};
use crate::common::time;

/// The largest send request the gateway admits: 100 messages of the largest interfaces with
/// room to spare. Elexon publishes no figure; recorded in docs/conformance.md.
pub const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;

/// The payloads of a batch: a non-empty JSON array of objects with a `payload`. Anything else
/// rejects the whole batch (MSG1001).
pub fn batch(body: &[u8]) -> Option<Vec<Value>> {
    let Ok(Value::Array(items)) = crate::common::json::parse_value(body) else { return None };
    if items.is_empty() {
        return None;
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(mut o) => o.remove("payload"),
            _ => None,
        })
        .collect()
}

/// The S0 and S1 fields L1 reads, from a payload (absent or mistyped fields read as `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub interface_id: Option<String>,
    pub event_code: Option<String>,
    pub environment_tag: Option<String>,
    pub sender_unique_reference: Option<String>,
    pub sender_timestamp: Option<String>,
    pub sender_dip_id: Option<String>,
    pub sender_role_id: Option<String>,
    pub sender_correlation_id: Option<String>,
    pub dcp: Option<String>,
}

impl Header {
    pub fn of(payload: &Value) -> Header {
        let s = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str).map(ToString::to_string);
        Header {
            interface_id: s("/CommonBlock/S0/interfaceID"),
            event_code: s("/CommonBlock/S0/eventCode"),
            environment_tag: s("/CommonBlock/S1/environmentTag"),
            sender_unique_reference: s("/CommonBlock/S1/senderUniqueReference"),
            sender_timestamp: s("/CommonBlock/S1/senderTimestamp"),
            sender_dip_id: s("/CommonBlock/S1/senderDIPID"),
            sender_role_id: s("/CommonBlock/S1/senderRoleID"),
            sender_correlation_id: s("/CommonBlock/S1/senderCorrelationID"),
            dcp: s("/CommonBlock/S1/DIPConnectionProviderID"),
        }
    }
}

/// Whether a message's environment tag is this instance's (9.2.2: a valid tag of another
/// environment fails like a schema error, MSG1001).
pub fn environment_matches(header: &Header, instance: &str) -> bool {
    header.environment_tag.as_deref() == Some(instance)
}

/// 9.2.2 4.1-4.2 with the contract's codes: the key's owner must be the message's sender and a
/// participant (MSG1009), holding the role it sends in, which the channel lets send (MSG1010);
/// a connection provider named must be the sender's own (MSG1011).
pub fn check_sender(header: &Header, key_owner: &str, sender: Option<&Participant>, channel: &ChannelConfig) -> Result<(), Msg> {
    let sender = match (header.sender_dip_id.as_deref(), sender) {
        (Some(id), Some(p)) if id == key_owner => p,
        _ => return Err(Msg::SenderInvalid),
    };
    let role = header.sender_role_id.as_deref().unwrap_or_default();
    if !sender.roles.iter().any(|r| r == role) || !channel.sender_roles.iter().any(|r| r == role) {
        return Err(Msg::SenderRoleInvalid);
    }
    match header.dcp.as_deref() {
        Some(dcp) if sender.dcp.as_deref() != Some(dcp) => Err(Msg::ConnectionProviderInvalid),
        _ => Ok(()),
    }
}

/// MSG1007: the schema checks only the length; the date must be a real RFC 3339 date-time.
pub fn sender_timestamp_ms(header: &Header) -> Result<u64, Msg> {
    header.sender_timestamp.as_deref().and_then(time::parse_rfc3339).ok_or(Msg::SenderTimestampInvalid)
}

/// The key under which a sender's senderUniqueReference is claimed (MSG1006).
pub fn unique_reference_key(sender_dip_id: &str, sender_unique_reference: &str) -> String {
    format!("dip-sur/{sender_dip_id}/{sender_unique_reference}")
}

/// DT-014's shape: `T-IF-021-1401234567-SDS-20220321-<unique>`, at most 65 characters.
/// `unique` is 16 random hex digits from the caller.
pub fn transaction_id(channel: &str, sender_dip_id: &str, role: &str, now_ms: u64, unique: &str) -> String {
    let mut id = format!("T-{channel}-{sender_dip_id}-{role}-{}-{unique}", time::compact_date(now_ms));
    id.truncate(65);
    id
}

/// A workflow correlation ID (8.12.4; DT-011, at most 60 characters): `CI-<yyyymmdd>-<hex>`.
pub fn workflow_correlation_id(now_ms: u64, unique: &str) -> String {
    let mut id = format!("CI-{}-{unique}", time::compact_date(now_ms));
    id.truncate(60);
    id
}

/// `PUB-xxx` for channel `IF-xxx` (D0.publicationID); reports keep their id.
pub fn publication_id(channel: &str) -> String {
    match channel.strip_prefix("IF-") {
        Some(n) => format!("PUB-{n}"),
        None => channel.to_string(),
    }
}

/// One StandardResponseBodyType item: every field present, null when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    #[serde(rename = "transactionID")]
    pub transaction_id: Option<String>,
    #[serde(rename = "senderUniqueReference")]
    pub sender_unique_reference: Option<String>,
    #[serde(rename = "correlationID")]
    pub correlation_id: Option<String>,
    #[serde(rename = "sentTimestamp")]
    pub sent_timestamp: String,
    #[serde(rename = "senderID")]
    pub sender_id: String,
    #[serde(rename = "recipientID")]
    pub recipient_id: Option<String>,
    #[serde(rename = "DIPConnectionProviderID")]
    pub dcp: Option<String>,
    pub message: String,
    pub help: Option<String>,
    #[serde(rename = "serviceTicketURL")]
    pub service_ticket_url: Option<String>,
}

impl Item {
    /// The item for one message. `sentTimestamp` is the sender's, in DT-003 form, or the
    /// hub's receipt time where the sender's is not a date.
    pub fn new(header: &Header, key_owner: &str, hub_dip_id: &str, now_ms: u64, msg: Msg) -> Item {
        let sent = header.sender_timestamp.as_deref().and_then(time::parse_rfc3339).unwrap_or(now_ms);
        Item {
            transaction_id: None,
            sender_unique_reference: header.sender_unique_reference.clone(),
            correlation_id: header.sender_correlation_id.clone(),
            sent_timestamp: time::dt003(sent),
            sender_id: hub_dip_id.into(),
            recipient_id: Some(header.sender_dip_id.clone().unwrap_or_else(|| key_owner.into())),
            dcp: header.dcp.clone(),
            message: msg.message().into(),
            help: None,
            service_ticket_url: None,
        }
    }

    pub fn created(&self) -> bool {
        self.message == Msg::Success.message()
    }
}

/// The StandardResponse and its status (8.11): 201 when every message was created, 207 when
/// some were, 400 when none was.
pub fn response(items: &[Item], now_ms: u64) -> (u16, Value) {
    let created = items.iter().filter(|i| i.created()).count();
    let status = match created {
        n if n == items.len() && n > 0 => 201,
        0 => 400,
        _ => 207,
    };
    (status, serde_json::json!({ "messageArray": items, "timestamp": time::dt003(now_ms) }))
}

/// The answer to a batch that failed as a whole (not a batch, or a message failing its schema):
/// 400, every message MSG1001 (9.2.2 3), one item when there were no messages to name.
pub fn rejected(payloads: &[Value], key_owner: &str, hub_dip_id: &str, now_ms: u64) -> (u16, Value) {
    let mut items: Vec<Item> = payloads.iter().map(|p| Item::new(&Header::of(p), key_owner, hub_dip_id, now_ms, Msg::SchemaFailure)).collect();
    if items.is_empty() {
        items.push(Item::new(&Header::default(), key_owner, hub_dip_id, now_ms, Msg::SchemaFailure));
    }
    response(&items, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(sender: &str, role: &str, dcp: Option<&str>) -> Value {
        json!({ "CommonBlock": {
            "S0": { "interfaceID": "IF-021", "eventCode": "ActivePower", "schemaVersion": "011" },
            "S1": { "environmentTag": "DEV", "subText": null, "senderUniqueReference": "S-IF-021-1000000001-SDS-20260401-1",
                    "senderTimestamp": "2026-04-01T12:00:00+01:00", "senderDIPID": sender, "senderRoleID": role,
                    "senderCorrelationID": null, "DIPConnectionProviderID": dcp } } })
    }

    fn sds() -> Participant {
        Participant { name: "Data service".into(), roles: alloc::vec!["SDS".into()], dcp: Some("1000000009".into()) }
    }

    fn channel() -> ChannelConfig {
        serde_json::from_value(json!({ "senderRoles": ["SDS"] })).unwrap()
    }

    #[test]
    fn batches_are_non_empty_arrays_of_payloads() {
        assert_eq!(batch(br#"[{"payload":{"a":1}},{"payload":2}]"#).map(|b| b.len()), Some(2));
        for bad in [&br#"[]"#[..], br#"{"payload":{}}"#, br#"[{"payload":{}},{"other":1}]"#, br#"[1]"#, b"not json", b""] {
            assert!(batch(bad).is_none(), "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn senders_roles_and_connection_providers() {
        let p = payload("1000000001", "SDS", None);
        let h = Header::of(&p);
        assert_eq!(check_sender(&h, "1000000001", Some(&sds()), &channel()), Ok(()));
        assert_eq!(check_sender(&h, "1000000002", Some(&sds()), &channel()), Err(Msg::SenderInvalid), "not the key's owner");
        assert_eq!(check_sender(&h, "1000000001", None, &channel()), Err(Msg::SenderInvalid), "not a participant");
        let wrong_role = Header::of(&payload("1000000001", "SUP", None));
        assert_eq!(check_sender(&wrong_role, "1000000001", Some(&sds()), &channel()), Err(Msg::SenderRoleInvalid));
        let closed: ChannelConfig = serde_json::from_value(json!({ "senderRoles": ["MSS"] })).unwrap();
        assert_eq!(check_sender(&h, "1000000001", Some(&sds()), &closed), Err(Msg::SenderRoleInvalid), "role not entitled on the channel");
        let own_dcp = Header::of(&payload("1000000001", "SDS", Some("1000000009")));
        assert_eq!(check_sender(&own_dcp, "1000000001", Some(&sds()), &channel()), Ok(()));
        let other_dcp = Header::of(&payload("1000000001", "SDS", Some("1000000008")));
        assert_eq!(check_sender(&other_dcp, "1000000001", Some(&sds()), &channel()), Err(Msg::ConnectionProviderInvalid));
    }

    #[test]
    fn items_carry_every_field_and_the_status_follows_them() {
        let h = Header::of(&payload("1000000001", "SDS", None));
        let now = 1_775_044_800_000; // 2026-04-01T12:00:00Z
        assert_eq!(sender_timestamp_ms(&h), Ok(now - 3_600_000));
        let mut ok = Item::new(&h, "1000000001", "0000000000", now, Msg::Success);
        ok.transaction_id = Some(transaction_id("IF-021", "1000000001", "SDS", now, "0123456789abcdef"));
        assert_eq!(ok.transaction_id.as_deref(), Some("T-IF-021-1000000001-SDS-20260401-0123456789abcdef"));
        let dup = Item::new(&h, "1000000001", "0000000000", now, Msg::SenderUniqueReferenceDuplicated);
        let (status, body) = response(&[ok.clone(), dup.clone()], now);
        assert_eq!(status, 207);
        assert_eq!(body["timestamp"], "2026-04-01T12:00:00+00:00");
        let first = &body["messageArray"][0];
        assert_eq!(first["sentTimestamp"], "2026-04-01T11:00:00+00:00");
        assert_eq!(first["message"], "MSG0000 - Success");
        for field in ["transactionID", "senderUniqueReference", "correlationID", "sentTimestamp", "senderID", "recipientID", "DIPConnectionProviderID", "message", "help", "serviceTicketURL"] {
            assert!(first.get(field).is_some(), "{field}");
        }
        assert_eq!(response(&[ok], now).0, 201);
        assert_eq!(response(&[dup], now).0, 400);
        let (status, body) = rejected(&[], "1000000001", "0000000000", now);
        assert_eq!((status, body["messageArray"][0]["message"].clone()), (400, json!("MSG1001 - Schema Failure")));
        assert_eq!(publication_id("IF-021"), "PUB-021");
        assert!(workflow_correlation_id(now, &"f".repeat(80)).len() <= 60);
    }
}
