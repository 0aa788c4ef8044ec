//! An in-memory host for unit tests: every port in memory, a clock the test advances, and
//! outbound HTTP answered by a script the test writes.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use crate::common::http::{HttpRequest, HttpResponse};
use crate::host::{Host, Settings};
use crate::ports::*;

/// A clock that moves only when the test says so.
#[derive(Default)]
pub struct ManualClock(Cell<u64>);

impl ManualClock {
    pub fn at(ms: u64) -> Self {
        ManualClock(Cell::new(ms))
    }
    pub fn advance(&self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

#[derive(Default)]
pub struct MemKv(pub RefCell<BTreeMap<String, Vec<u8>>>);

impl KeyValue for MemKv {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        Ok(self.0.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &[u8]) -> PortResult<()> {
        self.0.borrow_mut().insert(key.into(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> PortResult<()> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str) -> PortResult<Vec<String>> {
        Ok(self.0.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect())
    }
}

impl Archive for MemKv {
    async fn put(&self, key: &str, body: &[u8]) -> PortResult<()> {
        KeyValue::put(self, key, body).await
    }
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        KeyValue::get(self, key).await
    }
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> PortResult<Vec<String>> {
        let all = KeyValue::list(self, prefix).await?;
        Ok(all.into_iter().filter(|k| start_after.is_none_or(|s| k.as_str() > s)).take(limit).collect())
    }
}

impl Unique for MemKv {
    async fn insert_if_absent(&self, key: &str, value: &[u8]) -> PortResult<bool> {
        let mut map = self.0.borrow_mut();
        if map.contains_key(key) {
            return Ok(false);
        }
        map.insert(key.into(), value.to_vec());
        Ok(true)
    }
}

impl AddressTable for MemKv {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        KeyValue::get(self, key).await
    }
    async fn put_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<()> {
        let mut map = self.0.borrow_mut();
        for (k, v) in entries {
            map.insert(k.clone(), v.clone());
        }
        Ok(())
    }
    async fn delete(&self, key: &str) -> PortResult<bool> {
        Ok(self.0.borrow_mut().remove(key).is_some())
    }
}

/// An outbox entry: the shard it went to, its job JSON, its payload and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub shard: String,
    pub job: String,
    pub payload: Option<Vec<u8>>,
    pub due_at_ms: u64,
    pub group: Option<String>,
    pub held: Option<String>,
}

/// The outbox: message id -> entry; `resumed` counts resume calls per shard; the shards' state.
#[derive(Default)]
pub struct MemOutbox(pub RefCell<BTreeMap<String, Entry>>, pub RefCell<Vec<String>>, pub RefCell<BTreeMap<String, String>>);

impl Outbox for MemOutbox {
    async fn put(&self, shard: &str, e: &crate::ports::OutboxEntry<'_>) -> PortResult<()> {
        let mut map = self.0.borrow_mut();
        let kept = map.get(e.id).and_then(|e| e.payload.clone());
        let payload = e.payload.map(<[u8]>::to_vec).or(kept);
        let entry = Entry { shard: shard.into(), job: e.job.into(), payload, due_at_ms: e.due_at_ms, group: e.group.map(Into::into), held: e.held.map(Into::into) };
        map.insert(e.id.into(), entry);
        Ok(())
    }
    async fn remove(&self, _shard: &str, message_id: &str) -> PortResult<()> {
        self.0.borrow_mut().remove(message_id);
        Ok(())
    }
    async fn resume(&self, shard: &str) -> PortResult<()> {
        self.1.borrow_mut().push(shard.into());
        Ok(())
    }
    async fn release(&self, shard: &str, held: &str) -> PortResult<()> {
        for e in self.0.borrow_mut().values_mut().filter(|e| e.shard == shard && e.held.as_deref() == Some(held)) {
            e.held = None;
            e.due_at_ms = 0;
        }
        Ok(())
    }
    async fn state(&self, shard: &str, key: &str) -> PortResult<Option<String>> {
        Ok(self.2.borrow().get(&alloc::format!("{shard}/{key}")).cloned())
    }
    async fn set_state(&self, shard: &str, key: &str, value: Option<&str>) -> PortResult<()> {
        let k = alloc::format!("{shard}/{key}");
        match value {
            Some(v) => self.2.borrow_mut().insert(k, v.into()),
            None => self.2.borrow_mut().remove(&k),
        };
        Ok(())
    }
}

/// Outbound HTTP: answers from the script, in order (an empty script times out), and every
/// request recorded.
#[derive(Default)]
pub struct ScriptedHttp {
    pub answers: RefCell<VecDeque<Result<u16, OutboundError>>>,
    pub sent: RefCell<Vec<HttpRequest>>,
}

impl HttpClient for ScriptedHttp {
    async fn send(&self, request: HttpRequest, _timeout_ms: u32) -> Result<HttpResponse, OutboundError> {
        self.sent.borrow_mut().push(request);
        let status = self.answers.borrow_mut().pop_front().unwrap_or(Err(OutboundError::Timeout))?;
        Ok(HttpResponse::empty(status))
    }
}

pub struct NoSigner;

impl Signer for NoSigner {
    async fn sign(&self, _data: &[u8]) -> PortResult<Vec<u8>> {
        Err(PortError::new("no signing key in tests"))
    }
}

/// Verifies nothing: the core's own signature tests use the portable verifier directly.
pub struct NoVerifier;

impl crate::ports::Verifier for NoVerifier {
    async fn verify(&self, _spki_der: &[u8], _data: &[u8], _signature: &[u8]) -> PortResult<bool> {
        Err(PortError::new("no verifier in the in-memory host"))
    }
}

pub struct MemHost {
    pub clock: ManualClock,
    pub kv: MemKv,
    pub archive: MemKv,
    pub unique: MemKv,
    /// The address table (MAMS): MPAN core -> history JSON.
    pub addresses: MemKv,
    pub outbox: MemOutbox,
    pub http: ScriptedHttp,
    pub settings: Settings,
    pub errors: RefCell<Vec<String>>,
    counter: Cell<u8>,
}

/// The seal key [`MemHost`] is configured with.
pub const SEAL_KEY: &str = "test-seal-key-0123456789";

impl MemHost {
    pub fn new() -> Self {
        let settings = Settings::from_lookup(|name| match name {
            crate::host::names::SEAL_KEY => Some(SEAL_KEY.to_string()),
            crate::host::names::TOKEN_SECRET => Some("test-token-secret-0123".to_string()),
            crate::host::names::ALLOW_LOOPBACK_HTTP => Some("true".to_string()),
            _ => None,
        });
        MemHost {
            clock: ManualClock::at(1_700_000_000_000),
            kv: MemKv::default(),
            archive: MemKv::default(),
            unique: MemKv::default(),
            addresses: MemKv::default(),
            outbox: MemOutbox::default(),
            http: ScriptedHttp::default(),
            settings,
            errors: RefCell::new(Vec::new()),
            counter: Cell::new(0),
        }
    }
}

impl Default for MemHost {
    fn default() -> Self {
        MemHost::new()
    }
}

impl Clock for MemHost {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

impl Entropy for MemHost {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
        for b in buf.iter_mut() {
            self.counter.set(self.counter.get().wrapping_add(1));
            *b = self.counter.get();
        }
        Ok(())
    }
}

impl Host for MemHost {
    type Kv = MemKv;
    type Archive = MemKv;
    type Outbox = MemOutbox;
    type Unique = MemKv;
    type AddressTable = MemKv;
    type Http = ScriptedHttp;
    type Signer = NoSigner;
    type Verifier = NoVerifier;

    fn kv(&self) -> PortResult<&MemKv> {
        Ok(&self.kv)
    }
    fn archive(&self) -> PortResult<&MemKv> {
        Ok(&self.archive)
    }
    fn outbox(&self) -> PortResult<&MemOutbox> {
        Ok(&self.outbox)
    }
    fn unique(&self) -> PortResult<&MemKv> {
        Ok(&self.unique)
    }
    fn address_table(&self) -> PortResult<&MemKv> {
        Ok(&self.addresses)
    }
    fn http(&self) -> PortResult<&ScriptedHttp> {
        Ok(&self.http)
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    async fn signer(&self) -> PortResult<NoSigner> {
        Ok(NoSigner)
    }
    fn verifier(&self) -> &NoVerifier {
        &NoVerifier
    }
    fn log_error(&self, message: &str) {
        self.errors.borrow_mut().push(message.into());
    }
}

/// Runs a future that never waits on anything outside memory.
pub fn block_on<F: core::future::Future>(f: F) -> F::Output {
    futures_util::FutureExt::now_or_never(f).expect("in-memory ports never wait")
}
