//! Switchyard's ports on Fermyon Spin. Spin has no queue or object store: the archive and (for
//! now) the address table live in the key-value store under their own prefixes; the broker's
//! outbox and the unique keys in Spin's SQLite (the statements every SQLite host runs), and
//! the `deliver` component drains the outbox by lease. Variables carry the hub's settings (Spin variable
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

/// Spin's SQLite database the outbox and the unique keys live in (declared in spin.toml's
/// `sqlite_databases` of the components that use them).
pub const DATABASE: &str = "default";

use spin_sdk::sqlite::Value as Sql;

/// One SQLite connection per instance, its tables made on first use.
pub struct SpinSql {
    conn: spin_sdk::sqlite::Connection,
    ready: std::cell::Cell<bool>,
}

impl SpinSql {
    fn open() -> PortResult<SpinSql> {
        let conn = spin_sdk::sqlite::Connection::open(DATABASE).map_err(port_err)?;
        Ok(SpinSql { conn, ready: std::cell::Cell::new(false) })
    }

    /// Runs `statement`; the tables are made (and older ones migrated) on the first call.
    fn exec(&self, statement: &str, params: &[Sql]) -> PortResult<spin_sdk::sqlite::QueryResult> {
        if !self.ready.get() {
            use switchyard_core::common::broker::sql as outbox;
            for stmt in outbox::SCHEMA.split(';').chain([switchyard_core::common::unique::sql::SCHEMA]) {
                self.conn.execute(stmt, &[]).map_err(port_err)?;
            }
            // Each ALTER fails once its column exists, as it should.
            for stmt in outbox::MIGRATE.split(';') {
                let _ = self.conn.execute(stmt, &[]);
            }
            self.ready.set(true);
        }
        self.conn.execute(statement, params).map_err(port_err)
    }
}

fn text(v: Option<&str>) -> Sql {
    v.map_or(Sql::Null, |t| Sql::Text(t.to_string()))
}

/// The outbox in Spin's SQLite: the statements every SQLite host runs
/// (`switchyard_core::common::broker::sql`). Spin keeps no instance between requests, so a
/// drain hands jobs out by lease ([`SpinOutbox::claim`]). Shards are one table here.
pub struct SpinOutbox(SpinSql);

impl Outbox for SpinOutbox {
    async fn put(&self, _shard: &str, e: &OutboxEntry<'_>) -> PortResult<()> {
        use switchyard_core::common::broker::sql;
        let payload = e.payload.map_or(Sql::Null, |p| Sql::Blob(p.to_vec()));
        let params = [Sql::Text(e.id.into()), Sql::Text(e.recipient.into()), Sql::Integer(e.due_at_ms as i64), Sql::Text(e.job.into()), payload, text(e.group), text(e.held)];
        self.0.exec(sql::PUT, &params).map(drop)
    }

    async fn remove(&self, _shard: &str, message_id: &str) -> PortResult<()> {
        self.0.exec(switchyard_core::common::broker::sql::REMOVE, &[Sql::Text(message_id.into())]).map(drop)
    }

    /// The drain finds every due job on its own.
    async fn resume(&self, _shard: &str) -> PortResult<()> {
        Ok(())
    }

    async fn release(&self, _shard: &str, held: &str) -> PortResult<()> {
        self.0.exec(switchyard_core::common::broker::sql::RELEASE, &[Sql::Text(held.into()), Sql::Integer(now_ms() as i64)]).map(drop)
    }

    async fn state(&self, shard: &str, key: &str) -> PortResult<Option<String>> {
        let r = self.0.exec(switchyard_core::common::broker::sql::STATE, &[Sql::Text(format!("{shard}/{key}"))])?;
        Ok(r.rows.first().and_then(|row| match row.values.first() {
            Some(Sql::Text(v)) => Some(v.clone()),
            _ => None,
        }))
    }

    async fn set_state(&self, shard: &str, key: &str, value: Option<&str>) -> PortResult<()> {
        use switchyard_core::common::broker::sql;
        let k = Sql::Text(format!("{shard}/{key}"));
        match value {
            Some(v) => self.0.exec(sql::SET_STATE, &[k, Sql::Text(v.into())]).map(drop),
            None => self.0.exec(sql::CLEAR_STATE, &[k]).map(drop),
        }
    }
}

impl SpinOutbox {
    /// Leases the jobs due by `due_by` that no live lease holds, at most `limit`, until
    /// `lease_until` (`switchyard_core::common::broker::sql::CLAIM`).
    pub fn claim(&self, due_by: u64, lease_until: u64, limit: usize, now: u64) -> PortResult<Vec<switchyard_core::common::broker::Claimed>> {
        use switchyard_core::common::broker::{sql, Claimed};
        let params = [Sql::Integer(due_by as i64), Sql::Integer(lease_until as i64), Sql::Integer(limit as i64), Sql::Integer(now as i64)];
        let r = self.0.exec(sql::CLAIM, &params)?;
        Ok(r.rows
            .into_iter()
            .filter_map(|row| {
                let mut v = row.values.into_iter();
                let (Some(Sql::Integer(rowid)), Some(Sql::Text(id)), Some(Sql::Text(recipient)), group, Some(Sql::Text(job)), payload) =
                    (v.next(), v.next(), v.next(), v.next(), v.next(), v.next())
                else {
                    return None;
                };
                let group = match group {
                    Some(Sql::Text(g)) => Some(g),
                    _ => None,
                };
                let payload = match payload {
                    Some(Sql::Blob(p)) => Some(p),
                    _ => None,
                };
                Some(Claimed { rowid, id, recipient, group, job, payload })
            })
            .collect())
    }

    /// A job whose hand-out failed for the host's own reasons is handed out again at `at`.
    pub fn postpone(&self, id: &str, at: u64) -> PortResult<()> {
        self.0.exec(switchyard_core::common::broker::sql::POSTPONE, &[Sql::Text(id.into()), Sql::Integer(at as i64)]).map(drop)
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

/// Insert-if-absent in Spin's SQLite: one statement checks and records the key
/// (`switchyard_core::common::unique::sql`), so it holds across instances and, with a shared
/// database (runtime config), across replicas.
pub struct SpinUnique(SpinSql);

impl Unique for SpinUnique {
    async fn insert_if_absent(&self, key: &str, value: &[u8]) -> PortResult<bool> {
        let value = String::from_utf8_lossy(value).into_owned();
        let r = self.0.exec(switchyard_core::common::unique::sql::INSERT, &[Sql::Text(format!("{UNIQUE_PREFIX}{key}")), Sql::Text(value)])?;
        Ok(!r.rows.is_empty())
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

/// Resolves once the monotonic clock reaches its deadline, inside spin-sdk's executor (a WASI
/// pollable registered with it, and registered again at each poll until it is due).
struct Timer {
    deadline_ns: u64,
    _token: Option<spin_executor::CancelOnDropToken>,
}

impl Timer {
    fn after(ms: u32) -> Timer {
        Timer { deadline_ns: wasi::clocks::monotonic_clock::now() + ms as u64 * 1_000_000, _token: None }
    }
}

impl std::future::Future for Timer {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if wasi::clocks::monotonic_clock::now() >= self.deadline_ns {
            return std::task::Poll::Ready(());
        }
        let pollable = wasi::clocks::monotonic_clock::subscribe_instant(self.deadline_ns);
        self._token = Some(spin_executor::push_waker_and_get_token(pollable, cx.waker().clone()).into());
        std::task::Poll::Pending
    }
}

impl HttpClient for SpinHttp {
    /// The whole exchange is bounded by `timeout_ms` (the core's per-attempt timeout): past it
    /// the call is dropped and counts as no answer.
    async fn send(&self, request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, OutboundError> {
        use futures_util::future::{select, Either};
        let call = std::pin::pin!(self.exchange(request));
        match select(call, std::pin::pin!(Timer::after(timeout_ms))).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => Err(OutboundError::Timeout),
        }
    }
}

impl SpinHttp {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
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
        // A known length, not a chunked body: some receivers and proxies refuse chunked posts.
        if !request.body.is_empty() && !request.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
            builder.header("content-length", request.body.len().to_string());
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
    /// Opened on first use: only the components that declare the SQLite database ask for it.
    outbox: std::cell::OnceCell<PortResult<SpinOutbox>>,
    archive: PortResult<SpinArchive>,
    unique: std::cell::OnceCell<PortResult<SpinUnique>>,
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
            outbox: std::cell::OnceCell::new(),
            archive: open_store().map(SpinArchive),
            unique: std::cell::OnceCell::new(),
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
        opened(self.outbox.get_or_init(|| SpinSql::open().map(SpinOutbox)))
    }
    fn unique(&self) -> PortResult<&SpinUnique> {
        opened(self.unique.get_or_init(|| SpinSql::open().map(SpinUnique)))
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

/// How long the gateway waits for a component it forwards to (a DIP batch of 100 messages is
/// checked, claimed and stored before the answer).
pub const FORWARD_TIMEOUT_MS: u32 = 60_000;

impl Forward for Chaining {
    async fn forward(&self, to: Function, mut req: HttpRequest) -> PortResult<HttpResponse> {
        req.url = format!("http://{}.spin.internal{}", to.name(), req.url);
        SpinHttp.send(req, FORWARD_TIMEOUT_MS).await.map_err(|e| PortError::new(format!("{e:?}")))
    }
}

/// The gateway's incoming request as the core reads it, with the caller's address
/// (`spin-client-addr`) and the URL as addressed (`spin-full-url`).
pub async fn read_incoming(req: spin_sdk::http::IncomingRequest) -> (HttpRequest, Option<String>, Option<String>) {
    use spin_sdk::http::Method as M;
    let method = match req.method() {
        M::Get => Method::Get,
        M::Head => Method::Head,
        M::Post => Method::Post,
        M::Put => Method::Put,
        M::Delete => Method::Delete,
        M::Patch => Method::Patch,
        M::Options => Method::Options,
        _ => Method::Other,
    };
    let url = req.path_with_query().unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> =
        req.headers().entries().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned())).collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let remote_ip = header("spin-client-addr").map(|a| client_ip(&a));
    let addressed_url = header("spin-full-url");
    let body = req.into_body().await.unwrap_or_default();
    (HttpRequest { method, url, headers, body }, remote_ip, addressed_url)
}

/// Sends `r` and ends it, so the caller has its whole answer before anything else runs.
pub async fn respond(out: spin_sdk::http::ResponseOutparam, r: HttpResponse) {
    use futures_util::SinkExt;
    let fields: Vec<(String, Vec<u8>)> = r.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    let headers = spin_sdk::http::Fields::from_list(&fields).unwrap_or_else(|_| spin_sdk::http::Fields::new());
    let response = spin_sdk::http::OutgoingResponse::new(headers);
    let _ = response.set_status_code(r.status);
    let mut body = response.take_body();
    out.set(response);
    let _ = body.send(r.body).await;
    let _ = body.flush().await;
    let _ = body.close().await;
}

/// How long the gateway lets one drain run after it has answered.
pub const DRAIN_AFTER_ANSWER_TIMEOUT_MS: u32 = 60_000;

/// Asks `deliver` to drain the outbox (local service chaining), after the answer has gone.
pub async fn drain_now(host: &SpinHost) {
    let req = HttpRequest::new(Method::Post, "http://deliver.spin.internal/deliver/drain");
    if let Err(e) = SpinHttp.send(req, DRAIN_AFTER_ANSWER_TIMEOUT_MS).await {
        host.log_error(&format!("drain after ingest: {e:?}"));
    }
}

/// The caller's address from Spin's `spin-client-addr` header (`ip:port`, `[v6]:port`).
fn client_ip(addr: &str) -> String {
    addr.rsplit_once(':').map_or(addr, |(ip, _)| ip).trim_matches(['[', ']']).to_string()
}

/// Throttling windows in Spin's SQLite, replaced by compare and set
/// (`switchyard_core::common::ratelimit::sql`), so hits from concurrent instances and
/// replicas all count.
pub struct Windows<'a>(pub &'a SpinHost);

impl Throttle for Windows<'_> {
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<Decision> {
        use switchyard_core::common::ratelimit::sql;
        let db = SpinSql::open()?;
        db.exec(sql::SCHEMA, &[])?;
        let k = Sql::Text(format!("{RATELIMIT_PREFIX}{key}"));
        for _ in 0..sql::ATTEMPTS {
            let read = db.exec(sql::READ, &[k.clone()])?;
            let (window, version) = match read.rows.first().map(|r| r.values.as_slice()) {
                Some([Sql::Text(v), Sql::Integer(version)]) => (serde_json::from_str::<Window>(v).ok(), Some(*version)),
                _ => (None, None),
            };
            let (decision, next) = ratelimit::hit(window, limit, now_ms);
            let next = Sql::Text(serde_json::to_string(&next).map_err(port_err)?);
            let written = match version {
                Some(v) => db.exec(sql::REPLACE, &[k.clone(), next, Sql::Integer(v)])?,
                None => db.exec(sql::CREATE, &[k.clone(), next])?,
            };
            if !written.rows.is_empty() {
                return Ok(decision);
            }
        }
        Err(PortError::new(format!("throttle window {key} kept changing")))
    }
}

/// Jobs leased per drain call.
pub const DRAIN_BATCH: usize = 256;
/// Hand-outs of one drain running at once.
pub const DRAIN_IN_FLIGHT: usize = 16;

/// Hands out the outbox jobs that are due (a group's together, in order of arrival, the
/// lingering ones of a group included) and runs each hand-out with `run`, at most
/// [`DRAIN_IN_FLIGHT`] at once; a job whose hand-out failed for the host's reasons is handed
/// out again after `HOST_RETRY_MS`. Each job is leased for the outbox grace, so concurrent
/// drains never run it twice and one that died is run again. Returns how many jobs were run.
pub async fn drain(host: &SpinHost, run: impl AsyncFn(&SpinHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>) -> PortResult<usize> {
    use futures_util::stream::{self, StreamExt};
    use switchyard_core::common::broker::{hand_outs, BATCH_LINGER_MS, HOST_RETRY_MS};
    let outbox = host.outbox()?;
    let now = host.now_ms();
    let claimed = outbox.claim(now + BATCH_LINGER_MS, now + host.settings().outbox_grace_ms, DRAIN_BATCH, now)?;
    let n = claimed.len();
    let run = &run;
    let failed: Vec<Vec<String>> = stream::iter(hand_outs(claimed))
        .map(|rows| async move {
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let acks = run(host, rows.into_iter().map(|r| (r.job.into_bytes(), r.payload)).collect()).await;
            ids.into_iter().zip(acks.into_iter().chain(std::iter::repeat(Ack::Retry))).filter(|(_, a)| *a == Ack::Retry).map(|(id, _)| id).collect()
        })
        .buffer_unordered(DRAIN_IN_FLIGHT)
        .collect()
        .await;
    for id in failed.concat() {
        outbox.postpone(&id, host.now_ms() + HOST_RETRY_MS)?;
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

            /// Answers, then (when the request may have queued jobs) drains the outbox: Spin
            /// keeps no shard awake, so delivery starts right after ingest.
            #[::spin_sdk::http_component]
            async fn handle(req: ::spin_sdk::http::IncomingRequest, out: ::spin_sdk::http::ResponseOutparam) {
                let host = sp::SpinHost::open();
                let (request, remote_ip, addressed_url) = sp::read_incoming(req).await;
                let (method, path) = (request.method, request.path().to_string());
                let edge = ::switchyard_core::gateway::Edge { remote_ip: remote_ip.as_deref(), addressed_url: addressed_url.as_deref() };
                let resp = $handler(&host, &sp::Chaining, &sp::Windows(&host), request, edge, None).await;
                let queued = ::switchyard_core::gateway::may_have_queued(method, &path, resp.status);
                sp::respond(out, resp).await;
                if queued {
                    sp::drain_now(&host).await;
                }
            }
        }
    };
}

/// Spin's cron trigger (`fermyon:spin-cron@2.0.0`, see `wit/cron.wit`): the bindings for a
/// component that exports `handle-cron-event`, which [`drain_entry!`] does.
#[doc(hidden)]
pub mod cron {
    spin_sdk::wit_bindgen::generate!({
        world: "spin-cron",
        path: "wit/cron.wit",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "export_cron",
        default_bindings_module: "::switchyard_host_spin::cron",
    });
}

/// Runs `future` to completion on Spin's executor (for an export that is not async).
pub fn run_blocking<T>(future: impl std::future::Future<Output = T>) -> T {
    spin_executor::run(future)
}

/// How long one cron run keeps draining while full batches keep coming: the next run starts
/// on schedule anyway (runs may overlap; leases keep them apart).
pub const CRON_DRAIN_BUDGET_MS: u64 = 20_000;

/// One run of the cron trigger: drains batch after batch while they come full, within
/// [`CRON_DRAIN_BUDGET_MS`]. This is what makes delivery, retries and dead-lettering proceed
/// with no incoming traffic.
pub async fn drain_scheduled(host: &SpinHost, run: impl AsyncFn(&SpinHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>) -> PortResult<usize> {
    let started = host.now_ms();
    let mut total = 0;
    loop {
        let n = drain(host, &run).await?;
        total += n;
        if n < DRAIN_BATCH || host.now_ms().saturating_sub(started) >= CRON_DRAIN_BUDGET_MS {
            return Ok(total);
        }
    }
}

/// The deliver component: Spin has no queue trigger, so the outbox is drained on Spin's cron
/// trigger (`handle-cron-event`, every second in `spin.toml`) and on `POST /deliver/drain`, a
/// private route the gateway calls right after ingest. Both run the due outbox jobs with
/// `run_jobs(&SpinHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>`.
#[macro_export]
macro_rules! drain_entry {
    ($run_jobs:path) => {
        mod spin_entry {
            use ::switchyard_host_spin as sp;

            struct Scheduled;

            impl sp::cron::Guest for Scheduled {
                fn handle_cron_event(_metadata: sp::cron::fermyon::spin_cron::cron_types::Metadata) -> Result<(), sp::cron::fermyon::spin_cron::cron_types::Error> {
                    sp::run_blocking(async {
                        let host = sp::SpinHost::open();
                        sp::drain_scheduled(&host, $run_jobs).await.map(|_| ()).map_err(|e| {
                            ::switchyard_core::host::Host::log_error(&host, &format!("scheduled drain: {e}"));
                            sp::cron::fermyon::spin_cron::cron_types::Error::Other(e.to_string())
                        })
                    })
                }
            }

            ::switchyard_host_spin::cron::export_cron!(Scheduled);

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
