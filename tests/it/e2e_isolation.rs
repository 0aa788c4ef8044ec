//! One participant never hurts another. While one recipient's letterbox hangs for 30 s on
//! every call, messages to another recipient arrive as promptly as they would alone: each
//! attempt to the hanging one is bounded by the delivery timeout (3 s) and holds no batch,
//! shard or connection the other recipient needs. The hanging recipient's messages are
//! retried under their policy and end with a 9008 notification each, never lost.
//!
//! The latency bound asserted (well under one attempt timeout) proves isolation, not speed:
//! were the healthy messages held behind the hanging ones, they would wait a whole attempt
//! timeout at least. The measured p50/p99 are printed; `make load` measures speed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_tests::api::{client, letter, oauth2_endpoint, participant, short_routing_id, unique_rcpid};
use switchyard_tests::receiver::Receiver;

const SECONDS: u64 = 5;
const HEALTHY_PER_SEC: u64 = 100;
const HANGING_PER_SEC: u64 = 20;
const POLICY_SECONDS: u32 = 8;
/// Far below the 3 s attempt timeout a message held behind a hanging push would wait.
const ISOLATED_P99: Duration = Duration::from_millis(1500);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[test]
fn e2e_a_hanging_recipient_does_not_delay_another() {
    let hub = switchyard_tests::hub();
    let rid = short_routing_id(hub, "Request", POLICY_SECONDS);
    let (sender_box, healthy, hanging) = (Receiver::start(), Receiver::start(), Receiver::start());
    hanging.delay_answers(Duration::from_secs(30));
    let (sender, healthy_id, hanging_id) = (unique_rcpid(), unique_rcpid(), unique_rcpid());
    for (id, rx) in [(&sender, &sender_box), (&healthy_id, &healthy), (&hanging_id, &hanging)] {
        participant(hub, id, &[("OTS", "ACTIVE")]);
        oauth2_endpoint(hub, id, rx);
    }
    let (client_id, secret) = client(hub, &json!({
        "identities": [{ "listType": "RCPID", "id": sender }],
        "networks": ["127.0.0.0/8", "::1/128"],
        "routingIDs": [rid]
    }));
    let token = hub.token(&client_id, &secret);

    // Every sixth message goes to the hanging recipient: 100/s and 20/s, paced from t0.
    let total = (HEALTHY_PER_SEC + HANGING_PER_SEC) * SECONDS;
    let interval = Duration::from_secs(1).div_f64((HEALTHY_PER_SEC + HANGING_PER_SEC) as f64);
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let t0 = Instant::now() + Duration::from_millis(200);
    let threads = 6u64;
    std::thread::scope(|s| {
        for t in 0..threads {
            let (sent, token, rid, sender, healthy_id, hanging_id) = (sent.clone(), &token, &rid, &sender, &healthy_id, &hanging_id);
            s.spawn(move || {
                for i in (t..total).step_by(threads as usize) {
                    let at = t0 + interval * i as u32;
                    if let Some(wait) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let to = if i % 6 == 5 { hanging_id } else { healthy_id };
                    let corr = format!("iso-{i}");
                    let body = letter(sender, to, rid, &corr, None);
                    let started = Instant::now();
                    let r = hub.post_letter("v2", token, &body);
                    assert_eq!(r.status, 202, "{}", r.text());
                    sent.lock().unwrap().insert(corr, started);
                }
            });
        }
    });

    let healthy_count = (HEALTHY_PER_SEC * SECONDS) as usize;
    let hanging_count = (HANGING_PER_SEC * SECONDS) as usize;
    let arrived = healthy.wait_for(healthy_count, Duration::from_secs(30));
    let sent = sent.lock().unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut latencies = Vec::new();
    for a in &arrived {
        let corr = a.json()["envelope"]["source"]["correlationID"].as_str().unwrap_or_default().to_string();
        let started = *sent.get(&corr).unwrap_or_else(|| panic!("unknown message {corr} at the healthy recipient"));
        latencies.push(a.at.saturating_duration_since(started));
        *seen.entry(corr).or_default() += 1;
    }
    assert_eq!(seen.len(), healthy_count, "every message to the healthy recipient arrives");
    assert!(seen.values().all(|n| *n == 1), "each exactly once");
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
    eprintln!("isolation: healthy recipient p50 {p50:?}, p99 {p99:?}, max {:?} over {} messages", latencies[latencies.len() - 1], latencies.len());
    assert!(p99 < ISOLATED_P99, "the healthy recipient waited behind the hanging one: p99 {p99:?}");

    // The hanging recipient's messages: retried until their policy ends, then 9008 each.
    let notes = sender_box.wait_for(hanging_count, Duration::from_secs(POLICY_SECONDS as u64 + 40));
    let mut codes: HashMap<String, String> = HashMap::new();
    for n in &notes {
        let v = n.json();
        codes.insert(v["envelope"]["destination"]["correlationID"].as_str().unwrap_or_default().into(), v["messageDeliveryFailure"]["code"].as_str().unwrap_or_default().into());
    }
    assert_eq!(codes.len(), hanging_count, "one notification per message to the hanging recipient");
    assert!(codes.values().all(|c| c == "9008"), "{codes:?}");
}
