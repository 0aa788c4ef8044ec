//! TOTSCo API v2.0 §3.2.1.1: the token endpoint's success and every listed error.

use switchyard_tests::api::call;
use switchyard_tests::{hub, Fixture};

const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn e2e_basic_and_form_credentials_both_work() {
    use base64::Engine;
    let f = Fixture::new();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", f.client_id, f.client_secret)));
    let r = call("POST", &f.hub.url("/oauth2/token"), &[("authorization", &basic), ("content-type", FORM)], b"grant_type=client_credentials");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(r.json()["expires_in"], 3600);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(f.hub.post_letter("v2", &token, &f.match_request("basic")).status, 202);
}

#[test]
fn e2e_errors_400_401_404_405_415() {
    let f = Fixture::new();
    let h = hub();
    let url = h.url("/oauth2/token");
    let good = format!("grant_type=client_credentials&client_id={}&client_secret={}", f.client_id, f.client_secret);
    let cases: Vec<(&str, String, &str, String, u16)> = vec![
        ("POST", url.clone(), FORM, good.replace("client_credentials", "password"), 400),
        ("POST", url.clone(), FORM, good.replace(&f.client_secret, "wrong"), 401),
        ("POST", url.clone(), FORM, good.replace(&f.client_id, "no-such-client"), 401),
        ("POST", url.clone(), FORM, "grant_type=client_credentials".into(), 401),
        ("POST", h.url("/oauth2/tokens"), FORM, good.clone(), 404),
        ("GET", url.clone(), FORM, String::new(), 405),
        ("POST", url.clone(), "application/json", good.clone(), 415),
        ("POST", url.clone(), FORM, good.replace("grant_type=client_credentials&", ""), 415),
    ];
    for (method, url, ctype, body, status) in cases {
        let r = call(method, &url, &[("content-type", ctype)], body.as_bytes());
        assert_eq!(r.status, status, "{method} {url} {ctype} {body}: {}", r.text());
    }
}
