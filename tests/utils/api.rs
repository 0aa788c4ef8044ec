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

/// Two participants of their own (a sender with a client, a recipient whose letterbox is a
/// [`Receiver`] reached with OAuth2), so tests sharing one hub never see each other's mail.
pub struct Fixture {
    pub hub: &'static Hub,
    pub sender: String,
    pub recipient: String,
    pub receiver: Receiver,
    pub client_id: String,
    pub client_secret: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let hub = crate::hub();
        let receiver = Receiver::start();
        let (sender, recipient) = (unique_rcpid(), unique_rcpid());
        for id in [&sender, &recipient] {
            let entry = json!({ "name": format!("Test {id}"), "processSupport": [{ "process": "OTS", "status": "ACTIVE" }] });
            assert_eq!(hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}"), &entry).status, 200);
        }
        let endpoint = json!({
            "url": receiver.url("/letterbox/v2/post"),
            "auth": { "type": "oauth2", "tokenUrl": receiver.url("/oauth2/token"), "clientId": HUB_CLIENT_ID, "clientSecret": HUB_CLIENT_SECRET }
        });
        let r = hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{recipient}/endpoint"), &endpoint);
        assert_eq!(r.status, 200, "endpoint: {}", r.text());
        let client = hub.admin(
            "POST",
            "/admin/v1/clients",
            &json!({
                "identities": [{ "listType": "RCPID", "id": sender }],
                "networks": ["127.0.0.0/8", "::1/128"],
                "routingIDs": ["residentialSwitchMatchRequest", "residentialSwitchMatchConfirmation"]
            }),
        );
        assert_eq!(client.status, 201, "client: {}", client.text());
        let c = client.json();
        Fixture {
            hub,
            sender,
            recipient,
            receiver,
            client_id: c["client_id"].as_str().unwrap().into(),
            client_secret: c["client_secret"].as_str().unwrap().into(),
        }
    }

    pub fn token(&self) -> String {
        self.hub.token(&self.client_id, &self.client_secret)
    }

    /// A valid v2 match request from the sender to the recipient.
    pub fn match_request(&self, correlation_id: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "envelope": {
                "source": { "type": "RCPID", "identity": self.sender, "correlationID": correlation_id },
                "destination": { "type": "RCPID", "identity": self.recipient },
                "routingID": "residentialSwitchMatchRequest",
                "auditData": [{ "name": "test", "value": "slice" }]
            },
            "residentialSwitchMatchRequest": { "name": "Jo Bloggs", "account": "12345" }
        }))
        .unwrap()
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}
