//! The hub's API as participants and the operator call it.

use std::io::Read;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

use crate::hub::Hub;
use crate::receiver::{Receiver, HUB_CLIENT_ID, HUB_CLIENT_SECRET};

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP exchange; any status is a response, transport failures panic.
pub fn call(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut req = ureq::request(method, url).timeout(std::time::Duration::from_secs(30));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = if body.is_empty() && matches!(method, "GET" | "DELETE") { req.call() } else { req.send_bytes(body) };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let headers = resp.headers_names().into_iter().filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string()))).collect();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).expect("read body");
    Resp { status, headers, body }
}

impl Hub {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn admin(&self, method: &str, path: &str, body: &Value) -> Resp {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(body).unwrap() };
        let auth = format!("Bearer {}", self.admin_token);
        call(method, &self.url(path), &[("authorization", &auth), ("content-type", "application/json")], &bytes)
    }

    /// An admin call with a body that is not one JSON document (NDJSON loads).
    pub fn admin_bytes(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let auth = format!("Bearer {}", self.admin_token);
        call(method, &self.url(path), &[("authorization", &auth), ("content-type", content_type)], body)
    }

    /// An access token for a client, by the client-credentials grant.
    pub fn token(&self, client_id: &str, client_secret: &str) -> String {
        let form = format!("grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}");
        let r = call("POST", &self.url("/oauth2/token"), &[("content-type", "application/x-www-form-urlencoded")], form.as_bytes());
        assert_eq!(r.status, 200, "token: {}", r.text());
        r.json()["access_token"].as_str().expect("access_token").to_string()
    }

    pub fn post_letter(&self, version: &str, token: &str, body: &[u8]) -> Resp {
        let auth = format!("Bearer {token}");
        call("POST", &self.url(&format!("/letterbox/{version}/post")), &[("authorization", &auth), ("content-type", "application/json")], body)
    }
}

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A fresh RCPID for this test run: four consonants, unique within the process.
pub fn unique_rcpid() -> String {
    const C: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let seed = std::process::id().wrapping_mul(7919) ^ (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() & 0xff);
    let mut n = seed.wrapping_add(NEXT_ID.fetch_add(1, Ordering::SeqCst) * 104_729) % (20 * 20 * 20 * 20);
    let mut s = String::new();
    for _ in 0..4 {
        s.push(C[(n % 20) as usize] as char);
        n /= 20;
    }
    s
}

/// Two participants of their own, each with a [`Receiver`] as its letterbox (reached with
/// OAuth2 client credentials), and a client that sends for the first. Tests sharing one hub
/// never see each other's mail.
pub struct Fixture {
    pub hub: &'static Hub,
    pub sender: String,
    pub recipient: String,
    /// The sender's letterbox: failure notifications arrive here.
    pub sender_box: Receiver,
    /// The recipient's letterbox.
    pub receiver: Receiver,
    pub client_id: String,
    pub client_secret: String,
}

pub const MATCH_REQUEST: &str = "residentialSwitchMatchRequest";
pub const MATCH_CONFIRMATION: &str = "residentialSwitchMatchConfirmation";

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_routing(&[MATCH_REQUEST, MATCH_CONFIRMATION])
    }

    /// A fixture whose client may use `routing_ids`.
    pub fn with_routing(routing_ids: &[&str]) -> Fixture {
        let hub = crate::hub();
        let (sender_box, receiver) = (Receiver::start(), Receiver::start());
        let (sender, recipient) = (unique_rcpid(), unique_rcpid());
        for (id, rx) in [(&sender, &sender_box), (&recipient, &receiver)] {
            participant(hub, id, &[("OTS", "ACTIVE")]);
            oauth2_endpoint(hub, id, rx);
        }
        let (client_id, client_secret) = client(hub, &json!({
            "identities": [{ "listType": "RCPID", "id": sender }],
            "networks": ["127.0.0.0/8", "::1/128"],
            "routingIDs": routing_ids
        }));
        Fixture { hub, sender, recipient, sender_box, receiver, client_id, client_secret }
    }

    pub fn token(&self) -> String {
        self.hub.token(&self.client_id, &self.client_secret)
    }

    /// A valid v2 match request from the sender to the recipient.
    pub fn match_request(&self, correlation_id: &str) -> Vec<u8> {
        letter(&self.sender, &self.recipient, MATCH_REQUEST, correlation_id, None)
    }

    /// Posts a letter with a fresh token and returns the answer.
    pub fn post(&self, body: &[u8]) -> Resp {
        self.hub.post_letter("v2", &self.token(), body)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// A v2 letter: envelope plus a body keyed by the routing ID.
pub fn letter(from: &str, to: &str, routing_id: &str, correlation_id: &str, reply_to: Option<&str>) -> Vec<u8> {
    let mut destination = json!({ "type": "RCPID", "identity": to });
    if let Some(c) = reply_to {
        destination["correlationID"] = json!(c);
    }
    serde_json::to_vec(&json!({
        "envelope": {
            "source": { "type": "RCPID", "identity": from, "correlationID": correlation_id },
            "destination": destination,
            "routingID": routing_id,
            "auditData": [{ "name": "test", "value": "switchyard" }]
        },
        routing_id: { "detail": "test message" }
    }))
    .unwrap()
}

/// Creates or replaces a participant with `(process, status)` pairs.
pub fn participant(hub: &Hub, id: &str, processes: &[(&str, &str)]) {
    let support: Vec<Value> = processes.iter().map(|(p, s)| json!({ "process": p, "status": s })).collect();
    let entry = json!({ "name": format!("Test {id}"), "processSupport": support });
    let r = hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}"), &entry);
    assert_eq!(r.status, 200, "participant: {}", r.text());
}

/// Registers `rx` as `id`'s letterbox, reached with OAuth2 against `rx`'s token endpoint.
pub fn oauth2_endpoint(hub: &Hub, id: &str, rx: &Receiver) {
    let endpoint = json!({
        "url": rx.url("/letterbox/v2/post"),
        "auth": { "type": "oauth2", "tokenUrl": rx.url("/oauth2/token"), "clientId": HUB_CLIENT_ID, "clientSecret": HUB_CLIENT_SECRET }
    });
    let r = hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}/endpoint"), &endpoint);
    assert_eq!(r.status, 200, "endpoint: {}", r.text());
}

/// Creates a client; returns (client_id, client_secret).
pub fn client(hub: &Hub, grant: &Value) -> (String, String) {
    let r = hub.admin("POST", "/admin/v1/clients", grant);
    assert_eq!(r.status, 201, "client: {}", r.text());
    let c = r.json();
    (c["client_id"].as_str().unwrap().into(), c["client_secret"].as_str().unwrap().into())
}

/// A routing ID of the test's own, with a short delivery policy.
pub fn short_routing_id(hub: &Hub, suffix: &str, timeout_seconds: u32) -> String {
    let rid = format!("test{}{}{suffix}", unique_rcpid(), unique_rcpid());
    let policy = json!({ "process": "OTS", "deliveryPolicy": { "timeoutSeconds": timeout_seconds, "initialBackoffSeconds": 1, "maxBackoffSeconds": 1 } });
    let r = hub.admin("PUT", &format!("/admin/v1/routing-ids/{rid}"), &policy);
    assert_eq!(r.status, 200, "routing ID: {}", r.text());
    rid
}

/// A fresh DIP ID (DT-006, 10 digits) for this test run, unique within the process.
pub fn unique_dip_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let n = (u64::from(std::process::id()) * 1_000_003 + u64::from(nanos) + u64::from(NEXT_ID.fetch_add(1, Ordering::SeqCst)) * 7_919) % 1_000_000_000;
    format!("9{n:09}")
}
