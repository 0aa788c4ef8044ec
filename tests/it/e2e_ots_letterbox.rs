//! Every row of TOTSCo API v2.0 §2.1.8.1: the synchronous answers of the letterbox, in the
//! order the hub validates (security, size, structure, contents, authorisation, status).

use serde_json::json;
use switchyard_tests::api::{call, client, letter, participant, unique_rcpid, MATCH_CONFIRMATION, MATCH_REQUEST};
use switchyard_tests::{hub, Fixture};

fn fault(code: &str, text: &str) -> serde_json::Value {
    json!({ "errorCode": code, "errorText": text })
}

#[test]
fn e2e_9017_message_over_256000_bytes_on_v2() {
    let f = Fixture::new();
    let mut big = f.match_request("big");
    big.truncate(big.len() - 2); // drop the closing braces, pad inside the body object
    big.extend_from_slice(format!(",\"pad\":\"{}\"}}}}", "x".repeat(256_001)).as_bytes());
    let r = f.post(&big);
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), fault("9017", "Request message size limit is exceeded. Maximum allowed bytes are 256000."));
    // v1 answers the generic 400 (v2.0 change log, item 9).
    let r = f.hub.post_letter("v1", &f.token(), &big);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "400");
}

#[test]
fn e2e_exactly_256000_bytes_is_accepted() {
    let f = Fixture::new();
    let mut body = f.match_request("edge");
    let pad = 256_000 - body.len() - ",\"pad\":\"\"".len();
    body.truncate(body.len() - 2);
    body.extend_from_slice(format!(",\"pad\":\"{}\"}}}}", "y".repeat(pad)).as_bytes());
    assert_eq!(body.len(), 256_000);
    assert_eq!(f.post(&body).status, 202);
}

#[test]
fn e2e_400_schema_failures_name_the_missing_property() {
    let f = Fixture::new();
    let cases = [
        (json!({}), "[Path '/'] Object has missing required properties ([\"envelope\"])"),
        (json!({ "envelope": { "source": { "type": "RCPID", "identity": f.sender }, "destination": { "type": "RCPID", "identity": f.recipient }, "routingID": MATCH_REQUEST }, MATCH_REQUEST: {} }),
            "[Path '/envelope/source'] Object has missing required properties ([\"correlationID\"])"),
        (json!({ "envelope": { "source": { "type": "RCPID", "identity": f.sender, "correlationID": "c" }, "routingID": MATCH_REQUEST }, MATCH_REQUEST: {} }),
            "[Path '/envelope'] Object has missing required properties ([\"destination\"])"),
        (json!({ "envelope": { "source": { "type": "RCPID", "identity": f.sender, "correlationID": "c" }, "destination": { "type": "RCPID", "identity": f.recipient }, "routingID": MATCH_REQUEST } }),
            "[Path '/'] Object has missing required properties ([\"residentialSwitchMatchRequest\"])"),
    ];
    let token = f.token();
    for (body, detail) in cases {
        let r = f.hub.post_letter("v2", &token, &serde_json::to_vec(&body).unwrap());
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json(), json!({ "code": "400", "message": "Bad Request", "description": format!("Schema validation failed in the Request: {detail}") }));
    }
}

#[test]
fn e2e_correlation_id_over_256_characters_is_a_schema_failure() {
    let f = Fixture::new();
    let r = f.post(&letter(&f.sender, &f.recipient, MATCH_REQUEST, &"c".repeat(257), None));
    assert_eq!(r.status, 400);
    assert!(r.json()["description"].as_str().unwrap().contains("/envelope/source/correlationID"), "{}", r.text());
    assert_eq!(f.post(&letter(&f.sender, &f.recipient, MATCH_REQUEST, &"c".repeat(256), None)).status, 202);
}

#[test]
fn e2e_replies_need_the_destination_correlation_id() {
    let f = Fixture::new();
    let r = f.post(&letter(&f.sender, &f.recipient, MATCH_CONFIRMATION, "reply", None));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("/envelope/destination"), "{}", r.text());
    assert_eq!(f.post(&letter(&f.sender, &f.recipient, MATCH_CONFIRMATION, "reply", Some("orig"))).status, 202);
}

fn with_types(source_type: &str, dest_type: &str, source: &str, dest: &str, routing: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "envelope": {
            "source": { "type": source_type, "identity": source, "correlationID": "c" },
            "destination": { "type": dest_type, "identity": dest },
            "routingID": routing
        },
        routing: {}
    }))
    .unwrap()
}

#[test]
fn e2e_envelope_contents_9000_9001_9002_9003_9012_in_order() {
    let f = Fixture::new();
    let t = f.token();
    let post = |b: Vec<u8>| f.hub.post_letter("v2", &t, &b);
    // Everything wrong: the destination type is reported first.
    let r = post(with_types("NOPE", "NOPE", "ZZZZ", "ZZZZ", "noSuchRoutingRequest"));
    assert_eq!((r.status, r.json()), (400, fault("9000", "Unknown or invalid destination Type.")));
    let r = post(with_types("NOPE", "RCPID", "ZZZZ", "QQQQ", "noSuchRoutingRequest"));
    assert_eq!((r.status, r.json()), (400, fault("9001", "Unknown or invalid destination ID.")));
    let r = post(with_types("NOPE", "RCPID", "ZZZZ", &f.recipient, "noSuchRoutingRequest"));
    assert_eq!((r.status, r.json()), (400, fault("9002", "Unknown or invalid source Type.")));
    let r = post(with_types("RCPID", "RCPID", "QQQQ", &f.recipient, "noSuchRoutingRequest"));
    assert_eq!((r.status, r.json()), (400, fault("9003", "Unknown or invalid source ID.")));
    let r = post(with_types("RCPID", "RCPID", &f.sender, &f.recipient, "noSuchRoutingRequest"));
    assert_eq!((r.status, r.json()), (400, fault("9012", "Unknown or invalid routing ID.")));
}

#[test]
fn e2e_9004_source_not_bound_to_the_client() {
    let f = Fixture::new();
    let other = unique_rcpid();
    participant(f.hub, &other, &[("OTS", "ACTIVE")]);
    let r = f.post(&letter(&other, &f.recipient, MATCH_REQUEST, "c", None));
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), fault("9004", "Source type and ID not permitted from originating location."));
}

#[test]
fn e2e_9004_caller_outside_the_clients_networks() {
    let f = Fixture::new();
    let (id, secret) = client(f.hub, &json!({
        "identities": [{ "listType": "RCPID", "id": f.sender }],
        "networks": ["192.0.2.0/24"],
        "routingIDs": [MATCH_REQUEST]
    }));
    let r = f.hub.post_letter("v2", &f.hub.token(&id, &secret), &f.match_request("net"));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errorCode"], "9004");
}

#[test]
fn e2e_9010_routing_id_not_mapped_to_the_client() {
    let f = Fixture::with_routing(&[MATCH_REQUEST]);
    let r = f.post(&letter(&f.sender, &f.recipient, "residentialSwitchOrderRequest", "c", None));
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), fault("9010", "No routingID is mapped with Source RCP."));
}

#[test]
fn e2e_403_9003_source_and_403_9001_destination_status() {
    let f = Fixture::new();
    participant(f.hub, &f.sender, &[("OTS", "SUSPEND")]);
    let r = f.post(&f.match_request("suspended-source"));
    assert_eq!((r.status, r.json()), (403, fault("9003", "Source RCPID account status is not valid")));
    participant(f.hub, &f.sender, &[("OTS", "ACTIVE")]);
    participant(f.hub, &f.recipient, &[("GPLB", "ACTIVE")]); // no OTS support at all
    let r = f.post(&f.match_request("gplb-only-destination"));
    assert_eq!((r.status, r.json()), (403, fault("9001", "Destination RCPID account status is not valid.")));
}

#[test]
fn e2e_401_900901_900902_and_403_900908() {
    let h = hub();
    let r = call("POST", &h.url("/letterbox/v2/post"), &[], b"{}");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900902")));
    let r = h.post_letter("v2", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA", b"{}");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({ "code": "900901", "message": "Invalid Credentials", "description": "Invalid Credentials. Make sure you have provided the correct security credentials." })
    );
    // A client deleted while its token lives: no longer registered.
    let f = Fixture::new();
    let token = f.token();
    assert_eq!(h.admin("DELETE", &format!("/admin/v1/clients/{}", f.client_id), &serde_json::Value::Null).status, 204);
    let r = h.post_letter("v2", &token, &f.match_request("gone"));
    assert_eq!(r.status, 403);
    assert_eq!(r.json(), json!({ "code": "900908", "message": "Resource forbidden", "description": "Resource forbidden" }));
}

#[test]
fn e2e_405_for_other_methods_and_404_for_other_paths() {
    let f = Fixture::new();
    let auth = format!("Bearer {}", f.token());
    let r = call("GET", &f.hub.url("/letterbox/v2/post"), &[("authorization", &auth)], b"");
    assert_eq!(r.status, 405);
    assert_eq!(
        r.json(),
        json!({ "code": "405", "type": "Status report", "message": "Runtime Error", "description": "Method not allowed for given API resource" })
    );
    let r = call("POST", &f.hub.url("/letterbox/v2/posts"), &[("authorization", &auth)], b"{}");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "Runtime Error");
}

#[test]
fn e2e_429_900804_after_the_clients_quota() {
    let f = Fixture::new();
    let (id, secret) = client(f.hub, &json!({
        "identities": [{ "listType": "RCPID", "id": f.sender }],
        "routingIDs": [MATCH_REQUEST],
        "rateLimit": { "messagesPerMinute": 2 }
    }));
    let token = f.hub.token(&id, &secret);
    let statuses: Vec<u16> = (0..3).map(|i| f.hub.post_letter("v2", &token, &f.match_request(&format!("q{i}"))).status).collect();
    assert_eq!(statuses, [202, 202, 429]);
    let r = f.hub.post_letter("v2", &token, &f.match_request("q3"));
    let body = r.json();
    assert_eq!(body["code"], "900804");
    assert_eq!(body["message"], "Message throttled out");
    let next = body["nextAccessTime"].as_str().unwrap();
    assert!(next.ends_with("+0000 UTC") && next.len() == "2023-May-18 04:43:00+0000 UTC".len(), "{next}");
    assert_eq!(body["description"], format!("Hub exceeded the quota. You can access API after {next}"));
    // Another client of the same source has its own quota.
    assert_eq!(f.post(&f.match_request("other-client")).status, 202);
}

/// The gateway takes several places of a client's window per call to its rate limiter and
/// spends them itself. A quota larger than one such reservation still lets exactly the quota
/// through one after another; a concurrent burst is never let through beyond it.
#[test]
fn e2e_429_exactly_after_a_quota_larger_than_one_reservation() {
    let f = Fixture::new();
    let quota = 2 * switchyard_core::common::ratelimit::PLACES_PER_RESERVATION + 3;
    let limited = |f: &Fixture| {
        let (id, secret) = client(f.hub, &json!({
            "identities": [{ "listType": "RCPID", "id": f.sender }],
            "routingIDs": [MATCH_REQUEST],
            "rateLimit": { "messagesPerMinute": quota }
        }));
        f.hub.token(&id, &secret)
    };
    let token = limited(&f);
    let statuses: Vec<u16> = (0..quota + 2).map(|i| f.hub.post_letter("v2", &token, &f.match_request(&format!("s{i}"))).status).collect();
    let expected: Vec<u16> = std::iter::repeat_n(202, quota as usize).chain([429, 429]).collect();
    assert_eq!(statuses, expected);

    let token = limited(&f);
    let burst: Vec<u16> = std::thread::scope(|s| {
        let posts: Vec<_> = (0..quota + 5)
            .map(|i| {
                let (f, token) = (&f, &token);
                s.spawn(move || f.hub.post_letter("v2", token, &f.match_request(&format!("b{i}"))).status)
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert!(burst.iter().all(|s| *s == 202 || *s == 429), "{burst:?}");
    let accepted = burst.iter().filter(|s| **s == 202).count();
    assert!(accepted <= quota as usize && accepted > 0, "{accepted} of a burst let through with a quota of {quota}: {burst:?}");
}
