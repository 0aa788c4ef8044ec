//! `dip-bench`: signed DIP load for infra/bench/dip.py. Sends batches of BATCH copies of a
//! generated message (each with a fresh senderUniqueReference), each request signed as a
//! participant signs it, over CONNECTIONS threads for SECONDS, and prints one JSON line:
//! requests, messages, statuses and latency percentiles.
//!
//! ```text
//! dip-bench BASE PATH MESSAGE_FILE SENDER ROLE API_KEY KEY_PEM CERT_PEM BATCH CONNECTIONS SECONDS [--break-certificate]
//! ```
//! MESSAGE_FILE is `dip-message` output; `--break-certificate` sends a certificate header that
//! does not decode (the hub refuses it before any RSA work).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const USAGE: &str = "usage: dip-bench BASE PATH MESSAGE_FILE SENDER ROLE API_KEY KEY_PEM CERT_PEM BATCH CONNECTIONS SECONDS [--break-certificate]";

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 11 {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    let url = format!("{}{}", args[0], args[1]);
    let message: Value = serde_json::from_slice(&std::fs::read(&args[2]).expect("MESSAGE_FILE")).expect("message JSON");
    let message = message.get(0).and_then(|m| m.get("payload")).cloned().unwrap_or(message);
    let (sender, role, api_key) = (&args[3], &args[4], &args[5]);
    let key = std::fs::read_to_string(&args[6]).expect("KEY_PEM");
    let certificate = std::fs::read_to_string(&args[7]).expect("CERT_PEM");
    let batch: usize = args[8].parse().expect("BATCH");
    let connections: usize = args[9].parse().expect("CONNECTIONS");
    let seconds: f64 = args[10].parse().expect("SECONDS");
    let broken = args.get(11).is_some_and(|a| a == "--break-certificate");
    let channel = message.pointer("/CommonBlock/S0/interfaceID").and_then(Value::as_str).unwrap_or("IF-021").to_string();

    let results = Mutex::new(Vec::<(u16, f64)>::new());
    let counter = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    std::thread::scope(|s| {
        for _ in 0..connections {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
                while Instant::now() < deadline {
                    let date = switchyard_core::common::time::compact_date(now_ms());
                    let messages: Vec<Value> = (0..batch)
                        .map(|_| {
                            let n = counter.fetch_add(1, Ordering::Relaxed);
                            let mut m = message.clone();
                            m["CommonBlock"]["S1"]["senderUniqueReference"] =
                                json!(format!("S-{channel}-{sender}-{role}-{date}-b{}n{n}", start.elapsed().as_nanos()));
                            json!({ "payload": m })
                        })
                        .collect();
                    let body = serde_json::to_vec(&messages).unwrap();
                    let mut req = agent.post(&url).set("x-api-key", api_key).set("content-type", "application/json");
                    for (k, v) in dip_pki::sign(&key, &certificate, "POST", &url, &body, now_ms()) {
                        let broken_header = broken && k.eq_ignore_ascii_case("X-DIP-Signature-Certificate");
                        req = req.set(&k, if broken_header { "not-a-certificate" } else { &v });
                    }
                    let sent = Instant::now();
                    let status = match req.send_bytes(&body) {
                        Ok(r) | Err(ureq::Error::Status(_, r)) => {
                            let s = r.status();
                            let _ = r.into_string();
                            s
                        }
                        Err(_) => 0,
                    };
                    results.lock().unwrap().push((status, sent.elapsed().as_secs_f64() * 1000.0));
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let results = results.into_inner().unwrap();
    let mut latencies: Vec<f64> = results.iter().map(|r| r.1).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    results.iter().for_each(|r| *statuses.entry(r.0.to_string()).or_default() += 1);
    println!(
        "{}",
        json!({
            "requests": results.len(), "messages": results.len() * batch, "seconds": elapsed, "batch": batch,
            "connections": connections, "requests_per_second": results.len() as f64 / elapsed,
            "messages_per_second": (results.len() * batch) as f64 / elapsed,
            "latency_ms": { "p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99) }, "statuses": statuses,
        })
    );
}
