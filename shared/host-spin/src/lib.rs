//! Switchyard's ports on Fermyon Spin. Spin has no queue or object store: the archive and
//! the broker's outbox live in the key-value store under their own prefixes, and the
//! `deliver` component drains the outbox. Variables carry the hub's settings (Spin variable
//! names are the setting names in lower case).
#![cfg(target_os = "wasi")]

use switchyard_core::host::{Host, Settings};
use switchyard_core::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::ports::{
    Archive, Clock, Entropy, HttpClient, KeyValue, OutboundError, Outbox, PortError, PortResult, Queue,
};

/// The Spin key-value store every component opens.
pub const STORE: &str = "default";
/// Key prefixes that stand in for the archive and the broker.
pub const ARCHIVE_PREFIX: &str = "archive/";
pub const OUTBOX_PREFIX: &str = "outbox/";

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

/// The outbox: one key per job, ordered by enqueue time.
pub struct SpinOutbox(SpinKv);

/// Outbox keys sort by due time: `outbox/<due ms, 16 digits>-<nonce>`.
impl Queue for SpinOutbox {
    async fn send(&self, message_json: &str) -> PortResult<()> {
        self.send_after(message_json, 0).await
    }

    async fn send_after(&self, message_json: &str, delay_secs: u32) -> PortResult<()> {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(port_err)?;
        let due = now_ms() + delay_secs as u64 * 1000;
        let key = format!("{OUTBOX_PREFIX}{due:016}-{:016x}", u64::from_be_bytes(nonce));
        self.0.put(&key, message_json.as_bytes()).await
    }
}

impl SpinOutbox {
    /// Jobs due by `now_ms`, oldest first, with their outbox keys.
    pub async fn due(&self, now_ms: u64, limit: usize) -> PortResult<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for key in self.0.list(OUTBOX_PREFIX).await? {
            let due: u64 = key[OUTBOX_PREFIX.len()..].split('-').next().and_then(|d| d.parse().ok()).unwrap_or(0);
            if due > now_ms || out.len() >= limit {
                break;
            }
            if let Some(v) = self.0.get(&key).await? {
                out.push((key, v));
            }
        }
        Ok(out)
    }

    pub async fn remove(&self, key: &str) -> PortResult<()> {
        self.0.delete(key).await
    }
}

/// On Spin the broker is itself the key-value outbox, which survives restarts: a job stays
/// there until `deliver` finished it. Nothing more needs recording.
pub struct SpinDurableBroker;

impl Outbox for SpinDurableBroker {
    async fn put(&self, _message_id: &str, _job_json: &str, _due_at_ms: u64) -> PortResult<()> {
        Ok(())
    }
    async fn remove(&self, _message_id: &str) -> PortResult<()> {
        Ok(())
    }
    async fn overdue(&self, _before_ms: u64, _limit: usize) -> PortResult<Vec<Vec<u8>>> {
        Ok(Vec::new())
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
}

pub struct SpinHttp;

impl HttpClient for SpinHttp {
    /// Spin 3 applies its own outbound timeouts; `timeout_ms` is not enforced here.
    async fn send(&self, request: HttpRequest, _timeout_ms: u32) -> Result<HttpResponse, OutboundError> {
        let method = match request.method {
            Method::Get => spin_sdk::http::Method::Get,
            Method::Put => spin_sdk::http::Method::Put,
            Method::Delete => spin_sdk::http::Method::Delete,
            Method::Patch => spin_sdk::http::Method::Patch,
            _ => spin_sdk::http::Method::Post,
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
    kv: SpinKv,
    outbox: SpinOutbox,
    archive: SpinArchive,
    http: SpinHttp,
    settings: Settings,
}

impl SpinHost {
    pub fn open() -> PortResult<Self> {
        let settings = Settings::from_lookup(setting)?;
        Ok(SpinHost { kv: open_store()?, outbox: SpinOutbox(open_store()?), archive: SpinArchive(open_store()?), http: SpinHttp, settings })
    }
}

impl Clock for SpinHost {
    fn now_ms(&self) -> u64 {
        now_ms()
    }
}

impl Entropy for SpinHost {
    fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
        getrandom::fill(buf).map_err(port_err)
    }
}

impl Host for SpinHost {
    type Kv = SpinKv;
    type Queue = SpinOutbox;
    type Archive = SpinArchive;
    type Outbox = SpinDurableBroker;
    type Http = SpinHttp;
    type Signer = switchyard_core::signing::RsaSigner;

    fn kv(&self) -> PortResult<&SpinKv> {
        Ok(&self.kv)
    }
    fn queue(&self) -> PortResult<&SpinOutbox> {
        Ok(&self.outbox)
    }
    fn archive(&self) -> PortResult<&SpinArchive> {
        Ok(&self.archive)
    }
    fn outbox(&self) -> PortResult<&SpinDurableBroker> {
        Ok(&SpinDurableBroker)
    }
    fn http(&self) -> PortResult<&SpinHttp> {
        Ok(&self.http)
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    async fn signer(&self) -> PortResult<switchyard_core::signing::RsaSigner> {
        let pem = self.settings.signing_key.as_deref().ok_or_else(|| PortError::new("switchyard_signing_key is not set"))?;
        switchyard_core::signing::RsaSigner::from_pkcs8(pem.as_bytes())
    }
    fn log_error(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Converts Spin's request to the core's, runs `handler`, converts back. Host failures
/// become the spec's 500 body and a log line.
pub async fn serve(req: spin_sdk::http::Request, handler: impl AsyncFnOnce(&SpinHost, HttpRequest) -> HttpResponse) -> spin_sdk::http::Response {
    let host = match SpinHost::open() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("settings: {e}");
            return to_spin_response(switchyard_core::ots::errors::OtsError::Backend.response());
        }
    };
    to_spin_response(handler(&host, from_spin_request(&req)).await)
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
