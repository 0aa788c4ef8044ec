//! 8.9.2 and 7.16: a message not delivered within its channel's days (14 unless configured)
//! moves to the dead-letter store, is reported to its sender's status webhook and raises the
//! operator's alarm. The clock is a port: the test runs a hub of its own, stops it, and starts
//! it again on the same state with its clock moved on (SWITCHYARD_CLOCK_OFFSET_SECS, honoured
//! only in development), so the 14 days pass in seconds.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_tests::api::{call, unique_dip_id};
use switchyard_tests::dip::{batch, catalogue, first_event, item_about, message, now_ms, party, post_to, suite_ca, verify_hub_call, Party};
use switchyard_tests::hub::{signing_key_setting, test_signing_key_pem, Hub, HubProcess};
use switchyard_tests::Receiver;

const WAIT: Duration = Duration::from_secs(60);
const DAY: u64 = 24 * 3600;

fn settings(offset_secs: u64, certificate: &str) -> Vec<(&'static str, String)> {
    vec![
        signing_key_setting(&test_signing_key_pem()),
        ("SWITCHYARD_SIGNING_CERTIFICATE", certificate.trim().replace('\n', "\\n")),
        ("SWITCHYARD_DIP_MAX_RETRY_WAIT_SECS", "2".into()),
        ("SWITCHYARD_CLOCK_OFFSET_SECS", offset_secs.to_string()),
    ]
}

fn send(h: &Hub, sender: &Party, channel: &str) -> String {
    let m = message(channel, &first_event(channel), &sender.id, "SDS");
    let r = post_to(h, sender, &format!("/dip-channel/{channel}"), &batch(&[m]));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["messageArray"][0]["transactionID"].as_str().unwrap().to_string()
}

fn dead_letters(h: &Hub) -> Vec<Value> {
    let r = h.admin("GET", "/admin/v1/dip/dead-letters", &Value::Null);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["count"].as_u64().unwrap() as usize, r.json()["deadLetters"].as_array().unwrap().len());
    r.json()["deadLetters"].as_array().unwrap().clone()
}

/// Restarts `process` on its state with the clock `offset_secs` ahead, and wakes its outbox
/// (any request through the gateway starts a sweep).
fn restart(process: &mut HubProcess, admin: &str, offset_secs: u64, certificate: &str) -> Hub {
    process.kill_hard();
    process.restage(admin, &settings(offset_secs, certificate));
    process.spawn();
    let h = Hub { base: process.base.clone(), admin_token: admin.into(), signing_key_pem: None, log: Some(process.log.clone()) };
    let _ = call("GET", &h.url("/"), &[], b"");
    h
}

#[test]
fn e2e_dip_undelivered_messages_are_dead_lettered_and_reported() {
    let dir = std::env::temp_dir().join(format!("switchyard-dlq-{}-{}", std::process::id(), unique_dip_id()));
    let admin = "dead-letter-admin-token-0001";
    let ca = suite_ca();
    let certificate = ca.issue(&test_signing_key_pem(), &dip_pki::Leaf::for_party("0000000000", now_ms()));
    let mut process = HubProcess::start(&dir, admin, &settings(0, &certificate));
    let h = Hub { base: process.base.clone(), admin_token: admin.into(), signing_key_pem: None, log: Some(process.log.clone()) };
    let r = h.admin_bytes("PUT", "/admin/v1/dip/catalogue", "application/json", &serde_json::to_vec(catalogue()).unwrap());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(h.admin("PUT", "/admin/v1/dip/trust-anchors/suite", &json!({ "certificatePem": ca.certificate_pem })).status, 200);

    // IF-032 dead-letters after 1 day; IF-033 after the default 14. Two recipients never
    // register a webhook; one answers 503 to every call.
    let (never, failing, never_either) = (party(&h, &ca, &["LDSO"], None), party(&h, &ca, &["LDSO"], None), party(&h, &ca, &["LDSO"], None));
    let always = |ids: &[&str], days: Option<u32>| {
        let mut c = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "DIPIDs": ids } } });
        if let Some(d) = days {
            c["deadLetterAfterDays"] = json!(d);
        }
        c
    };
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-032", &always(&[&never.id, &failing.id], Some(1))).status, 200);
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-033", &always(&[&never_either.id], None)).status, 200);
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-033", &json!({ "senderRoles": ["SDS"], "deadLetterAfterDays": 400 })).status, 400);
    let sender = party(&h, &ca, &["SDS"], None);
    let status = Receiver::start();
    status.answer_with(201);
    let register = |p: &Party, path: &str, url: String| {
        let r = post_to(&h, p, path, &serde_json::to_vec(&json!({ "callbackURL": url })).unwrap());
        assert_eq!(r.status, 201, "{}", r.text());
    };
    register(&sender, &format!("/statusmessage/config/{}", sender.id), status.url("/status"));
    let rx = Receiver::start();
    rx.answer_with(503);
    register(&failing, &format!("/dip-channel/IF-032/pubconfig/{}", failing.id), rx.url("/p"));
    let short = send(&h, &sender, "IF-032");
    let long = send(&h, &sender, "IF-033");
    rx.wait_for(2, WAIT);
    assert!(dead_letters(&h).is_empty());

    // Two days on: the 1-day channel's copies are dead-lettered and reported; the other waits.
    let h = restart(&mut process, admin, 2 * DAY, &certificate);
    let reported = |tx: &str, who: &str| {
        let who = who.to_string();
        status.wait_until(WAIT, |a| item_about(a, tx).is_some_and(|_| String::from_utf8_lossy(&a.body).contains(&who)))
    };
    for p in [&never, &failing] {
        let arrival = reported(&short, &p.id).unwrap_or_else(|| panic!("dead letter of {short} for {} not reported", p.id));
        let item = item_about(&arrival, &short).unwrap();
        assert_eq!(item["message"], "MSG1000 - Message Processing Failed");
        assert_eq!(item["senderID"], "0000000000");
        assert_eq!(item["recipientID"], json!(sender.id));
        assert!(item["help"].as_str().unwrap().contains("dead-letter"), "{item}");
        assert_eq!(verify_hub_call(&certificate, &status.url("/status"), &arrival), Ok(()));
    }
    let listed = dead_letters(&h);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["transactionID"] == json!(short) && d["channel"] == "IF-032" && d["webhook"] == "publication"));
    status.wait_quiet(Duration::from_millis(1500), WAIT);
    assert!(status.letters().iter().all(|a| item_about(a, &long).is_none()), "the 14-day channel's message still waits");

    // Fifteen days on: the 14-day channel's message too.
    let h = restart(&mut process, admin, 15 * DAY, &certificate);
    reported(&long, &never_either.id).unwrap_or_else(|| panic!("dead letter of {long} not reported"));
    let listed = dead_letters(&h);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let log = std::fs::read_to_string(&process.log).unwrap_or_default();
    assert!(log.contains("ALARM dip dead-letter"), "the operator's alarm is raised in the log");
    // The operator clears one after dealing with it.
    let id = listed[0]["id"].as_str().unwrap();
    assert_eq!(h.admin("DELETE", &format!("/admin/v1/dip/dead-letters/{id}"), &Value::Null).status, 204);
    assert_eq!(dead_letters(&h).len(), 2);
}
