//! The outbox on Cloudflare: a Durable Object with SQLite storage per shard
//! (`switchyard_core::common::broker`). A put writes the job's row and, when it is due, starts
//! its push at once; an alarm wakes the shard for retries that fall due later, and, while
//! pushes are in flight, after the outbox grace (a push that died with the host is then
//! pushed again). Pushes run concurrently, each bounded by the delivery timeout, at most
//! `MAX_IN_FLIGHT` per shard and `MAX_IN_FLIGHT_PER_RECIPIENT` per recipient, so a hanging
//! recipient never holds the others' messages. The rows are the broker: nothing is queued
//! anywhere else.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use switchyard_core::common::broker::{sql, Ack, HOST_RETRY_MS, MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_RECIPIENT};
use switchyard_core::ports::{Outbox, PortError, PortResult};
use worker::{Env, Method, ObjectNamespace, Request, RequestInit, Response, SqlStorageValue as V, State};

use crate::CfHost;

/// How a shard runs one job: the deliver function's `run_job`, boxed.
pub type RunJob = for<'a> fn(&'a CfHost, &'a [u8], Option<Vec<u8>>) -> Pin<Box<dyn Future<Output = Ack> + 'a>>;

fn err(e: impl std::fmt::Display) -> PortError {
    PortError::new(e.to_string())
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The outbox port: puts go to the shard's Durable Object; inside a shard's own object, to
/// its storage directly.
pub struct CfOutbox {
    ns: ObjectNamespace,
    local: Option<Weak<Shard>>,
    generation: crate::Generation,
}

impl CfOutbox {
    pub fn new(ns: ObjectNamespace, local: Option<Weak<Shard>>, generation: crate::Generation) -> Self {
        CfOutbox { ns, local, generation }
    }

    fn local_for(&self, shard: &str) -> Option<Rc<Shard>> {
        self.local.as_ref().and_then(Weak::upgrade).filter(|s| s.name.borrow().as_deref() == Some(shard))
    }

    async fn call(&self, shard: &str, op: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> PortResult<()> {
        let stub = self.ns.id_from_name(shard).map_err(err)?.get_stub().map_err(err)?;
        let h = worker::Headers::new();
        h.set("x-shard", shard).map_err(err)?;
        for (k, v) in headers {
            h.set(k, v).map_err(err)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(h);
        if let Some(b) = body {
            init.with_body(Some(js_sys::Uint8Array::from(b.as_slice()).into()));
        }
        let req = Request::new_with_init(&format!("https://outbox.internal/{op}"), &init).map_err(err)?;
        let mut resp = stub.fetch_with_request(req).await.map_err(err)?;
        match resp.status_code() {
            200 => Ok(()),
            s => Err(PortError::new(format!("outbox shard {shard} answered {s}: {}", resp.text().await.unwrap_or_default()))),
        }
    }
}

impl Outbox for CfOutbox {
    async fn put(&self, shard: &str, recipient: &str, message_id: &str, job_json: &str, payload: Option<&[u8]>, due_at_ms: u64) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.put(recipient, message_id, job_json, payload, due_at_ms as i64, None).await.map_err(err);
        }
        // Body: the job's JSON (one line), then the payload's bytes.
        let mut body = Vec::with_capacity(job_json.len() + 1 + payload.map_or(0, <[u8]>::len));
        body.extend_from_slice(job_json.as_bytes());
        body.push(b'\n');
        body.extend_from_slice(payload.unwrap_or_default());
        let due = due_at_ms.to_string();
        let has = if payload.is_some() { "1" } else { "0" };
        let mut headers = vec![("x-recipient", recipient), ("x-id", message_id), ("x-due", due.as_str()), ("x-payload", has)];
        // The push this put starts works with the configuration the ingest saw.
        let generation = crate::known_generation(&self.generation);
        if let Some(g) = generation.as_deref() {
            headers.push((crate::GENERATION_HEADER, g));
        }
        self.call(shard, "put", &headers, Some(body)).await
    }

    async fn remove(&self, shard: &str, message_id: &str) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.remove(message_id).map_err(err);
        }
        self.call(shard, "remove", &[("x-id", message_id)], None).await
    }

    async fn resume(&self, shard: &str) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.pump().await.map_err(err);
        }
        self.call(shard, "resume", &[], None).await
    }
}

/// One shard's object: its storage, and in memory the pushes in flight.
pub struct Shard {
    state: State,
    env: Env,
    run_job: RunJob,
    me: RefCell<Weak<Shard>>,

    name: RefCell<Option<String>>,
    /// id -> recipient of every push in flight.
    in_flight: RefCell<HashMap<String, String>>,
    per_recipient: RefCell<HashMap<String, usize>>,
    /// Due jobs were left unstarted because a cap was reached: start them as pushes end.
    starved: Cell<bool>,
    /// The alarm as this instance last set it.
    alarm_at: Cell<Option<i64>>,
    grace_ms: i64,
}

const META_NAME: &str = "CREATE TABLE IF NOT EXISTS shard (k TEXT PRIMARY KEY, v TEXT NOT NULL)";

impl Shard {
    pub fn new(state: State, env: Env, run_job: RunJob) -> Rc<Shard> {
        let sql = state.storage().sql();
        for stmt in sql::SCHEMA.split(';').chain([META_NAME]) {
            if let Err(e) = sql.exec(stmt, None) {
                worker::console_error!("outbox schema: {e}");
            }
        }
        let name = sql.exec("SELECT v FROM shard WHERE k = 'name'", None).ok().and_then(|c| c.raw().next()).and_then(|r| r.ok()).and_then(|r| match r.into_iter().next() {
            Some(V::String(s)) => Some(s),
            _ => None,
        });
        let grace_ms = switchyard_core::host::Host::settings(&CfHost::from_env(&env)).outbox_grace_ms as i64;
        let shard = Rc::new(Shard {
            state,
            env,
            run_job,
            me: RefCell::new(Weak::new()),
            name: RefCell::new(name),
            in_flight: RefCell::new(HashMap::new()),
            per_recipient: RefCell::new(HashMap::new()),
            starved: Cell::new(false),
            alarm_at: Cell::new(None),
            grace_ms,
        });
        *shard.me.borrow_mut() = Rc::downgrade(&shard);
        shard
    }

    fn rc(&self) -> Rc<Shard> {
        self.me.borrow().upgrade().expect("a shard outlives its calls")
    }

    /// A push's host: one per push, so each reads the configuration generation afresh.
    fn host(&self) -> CfHost {
        CfHost::in_shard(&self.env, self.me.borrow().clone())
    }

    /// Starts the push of one job (the caller checked the caps).
    /// `generation`: the configuration generation the ingest read, when it came with the put.
    fn start(&self, id: String, recipient: String, job: String, payload: Option<Vec<u8>>, generation: Option<String>) {
        self.in_flight.borrow_mut().insert(id.clone(), recipient.clone());
        *self.per_recipient.borrow_mut().entry(recipient).or_insert(0) += 1;
        let me = self.rc();
        wasm_bindgen_futures::spawn_local(async move { me.push(id, job, payload, generation).await });
    }

    fn has_room_for(&self, recipient: &str) -> bool {
        self.in_flight.borrow().len() < MAX_IN_FLIGHT
            && self.per_recipient.borrow().get(recipient).copied().unwrap_or(0) < MAX_IN_FLIGHT_PER_RECIPIENT
    }

    fn remember_name(&self, shard: &str) {
        if self.name.borrow().as_deref() != Some(shard) {
            *self.name.borrow_mut() = Some(shard.to_string());
            let _ = self.state.storage().sql().exec("INSERT OR REPLACE INTO shard (k, v) VALUES ('name', ?1)", vec![V::from(shard)]);
        }
    }

    /// The object's fetch: `put`, `remove` and `resume` from other Workers.
    pub async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let h = |name: &str| req.headers().get(name).ok().flatten().unwrap_or_default();
        let shard = h("x-shard");
        if shard.is_empty() {
            return Response::error("x-shard is required", 400);
        }
        self.remember_name(&shard);
        let result = match req.path().as_str() {
            "/put" => {
                let (recipient, id, with_payload) = (h("x-recipient"), h("x-id"), h("x-payload") == "1");
                let due: i64 = h("x-due").parse().unwrap_or(0);
                let body = req.bytes().await?;
                let Some(split) = body.iter().position(|b| *b == b'\n') else {
                    return Response::error("the body starts with the job's JSON line", 400);
                };
                let job = std::str::from_utf8(&body[..split]).map_err(|e| worker::Error::RustError(e.to_string()))?;
                let payload = with_payload.then(|| &body[split + 1..]);
                let generation = req.headers().get(crate::GENERATION_HEADER).ok().flatten();
                self.put(&recipient, &id, job, payload, due, generation).await
            }
            "/remove" => self.remove(&h("x-id")),
            "/resume" => self.pump().await,
            _ => return Response::error("Not Found", 404),
        };
        match result {
            Ok(()) => Response::ok(""),
            Err(e) => Response::error(e.to_string(), 500),
        }
    }

    /// The alarm: a retry fell due, or pushes were in flight for the whole grace.
    pub async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_at.set(None);
        self.pump().await?;
        Response::ok("")
    }

    async fn put(&self, recipient: &str, id: &str, job: &str, payload: Option<&[u8]>, due: i64, generation: Option<String>) -> worker::Result<()> {
        let stored = payload.map_or(V::Null, |p| V::Blob(p.to_vec()));
        self.state.storage().sql().exec(sql::PUT, vec![V::from(id), V::from(recipient), V::from(due), V::from(job), stored])?;
        let now = now_ms();
        if self.in_flight.borrow().contains_key(id) || due > now {
            // A retry (written by its own push, or later than now): wake up when it falls due.
            return self.wake_by(due).await;
        }
        match payload {
            // A new message with everything at hand: push it now, no read back.
            Some(p) if self.has_room_for(recipient) => {
                self.start(id.to_string(), recipient.to_string(), job.to_string(), Some(p.to_vec()), generation);
                self.arm(now).await
            }
            _ => self.pump().await,
        }
    }

    fn remove(&self, id: &str) -> worker::Result<()> {
        self.state.storage().sql().exec(sql::REMOVE, vec![V::from(id)])?;
        Ok(())
    }

    async fn wake_by(&self, at: i64) -> worker::Result<()> {
        if self.alarm_at.get().is_none_or(|a| a > at) {
            self.state.storage().set_alarm(worker::ScheduledTime::new(js_sys::Date::new(&(at.max(now_ms()) as f64).into()))).await?;
            self.alarm_at.set(Some(at));
        }
        Ok(())
    }

    /// Starts a push for every due job not in flight, within the caps, then makes sure the
    /// shard wakes up again when it must.
    pub async fn pump(&self) -> worker::Result<()> {
        let now = now_ms();
        let sql = self.state.storage().sql();
        let limit = (MAX_IN_FLIGHT + self.in_flight.borrow().len()) as i64;
        let due: Vec<Vec<V>> = sql.exec(sql::DUE, vec![V::from(now), V::from(limit)])?.raw().collect::<worker::Result<_>>()?;
        let mut starved = false;
        for row in due {
            let (Some(V::String(id)), Some(V::String(recipient))) = (row.first().cloned(), row.get(1).cloned()) else { continue };
            if self.in_flight.borrow().contains_key(&id) {
                continue;
            }
            if !self.has_room_for(&recipient) {
                starved = true;
                if self.in_flight.borrow().len() >= MAX_IN_FLIGHT {
                    break;
                }
                continue;
            }
            let loaded: Option<Vec<V>> = sql.exec(sql::LOAD, vec![V::from(id.as_str())])?.raw().next().transpose()?;
            let Some(mut cols) = loaded else { continue };
            let payload = match cols.pop() {
                Some(V::Blob(b)) => Some(b),
                _ => None,
            };
            let Some(V::String(job)) = cols.pop() else { continue };
            self.start(id, recipient, job, payload, None);
        }
        self.starved.set(starved);
        self.arm(now).await
    }

    /// Keeps an alarm set: at the earliest due time of a job not in flight, and within the
    /// grace while pushes are in flight or jobs wait for a free place.
    async fn arm(&self, now: i64) -> worker::Result<()> {
        let fallback = (!self.in_flight.borrow().is_empty() || self.starved.get()).then_some(now + self.grace_ms);
        if let Some(a) = self.alarm_at.get() {
            if fallback.is_none_or(|f| a <= f) {
                return Ok(());
            }
        }
        let limit = (self.in_flight.borrow().len() + 1) as i64;
        let rows: Vec<Vec<V>> = self.state.storage().sql().exec(sql::NEXT, vec![V::from(limit)])?.raw().collect::<worker::Result<_>>()?;
        let next = rows.into_iter().find_map(|r| match (r.first(), r.get(1)) {
            (Some(V::String(id)), Some(V::Integer(due))) if !self.in_flight.borrow().contains_key(id) => Some(*due),
            _ => None,
        });
        // A due job left unstarted is started as a push ends, not by the alarm.
        let next = next.map(|d| if d <= now && self.starved.get() { now + self.grace_ms } else { d });
        match [next, fallback].into_iter().flatten().min() {
            Some(at) => self.wake_by(at).await,
            None => Ok(()),
        }
    }

    async fn push(self: Rc<Self>, id: String, job: String, payload: Option<Vec<u8>>, generation: Option<String>) {
        let host = self.host();
        if let Some(g) = generation {
            crate::assume_generation(host.generation(), &g);
        }
        let ack = (self.run_job)(&host, job.as_bytes(), payload).await;
        if ack == Ack::Retry {
            let at = now_ms() + HOST_RETRY_MS as i64;
            if let Err(e) = self.state.storage().sql().exec(sql::POSTPONE, vec![V::from(id.as_str()), V::from(at)]) {
                worker::console_error!("outbox: postponing {id}: {e}");
            }
            let _ = self.wake_by(at).await;
        }
        if let Some(recipient) = self.in_flight.borrow_mut().remove(&id) {
            let mut counts = self.per_recipient.borrow_mut();
            if let Some(n) = counts.get_mut(&recipient) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&recipient);
                }
            }
        }
        if self.starved.get() {
            if let Err(e) = self.pump().await {
                worker::console_error!("outbox pump: {e}");
            }
        }
    }
}
