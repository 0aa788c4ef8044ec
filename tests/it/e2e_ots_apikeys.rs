//! API keys (TOTSCo API v2.0 §3.2.2) with SwitchStream-style paired slots: each client has a
//! primary and a secondary key, minted and rotated one slot at a time.

use serde_json::{json, Value};
use switchyard_tests::api::call;
use switchyard_tests::{hub, Fixture};

fn mint(f: &Fixture, slot: &str) -> String {
    let r = f.hub.admin("POST", &format!("/admin/v1/clients/{}/keys/{slot}", f.client_id), &Value::Null);
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["key"].as_str().unwrap().split('.').count(), 3, "a JWT");
    body["key"].as_str().unwrap().to_string()
}

fn post_with_key(f: &Fixture, key: &str, in_query: bool, tag: &str) -> switchyard_tests::Resp {
    let body = f.match_request(tag);
    if in_query {
        let url = f.hub.url(&format!("/letterbox/v2/post?apikey={}", switchyard_core::common::http::percent_encode(key)));
        call("POST", &url, &[("content-type", "application/json")], &body)
    } else {
        call("POST", &f.hub.url("/letterbox/v2/post"), &[("apikey", key), ("content-type", "application/json")], &body)
    }
}

#[test]
fn e2e_key_in_header_or_query() {
    let f = Fixture::new();
    let key = mint(&f, "primary");
    assert_eq!(post_with_key(&f, &key, false, "header").status, 202);
    assert_eq!(post_with_key(&f, &key, true, "query").status, 202);
}

#[test]
fn e2e_slots_rotate_independently() {
    let f = Fixture::new();
    let primary = mint(&f, "primary");
    let secondary = mint(&f, "secondary");
    let rotated = mint(&f, "primary");
    let old = post_with_key(&f, &primary, false, "old-primary");
    assert_eq!(old.status, 401);
    assert_eq!(old.json()["code"], "900900");
    assert_eq!(post_with_key(&f, &rotated, false, "new-primary").status, 202);
    assert_eq!(post_with_key(&f, &secondary, false, "secondary").status, 202, "rotating primary leaves secondary working");
    let got = f.hub.admin("GET", &format!("/admin/v1/clients/{}", f.client_id), &Value::Null).json();
    assert!(got["keys"]["primary"]["expiresAt"].is_string() && got["keys"]["secondary"]["expiresAt"].is_string());
    assert!(!got.to_string().contains(&rotated), "keys are never shown again");
}

#[test]
fn e2e_invalid_key_is_401_900900() {
    let h = hub();
    let r = call("POST", &h.url("/letterbox/v2/post"), &[("apikey", "not.a.key")], b"{}");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "900900");
    assert_eq!(r.json()["message"], "Unclassified Authentication Failure");
    // An access token is not an API key.
    let f = Fixture::new();
    let r = call("POST", &h.url("/letterbox/v2/post"), &[("apikey", &f.token())], b"{}");
    assert_eq!(r.json()["code"], "900900");
}

#[test]
fn e2e_keys_of_a_deleted_client_stop_working() {
    let f = Fixture::new();
    let key = mint(&f, "secondary");
    assert_eq!(f.hub.admin("DELETE", &format!("/admin/v1/clients/{}", f.client_id), &json!(null)).status, 204);
    assert_eq!(post_with_key(&f, &key, false, "deleted").json()["code"], "900900");
}
