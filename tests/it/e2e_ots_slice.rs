//! The foundation's vertical slice: an OTS message travels token -> letterbox -> archive and
//! broker -> deliver -> the recipient's letterbox, through real KV, R2 and Durable Objects.

use std::time::Duration;

use serde_json::json;
use switchyard_tests::api::call;
use switchyard_tests::{hub, Fixture};

const DELIVERY_WAIT: Duration = Duration::from_secs(20);
/// Before "nothing was delivered": the outbox shard pushes an accepted message as soon as
/// its row is written, well within this.
const REFUSED_QUIET: Duration = Duration::from_secs(3);

#[test]
fn e2e_message_reaches_the_recipient_with_the_hubs_bearer_token() {
    let f = Fixture::new();
    let letter = f.match_request("slice-1");
    let r = f.hub.post_letter("v2", &f.token(), &letter);
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty(), "a 202 has an empty body");

    let got = f.receiver.wait_for(1, DELIVERY_WAIT);
    assert_eq!(got.len(), 1, "one delivery expected");
    let arrival = &got[0];
    assert_eq!(arrival.method, "POST");
    assert_eq!(arrival.path, "/letterbox/v2/post");
    assert_eq!(arrival.body, letter, "the message arrives byte for byte as posted");
    let auth = arrival.header("authorization").expect("bearer token");
    assert!(auth.starts_with("Bearer receiver-token-"), "the token the hub fetched from the recipient: {auth}");
    assert_eq!(f.receiver.token_requests(), 1);
}

#[test]
fn e2e_letterbox_v1_is_served_beside_v2() {
    let f = Fixture::new();
    let r = f.hub.post_letter("v1", &f.token(), &f.match_request("slice-v1"));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(f.receiver.wait_for(1, DELIVERY_WAIT).len(), 1);
}

#[test]
fn e2e_invalid_json_is_a_400_schema_failure() {
    let f = Fixture::new();
    let r = f.hub.post_letter("v2", &f.token(), b"{\"envelope\": ");
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(body["code"], "400");
    assert_eq!(body["message"], "Bad Request");
    assert!(body["description"].as_str().unwrap().starts_with("Schema validation failed in the Request: "), "{body}");
    f.receiver.wait_quiet(REFUSED_QUIET, DELIVERY_WAIT);
    assert!(f.receiver.letters().is_empty(), "nothing rejected is delivered");
}

#[test]
fn e2e_missing_token_is_401_900902() {
    let h = hub();
    let r = call("POST", &h.url("/letterbox/v2/post"), &[("content-type", "application/json")], b"{}");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({
            "code": "900902",
            "message": "Missing Credentials",
            "description": "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' or 'apikey: API_KEY'"
        })
    );
}

#[test]
fn e2e_bad_token_is_401_900901() {
    let h = hub();
    let r = h.post_letter("v2", "not-a-token", b"{}");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "900901");
}

#[test]
fn e2e_token_endpoint_answers_as_3_2_1_1_2() {
    let f = Fixture::new();
    let form = format!("grant_type=client_credentials&client_id={}&client_secret={}", f.client_id, f.client_secret);
    let r = call("POST", &f.hub.url("/oauth2/token"), &[("content-type", "application/x-www-form-urlencoded")], form.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "default");
    assert_eq!(body["expires_in"], 3600);
    let wrong = format!("grant_type=client_credentials&client_id={}&client_secret=wrong-secret", f.client_id);
    let r = call("POST", &f.hub.url("/oauth2/token"), &[("content-type", "application/x-www-form-urlencoded")], wrong.as_bytes());
    assert_eq!(r.status, 401);
}

#[test]
fn e2e_unknown_path_is_the_spec_404() {
    let h = hub();
    let r = call("GET", &h.url("/letterbox/v9/post"), &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["description"], "No matching resource found for given API Request");
}
