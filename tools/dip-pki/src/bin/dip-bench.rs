//! `dip-bench`: signed DIP load for infra/bench/dip.py and dip_delivery.py. Sends batches of
//! BATCH copies of a generated message (each with a fresh senderUniqueReference), each request
//! signed as a participant signs it, over CONNECTIONS threads for SECONDS, and prints one JSON
//! line: requests, messages, statuses and latency percentiles.
//!
//! ```text
//! dip-bench BASE PATH MESSAGE_FILE SENDER ROLE API_KEY KEY_PEM CERT_PEM BATCH CONNECTIONS SECONDS
//!           [--break-certificate] [--rate MESSAGES_PER_SECOND] [--records FILE]
//! ```
//! MESSAGE_FILE is `dip-message` output; `--break-certificate` sends a certificate header that
//! does not decode (the hub refuses it before any RSA work).
//!
//! Without `--rate` the load is a closed loop: each thread sends its next request when the last
//! one is answered. With `--rate` it is an open loop: request i is due at i * BATCH / RATE
//! seconds and starts then, whatever is still unanswered, as long as one of the CONNECTIONS
//! threads is free (the bound on requests in flight); a request that finds none free starts
//! late, and one that could not start within SECONDS is not sent ("unsent"). `--records` writes
//! one JSON line per message sent: its senderUniqueReference, the transactionID the hub gave it
//! (null if refused), the request's status, and when it was due, sent and answered (Unix
//! seconds, the clock a receiver on the same machine reads).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

const USAGE: &str = "usage: dip-bench BASE PATH MESSAGE_FILE SENDER ROLE API_KEY KEY_PEM CERT_PEM BATCH CONNECTIONS SECONDS \
                     [--break-certificate] [--rate MESSAGES_PER_SECOND] [--records FILE]";
/// Longer than any answer the hub gives under load: a request is an error only if it fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

fn new_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// What one request carried and got.
struct Sent {
    /// Unix seconds: when it was due (open loop only), sent and answered.
    due: Option<f64>,
    sent: f64,
    answered: f64,
    status: u16,
    /// Why no answer came (status 0).
    error: Option<String>,
    /// Per message: its senderUniqueReference and the transactionID of its response item.
    messages: Vec<(String, Option<String>)>,
}

/// The signed batches one run sends.
struct Load {
    url: String,
    message: Value,
    sender: String,
    role: String,
    api_key: String,
    key: String,
    certificate: String,
    batch: usize,
    broken: bool,
    channel: String,
    start: Instant,
    start_unix: f64,
    counter: AtomicU64,
}

impl Load {
    fn unix(&self, at: Instant) -> f64 {
        self.start_unix + at.duration_since(self.start).as_secs_f64()
    }

    /// Builds, signs (now: 10.5 freshness) and sends one batch.
    fn send(&self, agent: &ureq::Agent, due: Option<Instant>) -> Sent {
        let date = switchyard_core::common::time::compact_date(now_ms());
        let surs: Vec<String> = (0..self.batch)
            .map(|_| {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let (channel, sender, role) = (&self.channel, &self.sender, &self.role);
                format!("S-{channel}-{sender}-{role}-{date}-b{}n{n}", self.start.elapsed().as_nanos())
            })
            .collect();
        let messages: Vec<Value> = surs
            .iter()
            .map(|sur| {
                let mut m = self.message.clone();
                m["CommonBlock"]["S1"]["senderUniqueReference"] = json!(sur);
                json!({ "payload": m })
            })
            .collect();
        let body = serde_json::to_vec(&messages).unwrap();
        let mut req = agent.post(&self.url).set("x-api-key", &self.api_key).set("content-type", "application/json");
        for (k, v) in dip_pki::sign(&self.key, &self.certificate, "POST", &self.url, &body, now_ms()) {
            let broken_header = self.broken && k.eq_ignore_ascii_case("X-DIP-Signature-Certificate");
            req = req.set(&k, if broken_header { "not-a-certificate" } else { &v });
        }
        let sent = Instant::now();
        let (status, answer, error) = match req.send_bytes(&body) {
            Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap_or_default(), None),
            Err(e) => (0, String::new(), Some(e.to_string())),
        };
        let answered = Instant::now();
        // The StandardResponse names each message by its senderUniqueReference.
        let items: Vec<Value> = serde_json::from_str::<Value>(&answer)
            .ok()
            .and_then(|v| v.get("messageArray").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        let transaction_of = |sur: &str| {
            items
                .iter()
                .find(|i| i.get("senderUniqueReference").and_then(Value::as_str) == Some(sur))
                .and_then(|i| i.get("transactionID").and_then(Value::as_str))
                .map(String::from)
        };
        Sent {
            due: due.map(|d| self.unix(d)),
            sent: self.unix(sent),
            answered: self.unix(answered),
            status,
            error,
            messages: surs.iter().map(|s| (s.clone(), transaction_of(s))).collect(),
        }
    }
}

fn percentiles(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let pct = |p: f64| values.get(((values.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    json!({ "p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": values.last().copied().unwrap_or(0.0) })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 11 {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let message: Value = serde_json::from_slice(&std::fs::read(&args[2]).expect("MESSAGE_FILE")).expect("message JSON");
    let message = message.get(0).and_then(|m| m.get("payload")).cloned().unwrap_or(message);
    let channel = message.pointer("/CommonBlock/S0/interfaceID").and_then(Value::as_str).unwrap_or("IF-021").to_string();
    let connections: usize = args[9].parse().expect("CONNECTIONS");
    let seconds: f64 = args[10].parse().expect("SECONDS");
    let rate: Option<f64> = option("--rate").map(|r| r.parse().expect("--rate MESSAGES_PER_SECOND"));
    let load = Load {
        url: format!("{}{}", args[0], args[1]),
        message,
        sender: args[3].clone(),
        role: args[4].clone(),
        api_key: args[5].clone(),
        key: std::fs::read_to_string(&args[6]).expect("KEY_PEM"),
        certificate: std::fs::read_to_string(&args[7]).expect("CERT_PEM"),
        batch: args[8].parse().expect("BATCH"),
        broken: args.iter().any(|a| a == "--break-certificate"),
        channel,
        start: Instant::now(),
        start_unix: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
        counter: AtomicU64::new(0),
    };

    // Open loop: the interval between requests' due times, and the number due in the window.
    let interval = rate.map(|r| Duration::from_secs_f64(load.batch as f64 / r));
    let offered = interval.map(|i| (seconds / i.as_secs_f64()).ceil() as u64);
    let results = Mutex::new(Vec::<Sent>::new());
    let next_slot = AtomicU64::new(0);
    let deadline = load.start + Duration::from_secs_f64(seconds);
    std::thread::scope(|s| {
        for _ in 0..connections {
            s.spawn(|| {
                let mut agent = new_agent();
                loop {
                    let due = interval.map(|i| load.start + i.mul_f64(next_slot.fetch_add(1, Ordering::Relaxed) as f64));
                    if due.is_some_and(|d| d >= deadline) {
                        break;
                    }
                    if let Some(d) = due {
                        std::thread::sleep(d.saturating_duration_since(Instant::now()));
                    }
                    if Instant::now() >= deadline {
                        break; // the window is over: a slot that found no free thread is not sent
                    }
                    if due.is_some() {
                        // Open loop: a connection per request. The local runtime closes keep-alive
                        // connections left idle (5 s, sooner under load), and a request sent on one
                        // as it closes is reset unanswered.
                        agent = new_agent();
                    }
                    let sent = load.send(&agent, due);
                    results.lock().unwrap().push(sent);
                }
            });
        }
    });
    let elapsed = load.start.elapsed().as_secs_f64();
    let results = results.into_inner().unwrap();

    if let Some(path) = option("--records") {
        let mut lines = String::new();
        for r in &results {
            for (sur, transaction) in &r.messages {
                let line = json!({ "senderUniqueReference": sur, "transactionID": transaction, "status": r.status,
                                   "due": r.due, "sent": r.sent, "answered": r.answered });
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
        }
        std::fs::write(&path, lines).expect("--records FILE");
    }
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let mut errors = std::collections::BTreeMap::<&str, usize>::new();
    results.iter().for_each(|r| *statuses.entry(r.status.to_string()).or_default() += 1);
    results.iter().filter_map(|r| r.error.as_deref()).for_each(|e| *errors.entry(e).or_default() += 1);
    let mut summary = json!({
        "requests": results.len(), "messages": results.len() * load.batch, "seconds": elapsed, "batch": load.batch,
        "connections": connections, "requests_per_second": results.len() as f64 / elapsed,
        "messages_per_second": (results.len() * load.batch) as f64 / elapsed,
        "latency_ms": percentiles(results.iter().map(|r| (r.answered - r.sent) * 1000.0).collect()), "statuses": statuses,
        "errors": errors,
    });
    if let (Some(rate), Some(offered)) = (rate, offered) {
        // How far the open loop kept its schedule: requests started late while every thread was busy.
        summary["offered_rate"] = json!(rate);
        summary["offered_requests"] = json!(offered);
        summary["unsent_requests"] = json!(offered.saturating_sub(results.len() as u64));
        summary["start_lag_ms"] = percentiles(results.iter().filter_map(|r| r.due.map(|d| (r.sent - d) * 1000.0)).collect());
    }
    println!("{summary}");
}
