//! DIP configuration through the admin API (the DIP contract, "Admin configuration"): the
//! hub's identity, participants and their paired API keys, trust anchors, revocations and
//! MAMS histories, each with its checks.

use serde_json::{json, Value};
use switchyard_tests::api::unique_dip_id;
use switchyard_tests::hub;

#[test]
fn e2e_dip_environment_defaults_to_dev() {
    let h = hub();
    let r = h.admin("GET", "/admin/v1/dip/environment", &Value::Null);
    assert_eq!((r.status, r.json()), (200, json!({ "environmentTag": "DEV" })));
    assert_eq!(h.admin("PUT", "/admin/v1/dip/environment", &json!({})).status, 405);
}

#[test]
fn e2e_dip_participants_and_their_two_keys() {
    let h = hub();
    let id = unique_dip_id();
    let path = format!("/admin/v1/dip/participants/{id}");
    assert_eq!(h.admin("GET", &path, &Value::Null).status, 404);
    assert_eq!(h.admin("POST", &format!("{path}/keys/primary"), &Value::Null).status, 404, "no keys for an unknown participant");
    let body = json!({ "name": "Bars Energy", "roles": ["SUP"], "DIPConnectionProviderID": null });
    let r = h.admin("PUT", &path, &body);
    assert_eq!((r.status, r.json()), (200, body.clone()));
    assert_eq!(h.admin("GET", &path, &Value::Null).json(), body);

    let primary = h.admin("POST", &format!("{path}/keys/primary"), &Value::Null);
    assert_eq!(primary.status, 201);
    assert_eq!(primary.header("cache-control"), Some("no-store"));
    let secondary = h.admin("POST", &format!("{path}/keys/secondary"), &Value::Null);
    assert_eq!(secondary.status, 201);
    let (p, s) = (primary.json()["key"].as_str().unwrap().to_string(), secondary.json()["key"].as_str().unwrap().to_string());
    assert_ne!(p, s);
    assert!(!h.admin("GET", &path, &Value::Null).text().contains(&p), "keys are never shown again");
    assert_eq!(h.admin("POST", &format!("{path}/keys/tertiary"), &Value::Null).status, 400);

    for bad in [
        json!({ "name": "", "roles": ["SUP"] }),
        json!({ "name": "X", "roles": ["sup"] }),
        json!({ "name": "X", "roles": ["SUPPLIER"] }),
        json!({ "name": "X", "roles": ["SUP"], "DIPConnectionProviderID": "short" }),
        json!({ "name": "X", "roles": ["SUP"], "unknown": 1 }),
    ] {
        assert_eq!(h.admin("PUT", &path, &bad).status, 400, "{bad}");
    }
    assert_eq!(h.admin("PUT", "/admin/v1/dip/participants/123", &body).status, 400, "DT-006 is 10 characters");
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 204);
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 404);
}

#[test]
fn e2e_dip_trust_anchors_and_revocations() {
    let h = hub();
    let anchor = format!("/admin/v1/dip/trust-anchors/anchor-{}", unique_dip_id());
    assert_eq!(h.admin("PUT", &anchor, &json!({ "certificatePem": "not a certificate" })).status, 400);
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let r = h.admin("PUT", &anchor, &json!({ "certificatePem": pem }));
    assert_eq!((r.status, r.json()), (200, json!({ "certificatePem": pem })));
    assert_eq!(h.admin("GET", &anchor, &Value::Null).json()["certificatePem"], pem);
    assert_eq!(h.admin("DELETE", &anchor, &Value::Null).status, 204);
    assert_eq!(h.admin("GET", &anchor, &Value::Null).status, 404);

    let sha = format!("{:0>64}", unique_dip_id());
    let revoked = format!("/admin/v1/dip/revoked-certificates/{sha}");
    assert_eq!(h.admin("PUT", &revoked, &json!({ "reason": "keyCompromise" })).status, 200);
    assert_eq!(h.admin("PUT", &revoked, &json!({ "reason": "no reason" })).status, 400);
    assert_eq!(h.admin("PUT", "/admin/v1/dip/revoked-certificates/ABC", &json!({ "reason": "keyCompromise" })).status, 400);
    assert_eq!(h.admin("DELETE", &revoked, &Value::Null).status, 204, "removal from the CRL");
    assert_eq!(h.admin("DELETE", &revoked, &Value::Null).status, 404);
}

#[test]
fn e2e_dip_mams_history_replaces_whole() {
    let h = hub();
    let mpan = format!("19{}", &unique_dip_id()[..10]) + "1";
    let path = format!("/admin/v1/dip/mams/{mpan}");
    let history = json!({ "parties": [
        { "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": "2025-01-01T00:00:00+00:00" },
        { "roleID": "SUP", "DIPID": "1000000003", "effectiveFrom": "2025-01-01T00:00:00+00:00", "effectiveTo": null }
    ]});
    let r = h.admin("PUT", &path, &history);
    assert_eq!((r.status, r.json()), (200, history.clone()));
    let later = json!({ "parties": [{ "roleID": "SUP", "DIPID": "1000000004", "effectiveFrom": "2026-01-01T00:00:00+00:00", "effectiveTo": null }] });
    assert_eq!(h.admin("PUT", &path, &later).status, 200);
    assert_eq!(h.admin("GET", &path, &Value::Null).json(), later);
    for bad in [
        json!({ "parties": [{ "roleID": "SUP", "DIPID": "1000000004", "effectiveFrom": "yesterday", "effectiveTo": null }] }),
        json!({ "parties": [{ "roleID": "SUP", "DIPID": "1000000004", "effectiveFrom": "2026-01-01T00:00:00+00:00", "effectiveTo": "2025-01-01T00:00:00+00:00" }] }),
        json!({ "parties": [{ "roleID": "S", "DIPID": "1000000004", "effectiveFrom": "2026-01-01T00:00:00+00:00" }] }),
    ] {
        assert_eq!(h.admin("PUT", &path, &bad).status, 400, "{bad}");
    }
    assert_eq!(h.admin("PUT", "/admin/v1/dip/mams/12345", &later).status, 400);
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 204);
}
