//! Bad input to every endpoint gets a clean 4xx with the hub's error body: truncated,
//! oversized, deeply nested, non-UTF-8, duplicate-key and wrong-content-type bodies. Never a
//! 5xx, never a hang (each call has a 30 s timeout). The directory is a GET: it reads no body,
//! so it answers as its query alone asks, except for a body over the gateway's limit.

use std::time::Duration;

use serde_json::json;
use switchyard_tests::api::call;
use switchyard_tests::Fixture;

/// Before "nothing was delivered": the outbox shard pushes an accepted message as soon as
/// its row is written, well within this.
const REFUSED_QUIET: Duration = Duration::from_secs(3);

fn bodies(valid: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut truncated = valid.to_vec();
    truncated.truncate(valid.len() / 2);
    let mut non_utf8 = valid.to_vec();
    if let Some(pos) = non_utf8.windows(4).position(|w| w == b"test") {
        non_utf8[pos..pos + 4].copy_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    } else {
        non_utf8.extend_from_slice(&[0xff, 0xfe]);
    }
    let mut duplicate = b"{\"envelope\":1,".to_vec();
    duplicate.extend_from_slice(&valid[1..]);
    vec![
        ("truncated", truncated, "application/json"),
        ("oversized", vec![b' '; 1_100_000], "application/json"),
        ("deeply nested", format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(), "application/json"),
        ("deeply nested object", "{\"a\":".repeat(20_000).into_bytes(), "application/json"),
        ("non-UTF-8", non_utf8, "application/json"),
        ("duplicate key", duplicate, "application/json"),
        ("wrong content type", b"<envelope><source/></envelope>".to_vec(), "application/xml"),
        ("empty", Vec::new(), "application/json"),
    ]
}

/// The directory's answer to `GET path` with a `what` body. The gateway forwards a GET without
/// its body, so the query alone decides (§2.2.3): 200 with the list for `listType=RCPID`, the
/// 404 "ListType cannot be empty" without one. A body over the gateway's limit
/// (`routes::GATEWAY_MAX_BODY_BYTES`) is refused first, 400 with the generic body.
fn assert_directory_answer(what: &str, path: &str, f: &Fixture, r: &switchyard_tests::Resp) {
    let body = r.json();
    let context = format!("{path} with a {what} body answered {}: {}", r.status, r.text());
    if what == "oversized" {
        let expected = json!({ "code": "400", "message": "Bad Request", "description": "Request body exceeds the limit of 1048576 bytes." });
        assert_eq!((r.status, body), (400, expected), "{context}");
    } else if path.contains("listType=RCPID") {
        assert_eq!(r.status, 200, "{context}");
        assert_eq!(body["list"][0]["listType"], "RCPID", "{context}");
        let listed = body["list"][0]["identity"].as_array().is_some_and(|ids| ids.iter().any(|i| i["id"] == f.sender.as_str()));
        assert!(listed, "{context}");
    } else {
        let expected = json!({ "code": "404", "description": "Invalid ListType, ListType cannot be empty" });
        assert_eq!((r.status, body), (404, expected), "{context}");
    }
}

/// Every answer is a 4xx whose body is JSON with the hub's error fields.
fn assert_clean_4xx(what: &str, endpoint: &str, r: &switchyard_tests::Resp) {
    assert!((400..500).contains(&r.status), "{endpoint} with a {what} body answered {}: {}", r.status, r.text());
    let body = r.json();
    let has_code = ["code", "errorCode", "error"].iter().any(|k| body.get(k).is_some_and(|v| v.is_string()));
    assert!(has_code, "{endpoint} with a {what} body: no error code in {}", r.text());
}

#[test]
fn e2e_bad_bodies_to_every_endpoint() {
    let f = Fixture::new();
    let token = format!("Bearer {}", f.token());
    let admin = format!("Bearer {}", f.hub.admin_token);
    let valid = f.match_request("bad-input");
    let endpoints: Vec<(&str, String, &str)> = vec![
        ("POST", "/letterbox/v2/post".into(), token.as_str()),
        ("POST", "/letterbox/v1/post".into(), token.as_str()),
        ("GET", "/directory/v2/entry?listType=RCPID".into(), token.as_str()),
        ("GET", "/directory/v2/entry".into(), token.as_str()),
        ("POST", "/oauth2/token".into(), ""),
        ("POST", "/admin/v1/apply".into(), admin.as_str()),
        ("PUT", format!("/admin/v1/participants/RCPID/{}", f.recipient), admin.as_str()),
        ("PUT", format!("/admin/v1/participants/RCPID/{}/endpoint", f.recipient), admin.as_str()),
        ("POST", "/admin/v1/clients".into(), admin.as_str()),
        ("PUT", "/admin/v1/routing-ids/badInputRequest".into(), admin.as_str()),
    ];
    for (method, path, auth) in &endpoints {
        for (what, body, ctype) in bodies(&valid) {
            let mut headers = vec![("content-type", ctype)];
            if !auth.is_empty() {
                headers.push(("authorization", auth));
            }
            let r = call(method, &f.hub.url(path), &headers, &body);
            if path.starts_with("/directory/") {
                assert_directory_answer(what, path, &f, &r);
                continue;
            }
            if path.starts_with("/oauth2") && ctype == "application/json" && what == "empty" {
                assert_eq!(r.status, 415);
                continue;
            }
            assert_clean_4xx(what, path, &r);
        }
    }
    f.receiver.wait_quiet(REFUSED_QUIET, Duration::from_secs(20));
    assert!(f.receiver.letters().is_empty(), "nothing refused was delivered");
}

#[test]
fn e2e_letterbox_answers_name_the_problem() {
    let f = Fixture::new();
    let valid = f.match_request("named");
    for (what, body, _) in bodies(&valid) {
        let r = f.post(&body);
        let description = r.json()["description"].as_str().unwrap_or_default().to_string();
        match what {
            "oversized" => assert_eq!(r.json()["errorCode"], "9017", "{}", r.text()),
            "duplicate key" => assert!(description.contains("duplicate key"), "{description}"),
            "deeply nested" | "deeply nested object" => assert!(description.contains("recursion limit"), "{description}"),
            _ => assert!(description.starts_with("Schema validation failed in the Request: "), "{what}: {}", r.text()),
        }
    }
}
