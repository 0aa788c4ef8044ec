//! The outbox on Cloudflare: a Durable Object with SQLite storage per shard
//! (`switchyard_core::common::broker`). A put writes the job's row and, when it is due, starts
//! its push at once; an alarm wakes the shard for retries and batches that fall due later, and,
//! while pushes are in flight, after the outbox grace (a push that died with the host is then
//! pushed again). A job of a group is handed out with the group's other due jobs (those still
//! lingering included), one hand-out per group at a time; a held job waits for its release.
//! Hand-outs run concurrently, each bounded by the delivery timeout, at most `MAX_IN_FLIGHT`
//! per shard and `MAX_IN_FLIGHT_PER_RECIPIENT` per recipient, so a hanging recipient never
//! holds the others' messages. The rows are the broker: nothing is queued anywhere else. The
//! shard's small state records (circuit breakers) live beside them.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use switchyard_core::common::broker::{sql, Ack, BATCH_LINGER_MS, HOST_RETRY_MS, MAX_GROUP_BYTES, MAX_GROUP_JOBS, MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_RECIPIENT};
use switchyard_core::ports::{Outbox, OutboxEntry, PortError, PortResult};
use worker::{Env, Method, ObjectNamespace, Request, RequestInit, Response, SqlStorageValue as V, State};

use crate::CfHost;

/// How a shard runs the jobs of one hand-out (each job's JSON and payload, in order): the
/// deliver function's `run_jobs`, boxed. One acknowledgement per job.
pub type RunJobs = for<'a> fn(&'a CfHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Pin<Box<dyn Future<Output = Vec<Ack>> + 'a>>;

fn err(e: impl std::fmt::Display) -> PortError {
    PortError::new(e.to_string())
}

/// The outbox port: calls go to the shard's Durable Object; inside a shard's own object, to
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

    /// One operation on the shard's object: its answer's body (`None`: 404).
    async fn call(&self, shard: &str, op: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> PortResult<Option<String>> {
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
            200 => Ok(Some(resp.text().await.map_err(err)?)),
            404 if op == "state" => Ok(None),
            s => Err(PortError::new(format!("outbox shard {shard} answered {s}: {}", resp.text().await.unwrap_or_default()))),
        }
    }
}

impl Outbox for CfOutbox {
    async fn put(&self, shard: &str, e: &OutboxEntry<'_>) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.put(e, None).await.map_err(err);
        }
        // Body: the job's JSON (one line), then the payload's bytes.
        let mut body = Vec::with_capacity(e.job.len() + 1 + e.payload.map_or(0, <[u8]>::len));
        body.extend_from_slice(e.job.as_bytes());
        body.push(b'\n');
        body.extend_from_slice(e.payload.unwrap_or_default());
        let due = e.due_at_ms.to_string();
        let has = if e.payload.is_some() { "1" } else { "0" };
        let mut headers = vec![("x-recipient", e.recipient), ("x-id", e.id), ("x-due", due.as_str()), ("x-payload", has)];
        if let Some(g) = e.group {
            headers.push(("x-group", g));
        }
        if let Some(h) = e.held {
            headers.push(("x-held", h));
        }
        // The push this put starts works with the configuration the ingest saw.
        let generation = crate::known_generation(&self.generation);
        if let Some(g) = generation.as_deref() {
            headers.push((crate::GENERATION_HEADER, g));
        }
        self.call(shard, "put", &headers, Some(body)).await.map(drop)
    }

    async fn put_many(&self, shard: &str, entries: &[OutboxEntry<'_>]) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            for e in entries {
                local.put(e, None).await.map_err(err)?;
            }
            return Ok(());
        }
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({ "recipient": e.recipient, "id": e.id, "job": e.job, "payload": e.payload.map(|p| b64.encode(p)),
                    "due": e.due_at_ms, "group": e.group, "held": e.held })
            })
            .collect();
        let mut headers = Vec::new();
        let generation = crate::known_generation(&self.generation);
        if let Some(g) = generation.as_deref() {
            headers.push((crate::GENERATION_HEADER, g));
        }
        self.call(shard, "put-many", &headers, Some(serde_json::Value::Array(rows).to_string().into_bytes())).await.map(drop)
    }

    async fn remove(&self, shard: &str, message_id: &str) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.remove(message_id).map_err(err);
        }
        self.call(shard, "remove", &[("x-id", message_id)], None).await.map(drop)
    }

    async fn resume(&self, shard: &str) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.pump().await.map_err(err);
        }
        self.call(shard, "resume", &[], None).await.map(drop)
    }

    async fn release(&self, shard: &str, held: &str) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.release(held).await.map_err(err);
        }
        self.call(shard, "release", &[("x-held", held)], None).await.map(drop)
    }

    async fn state(&self, shard: &str, key: &str) -> PortResult<Option<String>> {
        if let Some(local) = self.local_for(shard) {
            return local.state(key).map_err(err);
        }
        self.call(shard, "state", &[("x-key", key)], None).await
    }

    async fn set_state(&self, shard: &str, key: &str, value: Option<&str>) -> PortResult<()> {
        if let Some(local) = self.local_for(shard) {
            return local.set_state(key, value).map_err(err);
        }
        match value {
            Some(v) => self.call(shard, "set-state", &[("x-key", key)], Some(v.as_bytes().to_vec())).await.map(drop),
            None => self.call(shard, "set-state", &[("x-key", key), ("x-clear", "1")], None).await.map(drop),
        }
    }
}

/// Jobs handed out together: one job alone, or a group's due jobs.
struct HandOut {
    ids: Vec<String>,
    recipient: String,
    group: Option<String>,
}

/// One shard's object: its storage, and in memory the hand-outs in flight.
pub struct Shard {
    state: State,
    env: Env,
    run_jobs: RunJobs,
    me: RefCell<Weak<Shard>>,

    name: RefCell<Option<String>>,
    /// id -> recipient of every job in flight.
    in_flight: RefCell<HashMap<String, String>>,
    /// Hand-outs in flight per recipient.
    per_recipient: RefCell<HashMap<String, usize>>,
    /// Groups with a hand-out in flight: their due jobs wait for it to end.
    groups: RefCell<HashSet<String>>,
    /// Due jobs were left unstarted because a cap was reached: start them as pushes end.
    starved: Cell<bool>,
    /// The alarm as this instance last set it.
    alarm_at: Cell<Option<i64>>,
    grace_ms: i64,
    /// The host clock's offset (development only), so due times read as the core wrote them.
    clock_offset_ms: i64,
}

const META_NAME: &str = "CREATE TABLE IF NOT EXISTS shard (k TEXT PRIMARY KEY, v TEXT NOT NULL)";

impl Shard {
    pub fn new(state: State, env: Env, run_jobs: RunJobs) -> Rc<Shard> {
        let sql = state.storage().sql();
        for stmt in sql::SCHEMA.split(';').chain([META_NAME]) {
            if let Err(e) = sql.exec(stmt, None) {
                worker::console_error!("outbox schema: {e}");
            }
        }
        // A table made before groups and holds gains their columns (an ALTER that finds its
        // column already there fails, as expected).
        for stmt in sql::MIGRATE.split(';') {
            let _ = sql.exec(stmt, None);
        }
        let name = sql.exec("SELECT v FROM shard WHERE k = 'name'", None).ok().and_then(|c| c.raw().next()).and_then(|r| r.ok()).and_then(|r| match r.into_iter().next() {
            Some(V::String(s)) => Some(s),
            _ => None,
        });
        let settings = switchyard_core::host::Host::settings(&CfHost::from_env(&env)).clone();
        let shard = Rc::new(Shard {
            state,
            env,
            run_jobs,
            me: RefCell::new(Weak::new()),
            name: RefCell::new(name),
            in_flight: RefCell::new(HashMap::new()),
            per_recipient: RefCell::new(HashMap::new()),
            groups: RefCell::new(HashSet::new()),
            starved: Cell::new(false),
            alarm_at: Cell::new(None),
            grace_ms: settings.outbox_grace_ms as i64,
            clock_offset_ms: settings.clock_offset_ms as i64,
        });
        *shard.me.borrow_mut() = Rc::downgrade(&shard);
        shard
    }

    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64 + self.clock_offset_ms
    }

    fn rc(&self) -> Rc<Shard> {
        self.me.borrow().upgrade().expect("a shard outlives its calls")
    }

    /// A push's host: one per push, so each reads the configuration generation afresh.
    fn host(&self) -> CfHost {
        CfHost::in_shard(&self.env, self.me.borrow().clone())
    }

    /// Starts one hand-out (the caller checked the caps).
    /// `generation`: the configuration generation the ingest read, when it came with the put.
    fn start(&self, handout: HandOut, jobs: Vec<(Vec<u8>, Option<Vec<u8>>)>, generation: Option<String>) {
        let mut in_flight = self.in_flight.borrow_mut();
        for id in &handout.ids {
            in_flight.insert(id.clone(), handout.recipient.clone());
        }
        drop(in_flight);
        *self.per_recipient.borrow_mut().entry(handout.recipient.clone()).or_insert(0) += 1;
        if let Some(g) = &handout.group {
            self.groups.borrow_mut().insert(g.clone());
        }
        let me = self.rc();
        wasm_bindgen_futures::spawn_local(async move { me.push(handout, jobs, generation).await });
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

    /// The object's fetch: the outbox port's operations from other Workers.
    pub async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let headers = req.headers().clone();
        let h = |name: &str| headers.get(name).ok().flatten();
        let text = |name: &str| h(name).unwrap_or_default();
        let shard = text("x-shard");
        if shard.is_empty() {
            return Response::error("x-shard is required", 400);
        }
        self.remember_name(&shard);
        let result = match req.path().as_str() {
            "/put" => {
                let (recipient, id, with_payload) = (text("x-recipient"), text("x-id"), text("x-payload") == "1");
                let due: u64 = text("x-due").parse().unwrap_or(0);
                let (group, held, generation) = (h("x-group"), h("x-held"), h(crate::GENERATION_HEADER));
                let body = req.bytes().await?;
                let Some(split) = body.iter().position(|b| *b == b'\n') else {
                    return Response::error("the body starts with the job's JSON line", 400);
                };
                let job = std::str::from_utf8(&body[..split]).map_err(|e| worker::Error::RustError(e.to_string()))?;
                let payload = with_payload.then(|| &body[split + 1..]);
                let entry = OutboxEntry { recipient: &recipient, id: &id, job, payload, due_at_ms: due, group: group.as_deref(), held: held.as_deref() };
                self.put(&entry, generation).await
            }
            "/put-many" => {
                let generation = h(crate::GENERATION_HEADER);
                let rows: Vec<serde_json::Value> = req.json().await?;
                self.put_many(&rows, generation).await
            }
            "/remove" => self.remove(&text("x-id")),
            "/resume" => self.pump().await,
            "/release" => self.release(&text("x-held")).await,
            "/state" => {
                return match self.state(&text("x-key"))? {
                    Some(v) => Response::ok(v),
                    None => Response::error("Not Found", 404),
                };
            }
            "/set-state" => {
                let value = if text("x-clear") == "1" { None } else { Some(req.text().await?) };
                self.set_state(&text("x-key"), value.as_deref())
            }
            _ => return Response::error("Not Found", 404),
        };
        match result {
            Ok(()) => Response::ok(""),
            Err(e) => Response::error(e.to_string(), 500),
        }
    }

    /// The alarm: a retry or a batch fell due, or pushes were in flight for the whole grace.
    pub async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_at.set(None);
        self.pump().await?;
        Response::ok("")
    }

    async fn put(&self, e: &OutboxEntry<'_>, generation: Option<String>) -> worker::Result<()> {
        let stored = e.payload.map_or(V::Null, |p| V::Blob(p.to_vec()));
        let opt = |v: Option<&str>| v.map_or(V::Null, V::from);
        let due = e.due_at_ms as i64;
        self.state.storage().sql().exec(sql::PUT, vec![V::from(e.id), V::from(e.recipient), V::from(due), V::from(e.job), stored, opt(e.group), opt(e.held)])?;
        let now = self.now_ms();
        if e.held.is_some() || self.in_flight.borrow().contains_key(e.id) || due > now {
            // Held, a retry (written by its own push), lingering, or later than now: wake up
            // when it falls due (a held job: when its wait ends).
            return self.wake_by(due).await;
        }
        if let Some(group) = e.group {
            // A group with a hand-out in flight takes this job when that hand-out ends.
            if !self.groups.borrow().contains(group) {
                self.start_group(group, e.recipient, generation)?;
            }
            return self.arm(now).await;
        }
        match e.payload {
            // A new message with everything at hand: push it now, no read back.
            Some(p) if self.has_room_for(e.recipient) => {
                let handout = HandOut { ids: vec![e.id.to_string()], recipient: e.recipient.to_string(), group: None };
                self.start(handout, vec![(e.job.as_bytes().to_vec(), Some(p.to_vec()))], generation);
                self.arm(now).await
            }
            _ => self.pump().await,
        }
    }

    /// The rows of one request's jobs for this shard: written, then each handed out or woken
    /// for as [`Shard::put`] would, with one alarm for the lot.
    async fn put_many(&self, rows: &[serde_json::Value], generation: Option<String>) -> worker::Result<()> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = |r: &serde_json::Value, k: &str| r[k].as_str().map(str::to_string);
        for r in rows {
            let payload = match r["payload"].as_str() {
                Some(p) => Some(b64.decode(p).map_err(|e| worker::Error::RustError(e.to_string()))?),
                None => None,
            };
            let (recipient, id, job) = (text(r, "recipient").unwrap_or_default(), text(r, "id").unwrap_or_default(), text(r, "job").unwrap_or_default());
            let (group, held) = (text(r, "group"), text(r, "held"));
            let entry = OutboxEntry {
                recipient: &recipient,
                id: &id,
                job: &job,
                payload: payload.as_deref(),
                due_at_ms: r["due"].as_u64().unwrap_or(0),
                group: group.as_deref(),
                held: held.as_deref(),
            };
            self.put(&entry, generation.clone()).await?;
        }
        Ok(())
    }

    fn remove(&self, id: &str) -> worker::Result<()> {
        self.state.storage().sql().exec(sql::REMOVE, vec![V::from(id)])?;
        Ok(())
    }

    async fn release(&self, held: &str) -> worker::Result<()> {
        self.state.storage().sql().exec(sql::RELEASE, vec![V::from(held), V::from(self.now_ms())])?;
        self.pump().await
    }

    fn state(&self, key: &str) -> worker::Result<Option<String>> {
        let row: Option<Vec<V>> = self.state.storage().sql().exec(sql::STATE, vec![V::from(key)])?.raw().next().transpose()?;
        Ok(row.and_then(|r| match r.into_iter().next() {
            Some(V::String(v)) => Some(v),
            _ => None,
        }))
    }

    fn set_state(&self, key: &str, value: Option<&str>) -> worker::Result<()> {
        let sql = self.state.storage().sql();
        match value {
            Some(v) => sql.exec(sql::SET_STATE, vec![V::from(key), V::from(v)])?,
            None => sql.exec(sql::CLEAR_STATE, vec![V::from(key)])?,
        };
        Ok(())
    }

    async fn wake_by(&self, at: i64) -> worker::Result<()> {
        if self.alarm_at.get().is_none_or(|a| a > at) {
            // The alarm runs on the wall clock: take the clock's offset back out.
            let wall = (at - self.clock_offset_ms).max(js_sys::Date::now() as i64);
            self.state.storage().set_alarm(worker::ScheduledTime::new(js_sys::Date::new(&(wall as f64).into()))).await?;
            self.alarm_at.set(Some(at));
        }
        Ok(())
    }

    /// (job, payload) of the row `id`, if it is still there.
    fn load(&self, id: &str) -> worker::Result<Option<(Vec<u8>, Option<Vec<u8>>)>> {
        let loaded: Option<Vec<V>> = self.state.storage().sql().exec(sql::LOAD, vec![V::from(id)])?.raw().next().transpose()?;
        let Some(mut cols) = loaded else { return Ok(None) };
        let payload = match cols.pop() {
            Some(V::Blob(b)) => Some(b),
            _ => None,
        };
        Ok(match cols.pop() {
            Some(V::String(job)) => Some((job.into_bytes(), payload)),
            _ => None,
        })
    }

    /// Hands out `group`'s due jobs (and those only lingering to join a call), the earliest
    /// first, up to the broker's group limits.
    fn start_group(&self, group: &str, recipient: &str, generation: Option<String>) -> worker::Result<()> {
        let until = self.now_ms() + BATCH_LINGER_MS as i64;
        let rows: Vec<Vec<V>> = self.state.storage().sql().exec(sql::GROUP_DUE, vec![V::from(group), V::from(until), V::from(MAX_GROUP_JOBS as i64)])?.raw().collect::<worker::Result<_>>()?;
        let (mut ids, mut jobs, mut bytes) = (Vec::new(), Vec::new(), 0usize);
        for row in rows {
            let Some(V::String(id)) = row.first().cloned() else { continue };
            let size = match row.get(1) {
                Some(V::Integer(n)) => *n as usize,
                _ => 0,
            };
            if self.in_flight.borrow().contains_key(&id) {
                continue;
            }
            if !ids.is_empty() && bytes + size > MAX_GROUP_BYTES {
                break;
            }
            let Some(job) = self.load(&id)? else { continue };
            bytes += size;
            ids.push(id);
            jobs.push(job);
        }
        if !ids.is_empty() {
            self.start(HandOut { ids, recipient: recipient.to_string(), group: Some(group.to_string()) }, jobs, generation);
        }
        Ok(())
    }

    /// Starts a hand-out for every due job not in flight, within the caps, then makes sure the
    /// shard wakes up again when it must.
    pub async fn pump(&self) -> worker::Result<()> {
        let now = self.now_ms();
        let sql = self.state.storage().sql();
        let limit = (MAX_IN_FLIGHT + self.in_flight.borrow().len()) as i64;
        let due: Vec<Vec<V>> = sql.exec(sql::DUE, vec![V::from(now), V::from(limit)])?.raw().collect::<worker::Result<_>>()?;
        let mut starved = false;
        for row in due {
            let (Some(V::String(id)), Some(V::String(recipient))) = (row.first().cloned(), row.get(1).cloned()) else { continue };
            let group = match row.get(3) {
                Some(V::String(g)) => Some(g.clone()),
                _ => None,
            };
            if self.in_flight.borrow().contains_key(&id) || group.as_ref().is_some_and(|g| self.groups.borrow().contains(g)) {
                continue;
            }
            if !self.has_room_for(&recipient) {
                starved = true;
                if self.in_flight.borrow().len() >= MAX_IN_FLIGHT {
                    break;
                }
                continue;
            }
            match group {
                Some(g) => self.start_group(&g, &recipient, None)?,
                None => {
                    let Some(job) = self.load(&id)? else { continue };
                    self.start(HandOut { ids: vec![id], recipient, group: None }, vec![job], None);
                }
            }
        }
        self.starved.set(starved);
        self.arm(now).await
    }

    /// Keeps an alarm set: at the earliest due time of a job not yet due, and within the grace
    /// while pushes are in flight or jobs wait for a free place.
    async fn arm(&self, now: i64) -> worker::Result<()> {
        let fallback = (!self.in_flight.borrow().is_empty() || self.starved.get()).then_some(now + self.grace_ms);
        if let Some(a) = self.alarm_at.get() {
            if fallback.is_none_or(|f| a <= f) {
                return Ok(());
            }
        }
        let next: Option<i64> = self.state.storage().sql().exec(sql::NEXT, vec![V::from(now)])?.raw().next().transpose()?.and_then(|r| match r.first() {
            Some(V::Integer(due)) => Some(*due),
            _ => None,
        });
        match [next, fallback].into_iter().flatten().min() {
            Some(at) => self.wake_by(at).await,
            None => Ok(()),
        }
    }

    async fn push(self: Rc<Self>, handout: HandOut, jobs: Vec<(Vec<u8>, Option<Vec<u8>>)>, generation: Option<String>) {
        let host = self.host();
        if let Some(g) = generation {
            crate::assume_generation(host.generation(), &g);
        }
        let acks = (self.run_jobs)(&host, jobs).await;
        let retry_at = self.now_ms() + HOST_RETRY_MS as i64;
        let mut postponed = false;
        for (id, ack) in handout.ids.iter().zip(acks.iter().chain(std::iter::repeat(&Ack::Retry))) {
            if *ack == Ack::Retry {
                if let Err(e) = self.state.storage().sql().exec(sql::POSTPONE, vec![V::from(id.as_str()), V::from(retry_at)]) {
                    worker::console_error!("outbox: postponing {id}: {e}");
                }
                postponed = true;
            }
        }
        if postponed {
            let _ = self.wake_by(retry_at).await;
        }
        {
            let mut in_flight = self.in_flight.borrow_mut();
            for id in &handout.ids {
                in_flight.remove(id);
            }
        }
        {
            let mut counts = self.per_recipient.borrow_mut();
            if let Some(n) = counts.get_mut(&handout.recipient) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&handout.recipient);
                }
            }
        }
        if let Some(g) = &handout.group {
            self.groups.borrow_mut().remove(g);
        }
        // Jobs that waited for this hand-out (its group's, or any held back by a cap) go now.
        if self.starved.get() || handout.group.is_some() {
            if let Err(e) = self.pump().await {
                worker::console_error!("outbox pump: {e}");
            }
        }
    }
}
