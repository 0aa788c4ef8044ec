//! DIP delivery (DSD002 7.12, 8.5-8.9, 9.3-9.5; the DIP contract's delivery and outcomes):
//! egress batching by count and by size, the publication form (A0, D0), the hub's signature
//! checked knowing only its certificate, every outcome class with what reaches the sender's
//! status webhook, the circuit breaker, and dead-lettering on a hub whose clock moves on.
//! Each test configures a channel of its own (IF-024..IF-028, IF-031) with recipients of its own.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_tests::dip::{
    batch, dip, first_event, hub_certificate, item_about, items, message, party, post_to, transaction_of, verify_hub_call, Party,
};
use switchyard_tests::hub::{SUITE_CIRCUIT_COOLDOWN_SECS, SUITE_CIRCUIT_FAILURES};
use switchyard_tests::receiver::Arrival;
use switchyard_tests::{hub, Receiver};

const WAIT: Duration = Duration::from_secs(45);

fn register(h: &switchyard_tests::hub::Hub, party: &Party, path: &str, body: Value) {
    let r = post_to(h, party, path, &serde_json::to_vec(&body).unwrap());
    assert_eq!(r.status, 201, "registering {path}: {}", r.text());
}

/// A channel of the test's own sent on by a fresh SDS, always addressed to `recipients`.
fn channel(h: &switchyard_tests::hub::Hub, channel: &str, recipients: &[&Party], extra: Value) -> Party {
    let d = dip();
    let ids: Vec<&str> = recipients.iter().map(|p| p.id.as_str()).collect();
    let mut config = json!({ "senderRoles": ["SDS"], "addressing": { "always": { "DIPIDs": ids } } });
    if let (Some(c), Value::Object(more)) = (config.as_object_mut(), extra) {
        c.extend(more);
    }
    assert_eq!(h.admin("PUT", &format!("/admin/v1/dip/channels/{channel}"), &config).status, 200);
    party(h, &d.ca, &["SDS"], None)
}

/// Sends `n` messages on `channel` from `sender` in one request; their transaction IDs in order.
fn send(h: &switchyard_tests::hub::Hub, sender: &Party, channel: &str, n: usize) -> Vec<String> {
    let event = first_event(channel);
    let messages: Vec<Value> = (0..n).map(|_| message(channel, &event, &sender.id, "SDS")).collect();
    let r = post_to(h, sender, &format!("/dip-channel/{channel}"), &batch(&messages));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["messageArray"].as_array().unwrap().iter().map(|i| i["transactionID"].as_str().unwrap().to_string()).collect()
}

/// The transactions each call carried, call by call.
fn calls(rx: &Receiver) -> Vec<Vec<String>> {
    rx.letters().iter().map(|a| items(a).iter().filter_map(|i| transaction_of(i).map(str::to_string)).collect()).collect()
}

/// Waits until every one of `txs` reached `rx`; the calls so far.
fn delivered(rx: &Receiver, txs: &[String]) -> Vec<Arrival> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got: Vec<String> = calls(rx).concat();
        if txs.iter().all(|t| got.contains(t)) {
            return rx.letters();
        }
        assert!(Instant::now() < deadline, "not all of {txs:?} arrived; calls so far: {:?}", calls(rx));
        rx.wait_quiet(Duration::from_millis(200), WAIT);
    }
}

/// 7.12.2, 9.4.1, 9.8.1: messages queued for one recipient and channel leave together, in
/// calls of at most maxMessageCount messages and maxPayloadSize KB; a larger message alone.
/// Messages sent before the webhooks exist are held, then released by the registration.
#[test]
fn e2e_dip_egress_batches_by_count_and_by_size() {
    let h = hub();
    let d = dip();
    let (by_count, by_size, tiny) = (party(h, &d.ca, &["LDSO"], None), party(h, &d.ca, &["LDSO"], None), party(h, &d.ca, &["LDSO"], None));
    let sender = channel(h, "IF-031", &[&by_count, &by_size, &tiny], json!({}));
    // Three requests, each of its own, before any webhook is registered: all are held.
    let sent: Vec<Vec<String>> = [2, 2, 3].iter().map(|n| send(h, &sender, "IF-031", *n)).collect();
    let all: Vec<String> = sent.concat();
    let request_of = |tx: &str| sent.iter().position(|r| r.iter().any(|t| t == tx)).unwrap();

    let (rx_count, rx_size, rx_tiny) = (Receiver::start(), Receiver::start(), Receiver::start());
    for rx in [&rx_count, &rx_size, &rx_tiny] {
        rx.answer_with(201);
    }
    register(h, &by_size, &format!("/dip-channel/IF-031/pubconfig/{}", by_size.id), json!({ "callbackURL": rx_size.url("/p"), "maxPayloadSize": 4 }));
    register(h, &tiny, &format!("/dip-channel/IF-031/pubconfig/{}", tiny.id), json!({ "callbackURL": rx_tiny.url("/p"), "maxPayloadSize": 1 }));
    // Registered last: by now the last request's messages have long been held too (a message
    // waits 25 ms to share a call), so one release hands all seven out in their order.
    register(h, &by_count, &format!("/dip-channel/IF-031/pubconfig/{}", by_count.id), json!({ "callbackURL": rx_count.url("/p"), "maxMessageCount": 3 }));

    // By count: 7 held messages leave as 3 + 3 + 1, in the order their requests arrived.
    delivered(&rx_count, &all);
    let by_count_calls = calls(&rx_count);
    assert_eq!(by_count_calls.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1], "{by_count_calls:?}");
    let order: Vec<usize> = by_count_calls.concat().iter().map(|t| request_of(t)).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "requests' messages keep their order: {order:?}");

    // By size: no call over 4 KB unless it carries a single message; several share a call.
    for a in delivered(&rx_size, &all) {
        assert!(a.body.len() <= 4 * 1024 || items(&a).len() == 1, "a {}-byte call of {} messages", a.body.len(), items(&a).len());
    }
    assert!(calls(&rx_size).iter().any(|c| c.len() >= 2), "messages share calls: {:?}", calls(&rx_size));
    // Every IF-031 publication is larger than 1 KB: each goes alone (the limit is ignored for
    // a single message).
    let tiny_calls = delivered(&rx_tiny, &all);
    assert_eq!(tiny_calls.len(), all.len());
    assert!(tiny_calls.iter().all(|a| items(a).len() == 1 && a.body.len() > 1024));
    rx_count.wait_quiet(Duration::from_millis(500), WAIT);
    assert_eq!(calls(&rx_count).concat().len(), all.len(), "each message once");
}

/// 9.3.6, 7.7.4 and the contract's publication form, with the hub's signature (10.3) checked
/// the way a participant checks it, knowing only the hub's certificate: once per call.
#[test]
fn e2e_dip_publications_carry_a0_d0_and_the_hubs_signature() {
    let h = hub();
    let d = dip();
    let recipient = party(h, &d.ca, &["LDSO"], None);
    let rx = Receiver::start();
    rx.answer_with(201);
    let sender = channel(h, "IF-025", &[&recipient], json!({}));
    let url = rx.url("/publications");
    register(h, &recipient, &format!("/dip-channel/IF-025/pubconfig/{}", recipient.id), json!({ "callbackURL": url }));
    let event = first_event("IF-025");
    let sent: Vec<Value> = (0..3).map(|_| message("IF-025", &event, &sender.id, "SDS")).collect();
    let r = post_to(h, &sender, "/dip-channel/IF-025", &batch(&sent));
    assert_eq!(r.status, 201, "{}", r.text());
    let answered = r.json()["messageArray"].as_array().unwrap().clone();
    let txs: Vec<String> = answered.iter().map(|i| i["transactionID"].as_str().unwrap().to_string()).collect();
    let certificate = hub_certificate(h);
    for call in delivered(&rx, &txs) {
        assert_eq!(verify_hub_call(&certificate, &url, &call), Ok(()));
        assert_eq!(call.header("content-type"), Some("application/json"));
    }
    let mut forged = rx.letters()[0].clone();
    forged.body.push(b' ');
    assert!(verify_hub_call(&certificate, &url, &forged).is_err(), "the verifier can fail");
    for (k, tx) in txs.iter().enumerate() {
        let call = rx.letters().into_iter().find(|a| item_about(a, tx).is_some()).unwrap();
        let payload = item_about(&call, tx).unwrap()["payload"].clone();
        let common = &payload["CommonBlock"];
        // The sender's blocks arrive unchanged.
        assert_eq!(common["S0"], sent[k]["CommonBlock"]["S0"]);
        assert_eq!(common["S1"], sent[k]["CommonBlock"]["S1"]);
        assert_eq!(payload["CustomBlock"], sent[k]["CustomBlock"]);
        // A0 as resolved, D0 as the hub's.
        assert_eq!(common["A0"]["always"], json!([recipient.id]));
        let d0 = &common["D0"];
        assert_eq!(d0["transactionID"], json!(tx));
        assert_eq!(d0["transactionTimestamp"].as_str().unwrap().len(), 25, "DT-003: {d0}");
        assert_eq!(d0["publicationID"], "PUB-025");
        assert_eq!(d0["initialCorrelationID"], Value::Null);
        assert_eq!(d0["replayIndicator"], false);
        assert_eq!(d0["serviceTicketURL"], Value::Null);
        assert_eq!(answered[k]["correlationID"], Value::Null);
    }
}

/// The status items the sender's webhook received, by transaction and reporting party.
fn reports(status: &Receiver) -> BTreeMap<(String, String), Value> {
    status
        .letters()
        .iter()
        .flat_map(items)
        .map(|i| ((i["transactionID"].as_str().unwrap_or("").to_string(), i["senderID"].as_str().unwrap_or("").to_string()), i))
        .collect()
}

/// 8.6 and the contract: 400/401/403/404/405/406/413/505 are final: not retried, and relayed
/// to the sender's status webhook with the recipient's words (or the status when it gave none).
#[test]
fn e2e_dip_final_refusals_are_not_retried_and_reach_the_sender() {
    let h = hub();
    let d = dip();
    let finals = [400u16, 401, 403, 404, 405, 406, 413, 505];
    let recipients: Vec<Party> = finals.iter().map(|_| party(h, &d.ca, &["LDSO"], None)).collect();
    let sender = channel(h, "IF-026", &recipients.iter().collect::<Vec<_>>(), json!({}));
    let status = Receiver::start();
    status.answer_with(201);
    register(h, &sender, &format!("/statusmessage/config/{}", sender.id), json!({ "callbackURL": status.url("/status") }));
    let receivers: Vec<Receiver> = finals
        .iter()
        .zip(&recipients)
        .map(|(code, p)| {
            let rx = Receiver::start();
            let code = *code;
            rx.respond_with(move |_, _| {
                let body = match code {
                    400 => serde_json::to_vec(&json!({ "messageArray": [{ "transactionID": null, "message": "RCP0400 - call refused" }] })).unwrap(),
                    413 => b"too large for us".to_vec(),
                    _ => Vec::new(),
                };
                Some((code, Vec::new(), body))
            });
            register(h, p, &format!("/dip-channel/IF-026/pubconfig/{}", p.id), json!({ "callbackURL": rx.url("/p") }));
            rx
        })
        .collect();
    let tx = send(h, &sender, "IF-026", 1).remove(0);
    // One report per recipient, each with the transaction, the reference and the words.
    let deadline = Instant::now() + WAIT;
    while reports(&status).keys().filter(|(t, _)| *t == tx).count() < finals.len() {
        assert!(Instant::now() < deadline, "reports so far: {:?}", reports(&status).keys().collect::<Vec<_>>());
        status.wait_quiet(Duration::from_millis(200), WAIT);
    }
    let got = reports(&status);
    for ((code, p), rx) in finals.iter().zip(&recipients).zip(&receivers) {
        let report = &got[&(tx.clone(), p.id.clone())];
        let expected = match code {
            400 => "RCP0400 - call refused".to_string(),
            413 => "too large for us".to_string(),
            c => format!("HTTP {c}"),
        };
        assert_eq!(report["message"], json!(expected), "{code}: {report}");
        assert_eq!(report["recipientID"], json!(sender.id));
        assert!(report["senderUniqueReference"].as_str().unwrap().starts_with("S-IF-026-"), "{report}");
        assert!(report["help"].as_str().unwrap().contains(&code.to_string()));
        rx.wait_quiet(Duration::from_millis(1500), WAIT);
        assert_eq!(rx.letters().len(), 1, "{code} is not retried");
    }
    let certificate = hub_certificate(h);
    for call in status.letters() {
        assert_eq!(verify_hub_call(&certificate, &status.url("/status"), &call), Ok(()));
    }
}

/// 9.8.1 3, 8.6: a 207 names per message what the recipient refused; only those are relayed
/// to the sender, and none is retried.
#[test]
fn e2e_dip_a_207_relays_only_the_refused_messages() {
    let h = hub();
    let d = dip();
    let recipient = party(h, &d.ca, &["LDSO"], None);
    let sender = channel(h, "IF-027", &[&recipient], json!({}));
    let status = Receiver::start();
    status.answer_with(201);
    register(h, &sender, &format!("/statusmessage/config/{}", sender.id), json!({ "callbackURL": status.url("/status") }));
    // Held until the registration, so both leave in one call.
    let txs = send(h, &sender, "IF-027", 2);
    let rx = Receiver::start();
    let refused = txs[1].clone();
    rx.respond_with(move |a, _| {
        let results: Vec<Value> = items(a)
            .iter()
            .filter_map(|i| transaction_of(i).map(str::to_string))
            .map(|t| {
                let message = if t == refused { "RCP1021 - Msg Mandatory Data Item Missing" } else { "MSG0000 - Success" };
                json!({ "transactionID": t, "message": message })
            })
            .collect();
        Some((207, Vec::new(), serde_json::to_vec(&json!({ "messageArray": results })).unwrap()))
    });
    register(h, &recipient, &format!("/dip-channel/IF-027/pubconfig/{}", recipient.id), json!({ "callbackURL": rx.url("/p") }));
    delivered(&rx, &txs);
    assert_eq!(calls(&rx), vec![txs.clone()], "one call with both");
    status.wait_until(WAIT, |a| item_about(a, &txs[1]).is_some()).expect("the refused message is reported");
    status.wait_quiet(Duration::from_millis(1500), WAIT);
    let got = reports(&status);
    assert_eq!(got.len(), 1, "only the refused one: {got:?}");
    assert_eq!(got[&(txs[1].clone(), recipient.id.clone())]["message"], "RCP1021 - Msg Mandatory Data Item Missing");
    assert_eq!(rx.letters().len(), 1, "nothing retried");
}

/// 8.5, 8.9.1, 7.13.1: 408/429/500/502/503/504, a timeout and a refused connection are
/// retried until delivered, with nothing reported to the sender; `Retry-After` is honoured.
#[test]
fn e2e_dip_busy_or_absent_recipients_are_retried() {
    let h = hub();
    let d = dip();
    let busy = [408u16, 429, 500, 502, 503, 504];
    let recipients: Vec<Party> = (0..busy.len() + 2).map(|_| party(h, &d.ca, &["LDSO"], None)).collect();
    let sender = channel(h, "IF-028", &recipients.iter().collect::<Vec<_>>(), json!({}));
    let status = Receiver::start();
    status.answer_with(201);
    register(h, &sender, &format!("/statusmessage/config/{}", sender.id), json!({ "callbackURL": status.url("/status") }));
    let pubconfig = |p: &Party| format!("/dip-channel/IF-028/pubconfig/{}", p.id);
    let mut receivers = Vec::new();
    for (code, p) in busy.iter().zip(&recipients) {
        let rx = Receiver::start();
        let code = *code;
        // The first call is answered `code` (429 with Retry-After: 3), the next 201.
        rx.respond_with(move |_, before| {
            let headers = if code == 429 { vec![("retry-after".to_string(), "3".to_string())] } else { Vec::new() };
            Some(if before == 0 { (code, headers, Vec::new()) } else { (201, Vec::new(), Vec::new()) })
        });
        register(h, p, &pubconfig(p), json!({ "callbackURL": rx.url("/p") }));
        receivers.push((code.to_string(), rx));
    }
    // A recipient that does not answer within the hub's 10 s (dip::delivery::ATTEMPT_TIMEOUT_MS),
    // then does.
    let slow = Receiver::start();
    slow.answer_with(201);
    slow.delay_answers(Duration::from_millis(switchyard_core::dip::delivery::ATTEMPT_TIMEOUT_MS as u64 + 1500));
    register(h, &recipients[busy.len()], &pubconfig(&recipients[busy.len()]), json!({ "callbackURL": slow.url("/p") }));
    // A recipient whose port refuses connections until it registers a working webhook.
    let refusing = switchyard_tests::receiver::RefusingPort::new();
    let absent = &recipients[busy.len() + 1];
    register(h, absent, &pubconfig(absent), json!({ "callbackURL": refusing.url("/p") }));

    let tx = send(h, &sender, "IF-028", 1).remove(0);
    slow.wait_for(1, WAIT);
    slow.delay_answers(Duration::ZERO);
    receivers.push(("timeout".into(), slow));
    let late = Receiver::start();
    late.answer_with(201);
    register(h, absent, &pubconfig(absent), json!({ "callbackURL": late.url("/p") }));
    receivers.push(("connection refused".into(), late));
    for (what, rx) in &receivers {
        let deadline = Instant::now() + WAIT;
        while !rx.letters().iter().skip(usize::from(what != "connection refused")).any(|a| item_about(a, &tx).is_some()) {
            assert!(Instant::now() < deadline, "{what}: not delivered on a later call ({} calls)", rx.letters().len());
            rx.wait_quiet(Duration::from_millis(200), WAIT);
        }
        if what == "429" {
            let calls = rx.letters();
            let gap = calls[1].at.duration_since(calls[0].at);
            assert!(gap >= Duration::from_millis(2800), "Retry-After: 3 was honoured: the retry came after {gap:?}");
        }
    }
    status.wait_quiet(Duration::from_millis(1500), WAIT);
    assert!(reports(&status).is_empty(), "nothing to report: {:?}", reports(&status));
}

/// 9.8.1 4: after SUITE_CIRCUIT_FAILURES failed calls in a row the endpoint's circuit opens:
/// for the cooldown no call goes to it, not even for a new message; then one probe, and on
/// success everything waiting is delivered, in order, none lost.
#[test]
fn e2e_dip_a_failing_endpoint_opens_its_circuit_until_a_probe_succeeds() {
    let h = hub();
    let d = dip();
    let recipient = party(h, &d.ca, &["LDSO"], None);
    let sender = channel(h, "IF-024", &[&recipient], json!({}));
    let rx = Receiver::start();
    rx.answer_with(503);
    register(h, &recipient, &format!("/dip-channel/IF-024/pubconfig/{}", recipient.id), json!({ "callbackURL": rx.url("/p") }));
    let first = send(h, &sender, "IF-024", 1).remove(0);
    let failures = rx.wait_for(SUITE_CIRCUIT_FAILURES as usize, WAIT);
    assert_eq!(failures.len(), SUITE_CIRCUIT_FAILURES as usize);
    let opened = failures.last().unwrap().at;
    // Open now: a new message is not called either (it would be at once otherwise).
    let second = send(h, &sender, "IF-024", 1).remove(0);
    rx.answer_with(201);
    let delivered = delivered(&rx, &[first.clone(), second.clone()]);
    let after: Vec<&Arrival> = delivered.iter().filter(|a| a.at > opened).collect();
    let cooldown = Duration::from_secs(SUITE_CIRCUIT_COOLDOWN_SECS as u64);
    assert!(
        after.iter().all(|a| a.at.duration_since(opened) >= cooldown - Duration::from_millis(500)),
        "no call within the cooldown: {:?}",
        after.iter().map(|a| a.at.duration_since(opened)).collect::<Vec<_>>()
    );
    // The probe succeeded: the circuit is closed and both arrived, the first no later.
    let order: Vec<String> = calls(&rx).concat().into_iter().filter(|t| *t == first || *t == second).collect();
    let last_first = order.iter().rposition(|t| *t == first).unwrap();
    let first_second = order.iter().position(|t| *t == second).unwrap();
    assert!(last_first <= first_second || order.len() > 2, "in order: {order:?}");
    let third = send(h, &sender, "IF-024", 1).remove(0);
    let at = Instant::now();
    rx.wait_until(WAIT, |a| item_about(a, &third).is_some()).expect("closed again: delivered");
    assert!(at.elapsed() < cooldown, "a closed circuit delivers at once");
}
