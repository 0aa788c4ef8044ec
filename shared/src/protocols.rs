//! The protocols the hub speaks, and how shared mechanisms reach each one's rules: a
//! delivery job carries a protocol-tagged part ([`Payload`]) whose rules the delivery engine
//! follows, and a gateway refusal is rendered by the protocol that owns the path ([`refuse`]).
//! Adding a protocol (DIP) adds a variant here and a module beside `ots`.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::common::broker::{Addressed, Job};
use crate::common::delivery::credentials::Credential;
use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::delivery::breaker::BreakerPolicy;
use crate::common::delivery::{Ended, Limits, Outcome, Reply, Rules, Verdict};
use crate::common::http::{HttpRequest, HttpResponse};
use crate::common::refusal::Refusal;
use crate::host::{Host, Settings};
use crate::ports::{OutboundError, PortResult};

/// The protocol part of a delivery job, tagged `"protocol"` in the job's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum Payload {
    Ots(crate::ots::delivery::Letterbox),
    Dip(crate::dip::delivery::Call),
}

impl From<crate::dip::delivery::Call> for Payload {
    fn from(c: crate::dip::delivery::Call) -> Self {
        Payload::Dip(c)
    }
}

/// A delivery job of any protocol, as the broker carries it.
pub type DeliveryJob = Job<Payload>;

impl Addressed for Payload {
    fn recipient(&self) -> (&str, &str) {
        match self {
            Payload::Ots(p) => p.recipient(),
            Payload::Dip(p) => p.recipient(),
        }
    }
    fn group(&self) -> Option<String> {
        match self {
            Payload::Ots(p) => p.group(),
            Payload::Dip(p) => p.group(),
        }
    }
}

impl Rules for Payload {
    fn archive_area(&self) -> &'static str {
        match self {
            Payload::Ots(p) => p.archive_area(),
            Payload::Dip(p) => p.archive_area(),
        }
    }
    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome {
        match self {
            Payload::Ots(p) => p.classify(answer),
            Payload::Dip(p) => p.classify(answer),
        }
    }
    fn push(&self, url: &str, payload: &[u8], credential: &Credential) -> HttpRequest {
        match self {
            Payload::Ots(p) => p.push(url, payload, credential),
            Payload::Dip(p) => p.push(url, payload, credential),
        }
    }
    async fn policy(&self, host: &impl Host) -> PortResult<DeliveryPolicy> {
        match self {
            Payload::Ots(p) => p.policy(host).await,
            Payload::Dip(p) => p.policy(host).await,
        }
    }
    fn endpoint_key(&self) -> String {
        match self {
            Payload::Ots(p) => p.endpoint_key(),
            Payload::Dip(p) => p.endpoint_key(),
        }
    }
    async fn sign(&self, host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        match self {
            Payload::Ots(p) => p.sign(host, request).await,
            Payload::Dip(p) => p.sign(host, request).await,
        }
    }
    fn attempt_timeout_ms(&self) -> u32 {
        match self {
            Payload::Ots(p) => p.attempt_timeout_ms(),
            Payload::Dip(p) => p.attempt_timeout_ms(),
        }
    }
    fn holds_until_registered(&self) -> bool {
        match self {
            Payload::Ots(p) => p.holds_until_registered(),
            Payload::Dip(p) => p.holds_until_registered(),
        }
    }
    fn verdicts(&self, answer: Result<&HttpResponse, &OutboundError>, items: &[&[u8]], now_ms: u64) -> Vec<Verdict> {
        match self {
            Payload::Ots(p) => p.verdicts(answer, items, now_ms),
            Payload::Dip(p) => p.verdicts(answer, items, now_ms),
        }
    }
    fn combine(&self, items: &[&[u8]]) -> Vec<u8> {
        match self {
            Payload::Ots(p) => p.combine(items),
            Payload::Dip(p) => p.combine(items),
        }
    }
    async fn limits(&self, host: &impl Host) -> PortResult<Limits> {
        match self {
            Payload::Ots(p) => p.limits(host).await,
            Payload::Dip(p) => p.limits(host).await,
        }
    }
    fn breaker(&self, settings: &Settings) -> Option<BreakerPolicy> {
        match self {
            Payload::Ots(p) => p.breaker(settings),
            Payload::Dip(p) => p.breaker(settings),
        }
    }
    async fn dead_letter(&self, host: &impl Host, payload: &[u8], ended: &Ended<'_>) -> PortResult<()> {
        match self {
            Payload::Ots(p) => p.dead_letter(host, payload, ended).await,
            Payload::Dip(p) => p.dead_letter(host, payload, ended).await,
        }
    }
    fn ended(&self, payload: &[u8], ended: &Ended<'_>, settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        match self {
            Payload::Ots(p) => Ok(p.ended(payload, ended, settings)?.map(|r| Reply { payload: r.payload, job: Payload::Ots(r.job) })),
            Payload::Dip(p) => Ok(p.ended(payload, ended, settings)?.map(|r| Reply { payload: r.payload, job: Payload::Dip(r.job) })),
        }
    }
}

/// The response to a gateway refusal on `path`, in the body of the protocol that owns it:
/// the DIP's paths answer as its OpenAPI says; every other path (letterbox, directory, token,
/// admin, and a path no route serves) with the OTS bodies.
pub fn refuse(path: &str, refusal: Refusal) -> HttpResponse {
    if crate::dip::errors::owns(path) {
        return crate::dip::errors::refusal(refusal);
    }
    crate::ots::errors::refusal(path, refusal).response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_keep_their_wire_form() {
        // The form jobs had before protocol parts existed: outbox entries written then still read.
        let old = br#"{"messageId":"m1","protocol":"ots","archiveKey":"ots/2026/11/23/m1.json","recipientListType":"RCPID","recipient":"BCBX","routingID":"residentialSwitchMatchRequest","acceptedAtMs":5,"attempts":2}"#;
        let job = DeliveryJob::from_json(old).expect("old job reads");
        assert_eq!(job.attempts, 2);
        let Payload::Ots(l) = &job.payload else { panic!("an OTS job") };
        assert_eq!((l.recipient_list_type.as_str(), l.recipient.as_str()), ("RCPID", "BCBX"));
        let again: serde_json::Value = serde_json::from_str(&job.to_json()).unwrap();
        assert_eq!(again, serde_json::from_slice::<serde_json::Value>(old).unwrap());
        assert!(DeliveryJob::from_json(br#"{"messageId":"m","protocol":"smtp","archiveKey":"k","acceptedAtMs":1}"#).is_none());
        // A DIP call's two tags (protocol, webhook) read back as written.
        for call in [crate::dip::delivery::Call::publication("IF-021", "1000000001", "SUP", "T-1"), crate::dip::delivery::Call::status("1000000001", "T-1")] {
            let job = DeliveryJob { message_id: "m".into(), archive_key: "k".into(), accepted_at_ms: 1, attempts: 0, payload: Payload::Dip(call) };
            assert_eq!(DeliveryJob::from_json(job.to_json().as_bytes()), Some(job.clone()), "{}", job.to_json());
        }
    }
}
