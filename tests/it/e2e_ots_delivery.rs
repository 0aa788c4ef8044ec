//! TOTSCo API v2.0 §2.1.8.2: every delivery outcome, asserted at the receivers. Only 202 is
//! delivered; 400 -> 9006, 404 -> 9007, 501/502/511 -> 9008 at once; anything else, a
//! timeout or a refused connection is retried until the routing ID's policy times out (9008);
//! a destination without an endpoint -> 9005.

use std::time::Duration;

use serde_json::json;
use switchyard_tests::api::{letter, short_routing_id};
use switchyard_tests::receiver::{Arrival, RefusingPort};
use switchyard_tests::Fixture;

const WAIT: Duration = Duration::from_secs(25);

/// Quiet periods before "nothing (more) arrived". The fixtures' routing IDs retry every 1 s
/// (initial and maximum backoff 1 s, no jitter at that size), and a job whose host operations
/// failed is pushed again 5 s later at the earliest; 3 s after the last arrival covers a
/// retry with room for latency. (A live outbox shard never pushes a job twice at once; only
/// a crash's leftovers are pushed again, after the outbox grace.)
const RETRY_QUIET: Duration = Duration::from_secs(3);
/// A notification that failed must not be retried or notified again. Its routing ID
/// (`messageDeliveryFailure`, infra/seed/demo.json: initial backoff 1 s) would retry 1 s and
/// then 2 s later; 5 s covers both.
const NOTIFICATION_QUIET: Duration = Duration::from_secs(5);

/// A fixture whose client may use a routing ID of its own with a `timeout`-second policy.
fn fixture(timeout: u32) -> (Fixture, String) {
    let hub = switchyard_tests::hub();
    let rid = short_routing_id(hub, "Request", timeout);
    (Fixture::with_routing(&[&rid]), rid)
}

fn send(f: &Fixture, rid: &str, corr: &str) -> Vec<u8> {
    let body = letter(&f.sender, &f.recipient, rid, corr, None);
    let r = f.post(&body);
    assert_eq!(r.status, 202, "{}", r.text());
    body
}

/// The §2.1.8.2 notification for `code`, exactly.
fn expected_notification(f: &Fixture, rid: &str, corr: &str, code: &str, text: &str) -> serde_json::Value {
    json!({
        "envelope": {
            "source": { "type": "RCPID", "identity": "TOTSCO" },
            "destination": { "type": "RCPID", "identity": f.sender, "correlationID": corr },
            "routingID": "messageDeliveryFailure",
            "auditData": [
                { "name": "originalDestinationType", "value": "RCPID" },
                { "name": "originalDestination", "value": f.recipient },
                { "name": "originalRoutingID", "value": rid },
                { "name": "faultCode", "value": code }
            ]
        },
        "messageDeliveryFailure": { "code": code, "text": text, "severity": "failure" }
    })
}

fn notifications(f: &Fixture, n: usize) -> Vec<Arrival> {
    f.sender_box.wait_for(n, WAIT)
}

/// Exactly one notification reaches the originator, with this fault code: after the first,
/// no second one within [`RETRY_QUIET`] (a job that finished twice would send it again at
/// once). Returns it.
fn expect_one_notification(f: &Fixture, code: &str) -> Arrival {
    let got = notifications(f, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["messageDeliveryFailure"]["code"], code);
    f.sender_box.wait_quiet(RETRY_QUIET, WAIT);
    assert_eq!(f.sender_box.letters().len(), 1, "exactly one notification");
    got[0].clone()
}

#[test]
fn e2e_202_is_delivered_once_and_nothing_comes_back() {
    let (f, rid) = fixture(30);
    let body = send(&f, &rid, "ok-1");
    let got = f.receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body);
    // A 202 ends delivery: a second push would be a retry (1 s later) or a redelivery (at once).
    f.receiver.wait_quiet(RETRY_QUIET, WAIT);
    assert_eq!(f.receiver.letters().len(), 1, "delivered exactly once");
    assert!(f.sender_box.letters().is_empty(), "no notification for a delivered message");
}

fn immediate_failure(status: u16, code: &str, text: &str) {
    let (f, rid) = fixture(60);
    f.receiver.answer_with(status);
    send(&f, &rid, &format!("fail-{status}"));
    let got = notifications(&f, 1);
    assert_eq!(got.len(), 1, "one notification for {status}");
    assert_eq!(got[0].json(), expected_notification(&f, &rid, &format!("fail-{status}"), code, text));
    assert!(got[0].header("authorization").unwrap().starts_with("Bearer receiver-token-"), "notifications use the originator's endpoint security");
    assert_eq!(f.receiver.letters().len(), 1, "{status} is not retried");
}

#[test]
fn e2e_400_gives_9006() {
    immediate_failure(400, "9006", "Unable to deliver the message to the destination, rejected, invalid message format.");
}

#[test]
fn e2e_404_gives_9007() {
    immediate_failure(404, "9007", "Recipient rejected message.");
}

#[test]
fn e2e_501_502_511_give_9008() {
    for status in [501, 502, 511] {
        immediate_failure(status, "9008", "Unable to deliver the message to the destination, timed out.");
    }
}

#[test]
fn e2e_500_is_retried_with_the_same_message_then_9008() {
    let (f, rid) = fixture(5);
    f.receiver.answer_with(500);
    let body = send(&f, &rid, "retry-500");
    let got = notifications(&f, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json(), expected_notification(&f, &rid, "retry-500", "9008", "Unable to deliver the message to the destination, timed out."));
    let attempts = f.receiver.letters();
    assert!(attempts.len() >= 2, "retried: {} attempts", attempts.len());
    assert!(attempts.iter().all(|a| a.body == body), "every attempt carries the same message");
}

#[test]
fn e2e_500_then_202_is_delivered() {
    let (f, rid) = fixture(30);
    f.receiver.answer_with(503);
    send(&f, &rid, "recovers");
    assert_eq!(f.receiver.wait_for(1, WAIT).len(), 1);
    // Counted before switching, so an attempt answered 202 in between is the later one.
    let n = f.receiver.letters().len();
    f.receiver.answer_with(202);
    assert!(f.receiver.wait_for(n + 1, WAIT).len() > n, "a later attempt arrives");
    // Delivery has ended once the receiver stays quiet past the 1 s retry interval; a wrong
    // notification would be queued at that last answer, so it would be here by then.
    f.receiver.wait_quiet(RETRY_QUIET, WAIT);
    assert!(f.sender_box.letters().is_empty(), "recovered: no notification");
}

#[test]
fn e2e_no_answer_within_the_attempt_timeout_is_retried_then_9008() {
    let (f, rid) = fixture(5);
    f.receiver.delay_answers(Duration::from_secs(5));
    send(&f, &rid, "slow");
    expect_one_notification(&f, "9008");
}

#[test]
fn e2e_refused_connection_is_retried_then_9008() {
    let (f, rid) = fixture(4);
    let refusing = RefusingPort::new();
    let endpoint = json!({ "url": refusing.url("/letterbox/v2/post"), "auth": { "type": "none" } });
    assert_eq!(f.hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{}/endpoint", f.recipient), &endpoint).status, 200);
    send(&f, &rid, "refused");
    expect_one_notification(&f, "9008");
}

#[test]
fn e2e_destination_without_endpoint_gives_9005() {
    let (f, rid) = fixture(30);
    assert_eq!(f.hub.admin("DELETE", &format!("/admin/v1/participants/RCPID/{}/endpoint", f.recipient), &json!(null)).status, 204);
    send(&f, &rid, "no-route");
    let got = notifications(&f, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json(), expected_notification(&f, &rid, "no-route", "9005", "Unable to deliver the message to the destination, no valid route."));
}

#[test]
fn e2e_a_failed_notification_never_loops() {
    let (f, rid) = fixture(30);
    f.receiver.answer_with(400);
    f.sender_box.answer_with(400);
    send(&f, &rid, "loop");
    assert_eq!(notifications(&f, 1).len(), 1);
    // The notification answered 400 must be neither retried nor notified about; the 400 at
    // the recipient came before it, so its (wrong) retry would fall in this window too.
    f.sender_box.wait_quiet(NOTIFICATION_QUIET, WAIT);
    assert_eq!(f.sender_box.letters().len(), 1, "the undeliverable notification produced nothing more");
    assert_eq!(f.receiver.letters().len(), 1);
}

#[test]
fn e2e_revoked_outbound_token_is_refreshed() {
    let (f, rid) = fixture(30);
    send(&f, &rid, "first");
    assert_eq!(f.receiver.wait_for(1, WAIT).len(), 1);
    assert_eq!(f.receiver.token_requests(), 1);
    send(&f, &rid, "cached");
    assert_eq!(f.receiver.wait_for(2, WAIT).len(), 2);
    assert_eq!(f.receiver.token_requests(), 1, "the token is cached");
    f.receiver.revoke_tokens();
    send(&f, &rid, "after-revoke");
    let got = f.receiver.wait_for(4, WAIT);
    let accepted: Vec<_> = got.iter().filter(|a| a.json()["envelope"]["source"]["correlationID"] == "after-revoke").collect();
    assert_eq!(accepted.len(), 2, "refused once with 401, then sent again with a new token");
    assert_eq!(f.receiver.token_requests(), 2);
    assert!(f.sender_box.letters().is_empty());
}

/// An API key is sent in `apikey` until it expires (TOTSCo API v2.0 §3.2.2); after that
/// nothing is pushed, the message waits for a new key and times out (9008). An endpoint with
/// `auth: none` gets the push with no credential at all.
#[test]
fn e2e_api_key_and_no_auth_endpoints() {
    let (f, rid) = fixture(5);
    let endpoint_path = format!("/admin/v1/participants/RCPID/{}/endpoint", f.recipient);
    let key_endpoint = json!({ "url": f.receiver.url("/letterbox/v2/post"), "auth": { "type": "apikey", "key": "recipient-issued-key", "expiresAt": "2099-01-01T00:00:00Z" } });
    assert_eq!(f.hub.admin("PUT", &endpoint_path, &key_endpoint).status, 200);
    send(&f, &rid, "apikey");
    let got = f.receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("apikey"), Some("recipient-issued-key"));
    assert_eq!(got[0].header("authorization"), None);
    let shown = f.hub.admin("GET", &endpoint_path, &json!(null));
    assert!(!shown.text().contains("recipient-issued-key"), "credentials are never shown");

    // An expired key is not sent: the message waits for a new one, then times out. Once the
    // 9008 is here the hub has given up, so no push can follow it.
    let expired = json!({ "url": f.receiver.url("/letterbox/v2/post"), "auth": { "type": "apikey", "key": "old-key", "expiresAt": "2020-01-01T00:00:00Z" } });
    assert_eq!(f.hub.admin("PUT", &endpoint_path, &expired).status, 200);
    send(&f, &rid, "expired-key");
    let notification = expect_one_notification(&f, "9008");
    assert_eq!(notification.json(), expected_notification(&f, &rid, "expired-key", "9008", "Unable to deliver the message to the destination, timed out."));
    assert_eq!(f.receiver.letters().len(), 1, "nothing is sent with an expired key");

    let open = json!({ "url": f.receiver.url("/letterbox/v2/post"), "auth": { "type": "none" } });
    assert_eq!(f.hub.admin("PUT", &endpoint_path, &open).status, 200);
    let body = send(&f, &rid, "no-auth");
    let got = f.receiver.wait_for(2, WAIT);
    assert_eq!(got.len(), 2, "the auth-none endpoint gets the message");
    assert_eq!(got[1].body, body);
    assert_eq!(got[1].header("authorization"), None, "auth none: no authorization header");
    assert_eq!(got[1].header("apikey"), None, "auth none: no apikey header");
    assert_eq!(f.receiver.token_requests(), 0, "auth none: no token is fetched");
}
