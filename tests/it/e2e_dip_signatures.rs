//! DIP request signatures through the hub (DSD002 10.4 and the DIP contract): certificates
//! made here under the suite's CA, or under a CA the hub does not trust.

use dip_pki::{Ca, Leaf, DAY_MS};
use serde_json::json;
use switchyard_tests::api::call;
use switchyard_tests::dip::{batch, dip, fixture_key, message, now_ms};
use switchyard_tests::hub;

const PATH: &str = "/dip-channel/IF-021";

fn body() -> Vec<u8> {
    let d = dip();
    batch(&[message("IF-021", "ActivePower", &d.sds.id, "SDS")])
}

#[test]
fn e2e_dip_certificates_the_hub_refuses() {
    let d = dip();
    let now = now_ms();
    let leaf = || Leaf::for_party(&d.sds.id, now);
    let cases: Vec<(&str, String)> = vec![
        ("expired", d.ca.issue(&d.sds.key_pem, &Leaf { not_before_ms: now - 400 * DAY_MS, not_after_ms: now - DAY_MS, ..leaf() })),
        ("not yet valid", d.ca.issue(&d.sds.key_pem, &Leaf { not_before_ms: now + DAY_MS, ..leaf() })),
        ("no signing key usage", d.ca.issue(&d.sds.key_pem, &Leaf { signing_usage: false, ..leaf() })),
        ("another party's name", d.ca.issue(&d.sds.key_pem, &Leaf::for_party(&d.ldso.id, now))),
        ("the production profile", d.ca.issue(&d.sds.key_pem, &Leaf { common_name: format!("energydip-prod.{}", d.sds.id), ..leaf() })),
        ("a CA with the same name the hub does not trust", Ca::new(&d.ca.name, &fixture_key("rogue-ca"), now).issue(&d.sds.key_pem, &leaf())),
    ];
    for (what, certificate) in cases {
        let r = d.post_signed_with(&d.sds, &certificate, PATH, &body());
        assert_eq!(r.status, 401, "{what}: {}", r.text());
    }
    // The same certificate, fresh, is accepted: the refusals above were the certificate's.
    let fresh = d.ca.issue(&d.sds.key_pem, &leaf());
    assert_eq!(d.post_signed_with(&d.sds, &fresh, PATH, &body()).status, 201);
}

#[test]
fn e2e_dip_a_revoked_certificate_is_refused_until_restored() {
    let d = dip();
    let h = hub();
    let certificate = d.ca.issue(&d.sds.key_pem, &Leaf { serial: 4242, ..Leaf::for_party(&d.sds.id, now_ms()) });
    assert_eq!(d.post_signed_with(&d.sds, &certificate, PATH, &body()).status, 201);
    let revoked = format!("/admin/v1/dip/revoked-certificates/{}", dip_pki::fingerprint(&certificate));
    assert_eq!(h.admin("PUT", &revoked, &json!({ "reason": "keyCompromise" })).status, 200);
    assert_eq!(d.post_signed_with(&d.sds, &certificate, PATH, &body()).status, 401);
    assert_eq!(h.admin("DELETE", &revoked, &serde_json::Value::Null).status, 204);
    assert_eq!(d.post_signed_with(&d.sds, &certificate, PATH, &body()).status, 201);
}

#[test]
fn e2e_dip_tampered_requests_are_refused() {
    let d = dip();
    let h = hub();
    let url = h.url(PATH);
    let signed_body = body();
    let headers = dip_pki::sign(&d.sds.key_pem, &d.sds.certificate_pem, "POST", &url, &signed_body, now_ms());
    let send = |headers: &[(String, String)], target: &str, body: &[u8]| {
        let mut hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        hs.push(("x-api-key", &d.sds.api_key));
        call("POST", target, &hs, body)
    };
    let mut tampered = signed_body.clone();
    let at = tampered.len() - 3;
    tampered[at] = b' ';
    assert_eq!(send(&headers, &url, &tampered).status, 401, "tampered body");
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        headers.iter().map(|(k, v)| if k.eq_ignore_ascii_case(name) { (k.clone(), value.to_string()) } else { (k.clone(), v.clone()) }).collect()
    };
    let later = switchyard_core::common::time::rfc3339(now_ms() + 1000);
    assert_eq!(send(&with("X-DIP-Signature-Date", &later), &url, &signed_body).status, 401, "tampered date");
    let stale_headers = dip_pki::sign(&d.sds.key_pem, &d.sds.certificate_pem, "POST", &url, &signed_body, now_ms() - 10 * 60_000);
    assert_eq!(send(&stale_headers, &url, &signed_body).status, 401, "a signature ten minutes old");
    // Signed for another URL of the hub.
    let other = dip_pki::sign(&d.sds.key_pem, &d.sds.certificate_pem, "POST", &h.url("/dip-channel/IF-022"), &signed_body, now_ms());
    assert_eq!(send(&other, &url, &signed_body).status, 401, "wrong URL");
    // The untouched request goes through.
    assert_eq!(send(&headers, &url, &signed_body).status, 201);
}

/// senderUniqueReference is claimed once, whichever of two concurrent requests gets there first.
#[test]
fn e2e_dip_concurrent_duplicates_are_accepted_once() {
    let d = dip();
    for _ in 0..3 {
        let body = body();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| d.post(&d.sds, PATH, &body));
            let b = s.spawn(|| d.post(&d.sds, PATH, &body));
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [201, 400], "{} / {}", a.text(), b.text());
        let loser = if a.status == 400 { a } else { b };
        assert_eq!(loser.json()["messageArray"][0]["message"], "MSG1006 - Sender Unique Reference Duplicated");
    }
}
