//! Nothing acknowledged is ever lost. Messages are posted under load; the whole hub process
//! group (workerd included) is killed with SIGKILL mid-stream and restarted on the same state
//! directory; every message that got a 202 must still reach its recipient. After the restart
//! the senders write to a second recipient whose jobs live in another outbox shard, so the
//! first recipient's unfinished jobs are resumed by their shard's own alarm, with no traffic
//! to wake it. Duplicates are allowed (delivery is at least once: a push that reached the
//! recipient just before the kill is pushed again) and reported, with the time the backlog
//! took to drain after the restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_tests::api::{call, client, letter, unique_rcpid, MATCH_REQUEST};
use switchyard_core::common::broker::shard_of;
use switchyard_core::host::DEFAULT_OUTBOX_SHARDS;
use switchyard_tests::hub::{HubProcess, Hub};
use switchyard_tests::Receiver;

const SENDERS: usize = 6;
const BEFORE_KILL: Duration = Duration::from_secs(4);
const AFTER_RESTART: Duration = Duration::from_secs(3);
const DRAIN: Duration = Duration::from_secs(90);

fn hub_at(base: &str, admin_token: &str) -> Hub {
    Hub { base: base.to_string(), admin_token: admin_token.to_string(), signing_key_pem: None, log: None }
}

#[test]
fn e2e_crash_loses_no_acknowledged_message() {
    let dir = std::env::temp_dir().join(format!("switchyard-crash-{}-{}", std::process::id(), unique_rcpid()));
    let admin = "crash-test-admin-token-0001";
    // Re-send lost jobs soon after they are due, so the test drains in seconds.
    let mut process = HubProcess::start(&dir, admin, &[("SWITCHYARD_OUTBOX_GRACE_SECS", "3".into())]);
    let hub = hub_at(&process.base, admin);
    let seed = std::fs::read(switchyard_tests::hub::root().join("infra/seed/demo.json")).unwrap();
    assert_eq!(call("POST", &hub.url("/admin/v1/apply"), &[("authorization", &format!("Bearer {admin}"))], &seed).status, 200);

    let receiver = Receiver::start();
    // Slow answers keep pushes in flight when the hub dies: those must be resumed after it.
    receiver.delay_answers(Duration::from_millis(300));
    let (sender, recipient) = (unique_rcpid(), unique_rcpid());
    let shard = |id: &str| shard_of(("RCPID", id), DEFAULT_OUTBOX_SHARDS);
    let after = std::iter::repeat_with(unique_rcpid).find(|id| shard(id) != shard(&recipient)).unwrap();
    for id in [&sender, &recipient, &after] {
        let entry = json!({ "name": id, "processSupport": [{ "process": "OTS", "status": "ACTIVE" }] });
        assert_eq!(hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}"), &entry).status, 200);
    }
    let endpoint = json!({ "url": receiver.url("/letterbox/v2/post"), "auth": { "type": "none" } });
    for id in [&recipient, &after] {
        assert_eq!(hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}/endpoint"), &endpoint).status, 200);
    }
    let (id, secret) = client(&hub, &json!({ "identities": [{ "listType": "RCPID", "id": sender }], "routingIDs": [MATCH_REQUEST] }));
    let token = hub.token(&id, &secret);

    let base = Arc::new(RwLock::new(process.base.clone()));
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let refused = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|n| {
            let (base, accepted, refused, stop, token) = (base.clone(), accepted.clone(), refused.clone(), stop.clone(), token.clone());
            let (sender, recipient, after, restarted) = (sender.clone(), recipient.clone(), after.clone(), restarted.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let corr = format!("crash-{n}-{i}");
                    let url = format!("{}/letterbox/v2/post", base.read().unwrap());
                    let to = if restarted.load(Ordering::SeqCst) { &after } else { &recipient };
                    let body = letter(&sender, to, MATCH_REQUEST, &corr, None);
                    let auth = format!("Bearer {token}");
                    let res = ureq::post(&url).timeout(Duration::from_secs(10)).set("authorization", &auth).send_bytes(&body);
                    match res {
                        Ok(r) if r.status() == 202 => accepted.lock().unwrap().push(corr),
                        _ => {
                            *refused.lock().unwrap() += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(BEFORE_KILL);
    let at_kill = accepted.lock().unwrap().len();
    let arrived_at_kill = receiver.letters().len();
    process.kill_hard();
    let killed_at = Instant::now();
    restarted.store(true, Ordering::SeqCst);
    process.spawn();
    let restart = killed_at.elapsed();
    let up_at = Instant::now();
    *base.write().unwrap() = process.base.clone();
    std::thread::sleep(AFTER_RESTART);
    stop.store(true, Ordering::SeqCst);
    senders.into_iter().for_each(|t| t.join().unwrap());

    let accepted = accepted.lock().unwrap().clone();
    let deadline = Instant::now() + DRAIN;
    let mut drained = None;
    let counts = loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for a in receiver.letters() {
            let corr = a.json()["envelope"]["source"]["correlationID"].as_str().unwrap_or("").to_string();
            *counts.entry(corr).or_default() += 1;
        }
        if accepted.iter().all(|c| counts.contains_key(c)) {
            drained = Some(up_at.elapsed());
            break counts;
        }
        if Instant::now() > deadline {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lost: Vec<&String> = accepted.iter().filter(|c| !counts.contains_key(*c)).collect();
    let duplicates: usize = accepted.iter().filter_map(|c| counts.get(c)).map(|n| n - 1).sum();
    eprintln!(
        "crash test: {} accepted ({at_kill} before the kill, {arrived_at_kill} of them delivered by then), {} refused while down, \
         restart took {:.1} s, {} lost, {duplicates} duplicates, everything delivered {} after the restart",
        accepted.len(),
        refused.lock().unwrap(),
        restart.as_secs_f64(),
        lost.len(),
        drained.map_or("never".to_string(), |d| format!("{:.1} s", d.as_secs_f64()))
    );
    assert!(at_kill > 0 && accepted.len() > at_kill, "load ran on both sides of the crash");
    assert!(lost.is_empty(), "{} acknowledged messages lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
}
