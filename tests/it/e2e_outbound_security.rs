//! Where the hub may be made to send: a registered letterbox or token URL must be a public
//! https address (no link-local metadata service, private or unique-local network, internal
//! name, credentials in the URL, other scheme or plain http). The suite's hub runs with the
//! loopback development setting, so loopback is allowed there and not listed here.
//! Credentials that already look sealed are refused: stored as given, a sealed value copied
//! from another endpoint would be opened and sent to this endpoint's address.
//! Pushes never follow redirects: a 3xx is an answer like any other non-202, retried under
//! the routing ID's policy until it times out (TOTSCo API v2.0 §2.1.8.2: 9008).

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_tests::api::{letter, participant, short_routing_id, unique_rcpid};
use switchyard_tests::receiver::{Arrival, HUB_CLIENT_ID, HUB_CLIENT_SECRET};
use switchyard_tests::{hub, Fixture, Receiver};

const WAIT: Duration = Duration::from_secs(25);
/// Quiet period before "nothing (more) arrived": a second notification for one message would
/// come at once (its job finishing twice), and a followed redirect would
/// reach its target within the attempt that got the 3xx (at most 3 s), with the short
/// policy's next attempt 1 s later.
const RETRY_QUIET: Duration = Duration::from_secs(3);

const SANE: &str = "https://cp.example/letterbox/v2/post";

/// Addresses the hub must never be registered to call.
const REFUSED: &[&str] = &[
    "https://169.254.169.254/latest/meta-data",
    "https://2852039166/", // 169.254.169.254 as one decimal number
    "https://[::ffff:169.254.169.254]/x",
    "https://10.1.2.3/x",
    "https://192.168.0.10/x",
    "https://172.16.0.1/x",
    "https://[fd00::1]/x",
    "https://metadata.google.internal/x",
    "https://user:pw@cp.example/x",
    "ftp://cp.example/x",
    "http://cp.example/x",
];

/// A participant of its own, and the path of its endpoint.
fn endpoint_path() -> String {
    let id = unique_rcpid();
    participant(hub(), &id, &[("OTS", "ACTIVE")]);
    format!("/admin/v1/participants/RCPID/{id}/endpoint")
}

fn oauth2(url: &str, token_url: &str, client_secret: &str) -> Value {
    json!({ "url": url, "auth": { "type": "oauth2", "tokenUrl": token_url, "clientId": HUB_CLIENT_ID, "clientSecret": client_secret } })
}

fn apikey(url: &str, key: &str) -> Value {
    json!({ "url": url, "auth": { "type": "apikey", "key": key, "expiresAt": "2099-01-01T00:00:00Z" } })
}

/// `PUT endpoint` answers 400 with the generic body.
fn assert_refused(path: &str, endpoint: &Value, what: &str) {
    let r = hub().admin("PUT", path, endpoint);
    assert_eq!(r.status, 400, "{what} was accepted: {}", r.text());
    assert_eq!(r.json()["code"], "400", "{what}: {}", r.text());
}

#[test]
fn e2e_unsafe_letterbox_and_token_urls_are_400() {
    let path = endpoint_path();
    let sane_token_url = "https://cp.example/oauth2/token";
    let r = hub().admin("PUT", &path, &oauth2(SANE, sane_token_url, HUB_CLIENT_SECRET));
    assert_eq!(r.status, 200, "public https addresses are accepted: {}", r.text());
    for url in REFUSED {
        assert_refused(&path, &json!({ "url": url, "auth": { "type": "none" } }), &format!("url {url}"));
        assert_refused(&path, &oauth2(url, sane_token_url, HUB_CLIENT_SECRET), &format!("url {url} (oauth2)"));
        assert_refused(&path, &oauth2(SANE, url, HUB_CLIENT_SECRET), &format!("auth.tokenUrl {url}"));
    }
    // A refused registration leaves the endpoint as it was.
    let shown = hub().admin("GET", &path, &Value::Null).json();
    assert_eq!((shown["url"].clone(), shown["auth"]["tokenUrl"].clone()), (json!(SANE), json!(sane_token_url)), "{shown}");
    let r = hub().admin("PUT", &path, &json!({ "url": SANE, "auth": { "type": "none" } }));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn e2e_already_sealed_credentials_are_400() {
    let path = endpoint_path();
    for sealed in ["sealed:v1:AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBB", "sealed:anything"] {
        assert_refused(&path, &oauth2(SANE, "https://cp.example/oauth2/token", sealed), &format!("auth.clientSecret {sealed}"));
        assert_refused(&path, &apikey(SANE, sealed), &format!("auth.key {sealed}"));
    }
    // The same endpoints with plain credentials are fine.
    assert_eq!(hub().admin("PUT", &path, &oauth2(SANE, "https://cp.example/oauth2/token", "a-plain-secret-0001")).status, 200);
    assert_eq!(hub().admin("PUT", &path, &apikey(SANE, "a-plain-key")).status, 200);
}

#[test]
fn e2e_a_redirect_is_not_followed_and_times_out_as_9008() {
    let hub = hub();
    let rid = short_routing_id(hub, "Request", 5);
    let f = Fixture::with_routing(&[&rid]);
    let elsewhere = Receiver::start();
    f.receiver.redirect_to(307, &elsewhere.url("/letterbox/v2/post"));
    let body = letter(&f.sender, &f.recipient, &rid, "redirected", None);
    let r = f.post(&body);
    assert_eq!(r.status, 202, "{}", r.text());

    // A followed redirect would reach `elsewhere` within the attempt that got the 307; the
    // quiet period overlaps the retries still running at the letterbox.
    assert!(!f.receiver.wait_for(1, WAIT).is_empty(), "the letterbox is tried");
    elsewhere.wait_quiet(RETRY_QUIET, WAIT);
    let notification = expect_one_notification(&f, "9008");
    assert_eq!(notification.json()["envelope"]["destination"]["correlationID"], "redirected");
    assert!(elsewhere.letters().is_empty(), "the redirect was followed: {} posts reached its target", elsewhere.letters().len());
    let attempts = f.receiver.letters();
    assert!(attempts.len() >= 2, "a 307 is retried: {} attempts", attempts.len());
    assert!(attempts.iter().all(|a| a.body == body), "every attempt carries the same message");
}

/// Exactly one notification reaches the originator, with this fault code: after the first,
/// no second one within [`RETRY_QUIET`]. Returns it.
fn expect_one_notification(f: &Fixture, code: &str) -> Arrival {
    let got = f.sender_box.wait_for(1, WAIT);
    assert_eq!(got.len(), 1, "a notification reaches the originator");
    assert_eq!(got[0].json()["messageDeliveryFailure"]["code"], code);
    f.sender_box.wait_quiet(RETRY_QUIET, WAIT);
    assert_eq!(f.sender_box.letters().len(), 1, "exactly one notification");
    got[0].clone()
}
