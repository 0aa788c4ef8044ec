//! Switchyard's ports on Fermyon Spin. Spin has no queue or object store: the archive, the
//! broker's outbox and (for now) the address table live in the key-value store under their
//! own prefixes, and the `deliver` component drains the outbox. Variables carry the hub's settings (Spin variable
//! names are the setting names in lower case). The entry macros ([`http_entry!`],
//! [`gateway_entry!`], [`drain_entry!`]) hold all Spin-specific wiring, so a function crate
//! is only its handler. Outbound calls never follow redirects: `wasi:http`'s outgoing
//! handler returns a 3xx as it is.
#![cfg(target_os = "wasi")]

use switchyard_core::common::broker::Ack;
use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::common::ratelimit::{self, Decision, Window};
use switchyard_core::host::{Forward, Function};
use switchyard_core::host::{Host, Settings};
use switchyard_core::ports::{
    AddressTable, Archive, Clock, Entropy, HttpClient, KeyValue, OutboundError, Outbox, OutboxEntry, PortError, PortResult, Throttle, Unique,
};

/// The Spin key-value store every component opens.
pub const STORE: &str = "default";
/// Key prefixes that stand in for the archive and the broker.
pub const ARCHIVE_PREFIX: &str = "archive/";
pub const OUTBOX_PREFIX: &str = "outbox/";
pub const UNIQUE_PREFIX: &str = "unique/";
pub const RATELIMIT_PREFIX: &str = "ratelimit/";
/// The address table (DIP MAMS), one key per MPAN core.
pub const ADDRESS_PREFIX: &str = "mams/";

fn port_err(e: impl std::fmt::Display) -> PortError {
    PortError::new(e.to_string())
}

pub fn setting(name: &str) -> Option<String> {
    spin_sdk::variables::get(&name.to_ascii_lowercase()).ok().filter(|v| !v.is_empty())
}

pub struct SpinKv(spin_sdk::key_value::Store);

impl KeyValue for SpinKv {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.0.get(key).map_err(port_err)
    }
    async fn put(&self, key: &str, value: &[u8]) -> PortResult<()> {
        self.0.set(key, value).map_err(port_err)
    }
    async fn delete(&self, key: &str) -> PortResult<()> {
        self.0.delete(key).map_err(port_err)
    }
    async fn list(&self, prefix: &str) -> PortResult<Vec<String>> {
        let mut keys: Vec<String> = self.0.get_keys().map_err(port_err)?.into_iter().filter(|k| k.starts_with(prefix)).collect();
        keys.sort();
        Ok(keys)
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn open_store() -> PortResult<SpinKv> {
    spin_sdk::key_value::Store::open(STORE).map(SpinKv).map_err(port_err)
}

/// The outbox: one key per job (`outbox/<id>`), its value the due time, the key it is held
/// under (empty when none) and the job's JSON on three lines (rows written before holds have
/// two). Payloads are read from the archive. Shards are one store here; the drain runs what is
/// due, each job alone (groups are batched on Cloudflare; on Spin with the Spin issue).
pub struct SpinOutbox(SpinKv);

/// A stored row: (due, held, job).
fn outbox_row(v: &[u8]) -> Option<(u64, &[u8], &[u8])> {
    let mut parts = v.splitn(3, |b| *b == b'\n');
    let due = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let (second, third) = (parts.next()?, parts.next());
    Some(match third {
        Some(job) => (due, second, job),
        None => (due, &[][..], second),
    })
}

impl Outbox for SpinOutbox {
    async fn put(&self, _shard: &str, e: &OutboxEntry<'_>) -> PortResult<()> {
        let value = format!("{}\n{}\n{}", e.due_at_ms, e.held.unwrap_or(""), e.job);
        self.0.put(&format!("{OUTBOX_PREFIX}{}", e.id), value.as_bytes()).await
    }

    async fn remove(&self, _shard: &str, message_id: &str) -> PortResult<()> {
        self.0.delete(&format!("{OUTBOX_PREFIX}{message_id}")).await
    }

    /// The drain finds every due job on its own.
    async fn resume(&self, _shard: &str) -> PortResult<()> {
        Ok(())
    }

    async fn release(&self, _shard: &str, held: &str) -> PortResult<()> {
        for key in self.0.list(OUTBOX_PREFIX).await? {
            let Some(v) = self.0.get(&key).await? else { continue };
            if let Some((_, h, job)) = outbox_row(&v) {
                if h == held.as_bytes() {
                    let job = String::from_utf8_lossy(job).into_owned();
                    self.0.put(&key, format!("0\n\n{job}").as_bytes()).await?;
                }
            }
        }
        Ok(())
    }

    async fn state(&self, shard: &str, key: &str) -> PortResult<Option<String>> {
        Ok(self.0.get(&format!("{STATE_PREFIX}{shard}/{key}")).await?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    async fn set_state(&self, shard: &str, key: &str, value: Option<&str>) -> PortResult<()> {
        let k = format!("{STATE_PREFIX}{shard}/{key}");
        match value {
            Some(v) => self.0.put(&k, v.as_bytes()).await,
            None => self.0.delete(&k).await,
        }
    }
}

/// Shard state records (circuit breakers) in the key-value store.
pub const STATE_PREFIX: &str = "outbox-state/";

impl SpinOutbox {
    /// Jobs due by `now_ms`, at most `limit`, with their JSON.
    pub async fn due(&self, now_ms: u64, limit: usize) -> PortResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for key in self.0.list(OUTBOX_PREFIX).await? {
            if out.len() >= limit {
                break;
            }
            let Some(v) = self.0.get(&key).await? else { continue };
            if let Some((due, _, job)) = outbox_row(&v) {
                if due <= now_ms {
                    out.push(job.to_vec());
                }
            }
        }
        Ok(out)
    }
}

pub struct SpinArchive(SpinKv);

impl Archive for SpinArchive {
    async fn put(&self, key: &str, body: &[u8]) -> PortResult<()> {
        self.0.put(&format!("{ARCHIVE_PREFIX}{key}"), body).await
    }
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.0.get(&format!("{ARCHIVE_PREFIX}{key}")).await
    }
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> PortResult<Vec<String>> {
        let keys = self.0.list(&format!("{ARCHIVE_PREFIX}{prefix}")).await?;
        Ok(keys
            .into_iter()
            .map(|k| k[ARCHIVE_PREFIX.len()..].to_string())
            .filter(|k| start_after.is_none_or(|s| k.as_str() > s))
            .take(limit)
            .collect())
    }
}

/// Insert-if-absent in the key-value store. Spin runs a component instance per request, and
/// the check and the write are two calls: strongly consistent only while one process serves
/// the store (`spin up`); the SQLite-backed version belongs to the Spin issue.
pub struct SpinUnique(SpinKv);

impl Unique for SpinUnique {
    async fn insert_if_absent(&self, key: &str, value: &[u8]) -> PortResult<bool> {
        let k = format!("{UNIQUE_PREFIX}{key}");
        if self.0 .0.exists(&k).map_err(port_err)? {
            return Ok(false);
        }
        self.0.put(&k, value).await?;
        Ok(true)
    }
}

/// The address table in the key-value store, one key per record (`mams/<MPAN core>`). For now:
/// a bulk load is one write per record and reads are as consistent as the store, which holds
/// while one `spin up` process serves it. The SQLite-backed table (one statement per bulk
/// load, as on Cloudflare) belongs to the Spin SQLite issue.
pub struct SpinAddressTable(SpinKv);

impl AddressTable for SpinAddressTable {
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        self.0.get(&format!("{ADDRESS_PREFIX}{key}")).await
    }
    async fn put_many(&self, entries: &[(String, Vec<u8>)]) -> PortResult<()> {
        for (k, v) in entries {
            self.0.put(&format!("{ADDRESS_PREFIX}{k}"), v).await?;
        }
        Ok(())
    }
    async fn delete(&self, key: &str) -> PortResult<bool> {
        let k = format!("{ADDRESS_PREFIX}{key}");
        if !self.0 .0.exists(&k).map_err(port_err)? {
            return Ok(false);
        }
        self.0.delete(&k).await?;
        Ok(true)
    }
}

pub struct SpinHttp;

impl HttpClient for SpinHttp {
    /// Spin 3 applies its own outbound timeouts; `timeout_ms` is not enforced here.
    async fn send(&self, request: HttpRequest, _timeout_ms: u32) -> Result<HttpResponse, OutboundError> {
        let method = match request.method {
            Method::Get => spin_sdk::http::Method::Get,
            Method::Post => spin_sdk::http::Method::Post,
            Method::Put => spin_sdk::http::Method::Put,
            Method::Delete => spin_sdk::http::Method::Delete,
            Method::Patch => spin_sdk::http::Method::Patch,
            Method::Head => spin_sdk::http::Method::Head,
            Method::Options => spin_sdk::http::Method::Options,
            Method::Other => return Err(OutboundError::Connection("unsupported method".into())),
        };
        let mut builder = spin_sdk::http::Request::builder();
        builder.method(method).uri(request.url.clone());
        for (k, v) in &request.headers {
            builder.header(k.clone(), v.clone());
        }
        let req = builder.body(request.body).build();
        let resp: spin_sdk::http::Response =
            spin_sdk::http::send(req).await.map_err(|e| OutboundError::Connection(e.to_string()))?;
        Ok(HttpResponse {
            status: *resp.status(),
            headers: resp.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string())).collect(),
            body: resp.into_body(),
        })
    }
}

pub struct SpinHost {
    kv: PortResult<SpinKv>,
    outbox: PortResult<SpinOutbox>,
    archive: PortResult<SpinArchive>,
    unique: PortResult<SpinUnique>,
    addresses: PortResult<SpinAddressTable>,
    http: SpinHttp,
    settings: Settings,
}

impl SpinHost {
    /// Never fails: a store that does not open, or a variable this component is not given,
    /// fails on use.
    pub fn open() -> Self {
        SpinHost {
            kv: open_store(),
            outbox: open_store().map(SpinOutbox),
            archive: open_store().map(SpinArchive),
            unique: open_store().map(SpinUnique),
            addresses: open_store().map(SpinAddressTable),
            http: SpinHttp,
            settings: Settings::from_lookup(setting),
        }
    }
}

fn opened<T>(port: &PortResult<T>) -> PortResult<&T> {
    port.as_ref().map_err(|e| e.clone())
}

impl Clock for SpinHost {
    fn now_ms(&self) -> u64 {
        now_ms() + self.settings.clock_offset_ms
    }
}

impl Entropy for SpinHost {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
        getrandom::fill(buf).map_err(port_err)
    }
}

impl Host for SpinHost {
    type Kv = SpinKv;
    type Archive = SpinArchive;
    type Outbox = SpinOutbox;
    type Unique = SpinUnique;
    type AddressTable = SpinAddressTable;
    type Http = SpinHttp;
    type Signer = switchyard_core::common::signing::RsaSigner;
    type Verifier = switchyard_core::common::signing::RsaVerifier;

    fn kv(&self) -> PortResult<&SpinKv> {
        opened(&self.kv)
    }
    fn archive(&self) -> PortResult<&SpinArchive> {
        opened(&self.archive)
    }
    fn outbox(&self) -> PortResult<&SpinOutbox> {
        opened(&self.outbox)
    }
    fn unique(&self) -> PortResult<&SpinUnique> {
        opened(&self.unique)
    }
    fn address_table(&self) -> PortResult<&SpinAddressTable> {
        opened(&self.addresses)
    }
    fn http(&self) -> PortResult<&SpinHttp> {
        Ok(&self.http)
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    async fn signer(&self) -> PortResult<switchyard_core::common::signing::RsaSigner> {
        let pem = self.settings.signing_key.as_deref().ok_or_else(|| PortError::new("switchyard_signing_key is not set"))?;
        switchyard_core::common::signing::RsaSigner::from_pkcs8(pem.as_bytes())
    }
    fn verifier(&self) -> &switchyard_core::common::signing::RsaVerifier {
        &switchyard_core::common::signing::RsaVerifier
    }
    fn log_error(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Converts Spin's request to the core's, runs `handler`, converts back.
pub async fn serve(req: spin_sdk::http::Request, handler: impl AsyncFnOnce(&SpinHost, HttpRequest) -> HttpResponse) -> spin_sdk::http::Response {
    let host = SpinHost::open();
    to_spin_response(handler(&host, from_spin_request(&req)).await)
}

/// Forwards to private components by local service chaining (`http://<function>.spin.internal`,
/// declared in spin.toml's `allowed_outbound_hosts`).
pub struct Chaining;

impl Forward for Chaining {
    async fn forward(&self, to: Function, mut req: HttpRequest) -> PortResult<HttpResponse> {
        req.url = format!("http://{}.spin.internal{}", to.name(), req.url);
        SpinHttp.send(req, switchyard_core::common::delivery::ATTEMPT_TIMEOUT_MS).await.map_err(|e| PortError::new(format!("{e:?}")))
    }
}

/// The caller's address from Spin's `spin-client-addr` header (`ip:port`, `[v6]:port`).
pub fn remote_ip(req: &spin_sdk::http::Request) -> Option<String> {
    let addr = req.header("spin-client-addr")?.as_str()?;
    Some(addr.rsplit_once(':').map_or(addr, |(ip, _)| ip).trim_matches(['[', ']']).to_string())
}

/// Throttling windows in the key-value store (one process serves the store under
/// `spin up`; a multi-node deployment needs the SQLite version of the Spin issue).
pub struct Windows<'a>(pub &'a SpinHost);

impl Throttle for Windows<'_> {
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<Decision> {
        let kv = self.0.kv()?;
        let k = format!("{RATELIMIT_PREFIX}{key}");
        let window: Option<Window> = kv.get(&k).await?.and_then(|v| serde_json::from_slice(&v).ok());
        let (decision, next) = ratelimit::hit(window, limit, now_ms);
        kv.put(&k, &serde_json::to_vec(&next).map_err(port_err)?).await?;
        Ok(decision)
    }
}

/// Jobs run per drain call.
pub const DRAIN_BATCH: usize = 50;

/// Runs the outbox jobs that are due with `run` (which removes a finished job, or replaces
/// it with its retry); returns how many were run.
pub async fn drain(host: &SpinHost, run: impl AsyncFn(&SpinHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>) -> PortResult<usize> {
    let due = host.outbox()?.due(host.now_ms(), DRAIN_BATCH).await?;
    let n = due.len();
    for raw in due {
        run(host, vec![(raw, None)]).await;
    }
    Ok(n)
}

pub fn from_spin_request(req: &spin_sdk::http::Request) -> HttpRequest {
    let url = match req.query() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    HttpRequest {
        method: Method::parse(&req.method().to_string()),
        url,
        headers: req.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string())).collect(),
        body: req.body().to_vec(),
    }
}

pub fn to_spin_response(r: HttpResponse) -> spin_sdk::http::Response {
    let mut b = spin_sdk::http::Response::builder();
    b.status(r.status);
    for (k, v) in r.headers {
        b.header(k, v);
    }
    b.body(r.body).build()
}

/// The HTTP entry of a Spin component: `http_entry!(handle)` serves every request with
/// `handle(&SpinHost, HttpRequest) -> HttpResponse` through [`serve`].
#[macro_export]
macro_rules! http_entry {
    ($handler:path) => {
        mod spin_entry {
            #[::spin_sdk::http_component]
            async fn handle(req: ::spin_sdk::http::Request) -> ::spin_sdk::http::Response {
                ::switchyard_host_spin::serve(req, $handler).await
            }
        }
    };
}

/// The gateway component: `gateway_entry!(handle)` calls
/// `handle(&SpinHost, &impl Forward, &impl Throttle, HttpRequest, Edge, declared_len)`.
#[macro_export]
macro_rules! gateway_entry {
    ($handler:path) => {
        mod spin_entry {
            use ::switchyard_host_spin as sp;

            #[::spin_sdk::http_component]
            async fn handle(req: ::spin_sdk::http::Request) -> ::spin_sdk::http::Response {
                let host = sp::SpinHost::open();
                let remote_ip = sp::remote_ip(&req);
                let addressed_url = req.header("spin-full-url").and_then(|v| v.as_str()).map(str::to_string);
                let edge = ::switchyard_core::gateway::Edge { remote_ip: remote_ip.as_deref(), addressed_url: addressed_url.as_deref() };
                let resp = $handler(&host, &sp::Chaining, &sp::Windows(&host), sp::from_spin_request(&req), edge, None).await;
                sp::to_spin_response(resp)
            }
        }
    };
}

/// The deliver component: Spin has no queue trigger, so `POST /deliver/drain` (a private
/// route) runs the due outbox jobs with `run_jobs(&SpinHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>`.
#[macro_export]
macro_rules! drain_entry {
    ($run_jobs:path) => {
        mod spin_entry {
            use ::switchyard_host_spin as sp;

            #[::spin_sdk::http_component]
            async fn handle(_req: ::spin_sdk::http::Request) -> ::spin_sdk::http::Response {
                let host = sp::SpinHost::open();
                let resp = match sp::drain(&host, $run_jobs).await {
                    Ok(n) => ::switchyard_core::common::http::HttpResponse::json(200, &::serde_json::json!({ "ran": n })),
                    Err(e) => {
                        ::switchyard_core::host::Host::log_error(&host, &format!("drain: {e}"));
                        ::switchyard_core::common::http::HttpResponse::empty(500)
                    }
                };
                sp::to_spin_response(resp)
            }
        }
    };
}
