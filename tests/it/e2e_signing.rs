//! The Cloudflare host signs with WebCrypto; the portable host with RustCrypto. PKCS#1 v1.5
//! is deterministic, so both must produce the same bytes for the same key and data. The hub
//! signs arbitrary data for the caller only on the development route `POST
//! /admin/v1/signing/test`, which exists only with `SWITCHYARD_ENABLE_SIGNING_TEST=true`.

use base64::Engine;
use switchyard_core::common::signing::RsaSigner;
use switchyard_tests::api::{call, unique_rcpid};
use serde_json::json;
use switchyard_tests::hub::{self, hub, Hub, HubProcess};

const SIGNING_TEST: &str = "/admin/v1/signing/test";

#[test]
fn e2e_webcrypto_and_rustcrypto_signatures_are_identical() {
    let h = hub();
    let pem = h.signing_key_pem.as_deref().unwrap_or_else(|| {
        panic!(
            "cannot compare signatures: the hub under test ({}) was not started by this suite, so its signing key is unknown; \
             set SWITCHYARD_SIGNING_KEY_FILE to the PKCS#8 PEM it signs with",
            h.base
        )
    });
    let portable = RsaSigner::from_pkcs8(pem.as_bytes()).expect("PKCS#8 PEM signing key");
    for data in [&b"dip message signature string"[..], b"", &[0u8, 159, 255, 7].repeat(3000)] {
        let auth = format!("Bearer {}", h.admin_token);
        let r = call("POST", &h.url(SIGNING_TEST), &[("authorization", &auth)], data);
        assert_eq!(r.status, 200, "{SIGNING_TEST} (the hub needs SWITCHYARD_ENABLE_SIGNING_TEST=true): {}", r.text());
        let from_workerd = base64::engine::general_purpose::STANDARD.decode(r.json()["signature"].as_str().unwrap()).unwrap();
        assert_eq!(from_workerd.len(), 256);
        assert_eq!(from_workerd, portable.sign_now(data), "signatures differ for {} bytes", data.len());
    }
}

/// Without the development setting the route does not exist, even for the operator and even
/// with a signing key configured: a hub of its own with the key but not the setting.
#[test]
fn e2e_signing_test_route_is_404_without_the_development_setting() {
    let dir = std::env::temp_dir().join(format!("switchyard-nosigntest-{}-{}", std::process::id(), unique_rcpid()));
    let admin = "no-signing-test-admin-token-01";
    let process = HubProcess::start(&dir, admin, &[hub::signing_key_setting(&hub::test_signing_key_pem())]);
    let h = Hub { base: process.base.clone(), admin_token: admin.into(), signing_key_pem: None, log: None };
    // The hub is up and takes this admin token: the rest of the admin API is served.
    let r = h.admin("PUT", "/admin/v1/routing-ids/signingTestRequest", &json!({ "process": "OTS" }));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call("POST", &h.url(SIGNING_TEST), &[("authorization", &format!("Bearer {admin}"))], b"dip message signature string");
    assert_eq!(r.status, 404, "{}", r.text());
}
