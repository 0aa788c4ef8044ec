//! The Cloudflare host signs with WebCrypto; the portable host with RustCrypto. PKCS#1 v1.5
//! is deterministic, so both must produce the same bytes for the same key and data.

use base64::Engine;
use switchyard_core::signing::RsaSigner;
use switchyard_tests::api::call;
use switchyard_tests::hub;

#[test]
fn e2e_webcrypto_and_rustcrypto_signatures_are_identical() {
    let h = hub();
    let Some(pem) = h.signing_key_pem.as_deref() else {
        eprintln!("skipped: the hub under test was not started by this suite, its signing key is unknown");
        return;
    };
    let portable = RsaSigner::from_pkcs8(pem.as_bytes()).expect("fixture key");
    for data in [&b"dip message signature string"[..], b"", &[0u8, 159, 255, 7].repeat(3000)] {
        let auth = format!("Bearer {}", h.admin_token);
        let r = call("POST", &h.url("/admin/v1/signing/test"), &[("authorization", &auth)], data);
        assert_eq!(r.status, 200, "{}", r.text());
        let from_workerd = base64::engine::general_purpose::STANDARD.decode(r.json()["signature"].as_str().unwrap()).unwrap();
        assert_eq!(from_workerd.len(), 256);
        assert_eq!(from_workerd, portable.sign_now(data), "signatures differ for {} bytes", data.len());
    }
}
