//! DIP webhooks: publication and status-message registrations, the hub's signed deliveries to
//! them, and status messages relayed from recipients to the original senders (routed by
//! transactionID).

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_tests::dip::{batch, dip, item_about, items, message, now_ms, suite_ca, Party};
use switchyard_tests::Receiver;

const WAIT: Duration = Duration::from_secs(30);

fn register(party: &Party, path: &str, body: Value) -> u16 {
    dip().post(party, path, &serde_json::to_vec(&body).unwrap()).status
}

fn delete(party: &Party, path: &str) -> u16 {
    let d = dip();
    let h = switchyard_tests::hub();
    let url = h.url(path);
    let signed = dip_pki::sign(&party.key_pem, &party.certificate_pem, "DELETE", &url, b"", now_ms());
    let mut headers: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    headers.push(("x-api-key", &party.api_key));
    let _ = d;
    switchyard_tests::api::call("DELETE", &url, &headers, b"").status
}

/// The hub's signature on a call that reached `rx`, checked as the participant would.
fn hub_signed(rx: &Receiver, arrival: &switchyard_tests::receiver::Arrival) -> Result<(), String> {
    dip_pki::verify(&suite_ca().certificate_pem, "POST", &rx.url(&arrival.path), &arrival.headers, &arrival.body, "0000000000", now_ms())
}

#[test]
fn e2e_dip_registrations_are_each_participants_own() {
    let d = dip();
    let rx = Receiver::start();
    let path = format!("/statusmessage/config/{}", d.sup.id);
    assert_eq!(register(&d.sup, &path, json!({ "maxMessageCount": 10 })), 400, "callbackURL is required");
    assert_eq!(register(&d.ldso, &path, json!({ "callbackURL": rx.url("/status") })), 403, "another participant's registration");
    assert_eq!(register(&d.sup, &path, json!({ "callbackURL": rx.url("/status"), "maxMessageCount": 10, "maxPayloadSize": 100 })), 201);
    assert_eq!(register(&d.sup, &format!("/dip-channel/IF-999/pubconfig/{}", d.sup.id), json!({ "callbackURL": rx.url("/p") })), 404);
    assert_eq!(delete(&d.sup, &path), 204);
    assert_eq!(delete(&d.sup, &path), 404);
}

#[test]
fn e2e_dip_publications_reach_the_registered_webhook_signed() {
    let d = dip();
    // A recipient of its own, so only this test's messages reach it.
    let h = switchyard_tests::hub();
    let ldso = switchyard_tests::dip::party(h, &d.ca, &["LDSO"], None);
    let rx = Receiver::start();
    let pubconfig = format!("/dip-channel/IF-022/pubconfig/{}", ldso.id);
    let config = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "DIPIDs": [ldso.id] } } });
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-022", &config).status, 200);
    // Sent before the webhook exists: held, then delivered once it is registered.
    let early = message("IF-022", "LSSPeriodData", &d.sds.id, "SDS");
    let r = d.post(&d.sds, "/dip-channel/IF-022", &batch(&[early]));
    assert_eq!(r.status, 201, "{}", r.text());
    let early_tx = r.json()["messageArray"][0]["transactionID"].as_str().unwrap().to_string();
    assert_eq!(register(&ldso, &pubconfig, json!({ "callbackURL": rx.url("/publications") })), 201);
    let r = d.post(&d.sds, "/dip-channel/IF-022", &batch(&[message("IF-022", "LSSPeriodData", &d.sds.id, "SDS")]));
    let tx = r.json()["messageArray"][0]["transactionID"].as_str().unwrap().to_string();
    for tx in [tx, early_tx] {
        let arrival = rx.wait_until(WAIT, |a| item_about(a, &tx).is_some()).unwrap_or_else(|| panic!("{tx} was not delivered"));
        let item = item_about(&arrival, &tx).unwrap();
        let payload = &item["payload"];
        assert_eq!(payload["CommonBlock"]["D0"]["publicationID"], "PUB-022");
        assert_eq!(payload["CommonBlock"]["D0"]["replayIndicator"], false);
        assert_eq!(payload["CommonBlock"]["A0"]["always"], json!([ldso.id]));
        assert_eq!(hub_signed(&rx, &arrival), Ok(()));
    }
}

#[test]
fn e2e_dip_status_messages_reach_the_original_sender() {
    let d = dip();
    let h = switchyard_tests::hub();
    let sender = switchyard_tests::dip::party(h, &d.ca, &["SDS"], None);
    let rx = Receiver::start();
    assert_eq!(register(&sender, &format!("/statusmessage/config/{}", sender.id), json!({ "callbackURL": rx.url("/status") })), 201);
    let original = message("IF-021", "ActivePower", &sender.id, "SDS");
    let r = d.post(&sender, "/dip-channel/IF-021", &batch(&[original.clone()]));
    assert_eq!(r.status, 201, "{}", r.text());
    let tx = r.json()["messageArray"][0]["transactionID"].as_str().unwrap().to_string();

    // The LDSO (always a recipient on IF-021 in the suite) reports on it.
    let item = |sender_id: &str, tx: &str| json!({ "transactionID": tx, "senderUniqueReference": null, "correlationID": null,
        "sentTimestamp": switchyard_core::common::time::dt003(now_ms()), "senderID": sender_id, "recipientID": sender.id,
        "DIPConnectionProviderID": null, "message": "RCP1021 - Msg Mandatory Data Item Missing", "help": null, "serviceTicketURL": null });
    let post = |party: &Party, items: Value| d.post(party, "/statusmessage", &serde_json::to_vec(&items).unwrap());
    assert_eq!(post(&d.ldso, json!([item(&d.sds.id, &tx)])).status, 403, "a report speaks for its sender only");
    let r = post(&d.ldso, json!([item(&d.ldso.id, &tx), item(&d.ldso.id, "T-IF-021-1000000001-SDS-20200101-0")]));
    assert_eq!(r.status, 207, "{}", r.text());
    let answers = r.json()["messageArray"].clone();
    assert_eq!(answers[0]["message"], "MSG0000 - Success");
    assert_eq!(answers[1]["message"], "MSG1000 - Message Processing Failed", "no such transaction");
    // Someone who did not receive the message cannot report on it.
    assert_eq!(post(&d.sup, json!([item(&d.sup.id, &tx)])).status, 400);

    // The status webhook's body is a StandardResponseArray (the OpenAPI's status callback).
    let arrival = rx.wait_until(WAIT, |a| item_about(a, &tx).is_some()).expect("the status message was relayed");
    assert!(arrival.json().is_array(), "{}", arrival.json());
    let relayed = item_about(&arrival, &tx).unwrap();
    assert_eq!(relayed["senderUniqueReference"], original["CommonBlock"]["S1"]["senderUniqueReference"]);
    assert_eq!(relayed["senderID"], json!(d.ldso.id));
    assert_eq!(relayed["recipientID"], json!(sender.id));
    assert_eq!(relayed["message"], "RCP1021 - Msg Mandatory Data Item Missing");
    assert_eq!(relayed["sentTimestamp"].as_str().unwrap().len(), 25);
    assert_eq!(hub_signed(&rx, &arrival), Ok(()));
}

/// 7.8: a participant holding two recipient roles receives two copies, each obfuscated for its
/// role as the channel says (here one role sees the issuing data service as `9999999999`).
#[test]
fn e2e_dip_each_role_gets_its_own_obfuscated_copy() {
    let d = dip();
    let h = switchyard_tests::hub();
    let two = switchyard_tests::dip::party(h, &d.ca, &["OBA", "OBB"], None);
    let config = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "roles": ["OBA", "OBB"] } },
                         "obfuscation": { "OBA": ["/CustomBlock/B044/issuingDataServiceDIPID"] } });
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-014", &config).status, 200);
    let rx = Receiver::start();
    assert_eq!(register(&two, &format!("/dip-channel/IF-014/pubconfig/{}", two.id), json!({ "callbackURL": rx.url("/p") })), 201);
    let mut m = message("IF-014", "ActivePowerRejected", &d.sds.id, "SDS");
    m["CustomBlock"]["B044"]["issuingDataServiceDIPID"] = json!(d.sds.id);
    let r = d.post(&d.sds, "/dip-channel/IF-014", &batch(&[m]));
    assert_eq!(r.status, 201, "{}", r.text());
    let tx = r.json()["messageArray"][0]["transactionID"].clone();
    let tx = tx.as_str().unwrap().to_string();
    let issuer = |i: &Value| i["payload"]["CustomBlock"]["B044"]["issuingDataServiceDIPID"].clone();
    let copy = |value: Value| {
        rx.wait_until(WAIT, |a| items(a).iter().any(|i| i["payload"]["CommonBlock"]["D0"]["transactionID"] == json!(tx) && issuer(i) == value))
            .unwrap_or_else(|| panic!("no copy with issuingDataServiceDIPID {value}"))
    };
    for value in [json!(d.sds.id), json!("9999999999")] {
        assert_eq!(hub_signed(&rx, &copy(value)), Ok(()));
    }
}
