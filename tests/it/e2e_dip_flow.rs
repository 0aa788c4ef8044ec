//! The end-to-end DIP flow of DSD002 8.12.3-8.12.4 ("Change of Meter", the README's walk-through):
//! a metering service's signed IF-005 reaches the Registration Service's webhook as PUB-005, with
//! the workflow correlation ID the hub made in `D0`; the Registration Service answers on IF-006
//! carrying that ID in `S1.senderCorrelationID`, and PUB-006 reaches the metering service and the
//! supplier with it untouched and no new one in `D0`. The channels are configured as the demo
//! seed (infra/seed/demo-dip.json) configures them; each party and the MPAN are this test's own.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_tests::api::unique_dip_id;
use switchyard_tests::dip::{batch, dip, message, now_ms, party, suite_ca, Party};
use switchyard_tests::receiver::Arrival;
use switchyard_tests::{hub, Receiver};

const WAIT: Duration = Duration::from_secs(30);
/// The hub's own DIP ID, which signs every call it makes.
const HUB: &str = "0000000000";
const SIGNATURE_HEADERS: [&str; 4] = ["X-DIP-Signature", "X-DIP-Signature-Date", "X-DIP-Content-Hash", "X-DIP-Signature-Certificate"];

/// IF-005 and IF-006 as the demo seed configures them (the README's flow runs on it).
fn seeded_channel(id: &str) -> Value {
    let seed: Value = serde_json::from_slice(&std::fs::read(switchyard_tests::hub::root().join("infra/seed/demo-dip.json")).unwrap()).unwrap();
    let mut channel = seed["dip"]["channels"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("the demo seed configures {id}")).clone();
    channel.as_object_mut().unwrap().remove("id");
    channel
}

/// The message with D0.transactionID `tx` in a publication call, if the call carries it (a call
/// may carry several messages).
fn carried(arrival: &Arrival, tx: &str) -> Option<Value> {
    arrival.json().as_array()?.iter().map(|m| &m["payload"]).find(|p| p["CommonBlock"]["D0"]["transactionID"] == tx).cloned()
}

/// Waits for the publication of `tx` at `rx` and returns its payload.
fn publication(rx: &Receiver, tx: &str, who: &str) -> Value {
    let arrival = rx.wait_until(WAIT, |a| carried(a, tx).is_some()).unwrap_or_else(|| panic!("{tx} did not reach the {who}'s webhook"));
    let body = arrival.json();
    let items = body.as_array().unwrap_or_else(|| panic!("a publication is a JSON array: {body}"));
    assert!(items.iter().all(|m| m.as_object().is_some_and(|o| o.len() == 1 && o.contains_key("payload"))), "[{{\"payload\": ...}}]: {body}");
    carried(&arrival, tx).unwrap()
}

/// Every call that reached `rx` carries the hub's four signature headers, and the signature
/// verifies as the participant checks it.
fn all_hub_signed(rx: &Receiver) {
    let arrivals = rx.letters();
    assert!(!arrivals.is_empty());
    for a in &arrivals {
        for h in SIGNATURE_HEADERS {
            assert!(a.header(h).is_some_and(|v| !v.is_empty()), "{h} missing on a call to {}", a.path);
        }
        let checked = dip_pki::verify(&suite_ca().certificate_pem, &a.method, &rx.url(&a.path), &a.headers, &a.body, HUB, now_ms());
        assert_eq!(checked, Ok(()), "the hub's signature on a call to {}", a.path);
    }
}

fn register(party: &Party, channel: &str, rx: &Receiver) {
    let body = serde_json::to_vec(&json!({ "callbackURL": rx.url(&format!("/dip/{}", party.id)) })).unwrap();
    let r = dip().post(party, &format!("/dip-channel/{channel}/pubconfig/{}", party.id), &body);
    assert_eq!(r.status, 201, "{channel} webhook of {}: {}", party.id, r.text());
}

#[test]
fn e2e_dip_flow_if005_out_if006_back_with_one_correlation_id() {
    let d = dip();
    let h = hub();
    for id in ["IF-005", "IF-006"] {
        let r = h.admin("PUT", &format!("/admin/v1/dip/channels/{id}"), &seeded_channel(id));
        assert_eq!(r.status, 200, "{id}: {}", r.text());
    }
    let mss = party(h, &d.ca, &["MSS"], None);
    let regs = party(h, &d.ca, &["REGS"], None);
    let sup = party(h, &d.ca, &["SUP"], None);
    // MAMS knows the three of them for this test's MPAN (secondary addressing, 7.5, 7.7.1).
    let mpan = format!("19{}5", &unique_dip_id()[..10]);
    let since = "2024-01-01T00:00:00+00:00";
    let parties: Vec<Value> = [("MSS", &mss), ("REGS", &regs), ("SUP", &sup)]
        .iter()
        .map(|(role, p)| json!({ "roleID": role, "DIPID": p.id, "effectiveFrom": since, "effectiveTo": null }))
        .collect();
    assert_eq!(h.admin("PUT", &format!("/admin/v1/dip/mams/{mpan}"), &json!({ "parties": parties })).status, 200);
    let (rx_regs, rx_mss, rx_sup) = (Receiver::start(), Receiver::start(), Receiver::start());
    register(&regs, "IF-005", &rx_regs);
    register(&mss, "IF-006", &rx_mss);
    register(&sup, "IF-006", &rx_sup);

    // 8.12.4 1-2: the metering service sends IF-005; the L1 response holds the correlation ID.
    let mut if005 = message("IF-005", "MeterExchange", &mss.id, "MSS");
    if005["CommonBlock"]["M0"]["MPANCore"] = json!(mpan);
    let r = d.post(&mss, "/dip-channel/IF-005", &batch(&[if005.clone()]));
    assert_eq!(r.status, 201, "{}", r.text());
    let item = &r.json()["messageArray"][0];
    assert_eq!(item["message"], "MSG0000 - Success");
    let tx005 = item["transactionID"].as_str().unwrap().to_string();
    let stored_by_mss = item["correlationID"].as_str().unwrap_or_else(|| panic!("no correlationID in the L1 response: {item}")).to_string();
    assert!(stored_by_mss.starts_with("CI-") && stored_by_mss.len() <= 60, "DT-011: {stored_by_mss}");

    // 8.12.4 3: PUB-005 reaches the Registration Service with the ID in D0; 8.10.2 MD#1: it
    // goes to the Registration Service alone, which A0 (set by the hub, 7.7.4) records.
    let pub005 = publication(&rx_regs, &tx005, "Registration Service");
    let common = &pub005["CommonBlock"];
    assert_eq!(common["D0"]["publicationID"], "PUB-005");
    assert_eq!(common["D0"]["initialCorrelationID"], json!(stored_by_mss));
    assert_eq!(common["D0"]["replayIndicator"], false);
    assert_eq!(common["A0"], json!({ "primaryRecipients": [], "secondaryRecipients": [regs.id], "always": [] }));
    assert_eq!(common["S1"], if005["CommonBlock"]["S1"], "S1 as sent");
    assert_eq!(pub005["CustomBlock"], if005["CustomBlock"]);

    // 8.3.1: only the Registration Service may send on IF-006.
    let r = d.post(&mss, "/dip-channel/IF-006", &batch(&[message("IF-006", "MeterExchange", &mss.id, "MSS")]));
    assert_eq!(r.json()["messageArray"][0]["message"], "MSG1010 - Sender Role Invalid", "{}", r.text());

    // 8.12.4 5-6: the Registration Service answers on IF-006 with the ID it stored, in S1.
    let stored_by_regs = common["D0"]["initialCorrelationID"].as_str().unwrap();
    let mut if006 = message("IF-006", "MeterExchange", &regs.id, "REGS");
    if006["CommonBlock"]["M0"]["MPANCore"] = json!(mpan);
    if006["CommonBlock"]["S1"]["senderCorrelationID"] = json!(stored_by_regs);
    let r = d.post(&regs, "/dip-channel/IF-006", &batch(&[if006.clone()]));
    assert_eq!(r.status, 201, "{}", r.text());
    let item = &r.json()["messageArray"][0];
    let tx006 = item["transactionID"].as_str().unwrap().to_string();
    assert_eq!(item["correlationID"], json!(stored_by_mss), "the sender's correlation ID, not a new one");

    // 8.12.4 7-8: PUB-006 reaches the metering service (and the supplier) with S1 untouched and
    // no new correlation ID in D0: the metering service finds the ID it stored at step 2.
    for (rx, who) in [(&rx_mss, "metering service"), (&rx_sup, "supplier")] {
        let pub006 = publication(rx, &tx006, who);
        let common = &pub006["CommonBlock"];
        assert_eq!(common["D0"]["publicationID"], "PUB-006");
        assert_eq!(common["S1"], if006["CommonBlock"]["S1"], "S1 as sent");
        assert_eq!(common["S1"]["senderCorrelationID"], json!(stored_by_mss));
        assert_eq!(common["D0"]["initialCorrelationID"], Value::Null);
        assert_eq!(common["R0"], if006["CommonBlock"]["R0"]);
        assert_eq!(common["A0"]["secondaryRecipients"], json!([mss.id, sup.id]));
    }

    for rx in [&rx_regs, &rx_mss, &rx_sup] {
        all_hub_signed(rx);
    }
}
