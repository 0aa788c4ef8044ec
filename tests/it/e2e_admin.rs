//! The admin API (docs/admin-openapi.yaml): its own authentication, validation of what is
//! registered, and idempotent bundles.

use serde_json::{json, Value};
use switchyard_tests::api::{call, unique_rcpid};
use switchyard_tests::hub;

#[test]
fn e2e_admin_token_is_required() {
    let h = hub();
    let r = call("GET", &h.url("/admin/v1/participants/RCPID/BBCD"), &[], b"");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900902")));
    let r = call("GET", &h.url("/admin/v1/participants/RCPID/BBCD"), &[("authorization", "Bearer wrong-admin-token")], b"");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900901")));
    // A participant's access token is not an admin token.
    let (id, secret) = switchyard_tests::api::client(h, &json!({ "identities": [{ "listType": "RCPID", "id": "BBCD" }] }));
    let auth = format!("Bearer {}", h.token(&id, &secret));
    assert_eq!(call("GET", &h.url("/admin/v1/participants/RCPID/BBCD"), &[("authorization", &auth)], b"").status, 401);
}

#[test]
fn e2e_unknown_things_are_404() {
    let h = hub();
    for path in ["/admin/v1/participants/RCPID/QQQQ", "/admin/v1/clients/no-such-client", "/admin/v1/routing-ids/noSuchRoutingID", "/admin/v1/nothing"] {
        assert_eq!(h.admin("GET", path, &Value::Null).status, 404, "{path}");
    }
    assert_eq!(h.admin("PATCH", "/admin/v1/participants/RCPID/BBCD", &json!({})).status, 405);
}

#[test]
fn e2e_invalid_registrations_are_400() {
    let h = hub();
    let id = unique_rcpid();
    let put = |path: &str, body: Value| h.admin("PUT", path, &body);
    assert_eq!(put(&format!("/admin/v1/participants/RCPID/{id}"), json!({ "name": "X", "processSupport": [{ "process": "OTS", "status": "PAUSED" }] })).status, 400);
    assert_eq!(put(&format!("/admin/v1/participants/RCPID/{id}"), json!({ "name": "" })).status, 400);
    assert_eq!(put(&format!("/admin/v1/participants/RCPID/{id}"), json!({ "name": "Fine" })).status, 200);
    let ep = format!("/admin/v1/participants/RCPID/{id}/endpoint");
    // Plain http is for loopback in development only.
    let r = put(&ep, json!({ "url": "http://cp.example/letterbox/v2/post", "auth": { "type": "none" } }));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "400");
    assert_eq!(put(&ep, json!({ "url": "https://cp.example/lb", "auth": { "type": "apikey", "key": "k", "expiresAt": "next year" } })).status, 400);
    assert_eq!(put(&ep, json!({ "url": "https://cp.example/lb", "auth": { "type": "oauth2", "tokenUrl": "https://cp.example/t", "clientId": "", "clientSecret": "s" } })).status, 400);
    assert_eq!(put(&ep, json!({ "url": "https://cp.example/lb", "auth": { "type": "none" } })).status, 200);
    assert_eq!(put("/admin/v1/participants/RCPID/QQQQ/endpoint", json!({ "url": "https://cp.example/lb", "auth": { "type": "none" } })).status, 404);
    assert_eq!(h.admin("POST", "/admin/v1/clients", &json!({ "identities": [] })).status, 400);
    assert_eq!(h.admin("POST", "/admin/v1/clients", &json!({ "identities": [{ "listType": "RCPID", "id": id }], "networks": ["10.0.0.0/99"] })).status, 400);
    assert_eq!(put("/admin/v1/routing-ids/someRequest", json!({ "process": "OTS", "deliveryPolicy": { "timeoutSeconds": 0, "initialBackoffSeconds": 1, "maxBackoffSeconds": 1 } })).status, 400);
}

#[test]
fn e2e_apply_is_idempotent() {
    let h = hub();
    let id = unique_rcpid();
    let bundle = json!({
        "participants": [{ "listType": "RCPID", "id": id, "name": "Bundle CP", "processSupport": [{ "process": "OTS", "status": "ACTIVE" }] }],
        "routingIDs": [{ "routingID": format!("bundle{id}Request"), "process": "OTS" }],
        "clients": [{ "clientId": format!("bundle-{id}"), "clientSecret": "bundle-secret-000001", "identities": [{ "listType": "RCPID", "id": id }] }]
    });
    for _ in 0..2 {
        let r = h.admin("POST", "/admin/v1/apply", &bundle);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!({ "participants": 1, "routingIDs": 1, "clients": 1 }));
    }
    let got = h.admin("GET", &format!("/admin/v1/participants/RCPID/{id}"), &Value::Null).json();
    assert_eq!(got["name"], "Bundle CP");
    let policy = h.admin("GET", &format!("/admin/v1/routing-ids/bundle{id}Request"), &Value::Null).json();
    assert_eq!(policy["deliveryPolicy"]["timeoutSeconds"], 900, "the default policy");
    h.token(&format!("bundle-{id}"), "bundle-secret-000001");
}
