//! `POST /dip-channel/{id}` and `POST /validate/{IF}/{Event}` as participants meet them: API
//! keys and signatures first, then L1 (DSD002 9.2 and the DIP contract's codes).

use serde_json::{json, Value};
use switchyard_tests::dip::{batch, dip, message};

const CHANNEL: &str = "IF-021";
const EVENT: &str = "ActivePower";

fn items(r: &switchyard_tests::Resp) -> Vec<Value> {
    r.json()["messageArray"].as_array().cloned().unwrap_or_default()
}

fn messages_of(r: &switchyard_tests::Resp) -> Vec<String> {
    items(r).iter().map(|i| i["message"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn e2e_dip_signed_batches_are_created() {
    let d = dip();
    for n in [1, 10] {
        let msgs: Vec<Value> = (0..n).map(|_| message(CHANNEL, EVENT, &d.sds.id, "SDS")).collect();
        let r = d.post(&d.sds, "/dip-channel/IF-021", &batch(&msgs));
        assert_eq!(r.status, 201, "{}", r.text());
        let body = r.json();
        assert_eq!(body["timestamp"].as_str().unwrap().len(), 25, "DT-003");
        let items = items(&r);
        assert_eq!(items.len(), n);
        for (item, m) in items.iter().zip(&msgs) {
            assert_eq!(item["message"], "MSG0000 - Success");
            assert_eq!(item["senderUniqueReference"], m["CommonBlock"]["S1"]["senderUniqueReference"]);
            assert_eq!(item["recipientID"], json!(d.sds.id));
            assert_eq!(item["senderID"], "0000000000");
            let tx = item["transactionID"].as_str().unwrap();
            assert!(tx.starts_with(&format!("T-IF-021-{}-SDS-", d.sds.id)) && tx.len() <= 65, "{tx}");
            for field in ["correlationID", "DIPConnectionProviderID", "help", "serviceTicketURL"] {
                assert!(item.get(field).is_some(), "{field} is present, null when empty");
            }
        }
    }
}

#[test]
fn e2e_dip_keys_and_signatures_come_first() {
    let d = dip();
    let body = batch(&[message(CHANNEL, EVENT, &d.sds.id, "SDS")]);
    let url = switchyard_tests::hub().url("/dip-channel/IF-021");
    let r = switchyard_tests::api::call("POST", &url, &[("content-type", "application/json")], &body);
    assert_eq!(r.status, 401, "no X-API-Key");
    let r = switchyard_tests::api::call("POST", &url, &[("x-api-key", "dip.1000000001.primary.nope")], &body);
    assert_eq!(r.status, 401, "unknown key");
    let r = switchyard_tests::api::call("POST", &url, &[("x-api-key", &d.sds.api_key)], &body);
    assert_eq!(r.status, 401, "no signature");
    // Another party's certificate.
    let r = d.post_signed_with(&d.sds, &d.ldso.certificate_pem, "/dip-channel/IF-021", &body);
    assert_eq!(r.status, 401);
    let r = d.post(&d.sds, "/dip-channel/IF-999", &body);
    assert_eq!(r.status, 404, "a channel outside the catalogue");
}

#[test]
fn e2e_dip_one_schema_failure_rejects_the_batch() {
    let d = dip();
    let good = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    let mut bad = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    bad["CommonBlock"]["S1"]["environmentTag"] = json!("dev");
    let r = d.post(&d.sds, "/dip-channel/IF-021", &batch(&[good.clone(), bad]));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(messages_of(&r), ["MSG1001 - Schema Failure", "MSG1001 - Schema Failure"]);
    for body in [&b"[]"[..], b"{}", br#"[{"notPayload":1}]"#, b"not json"] {
        let r = d.post(&d.sds, "/dip-channel/IF-021", body);
        assert_eq!((r.status, messages_of(&r)), (400, vec!["MSG1001 - Schema Failure".to_string()]), "{}", String::from_utf8_lossy(body));
    }
    // Mutations of one valid message, each its own batch.
    let mutated = |f: &dyn Fn(&mut Value)| {
        let mut m = message(CHANNEL, EVENT, &d.sds.id, "SDS");
        f(&mut m);
        d.post(&d.sds, "/dip-channel/IF-021", &batch(&[m]))
    };
    let cases: [(&str, &dyn Fn(&mut Value)); 5] = [
        ("missing block", &|m| { m.as_object_mut().unwrap().remove("CustomBlock"); }),
        ("missing M0", &|m| { m["CommonBlock"].as_object_mut().unwrap().remove("M0"); }),
        ("bad MPAN", &|m| m["CommonBlock"]["M0"]["MPANCore"] = json!("12345")),
        ("non-ASCII digits in the MPAN", &|m| m["CommonBlock"]["M0"]["MPANCore"] = json!("١٢٣٤٥٦٧٨٩٠١٢٣")),
        ("wrong enum case", &|m| m["CommonBlock"]["S0"]["interfaceID"] = json!("if-021")),
    ];
    for (what, f) in cases {
        let r = mutated(f);
        assert_eq!((r.status, messages_of(&r)), (400, vec!["MSG1001 - Schema Failure".to_string()]), "{what}");
    }
    // A valid tag of another environment is not this instance's.
    let mut other = good.clone();
    other["CommonBlock"]["S1"]["environmentTag"] = json!("PRD");
    assert_eq!(d.post(&d.sds, "/dip-channel/IF-021", &batch(&[other])).status, 400);
    // The good message alone is fine: nothing of it was kept.
    assert_eq!(d.post(&d.sds, "/dip-channel/IF-021", &batch(&[good])).status, 201);
}

#[test]
fn e2e_dip_each_message_stands_alone_after_its_schema() {
    let d = dip();
    let ok = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    let duplicate = ok.clone();
    let mut bad_time = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    bad_time["CommonBlock"]["S1"]["senderTimestamp"] = json!("2026-13-45T99:00:00+00:00");
    let mut wrong_role = message(CHANNEL, EVENT, &d.sds.id, "SUP");
    wrong_role["CommonBlock"]["S1"]["senderRoleID"] = json!("SUP");
    let mut wrong_dcp = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    wrong_dcp["CommonBlock"]["S1"]["DIPConnectionProviderID"] = json!(d.ldso.id);
    let mut own_dcp = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    own_dcp["CommonBlock"]["S1"]["DIPConnectionProviderID"] = json!(d.dcp.id);
    let not_owner = message(CHANNEL, EVENT, &d.ldso.id, "SDS");
    let r = d.post(&d.sds, "/dip-channel/IF-021", &batch(&[ok, duplicate, bad_time, wrong_role, wrong_dcp, own_dcp, not_owner]));
    assert_eq!(r.status, 207, "{}", r.text());
    assert_eq!(
        messages_of(&r),
        [
            "MSG0000 - Success",
            "MSG1006 - Sender Unique Reference Duplicated",
            "MSG1007 - Sender Timestamp Invalid",
            "MSG1010 - Sender Role Invalid",
            "MSG1011 - Connection Provider ID Invalid",
            "MSG0000 - Success",
            "MSG1009 - Sender DIP ID Invalid",
        ]
    );
    let items = items(&r);
    assert!(items[1]["transactionID"].is_null() && items[0]["transactionID"].is_string());
    assert_eq!(items[2]["sentTimestamp"].as_str().unwrap().len(), 25, "the hub's time where the sender's is not a date");
}

#[test]
fn e2e_dip_validate_checks_without_sending() {
    let d = dip();
    let m = message(CHANNEL, EVENT, &d.sds.id, "SDS");
    let r = d.post(&d.sds, "/validate/IF-021/ActivePower", &batch(&[m.clone()]));
    assert_eq!((r.status, r.json()), (201, json!("MSG0000 - Success")));
    // Validating does not claim the senderUniqueReference.
    assert_eq!(d.post(&d.sds, "/dip-channel/IF-021", &batch(&[m.clone()])).status, 201);
    let mut bad = m;
    bad["CommonBlock"]["S0"]["eventCode"] = json!("[activepower]");
    let r = d.post(&d.sds, "/validate/IF-021/ActivePower", &batch(&[bad]));
    assert_eq!(r.status, 400);
    assert!(r.json().as_str().unwrap().starts_with("MSG1001 - Schema Failure: "), "{}", r.text());
    assert_eq!(d.post(&d.sds, "/validate/IF-021/NoSuchEvent", b"[]").status, 404);
}

/// Elexon's own 11 example messages fail their schemas (tools/dip-catalogue/EXAMPLES.md says
/// why, one by one): the hub answers each batch 400, every message MSG1001.
#[test]
fn e2e_dip_elexon_examples_are_schema_failures() {
    let d = dip();
    let mut spec = dip_catalogue::spec::Spec::open(&switchyard_tests::dip::spec_dir()).expect("the DIP OpenAPI");
    let yaml = spec.load(dip_catalogue::spec::EXAMPLES).expect("Examples-unresolved.yaml").clone();
    let examples = yaml["components"]["examples"].as_object().expect("components.examples");
    assert_eq!(examples.len(), 11);
    for (name, example) in examples {
        let value = &example["value"];
        let messages: Vec<Value> = match value {
            Value::Array(items) => items.iter().map(|m| m["payload"].clone()).collect(),
            one => vec![one["payload"].clone()],
        };
        let channel = if name.starts_with("REP") { &name[..7] } else { &name[..6] };
        let r = d.post(&d.sds, &format!("/dip-channel/{channel}"), &batch(&messages));
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert!(messages_of(&r).iter().all(|m| m == "MSG1001 - Schema Failure"), "{name}: {}", r.text());
    }
}

/// A message generated from each (channel, event) schema of the catalogue validates.
#[test]
fn e2e_dip_every_catalogue_event_validates() {
    let d = dip();
    let catalogue = switchyard_tests::dip::catalogue();
    let mut checked = 0;
    for (channel, c) in &catalogue.channels {
        for event in c.events.keys() {
            let m = message(channel, event, &d.sds.id, "SDS");
            let r = d.post(&d.sds, &format!("/validate/{channel}/{event}"), &batch(&[m]));
            assert_eq!(r.status, 201, "{channel}/{event}: {}", r.text());
            checked += 1;
        }
    }
    assert!(checked >= 146, "{checked} events");
}

/// Channels with `workflowCorrelationID: true` give each message without a
/// senderCorrelationID one of the hub's (8.12.4); a sender's own is kept.
#[test]
fn e2e_dip_workflow_correlation_ids() {
    let d = dip();
    let h = switchyard_tests::hub();
    let config = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "DIPIDs": [d.ldso.id] } }, "workflowCorrelationID": true });
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-023", &config).status, 200);
    let plain = message("IF-023", "LSSTotalsData", &d.sds.id, "SDS");
    let mut own = message("IF-023", "LSSTotalsData", &d.sds.id, "SDS");
    own["CommonBlock"]["S1"]["senderCorrelationID"] = json!("CI-sender-0001");
    let r = d.post(&d.sds, "/dip-channel/IF-023", &batch(&[plain, own]));
    assert_eq!(r.status, 201, "{}", r.text());
    let made = items(&r)[0]["correlationID"].as_str().unwrap().to_string();
    assert!(made.starts_with("CI-") && made.len() <= 60, "{made}");
    assert_eq!(items(&r)[1]["correlationID"], "CI-sender-0001");
}

/// 7.9: a compressed report (its Custom Block GZIPped and BASE64ed into `P03`) validates in its
/// compressed form, and the hub carries it untouched.
#[test]
fn e2e_dip_compressed_reports_pass_through() {
    let d = dip();
    let report = json!({ "lines": (0..200).map(|i| json!({ "MPAN": format!("19000000{i:05}"), "kWh": "1.5" })).collect::<Vec<_>>() });
    let mut m = message("REP-002", "DUOSSupplierAggData", &d.sds.id, "SDS");
    m["CustomBlock"] = switchyard_core::dip::compression::compress(&report).unwrap();
    let r = d.post(&d.sds, "/validate/REP-002/DUOSSupplierAggData", &batch(&[m.clone()]));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(switchyard_core::dip::compression::decompress(&m["CustomBlock"]).unwrap(), report);
}
