//! The DIP as participants meet it in the suites: the catalogue imported from Elexon's
//! OpenAPI and loaded into the hub, a test CA the hub trusts, participants with API keys and
//! signing certificates, channel configuration, and signed calls.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use dip_pki::{Ca, Leaf};
use serde_json::{json, Value};
use switchyard_core::dip::catalogue::Catalogue;

use crate::api::{call, unique_dip_id, Resp};
use crate::hub::{hub, root, Hub};

/// Where Elexon's DIP OpenAPI is: `SWITCHYARD_DIP_SPEC`, else `../shared/specs/dip-api` beside
/// the repository (CI has it there).
pub fn spec_dir() -> PathBuf {
    std::env::var_os("SWITCHYARD_DIP_SPEC").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/specs/dip-api"))
}

/// The catalogue, imported once per test binary (a missing spec fails the test).
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let dir = spec_dir();
        dip_catalogue::import(&dir).unwrap_or_else(|e| panic!("importing the DIP OpenAPI from {}: {e}", dir.display()))
    })
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Test-only keys (shared/tests/fixtures/dip/README.md).
pub fn fixture_key(name: &str) -> String {
    std::fs::read_to_string(root().join(format!("shared/tests/fixtures/dip/{name}.key.pem"))).expect("DIP test key")
}

/// A DIP participant of the suite: its id, roles, API key and signing certificate.
pub struct Party {
    pub id: String,
    pub roles: Vec<String>,
    pub api_key: String,
    pub key_pem: String,
    pub certificate_pem: String,
}

pub struct Dip {
    pub ca: Ca,
    /// A data service (SDS) sending on IF-021, with a DCP.
    pub sds: Party,
    /// Its DIP connection provider.
    pub dcp: Party,
    /// The LDSO every IF-021 message also goes to.
    pub ldso: Party,
    /// A supplier (SUP).
    pub sup: Party,
}

/// The suite's CA: participants' certificates and the hub's own come from it.
pub fn suite_ca() -> Ca {
    Ca::new("CN=Switchyard test CA,O=Switchyard tests,C=GB", &fixture_key("ca"), now_ms())
}

/// The suite's DIP setup on the shared hub, made once.
pub fn dip() -> &'static Dip {
    static DIP: OnceLock<Dip> = OnceLock::new();
    DIP.get_or_init(|| {
        let h = hub();
        let catalogue = serde_json::to_vec(catalogue()).unwrap();
        let auth = format!("Bearer {}", h.admin_token);
        let r = call("PUT", &h.url("/admin/v1/dip/catalogue"), &[("authorization", &auth)], &catalogue);
        assert_eq!(r.status, 200, "loading the DIP catalogue failed: {}", r.text());
        // The demo's DIP seed applies on top (make dev applies it the same way).
        let seed = std::fs::read(root().join("infra/seed/demo-dip.json")).expect("infra/seed/demo-dip.json");
        let r = call("POST", &h.url("/admin/v1/apply"), &[("authorization", &auth)], &seed);
        assert_eq!(r.status, 200, "applying infra/seed/demo-dip.json failed: {}", r.text());
        let ca = suite_ca();
        let anchor = format!("/admin/v1/dip/trust-anchors/suite-{}", unique_dip_id());
        assert_eq!(h.admin("PUT", &anchor, &json!({ "certificatePem": ca.certificate_pem })).status, 200);

        let dcp = party(h, &ca, &[], None);
        let sds = party(h, &ca, &["SDS"], Some(&dcp.id));
        let ldso = party(h, &ca, &["LDSO"], None);
        let sup = party(h, &ca, &["SUP"], None);
        let config = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "DIPIDs": [ldso.id] } } });
        assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-021", &config).status, 200);
        Dip { ca, sds, dcp, ldso, sup }
    })
}

/// Registers a participant with a primary key and a certificate from `ca`.
pub fn party(h: &Hub, ca: &Ca, roles: &[&str], dcp: Option<&str>) -> Party {
    let id = unique_dip_id();
    let r = h.admin("PUT", &format!("/admin/v1/dip/participants/{id}"), &json!({ "name": format!("Party {id}"), "roles": roles, "DIPConnectionProviderID": dcp }));
    assert_eq!(r.status, 200, "{}", r.text());
    let key = h.admin("POST", &format!("/admin/v1/dip/participants/{id}/keys/primary"), &Value::Null);
    assert_eq!(key.status, 201);
    let key_pem = fixture_key("party");
    let certificate_pem = ca.issue(&key_pem, &Leaf::for_party(&id, now_ms()));
    Party { api_key: key.json()["key"].as_str().unwrap().into(), id, roles: roles.iter().map(|r| r.to_string()).collect(), key_pem, certificate_pem }
}

impl Dip {
    /// `POST path` as `party` sends it: its API key and a fresh signature.
    pub fn post(&self, party: &Party, path: &str, body: &[u8]) -> Resp {
        self.post_signed_with(party, &party.certificate_pem, path, body)
    }

    pub fn post_signed_with(&self, party: &Party, certificate_pem: &str, path: &str, body: &[u8]) -> Resp {
        post_signed(hub(), party, certificate_pem, path, body)
    }
}

/// `POST path` to hub `h` as `party` sends it: its API key and a fresh signature.
pub fn post_to(h: &Hub, party: &Party, path: &str, body: &[u8]) -> Resp {
    post_signed(h, party, &party.certificate_pem, path, body)
}

fn post_signed(h: &Hub, party: &Party, certificate_pem: &str, path: &str, body: &[u8]) -> Resp {
    let url = h.url(path);
    let signed = dip_pki::sign(&party.key_pem, certificate_pem, "POST", &url, body, now_ms());
    let mut headers: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    headers.push(("x-api-key", &party.api_key));
    headers.push(("content-type", "application/json"));
    call("POST", &url, &headers, body)
}

/// A valid message of (channel, event) from `sender` in `role`, generated from the catalogue's
/// schema, with a fresh senderUniqueReference.
pub fn message(channel: &str, event: &str, sender: &str, role: &str) -> Value {
    let schema = &catalogue().event(channel, event).unwrap_or_else(|| panic!("{channel}/{event} is not in the catalogue")).schema;
    let mut m = dip_catalogue::generate::instance(schema).unwrap_or_else(|e| panic!("generating {channel}/{event}: {e}"));
    let set = |m: &mut Value, field: &str, v: Value| dip_catalogue::generate::set(m, &format!("/CommonBlock/S1/{field}"), v).unwrap();
    set(&mut m, "environmentTag", json!("DEV"));
    set(&mut m, "senderDIPID", json!(sender));
    set(&mut m, "senderRoleID", json!(role));
    set(&mut m, "DIPConnectionProviderID", Value::Null);
    set(&mut m, "senderCorrelationID", Value::Null);
    set(&mut m, "senderTimestamp", json!(switchyard_core::common::time::dt003(now_ms())));
    set(&mut m, "senderUniqueReference", json!(unique_reference(channel, sender, role)));
    m
}

/// DT-995's shape. Its pattern takes `IF-`/`REP-` and digits only, so a report channel with a
/// letter (`REP-002A`) is written without it.
pub fn unique_reference(channel: &str, sender: &str, role: &str) -> String {
    let channel = channel.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    format!("S-{channel}-{sender}-{role}-{}-{}", switchyard_core::common::time::compact_date(now_ms()), unique_dip_id())
}

/// `[{"payload": m}, ...]`.
pub fn batch(messages: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&messages.iter().map(|m| json!({ "payload": m })).collect::<Vec<_>>()).unwrap()
}

/// The items of a webhook call (a JSON array: DIPMessageEgressArray or StandardResponseArray).
pub fn items(arrival: &crate::receiver::Arrival) -> Vec<Value> {
    match arrival.json() {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// The transaction an item is about: a publication's `D0.transactionID`, a status item's own.
pub fn transaction_of(item: &Value) -> Option<&str> {
    item.pointer("/payload/CommonBlock/D0/transactionID").or_else(|| item.get("transactionID")).and_then(Value::as_str)
}

/// The item about `tx` in a webhook call, if it carries one.
pub fn item_about(arrival: &crate::receiver::Arrival, tx: &str) -> Option<Value> {
    items(arrival).into_iter().find(|i| transaction_of(i) == Some(tx))
}

/// Checks a call the hub made, knowing only the hub's certificate (`certificate_pem`, from
/// `GET /admin/v1/dip/signing-certificate`): the certificate header is that certificate, the
/// content hash is the body's, and the signature over `VERB;url;date;contentHash` (the
/// callback URL as registered, lower-cased) verifies under its key. RustCrypto directly, so
/// neither the hub's verifier nor the suite's PKI helper is trusted to check itself.
pub fn verify_hub_call(certificate_pem: &str, url: &str, arrival: &crate::receiver::Arrival) -> Result<(), String> {
    use base64::Engine;
    use der::{DecodePem, Encode};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use sha2::{Digest, Sha256};
    let b64 = base64::engine::general_purpose::STANDARD;
    let header = |name: &str| arrival.header(name).ok_or(format!("{name} is missing"));
    let certificate = x509_cert::Certificate::from_pem(certificate_pem.as_bytes()).map_err(|e| format!("hub certificate: {e}"))?;
    let carried = b64.decode(header("x-dip-signature-certificate")?).map_err(|e| e.to_string())?;
    let carried_der = match x509_cert::Certificate::from_pem(&carried) {
        Ok(c) => c.to_der().map_err(|e| e.to_string())?,
        Err(_) => carried,
    };
    if carried_der != certificate.to_der().map_err(|e| e.to_string())? {
        return Err("X-DIP-Signature-Certificate is not the hub's certificate".into());
    }
    let hash = b64.encode(Sha256::digest(if arrival.body.is_empty() { b"{}".as_slice() } else { &arrival.body }));
    if header("x-dip-content-hash")? != hash {
        return Err("X-DIP-Content-Hash is not the body's".into());
    }
    let signed = format!("{};{};{};{}", arrival.method.to_ascii_uppercase(), url.to_ascii_lowercase(), header("x-dip-signature-date")?, hash);
    let spki = certificate.tbs_certificate.subject_public_key_info.to_der().map_err(|e| e.to_string())?;
    let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|e| format!("hub key: {e}"))?;
    let signature = Signature::try_from(b64.decode(header("x-dip-signature")?).map_err(|e| e.to_string())?.as_slice()).map_err(|e| e.to_string())?;
    VerifyingKey::<Sha256>::new(key).verify(signed.as_bytes(), &signature).map_err(|_| "X-DIP-Signature does not verify under the hub's certificate".to_string())?;
    Ok(())
}

/// The hub's signing certificate, as participants fetch it.
pub fn hub_certificate(h: &Hub) -> String {
    let r = h.admin("GET", "/admin/v1/dip/signing-certificate", &Value::Null);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["certificatePem"].as_str().expect("certificatePem").to_string()
}

/// The first event code of `channel` in the catalogue.
pub fn first_event(channel: &str) -> String {
    catalogue().channel(channel).unwrap_or_else(|| panic!("{channel} is not in the catalogue")).events.keys().next().expect("an event").clone()
}
