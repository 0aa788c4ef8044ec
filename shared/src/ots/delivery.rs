//! OTS delivery rules (TOTSCo API v2.0 §2.1.8.2): the archived post goes byte for byte to the
//! recipient's letterbox; only 202 is delivered; 400 -> 9006, 404 -> 9007, 501/502/511 -> 9008
//! end delivery at once; anything else, or no answer, is retried under the routing ID's
//! policy until it times out (9008); no route -> 9005. Every ending sends a
//! `messageDeliveryFailure` back to the originator, except for a notification itself.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use super::envelope;
use super::failure::{self, FaultCode};
use super::MESSAGE_DELIVERY_FAILURE;
use crate::common::broker::Addressed;
use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::delivery::{Ended, Ending, Outcome, Reply, Rules};
use crate::host::{Host, Settings};
use crate::ports::{OutboundError, PortResult};

/// The hub's own identity as the source of failure notifications (§2.1.8.2).
pub const DEFAULT_HUB_IDENTITY: &str = "TOTSCO";

/// The OTS part of a delivery job: push to `recipient`'s letterbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Letterbox {
    pub recipient_list_type: String,
    pub recipient: String,
    #[serde(rename = "routingID")]
    pub routing_id: String,
}

impl Letterbox {
    /// A post goes to its envelope's destination, under its routing ID's policy.
    pub fn to_destination(env: &envelope::Envelope) -> Letterbox {
        Letterbox {
            recipient_list_type: env.destination.list_type.clone(),
            recipient: env.destination.identity.clone(),
            routing_id: env.routing_id.clone(),
        }
    }
}

/// §2.1.8.2: the answers that end delivery at once.
pub fn classify(answer: Result<u16, &OutboundError>) -> Outcome {
    match answer {
        Ok(202) => Outcome::Delivered,
        Ok(status @ (400 | 404 | 501 | 502 | 511)) => Outcome::Failed(Ending::Answered(status)),
        Ok(_) => Outcome::Retry,
        Err(OutboundError::Refused(_)) => Outcome::Failed(Ending::NoRoute),
        Err(_) => Outcome::Retry,
    }
}

/// The §2.1.8.2 fault code for an ending.
pub fn fault_code(why: Ending) -> FaultCode {
    match why {
        Ending::NoRoute => FaultCode::NoRoute,
        Ending::Answered(400) => FaultCode::InvalidFormat,
        Ending::Answered(404) => FaultCode::Rejected,
        Ending::Answered(_) | Ending::Expired => FaultCode::TimedOut,
    }
}

impl Addressed for Letterbox {
    fn recipient(&self) -> (&str, &str) {
        (&self.recipient_list_type, &self.recipient)
    }
}

impl Rules for Letterbox {
    fn archive_area(&self) -> &'static str {
        super::ARCHIVE_AREA
    }

    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome {
        classify(answer)
    }

    async fn policy(&self, host: &impl Host) -> PortResult<DeliveryPolicy> {
        Ok(super::routing::routing_id(host.kv()?, &self.routing_id).await?.map(|r| r.delivery_policy).unwrap_or_default())
    }

    fn ended(&self, payload: &[u8], ended: &Ended<'_>, settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        let code = fault_code(ended.why);
        let original = envelope::parse_archived(payload).map_err(|_| alloc::format!("archived message does not parse; {} not notified", code.code()))?;
        let hub = settings.hub_identity.as_deref().unwrap_or(DEFAULT_HUB_IDENTITY);
        let Some(body) = failure::notification(&original, code, hub) else {
            return Err(alloc::format!(
                "a {MESSAGE_DELIVERY_FAILURE} to {} failed with {}; not notified again",
                original.destination.identity,
                code.code()
            ));
        };
        let job = Letterbox {
            recipient_list_type: original.source.list_type,
            recipient: original.source.identity,
            routing_id: MESSAGE_DELIVERY_FAILURE.into(),
        };
        Ok(Some(Reply { payload: body, job }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_spec() {
        assert_eq!(classify(Ok(202)), Outcome::Delivered);
        assert_eq!(classify(Ok(200)), Outcome::Retry);
        assert_eq!(fault_code(Ending::Answered(400)), FaultCode::InvalidFormat);
        assert_eq!(fault_code(Ending::Answered(404)), FaultCode::Rejected);
        for s in [501, 502, 511] {
            assert_eq!(classify(Ok(s)), Outcome::Failed(Ending::Answered(s)));
            assert_eq!(fault_code(Ending::Answered(s)), FaultCode::TimedOut);
        }
        assert_eq!(classify(Ok(500)), Outcome::Retry);
        assert_eq!(classify(Ok(307)), Outcome::Retry, "a redirect is an answer, never followed");
        assert_eq!(classify(Err(&OutboundError::Timeout)), Outcome::Retry);
        assert_eq!(classify(Err(&OutboundError::Connection("refused".into()))), Outcome::Retry);
        assert_eq!(fault_code(Ending::NoRoute), FaultCode::NoRoute);
        assert_eq!(fault_code(Ending::Expired), FaultCode::TimedOut);
    }

}

/// The delivery engine under OTS rules, on the in-memory host with a clock the test moves.
#[cfg(test)]
mod engine_tests {
    use super::*;
    use crate::common::broker::Job;
    use crate::common::config::{Endpoint, EndpointAuth};
    use crate::common::delivery::{run, Finished};
    use crate::common::store::{keys, put_json};
    use crate::ports::{Archive, Clock, KeyValue};
    use crate::testing::{block_on, MemHost, SEAL_KEY};
    use alloc::vec::Vec;

    const POST: &[u8] = br#"{"envelope":{"source":{"type":"RCPID","identity":"BBCD","correlationID":"c-1"},"destination":{"type":"RCPID","identity":"BCBX"},"routingID":"residentialSwitchMatchRequest"},"residentialSwitchMatchRequest":{}}"#;

    fn job(routing_id: &str, attempts: u32) -> Job<Letterbox> {
        Job {
            message_id: "m-1".into(),
            archive_key: "ots/2023/11/14/m-1.json".into(),
            accepted_at_ms: 1_700_000_000_000,
            attempts,
            payload: Letterbox { recipient_list_type: "RCPID".into(), recipient: "BCBX".into(), routing_id: routing_id.into() },
        }
    }

    /// A host with the post archived, the routing ID's policy (10 s), and `endpoint` registered
    /// through the admin rules when it is given.
    fn host(endpoint: Option<Endpoint>) -> MemHost {
        let h = MemHost::new();
        block_on(Archive::put(&h.archive, "ots/2023/11/14/m-1.json", POST)).unwrap();
        let policy = r#"{"process":"OTS","deliveryPolicy":{"timeoutSeconds":10,"initialBackoffSeconds":1,"maxBackoffSeconds":2}}"#;
        block_on(KeyValue::put(&h.kv, &keys::routing_id("residentialSwitchMatchRequest"), policy.as_bytes())).unwrap();
        if let Some(ep) = endpoint {
            let key = keys::endpoint("RCPID", "BCBX");
            let sealed = crate::admin::sealed_endpoint(ep, SEAL_KEY.as_bytes(), &h, true, &key).unwrap();
            block_on(put_json(&h.kv, &key, &sealed)).unwrap();
        }
        h
    }

    fn open(url: &str) -> Endpoint {
        Endpoint { url: url.into(), auth: EndpointAuth::None }
    }

    /// The notification jobs in the outbox, with their bodies (archived, and in the entry).
    fn notifications(h: &MemHost) -> Vec<(Job<Letterbox>, serde_json::Value)> {
        h.outbox.0.borrow().values().filter_map(|e| Some((Job::<Letterbox>::from_json(e.job.as_bytes())?, e.payload.clone()))).filter(|(j, _)| j.payload.routing_id == MESSAGE_DELIVERY_FAILURE).map(|(j, payload)| {
            let body = h.archive.0.borrow().get(&j.archive_key).cloned().expect("notification archived");
            assert_eq!(payload.as_deref(), Some(&body[..]), "the outbox entry carries the notification");
            (j, serde_json::from_slice(&body).unwrap())
        }).collect()
    }

    #[test]
    fn a_202_is_delivered_byte_for_byte_and_leaves_the_outbox() {
        let h = host(Some(open("https://cp.example/letterbox/v2/post")));
        h.http.answers.borrow_mut().push_back(Ok(202));
        let j = job("residentialSwitchMatchRequest", 0);
        block_on(crate::common::broker::enqueue(&h, &j, 0, Some(POST))).unwrap();
        assert_eq!(block_on(run(&h, &j, None)).unwrap(), Finished::Delivered);
        assert_eq!(h.http.sent.borrow()[0].body, POST);
        assert!(h.outbox.0.borrow().is_empty());
        assert!(notifications(&h).is_empty());
    }

    #[test]
    fn a_500_is_retried_until_the_policy_runs_out_then_9008() {
        let h = host(Some(open("https://cp.example/letterbox/v2/post")));
        h.http.answers.borrow_mut().push_back(Ok(500));
        let first = job("residentialSwitchMatchRequest", 0);
        block_on(crate::common::broker::enqueue(&h, &first, 0, Some(POST))).unwrap();
        let Finished::Retrying(delay) = block_on(run(&h, &first, Some(POST.to_vec()))).unwrap() else { panic!("retried") };
        assert!((1..=2).contains(&delay));
        let entry = h.outbox.0.borrow().get("m-1").cloned().expect("the retry replaced the entry");
        let retry = Job::<Letterbox>::from_json(entry.job.as_bytes()).unwrap();
        assert_eq!((retry.attempts, entry.due_at_ms), (1, h.clock.now_ms() + delay as u64 * 1000));
        assert_eq!(entry.payload.as_deref(), Some(POST), "the retry keeps the payload");
        h.clock.advance(10_000);
        h.http.answers.borrow_mut().push_back(Ok(500));
        assert_eq!(block_on(run(&h, &retry, entry.payload)).unwrap(), Finished::Failed(Ending::Expired));
        let sent = notifications(&h);
        assert_eq!(sent.len(), 1);
        let (n, body) = &sent[0];
        assert_eq!((n.payload.recipient.as_str(), n.attempts), ("BBCD", 0));
        assert_eq!(body["messageDeliveryFailure"]["code"], "9008");
        assert_eq!(body["envelope"]["destination"]["correlationID"], "c-1");
        assert!(!h.outbox.0.borrow().contains_key("m-1"), "the original left the outbox");
        assert!(h.outbox.0.borrow().contains_key(&n.message_id), "the notification is in it");
    }

    #[test]
    fn no_endpoint_gives_9005() {
        let h = host(None);
        assert_eq!(block_on(run(&h, &job("residentialSwitchMatchRequest", 0), None)).unwrap(), Finished::Failed(Ending::NoRoute));
        assert_eq!(notifications(&h)[0].1["messageDeliveryFailure"]["code"], "9005");
        assert!(h.http.sent.borrow().is_empty());
    }

    #[test]
    fn a_refused_endpoint_url_and_a_refused_token_url_end_alike_without_a_call() {
        let oauth = |token_url: &str| Endpoint {
            url: "https://cp.example/letterbox/v2/post".into(),
            auth: EndpointAuth::Oauth2 { token_url: token_url.into(), client_id: "hub".into(), client_secret: "s3cret-s3cret".into() },
        };
        for stored in [open("https://169.254.169.254/latest"), oauth("https://10.0.0.5/token"), oauth("http://cp.example/token")] {
            // Stored as an older hub (or a hand edit) might have left it: the admin rules refuse it now.
            let h = host(None);
            block_on(put_json(&h.kv, &keys::endpoint("RCPID", "BCBX"), &stored)).unwrap();
            assert_eq!(block_on(run(&h, &job("residentialSwitchMatchRequest", 0), None)).unwrap(), Finished::Failed(Ending::NoRoute), "{stored:?}");
            assert_eq!(notifications(&h)[0].1["messageDeliveryFailure"]["code"], "9005");
            assert!(h.http.sent.borrow().is_empty(), "no call for {stored:?}");
        }
    }

    #[test]
    fn credentials_that_do_not_open_are_retried_and_logged() {
        let h = host(None);
        let stored = Endpoint { url: "https://cp.example/x".into(), auth: EndpointAuth::Apikey { key: "sealed:v1:AAAA:BBBB:CCCC".into(), expires_at: "2099-01-01T00:00:00Z".into() } };
        block_on(put_json(&h.kv, &keys::endpoint("RCPID", "BCBX"), &stored)).unwrap();
        assert!(matches!(block_on(run(&h, &job("residentialSwitchMatchRequest", 0), None)).unwrap(), Finished::Retrying(_)));
        assert!(h.http.sent.borrow().is_empty());
        assert!(h.errors.borrow().iter().any(|e| e.contains("retired v1 format")), "{:?}", h.errors.borrow());
    }

    #[test]
    fn a_failed_notification_is_not_notified_again() {
        let h = host(None);
        let notification = br#"{"envelope":{"source":{"type":"RCPID","identity":"TOTSCO"},"destination":{"type":"RCPID","identity":"BCBX","correlationID":"c-1"},"routingID":"messageDeliveryFailure"},"messageDeliveryFailure":{}}"#;
        block_on(Archive::put(&h.archive, "ots/2023/11/14/m-1.json", notification)).unwrap();
        assert_eq!(block_on(run(&h, &job(MESSAGE_DELIVERY_FAILURE, 0), None)).unwrap(), Finished::Failed(Ending::NoRoute));
        assert!(h.outbox.0.borrow().is_empty());
        assert!(h.errors.borrow().iter().any(|e| e.contains("not notified again")));
    }

    #[test]
    fn a_token_answer_without_a_token_means_a_later_attempt() {
        let ep = Endpoint {
            url: "https://cp.example/letterbox/v2/post".into(),
            auth: EndpointAuth::Oauth2 { token_url: "https://cp.example/token".into(), client_id: "hub".into(), client_secret: "s3cret-s3cret".into() },
        };
        let h = host(Some(ep));
        // The scripted client answers token calls with a status only: a 200 without a token
        // is no token, so the push waits for a later attempt.
        h.http.answers.borrow_mut().push_back(Ok(200));
        assert!(matches!(block_on(run(&h, &job("residentialSwitchMatchRequest", 0), None)).unwrap(), Finished::Retrying(_)));
        let sent = h.http.sent.borrow();
        assert_eq!(sent.len(), 1, "only the token call");
        assert_eq!(sent[0].url, "https://cp.example/token");
        assert!(!sent[0].header("authorization").unwrap().contains("s3cret"), "the secret goes base64 in Basic");
    }
}
