//! What callers present: Authorization headers, API keys (JWT), token requests, query
//! strings and RFC 3339 expiries. Nothing may panic, and nothing unsigned may verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::common::auth::{self, oauth, token};
use switchyard_core::http::{form_pairs, percent_decode, HttpRequest, Method};

const SECRET: &[u8] = b"fuzzing-token-secret-0123456789";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in [token::Kind::Access, token::Kind::Apikey] {
        assert!(token::verify(&text, SECRET, kind, 0).is_err() || text.starts_with("eyJ"), "only hub-signed tokens verify");
    }
    let req = HttpRequest::new(Method::Post, format!("/oauth2/token?apikey={text}"))
        .with_header("authorization", text.to_string())
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(data.to_vec());
    let _ = auth::presented(&req);
    let _ = oauth::parse_request(&req);
    let _ = req.query("apikey");
    let _ = form_pairs(&text);
    let _ = percent_decode(&text);
    let _ = switchyard_core::common::time::parse_rfc3339(&text);
    let _ = switchyard_core::common::net::permitted(&[text.to_string()], Some(&text));
});
