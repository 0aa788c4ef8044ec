//! Switchyard's ports on Cloudflare Workers. KV is the routing table and directory, R2 the
//! archive, a Durable Object per outbox shard the broker ([`outbox`]), a Durable Object the
//! strongly consistent key set, Durable Objects the address table ([`addresses`]), `fetch` the outbound client (redirects never followed) and WebCrypto the signer.
//! The adapter only translates; every decision, and every response body, stays in
//! `switchyard-core` and the functions. The entry macros ([`fetch_entry!`],
//! [`gateway_entry!`], [`deliver_entry!`], [`unique_object!`], [`address_table_object!`]) hold all Workers-specific
//! wiring, so a function crate is only its handler.

mod addresses;
mod crypto;
mod entries;
mod http;
pub mod outbox;

use std::time::Duration;

use futures_util::future::{select, Either};
use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::ports::{
    Archive, Clock, Entropy, HttpClient, KeyValue, OutboundError, PortError, PortResult, Unique,
};
use worker::{Env, Fetch};

pub use addresses::{address_shard_fetch, address_shard_init, CfAddressTable};
pub use outbox::{CfOutbox, RunJobs, Shard};

pub use crypto::{WebCryptoSigner, WebCryptoVerifier};
pub use entries::{forward, kick_sweep, rate_limiter_fetch, remote_ip, throttle_hit, unique_fetch, Services, Windows};
pub use http::{read_request, to_worker_request, to_worker_response};

/// Binding names every function's wrangler config uses.
pub mod bindings {
    pub const KV: &str = "SWITCHYARD_KV";
    pub const ARCHIVE: &str = "SWITCHYARD_ARCHIVE";
    /// The Durable Object namespace of the outbox shards (defined by deliver).
    pub const OUTBOX: &str = "SWITCHYARD_OUTBOX";
    /// The Durable Object namespace behind [`super::CfUnique`].
    pub const UNIQUE: &str = "SWITCHYARD_UNIQUE";
    /// The Durable Object namespace of the address table's shards (defined by send).
    pub const ADDRESSES: &str = "SWITCHYARD_ADDRESSES";
    /// The Durable Object namespace of the gateway's throttling windows.
    pub const RATE_LIMITER: &str = "RATE_LIMITER";
    /// The deliver function, as the gateway's service binding names it.
    pub const DELIVER: &str = "FN_DELIVER";
}

fn port_err(e: impl std::fmt::Display) -> PortError {
    PortError::new(e.to_string())
}

/// A string from a secret or a plain var, or `None` when neither is bound.
pub fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok().filter(|s| !s.is_empty())
}

pub struct CfClock;

impl Clock for CfClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
}

pub struct CfEntropy;

impl Entropy for CfEntropy {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
        crypto::random_fill(buf)
    }
}

/// KV, with configuration cached for the isolate's life while `config/generation` stays the
/// value this request read (`switchyard_core::common::store::keys::GENERATION`): a request
/// reads the generation once, and configuration only when it changed. The admin API moves
/// the generation on with every change, so a cached record is never older than the store.
pub struct CfKv {
    store: worker::kv::KvStore,
    generation: Generation,
}

/// The configuration generation one request works with: read at most once, or handed over by
/// the Worker that called this one ([`GENERATION_HEADER`]), so a message's whole path reads
/// it once.
pub type Generation = std::rc::Rc<std::cell::RefCell<Option<futures_util::future::Shared<futures_util::future::LocalBoxFuture<'static, Result<Option<String>, PortError>>>>>>;

/// The header one of the hub's Workers hands its configuration generation on in (empty: no
/// configuration was ever written). The gateway drops every `x-switchyard-` header callers
/// send, so only the hub sets it.
pub const GENERATION_HEADER: &str = "x-switchyard-config-generation";

/// The generation `cell` holds, if it was read or handed over already.
pub fn known_generation(cell: &Generation) -> Option<String> {
    let g = cell.borrow().as_ref()?.peek()?.clone().ok()?;
    Some(g.unwrap_or_default())
}

/// Takes the generation a calling Worker read (the header's value).
pub fn assume_generation(cell: &Generation, value: &str) {
    use futures_util::FutureExt;
    let g = (!value.is_empty()).then(|| value.to_string());
    *cell.borrow_mut() = Some(futures_util::future::ready(Ok(g)).boxed_local().shared());
}

/// Configuration records an isolate keeps at most before it starts afresh.
const CONFIG_CACHE_ENTRIES: usize = 10_000;

#[derive(Default)]
struct ConfigCache {
    generation: Option<String>,
    entries: std::collections::HashMap<String, Option<Vec<u8>>>,
}

thread_local! {
    static CONFIG: std::cell::RefCell<ConfigCache> = std::cell::RefCell::new(ConfigCache::default());
}

impl CfKv {
    pub fn from_env(env: &Env, generation: Generation) -> PortResult<Self> {
        let store = env.kv(bindings::KV).map_err(port_err)?;
        Ok(CfKv { store, generation })
    }

    async fn read(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.store.get(key).bytes().await.map_err(port_err)
    }

    /// The configuration generation, read once per request however many lookups ask at once.
    async fn generation(&self) -> PortResult<Option<String>> {
        use futures_util::FutureExt;
        let shared = self
            .generation
            .borrow_mut()
            .get_or_insert_with(|| {
                let store = self.store.clone();
                async move { store.get(store_keys::GENERATION).text().await.map_err(port_err) }.boxed_local().shared()
            })
            .clone();
        shared.await
    }

    fn forget(key: &str) {
        CONFIG.with(|c| c.borrow_mut().entries.remove(key));
    }
}

use switchyard_core::common::store::keys as store_keys;

impl KeyValue for CfKv {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        if !store_keys::is_config(key) {
            return self.read(key).await;
        }
        self.cached(key.to_string(), self.read(key)).await
    }

    async fn put(&self, key: &str, value: &[u8]) -> PortResult<()> {
        CfKv::forget(key);
        self.store.put_bytes(key, value).map_err(port_err)?.execute().await.map_err(port_err)
    }

    async fn delete(&self, key: &str) -> PortResult<()> {
        CfKv::forget(key);
        self.store.delete(key).await.map_err(port_err)
    }

    async fn list(&self, prefix: &str) -> PortResult<Vec<String>> {
        if !store_keys::is_config(prefix) {
            return self.list_uncached(prefix).await;
        }
        // Under a key no KV key can have (NUL), beside the records of the same generation.
        let names = self.cached(format!("\0list:{prefix}"), async { Ok(Some(self.list_uncached(prefix).await?.join("\n").into_bytes())) }).await?;
        let names = String::from_utf8(names.unwrap_or_default()).map_err(port_err)?;
        Ok(names.split('\n').filter(|n| !n.is_empty()).map(str::to_string).collect())
    }
}

impl CfKv {
    /// A configuration read, answered from this isolate's cache while the generation it was
    /// read under is still the store's.
    async fn cached(&self, key: String, read: impl core::future::Future<Output = PortResult<Option<Vec<u8>>>>) -> PortResult<Option<Vec<u8>>> {
        let generation = self.generation().await?;
        let hit = CONFIG.with(|c| {
            let c = c.borrow();
            if c.generation == generation { c.entries.get(&key).cloned() } else { None }
        });
        if let Some(value) = hit {
            return Ok(value);
        }
        let value = read.await?;
        CONFIG.with(|c| {
            let mut c = c.borrow_mut();
            if c.generation != generation || c.entries.len() >= CONFIG_CACHE_ENTRIES {
                c.entries.clear();
                c.generation = generation;
            }
            c.entries.insert(key, value.clone());
        });
        Ok(value)
    }

    async fn list_uncached(&self, prefix: &str) -> PortResult<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = self.store.list().prefix(prefix.to_string());
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(port_err)?;
            out.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }
}

pub struct CfArchive(pub worker::Bucket);

impl CfArchive {
    pub fn from_env(env: &Env) -> PortResult<Self> {
        env.bucket(bindings::ARCHIVE).map(CfArchive).map_err(port_err)
    }
}

impl Archive for CfArchive {
    async fn put(&self, key: &str, body: &[u8]) -> PortResult<()> {
        self.0.put(key, body.to_vec()).execute().await.map(|_| ()).map_err(port_err)
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        let Some(obj) = self.0.get(key).execute().await.map_err(port_err)? else {
            return Ok(None);
        };
        match obj.body() {
            Some(b) => b.bytes().await.map(Some).map_err(port_err),
            None => Ok(Some(Vec::new())),
        }
    }

    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> PortResult<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = self.0.list().prefix(prefix.to_string());
            if let Some(s) = start_after {
                q = q.start_after(s.to_string());
            }
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(port_err)?;
            out.extend(page.objects().into_iter().map(|o| o.key()).take(limit - out.len()));
            match page.cursor() {
                Some(c) if page.truncated() && out.len() < limit => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// Insert-if-absent on Durable Objects: the keys are spread over [`UNIQUE_SHARDS`] objects by
/// a hash of the key, so one object owns each key, and a Durable Object runs one request at
/// a time: of two concurrent inserts of a key exactly one finds it absent. A batch's keys go
/// to their shards in one request each, at once.
pub struct CfUnique(pub worker::ObjectNamespace);

/// Objects the unique keys are spread over (a key's object never changes).
pub const UNIQUE_SHARDS: u32 = 16;

impl CfUnique {
    async fn insert_in(&self, shard: &str, entries: &[(&str, &[u8])]) -> PortResult<Vec<bool>> {
        use base64::Engine;
        let stub = self.0.id_from_name(shard).map_err(port_err)?.get_stub().map_err(port_err)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let items: Vec<serde_json::Value> = entries.iter().map(|(k, v)| serde_json::json!({ "key": k, "value": b64.encode(v) })).collect();
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post).with_body(Some(serde_json::Value::Array(items).to_string().into()));
        let req = worker::Request::new_with_init("https://unique.internal/insert", &init).map_err(port_err)?;
        let mut resp = stub.fetch_with_request(req).await.map_err(port_err)?;
        match resp.status_code() {
            200 => resp.json::<Vec<bool>>().await.map_err(port_err),
            s => Err(PortError::new(format!("unique store answered {s}: {}", resp.text().await.unwrap_or_default()))),
        }
    }
}

impl Unique for CfUnique {
    async fn insert_if_absent(&self, key: &str, value: &[u8]) -> PortResult<bool> {
        Ok(self.insert_many(&[(key.to_string(), value.to_vec())]).await?.first().copied().unwrap_or(false))
    }

    async fn insert_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<Vec<bool>> {
        let mut by_shard: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
        for (k, (key, _)) in entries.iter().enumerate() {
            let shard = switchyard_core::common::broker::shard_of(("unique", key), UNIQUE_SHARDS).replace("outbox", "unique");
            by_shard.entry(shard).or_default().push(k);
        }
        let calls = by_shard.iter().map(|(shard, members)| async move {
            let batch: Vec<(&str, &[u8])> = members.iter().map(|&k| (entries[k].0.as_str(), entries[k].1.as_slice())).collect();
            self.insert_in(shard, &batch).await.map(|answers| (members, answers))
        });
        let mut out = vec![false; entries.len()];
        for (members, answers) in futures_util::future::try_join_all(calls).await? {
            for (&k, fresh) in members.iter().zip(answers) {
                out[k] = fresh;
            }
        }
        Ok(out)
    }
}

/// Outbound HTTP through `fetch`, bounded by an abort after `timeout_ms`. Redirects are
/// never followed: a 3xx is the recipient's answer, and its `Location` is not called.
pub struct CfHttp;

impl HttpClient for CfHttp {
    async fn send(&self, request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, OutboundError> {
        let req = http::to_outbound_request(&request).map_err(|e| OutboundError::Connection(e.to_string()))?;
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let fetch = Box::pin(async move { Fetch::Request(req).send_with_signal(&signal).await });
        let timer = worker::Delay::from(Duration::from_millis(timeout_ms as u64));
        match select(fetch, timer).await {
            Either::Left((Ok(mut resp), _)) => {
                let status = resp.status_code();
                let headers = resp.headers().entries().collect();
                let body = resp.bytes().await.unwrap_or_default();
                Ok(HttpResponse { status, headers, body })
            }
            Either::Left((Err(e), _)) => Err(OutboundError::Connection(e.to_string())),
            Either::Right(_) => {
                controller.abort();
                Err(OutboundError::Timeout)
            }
        }
    }
}

/// Every port a function may use, from the bindings its wrangler config declares.
/// Bindings are looked up when a handler first uses them, and settings are read once per
/// isolate (a Worker's secrets and variables do not change while it runs): a request pays
/// only for what it touches.
pub struct CfHost {
    env: Env,
    kv: OnceCell<Option<CfKv>>,
    archive: OnceCell<Option<CfArchive>>,
    outbox: OnceCell<Option<CfOutbox>>,
    unique: OnceCell<Option<CfUnique>>,
    addresses: OnceCell<Option<CfAddressTable>>,
    /// Inside an outbox shard: the shard itself, where puts to it go directly.
    shard: Option<std::rc::Weak<Shard>>,
    generation: Generation,
    http: CfHttp,
    settings: std::rc::Rc<switchyard_core::host::Settings>,
}

thread_local! {
    static SETTINGS: std::cell::RefCell<Option<std::rc::Rc<switchyard_core::host::Settings>>> = const { std::cell::RefCell::new(None) };
}

fn isolate_settings(env: &Env) -> std::rc::Rc<switchyard_core::host::Settings> {
    SETTINGS.with(|s| {
        s.borrow_mut()
            .get_or_insert_with(|| std::rc::Rc::new(switchyard_core::host::Settings::from_lookup(|name| setting(env, name))))
            .clone()
    })
}

impl CfHost {
    /// Never fails: an absent binding, or a secret this function is not given, fails on use.
    pub fn from_env(env: &Env) -> Self {
        CfHost {
            env: env.clone(),
            kv: OnceCell::new(),
            archive: OnceCell::new(),
            outbox: OnceCell::new(),
            unique: OnceCell::new(),
            addresses: OnceCell::new(),
            shard: None,
            generation: Generation::default(),
            http: CfHttp,
            settings: isolate_settings(env),
        }
    }

    /// The host of a push running inside outbox shard `shard`: puts to that shard go to its
    /// storage directly.
    pub fn in_shard(env: &Env, shard: std::rc::Weak<Shard>) -> Self {
        CfHost { shard: Some(shard), ..CfHost::from_env(env) }
    }

    /// This request's configuration generation, shared by its KV and its outbox puts.
    pub fn generation(&self) -> &Generation {
        &self.generation
    }
}

use std::cell::OnceCell;

fn unbound<'a, T>(port: &'a OnceCell<Option<T>>, make: impl FnOnce() -> Option<T>, name: &str) -> PortResult<&'a T> {
    port.get_or_init(make).as_ref().ok_or_else(|| PortError::new(format!("binding {name} is not declared for this function")))
}

impl Clock for CfHost {
    fn now_ms(&self) -> u64 {
        CfClock.now_ms() + self.settings.clock_offset_ms
    }
}

impl Entropy for CfHost {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
        CfEntropy.fill(buf)
    }
}

impl switchyard_core::host::Host for CfHost {
    type Kv = CfKv;
    type Archive = CfArchive;
    type Outbox = CfOutbox;
    type Unique = CfUnique;
    type AddressTable = CfAddressTable;
    type Http = CfHttp;
    type Signer = WebCryptoSigner;
    type Verifier = WebCryptoVerifier;

    fn kv(&self) -> PortResult<&CfKv> {
        unbound(&self.kv, || CfKv::from_env(&self.env, self.generation.clone()).ok(), bindings::KV)
    }
    fn archive(&self) -> PortResult<&CfArchive> {
        unbound(&self.archive, || CfArchive::from_env(&self.env).ok(), bindings::ARCHIVE)
    }
    fn outbox(&self) -> PortResult<&CfOutbox> {
        let make = || self.env.durable_object(bindings::OUTBOX).map(|ns| CfOutbox::new(ns, self.shard.clone(), self.generation.clone())).ok();
        unbound(&self.outbox, make, bindings::OUTBOX)
    }
    fn unique(&self) -> PortResult<&CfUnique> {
        unbound(&self.unique, || self.env.durable_object(bindings::UNIQUE).map(CfUnique).ok(), bindings::UNIQUE)
    }
    fn address_table(&self) -> PortResult<&CfAddressTable> {
        unbound(&self.addresses, || self.env.durable_object(bindings::ADDRESSES).map(CfAddressTable).ok(), bindings::ADDRESSES)
    }
    fn http(&self) -> PortResult<&CfHttp> {
        Ok(&self.http)
    }
    fn settings(&self) -> &switchyard_core::host::Settings {
        &self.settings
    }
    async fn signer(&self) -> PortResult<WebCryptoSigner> {
        let pem = self.settings.signing_key.as_deref().ok_or_else(|| PortError::new("SWITCHYARD_SIGNING_KEY is not set"))?;
        WebCryptoSigner::from_pkcs8(pem.as_bytes()).await
    }
    fn verifier(&self) -> &WebCryptoVerifier {
        &WebCryptoVerifier
    }
    fn log_error(&self, message: &str) {
        worker::console_error!("{message}");
    }
}

/// The whole fetch entry of a function: build the host, read the request (bodies above
/// the gateway limit are not read), run `handler`, answer.
pub async fn serve(
    req: worker::Request,
    env: &Env,
    handler: impl AsyncFnOnce(&CfHost, HttpRequest) -> HttpResponse,
) -> worker::Result<worker::Response> {
    let host = CfHost::from_env(env);
    let (core_req, _) = read_request(req, switchyard_core::gateway::MAX_READ_BYTES).await?;
    if let Some(g) = core_req.header(GENERATION_HEADER) {
        assume_generation(host.generation(), g);
    }
    to_worker_response(handler(&host, core_req).await)
}
