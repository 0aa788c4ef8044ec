//! Delivery rules of the DIP's two kinds of call (the DIP contract; DSD002 7.12, 8.5-8.9,
//! 9.3-9.8): a publication (one job per (recipient, role) copy of a message, to the
//! recipient's webhook on the channel) and a status message (to a participant's status
//! webhook). Jobs for one (recipient, role, channel), or one participant's status messages,
//! travel together: each call carries as many as the registration's `maxMessageCount` and
//! `maxPayloadSize` allow (a larger message alone), as a JSON array of the items. Calls are
//! held until the webhook is registered, signed by the hub (10.3) once per call, retried with
//! backoff up to the configured maximum wait (honouring `Retry-After`), kept from an endpoint
//! that keeps failing by a circuit breaker, and dead-lettered after the channel's days (8.9.2:
//! 14). A final refusal (8.6), a message a 207 names as failed, and a dead-lettered
//! publication are reported to the sender's status webhook.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::codes::Msg;
use super::webhooks::{Webhook, WebhookConfig};
use crate::common::broker::{Addressed, MAX_GROUP_JOBS};
use crate::common::delivery::breaker::BreakerPolicy;
use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::delivery::{Ended, Ending, Limits, Outcome, Reply, Rules, Verdict};
use crate::common::http::{HttpRequest, HttpResponse};
use crate::common::store::{self, keys};
use crate::common::time;
use crate::host::{Host, Settings};
use crate::ports::{Archive, KeyValue, OutboundError, PortError, PortResult};

/// The broker's list type for DIP recipients (they are DIP IDs).
pub const RECIPIENT_LIST: &str = "DIP";
/// Where dead-lettered copies are kept (the archive area of their bytes, and the KV prefix of
/// their records).
pub const DEAD_LETTER_AREA: &str = "dip-dead-letter";

/// Retries back off from 1 s to the configured maximum wait (default 5 min).
pub const INITIAL_BACKOFF_SECS: u32 = 1;
/// A registration without `maxMessageCount` gets this many messages per call.
pub const DEFAULT_MAX_MESSAGE_COUNT: usize = 100;
/// A registration without `maxPayloadSize` gets calls of at most this many KB (of 1024 bytes).
pub const DEFAULT_MAX_PAYLOAD_KB: usize = 1024;
/// One call may take this long: a batch of up to 256 messages the recipient checks (L3,
/// 9.5.3) before it answers. The specs give no figure; OTS's 3 s hop is for one message.
pub const ATTEMPT_TIMEOUT_MS: u32 = 10_000;
/// A failed probe doubles the circuit's cooldown up to this.
pub const MAX_CIRCUIT_COOLDOWN_MS: u64 = 600_000;
/// The recipient's own words are relayed up to this many characters.
const MAX_DETAIL_CHARS: usize = 500;

/// One call the hub owes a DIP participant: a publication (one per (recipient, role) copy of a
/// message, to the recipient's webhook on the channel) or a status message (to the
/// participant's status webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    #[serde(rename = "recipientDIPID")]
    pub recipient: String,
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    #[serde(flatten)]
    pub to: To,
}

/// The broker's job part DIP calls travel in (the hub's `protocols::Payload`): DIP builds its
/// jobs without naming the protocols that share the broker.
pub trait Carries: From<Call> + Addressed + Serialize + serde::de::DeserializeOwned {}
impl<P: From<Call> + Addressed + Serialize + serde::de::DeserializeOwned> Carries for P {}

/// Which webhook of the recipient a call goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "webhook", rename_all = "lowercase")]
pub enum To {
    /// The role is the one this copy is for (a participant with two recipient roles gets two).
    Publication { channel: String, role: String },
    Status,
}

impl Call {
    pub fn publication(channel: &str, recipient: &str, role: &str, transaction_id: &str) -> Call {
        Call { recipient: recipient.into(), transaction_id: transaction_id.into(), to: To::Publication { channel: channel.into(), role: role.into() } }
    }

    pub fn status(recipient: &str, transaction_id: &str) -> Call {
        Call { recipient: recipient.into(), transaction_id: transaction_id.into(), to: To::Status }
    }

    fn webhook(&self) -> Webhook<'_> {
        match &self.to {
            To::Publication { channel, .. } => Webhook::Publication { channel },
            To::Status => Webhook::Status,
        }
    }
}

impl Addressed for Call {
    fn recipient(&self) -> (&str, &str) {
        (RECIPIENT_LIST, &self.recipient)
    }

    /// One (recipient, role, channel), or one participant's status messages.
    fn group(&self) -> Option<String> {
        Some(match &self.to {
            To::Publication { channel, role } => alloc::format!("dip/{}/{channel}/{role}", self.recipient),
            To::Status => alloc::format!("dip/{}/status", self.recipient),
        })
    }
}

/// The contract's final answers (not retried); any other answer, or none, is retried.
pub fn classify(answer: Result<u16, &OutboundError>) -> Outcome {
    match answer {
        Ok(s) if (200..300).contains(&s) => Outcome::Delivered,
        Ok(s @ (400 | 401 | 403 | 404 | 405 | 406 | 413 | 505)) => Outcome::Failed(Ending::Answered(s)),
        _ => Outcome::Retry,
    }
}

/// One item as a call carries it. Jobs queued before batching stored their item inside an
/// array of one; those are unwrapped.
fn item(payload: &[u8]) -> &[u8] {
    let trimmed = payload.trim_ascii();
    match (trimmed.first(), trimmed.last()) {
        (Some(b'['), Some(b']')) => trimmed[1..trimmed.len() - 1].trim_ascii(),
        _ => trimmed,
    }
}

/// The transaction an item is about: a publication's `D0.transactionID`, a status item's own.
fn transaction_of(item_json: &Value) -> Option<&str> {
    item_json.pointer("/payload/CommonBlock/D0/transactionID").or_else(|| item_json.get("transactionID")).and_then(Value::as_str)
}

/// A StandardResponse's items (`{"messageArray": [...]}`, or the bare array).
fn response_items(body: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut o)) => match o.remove("messageArray") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn is_success(message: &str) -> bool {
    message.starts_with(Msg::Success.code())
}

fn bounded(text: &str) -> String {
    text.chars().take(MAX_DETAIL_CHARS).collect()
}

/// What a refusing recipient said about `transaction`: its item's message, else the message of
/// an item naming no transaction (a whole call refused, 9.5.3), else the body's text.
fn refusal_text(items: &[Value], body: &[u8], transaction: Option<&str>) -> Option<String> {
    let message = |i: &Value| i.get("message").and_then(Value::as_str).map(bounded);
    let named = items.iter().find(|i| transaction.is_some() && i.get("transactionID").and_then(Value::as_str) == transaction).and_then(message);
    named
        .or_else(|| items.iter().find(|i| i.get("transactionID").is_none_or(Value::is_null)).and_then(message))
        .or_else(|| core::str::from_utf8(body).ok().map(str::trim).filter(|t| !t.is_empty()).map(bounded))
}

/// `Retry-After` (RFC 9110 10.2.3: seconds, or an HTTP date) as seconds from `now_ms`.
pub fn retry_after_secs(response: &HttpResponse, now_ms: u64) -> Option<u32> {
    let value = response.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u32>() {
        return Some(secs);
    }
    let at = time::parse_http_date(value)?;
    Some((at.saturating_sub(now_ms) / 1000) as u32)
}

/// Each item's verdict on a call's answer (the contract's outcomes; 207 read per message).
pub fn verdicts(answer: Result<&HttpResponse, &OutboundError>, items: &[&[u8]], now_ms: u64) -> Vec<Verdict> {
    let response = match answer {
        Ok(r) => r,
        Err(e) => return items.iter().map(|_| Verdict::of(classify(Err(e)))).collect(),
    };
    let outcome = classify(Ok(response.status));
    let parsed: Vec<Option<Value>> = items.iter().map(|i| serde_json::from_slice(item(i)).ok()).collect();
    let transaction = |k: usize| parsed[k].as_ref().and_then(transaction_of);
    match outcome {
        Outcome::Retry => {
            let retry_after_secs = retry_after_secs(response, now_ms);
            items.iter().map(|_| Verdict { outcome, detail: None, retry_after_secs }).collect()
        }
        Outcome::Failed(_) => {
            let answered = response_items(&response.body);
            let detail = |k| refusal_text(&answered, &response.body, transaction(k)).or_else(|| Some(alloc::format!("HTTP {}", response.status)));
            (0..items.len()).map(|k| Verdict { outcome, detail: detail(k), retry_after_secs: None }).collect()
        }
        Outcome::Delivered if response.status == 207 => {
            let answered = response_items(&response.body);
            (0..items.len())
                .map(|k| {
                    let refused = answered.iter().find_map(|i| {
                        let message = i.get("message").and_then(Value::as_str)?;
                        (transaction(k).is_some() && i.get("transactionID").and_then(Value::as_str) == transaction(k) && !is_success(message)).then(|| bounded(message))
                    });
                    match refused {
                        Some(text) => Verdict { outcome: Outcome::Failed(Ending::Answered(207)), detail: Some(text), retry_after_secs: None },
                        None => Verdict::of(Outcome::Delivered),
                    }
                })
                .collect()
        }
        Outcome::Delivered => items.iter().map(|_| Verdict::of(outcome)).collect(),
    }
}

/// The status item reporting what became of a publication (`item_json`, as delivered) to its
/// sender, or `None` when the publication names no sender.
pub fn report(item_json: &Value, recipient: &str, role: &str, ended: &Ended<'_>, hub: &str) -> Option<(String, Value)> {
    let common = item_json.pointer("/payload/CommonBlock")?;
    let text = |p: &str| common.pointer(p).cloned().unwrap_or(Value::Null);
    let sender = common.pointer("/S1/senderDIPID").and_then(Value::as_str)?.to_string();
    let correlation = match common.pointer("/D0/initialCorrelationID") {
        Some(Value::String(c)) => Value::String(c.clone()),
        _ => text("/S1/senderCorrelationID"),
    };
    let failed = Msg::ProcessingFailed.message();
    let (from, message, help) = match ended.why {
        Ending::Answered(status) => (
            recipient,
            ended.detail.map(str::to_string).unwrap_or_else(|| failed.into()),
            alloc::format!("Recipient {recipient} ({role}) refused the message (HTTP {status})"),
        ),
        Ending::Expired => {
            let since = time::dt003(ended.accepted_at_ms);
            (hub, failed.into(), alloc::format!("Not delivered to {recipient} ({role}) since {since}: moved to the dead-letter queue"))
        }
        Ending::NoRoute => (hub, failed.into(), alloc::format!("The callback URL {recipient} registered is not an address the hub may call")),
    };
    let item = json!({
        "transactionID": text("/D0/transactionID"),
        "senderUniqueReference": text("/S1/senderUniqueReference"),
        "correlationID": correlation,
        "sentTimestamp": time::dt003(ended.now_ms),
        "senderID": from,
        "recipientID": sender,
        "DIPConnectionProviderID": text("/S1/DIPConnectionProviderID"),
        "message": message,
        "help": help,
        "serviceTicketURL": null,
    });
    Some((sender, item))
}

/// A dead-lettered copy, as the dead-letter store lists it (`GET /admin/v1/dip/dead-letters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: String,
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    #[serde(rename = "recipientDIPID")]
    pub recipient: String,
    /// `publication` or `status`.
    pub webhook: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub accepted_at: String,
    pub dead_lettered_at: String,
    pub attempts: u32,
    /// The bytes the recipient was to receive, in the archive.
    pub payload_key: String,
    /// The message as accepted, in the archive.
    pub archive_key: String,
}

impl Call {
    async fn channel_config(&self, host: &impl Host) -> PortResult<Option<super::config::ChannelConfig>> {
        match &self.to {
            To::Publication { channel, .. } => Ok(Some(super::store::channel(host.kv()?, channel).await?)),
            To::Status => Ok(None),
        }
    }
}

impl Rules for Call {
    fn archive_area(&self) -> &'static str {
        super::ARCHIVE_AREA
    }

    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome {
        classify(answer)
    }

    fn attempt_timeout_ms(&self) -> u32 {
        ATTEMPT_TIMEOUT_MS
    }

    fn verdicts(&self, answer: Result<&HttpResponse, &OutboundError>, items: &[&[u8]], now_ms: u64) -> Vec<Verdict> {
        verdicts(answer, items, now_ms)
    }

    /// DIPMessageEgressArray (or StandardResponseArray): the items in one JSON array.
    fn combine(&self, items: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (k, i) in items.iter().enumerate() {
            if k > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item(i));
        }
        body.push(b']');
        body
    }

    async fn limits(&self, host: &impl Host) -> PortResult<Limits> {
        let (_, limits_key) = self.webhook().keys(&self.recipient);
        let config: Option<WebhookConfig> = store::get_json(host.kv()?, &limits_key).await?;
        let count = config.as_ref().and_then(|c| c.max_message_count).map_or(DEFAULT_MAX_MESSAGE_COUNT, |n| n as usize);
        let kb = config.as_ref().and_then(|c| c.max_payload_size).map_or(DEFAULT_MAX_PAYLOAD_KB, |n| n as usize);
        Ok(Limits { max_messages: count.clamp(1, MAX_GROUP_JOBS), max_bytes: kb.saturating_mul(1024).max(1) })
    }

    fn breaker(&self, settings: &Settings) -> Option<BreakerPolicy> {
        let cooldown_ms = settings.circuit_cooldown_secs as u64 * 1000;
        Some(BreakerPolicy { failures: settings.circuit_failures, cooldown_ms, max_cooldown_ms: MAX_CIRCUIT_COOLDOWN_MS.max(cooldown_ms) })
    }

    /// Until the channel's dead-letter days (8.9.2), backing off up to the configured wait.
    async fn policy(&self, host: &impl Host) -> PortResult<DeliveryPolicy> {
        let days = self.channel_config(host).await?.map_or(super::config::DEFAULT_DEAD_LETTER_AFTER_DAYS, |c| c.dead_letter_after_days());
        let max_wait = host.settings().dip_max_retry_wait_secs;
        Ok(DeliveryPolicy { timeout_seconds: days * 24 * 3600, initial_backoff_seconds: INITIAL_BACKOFF_SECS.min(max_wait), max_backoff_seconds: max_wait })
    }

    fn endpoint_key(&self) -> String {
        match &self.to {
            To::Publication { channel, .. } => keys::dip_pubconfig(channel, &self.recipient),
            To::Status => keys::dip_status_webhook(&self.recipient),
        }
    }

    /// A participant without the webhook yet keeps its calls until it registers one.
    fn holds_until_registered(&self) -> bool {
        true
    }

    async fn sign(&self, host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        signed(host, request).await
    }

    /// 8.9.2: the copy the recipient was to receive goes to the dead-letter store, with a
    /// record the operator lists, and the operator's alarm (7.16) is raised.
    async fn dead_letter(&self, host: &impl Host, payload: &[u8], ended: &Ended<'_>) -> PortResult<()> {
        let payload_key = crate::common::archive::key(DEAD_LETTER_AREA, ended.now_ms, ended.message_id);
        host.archive()?.put(&payload_key, payload).await?;
        let (webhook, channel, role) = match &self.to {
            To::Publication { channel, role } => ("publication", Some(channel.clone()), Some(role.clone())),
            To::Status => ("status", None, None),
        };
        let record = DeadLetter {
            id: ended.message_id.into(),
            transaction_id: self.transaction_id.clone(),
            recipient: self.recipient.clone(),
            webhook: webhook.into(),
            channel,
            role,
            accepted_at: time::dt003(ended.accepted_at_ms),
            dead_lettered_at: time::dt003(ended.now_ms),
            attempts: ended.attempts,
            payload_key,
            archive_key: ended.archive_key.into(),
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| PortError::new(e.to_string()))?;
        host.kv()?.put(&keys::dip_dead_letter(ended.message_id), &bytes).await?;
        host.log_error(&alloc::format!(
            "ALARM dip dead-letter: {} {} to {} not delivered since {}",
            webhook,
            self.transaction_id,
            self.recipient,
            record.accepted_at
        ));
        Ok(())
    }

    /// A publication that will not be delivered is reported to its sender; a status message
    /// that will not be is logged (there is no one further to tell).
    fn ended(&self, payload: &[u8], ended: &Ended<'_>, settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        let To::Publication { role, .. } = &self.to else {
            return Err(alloc::format!("status message on {} to {} ended undelivered: {:?}", self.transaction_id, self.recipient, ended.why));
        };
        let item_json: Value = serde_json::from_slice(item(payload)).map_err(|_| String::from("delivered item does not parse; the sender is not told"))?;
        let (sender, report) = report(&item_json, &self.recipient, role, ended, &settings.dip_id).ok_or_else(|| String::from("the publication names no sender to tell"))?;
        let payload = serde_json::to_vec(&report).map_err(|e| e.to_string())?;
        Ok(Some(Reply { payload, job: Call::status(&sender, &self.transaction_id) }))
    }
}

/// The hub's four signature headers on a call (10.3.1), over the registered callback URL.
async fn signed(host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
    let certificate = host.settings().signing_certificate.clone().ok_or_else(|| PortError::new("SWITCHYARD_SIGNING_CERTIFICATE is not set"))?;
    let signer = host.signer().await?;
    let headers = super::signature::sign_headers(&signer, request.method.as_str(), &request.url, &request.body, host.now_ms(), &certificate).await?;
    Ok(headers.into_iter().fold(request, |r, (name, value)| r.with_header(name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_end_and_the_rest_retry() {
        assert_eq!(classify(Ok(204)), Outcome::Delivered);
        for s in [400, 401, 403, 404, 405, 406, 413, 505] {
            assert_eq!(classify(Ok(s)), Outcome::Failed(Ending::Answered(s)), "{s}");
        }
        for s in [408, 429, 500, 502, 503, 504, 302] {
            assert_eq!(classify(Ok(s)), Outcome::Retry, "{s}");
        }
        assert_eq!(classify(Err(&OutboundError::Timeout)), Outcome::Retry);
        let p = Call::publication("IF-021", "1000000001", "SUP", "T");
        assert_eq!(p.endpoint_key(), "dip/pubconfig/IF-021/1000000001");
        assert!(p.holds_until_registered());
        assert_eq!(p.group().as_deref(), Some("dip/1000000001/IF-021/SUP"));
        assert_eq!(Call::status("1000000001", "T").endpoint_key(), "dip/status/1000000001");
    }

    fn publication(transaction: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({"payload": {"CommonBlock": {
            "S1": {"senderDIPID": "1000000001", "senderUniqueReference": "SUR-1", "senderCorrelationID": null, "DIPConnectionProviderID": null},
            "D0": {"transactionID": transaction, "initialCorrelationID": "WF-1"}}}}))
        .unwrap()
    }

    #[test]
    fn a_207_fails_only_the_messages_it_names() {
        let (a, b) = (publication("T-A"), publication("T-B"));
        let items: Vec<&[u8]> = alloc::vec![&a, &b];
        let body = json!({"messageArray": [
            {"transactionID": "T-A", "message": "MSG0000 - Success"},
            {"transactionID": "T-B", "message": "MSG1001 - Schema Failure: B900 missing"}]});
        let answer = HttpResponse::json(207, &body);
        let v = verdicts(Ok(&answer), &items, 0);
        assert_eq!(v[0].outcome, Outcome::Delivered);
        assert_eq!(v[1].outcome, Outcome::Failed(Ending::Answered(207)));
        assert_eq!(v[1].detail.as_deref(), Some("MSG1001 - Schema Failure: B900 missing"));
    }

    #[test]
    fn a_refusal_carries_the_recipients_words_and_a_busy_answer_its_retry_after() {
        let a = publication("T-A");
        let items: Vec<&[u8]> = alloc::vec![&a];
        let whole = HttpResponse::json(400, &json!({"messageArray": [{"transactionID": null, "message": "bad batch"}]}));
        assert_eq!(verdicts(Ok(&whole), &items, 0)[0].detail.as_deref(), Some("bad batch"));
        let text = HttpResponse { status: 413, headers: Vec::new(), body: b"too big".to_vec() };
        assert_eq!(verdicts(Ok(&text), &items, 0)[0].detail.as_deref(), Some("too big"));
        assert_eq!(verdicts(Ok(&HttpResponse::empty(403)), &items, 0)[0].detail.as_deref(), Some("HTTP 403"));
        let busy = HttpResponse::empty(429).with_header("Retry-After", "7");
        assert_eq!(verdicts(Ok(&busy), &items, 0)[0], Verdict { outcome: Outcome::Retry, detail: None, retry_after_secs: Some(7) });
        let dated = HttpResponse::empty(503).with_header("retry-after", "Thu, 01 Jan 1970 00:01:40 GMT");
        assert_eq!(retry_after_secs(&dated, 40_000), Some(60));
    }

    #[test]
    fn items_are_combined_into_one_array_and_old_single_arrays_unwrapped() {
        let call = Call::publication("IF-021", "1000000002", "SUP", "T");
        assert_eq!(call.combine(&[b"{\"a\":1}", b"[{\"b\":2}]"]), b"[{\"a\":1},{\"b\":2}]".to_vec());
    }

    #[test]
    fn reports_name_the_sender_the_transaction_and_what_happened() {
        let item: Value = serde_json::from_slice(&publication("T-A")).unwrap();
        let ended = Ended { why: Ending::Answered(400), detail: Some("no thanks"), message_id: "m", archive_key: "k", accepted_at_ms: 0, attempts: 1, now_ms: 1_775_001_600_000 };
        let (to, r) = report(&item, "1000000002", "SUP", &ended, "0000000000").unwrap();
        assert_eq!(to, "1000000001");
        assert_eq!(r["transactionID"], "T-A");
        assert_eq!(r["senderUniqueReference"], "SUR-1");
        assert_eq!(r["correlationID"], "WF-1");
        assert_eq!(r["senderID"], "1000000002");
        assert_eq!(r["recipientID"], "1000000001");
        assert_eq!(r["message"], "no thanks");
        assert_eq!(r["sentTimestamp"], "2026-04-01T00:00:00+00:00");
        let expired = Ended { why: Ending::Expired, detail: None, ..ended };
        let (_, r) = report(&item, "1000000002", "SUP", &expired, "0000000000").unwrap();
        assert_eq!(r["senderID"], "0000000000");
        assert_eq!(r["message"], "MSG1000 - Message Processing Failed");
        assert!(r["help"].as_str().unwrap().contains("dead-letter"));
    }
}
