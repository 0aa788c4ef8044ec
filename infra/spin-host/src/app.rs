//! The loaded application: every component compiled and pre-instantiated once at start-up,
//! and a fresh instance (and store) per request, as Spin gives each request its own instance.
//! Outgoing HTTP goes through [`Outbound`]: refused unless the component's
//! `allowed_outbound_hosts` allow it; `http://<id>.spin.internal` runs component `<id>`
//! in-process (local service chaining); anything else goes out over the network.

use crate::manifest::{Component, Manifest, Route};
use crate::outbound::{self, AllowedHost};
use crate::routing;
use crate::state::State;
use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::{Component as WasmComponent, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// Host names under which components reach each other.
const INTERNAL_SUFFIX: &str = ".spin.internal";

pub struct App {
    pub components: Vec<Component>,
    allowed: Vec<Vec<AllowedHost>>,
    /// Per component: its HTTP entry (None when no HTTP trigger names it) and its cron entry
    /// (None when no cron trigger does).
    pres: Vec<Option<ProxyPre<Ctx>>>,
    crons: Vec<Option<crate::cron::SpinCronPre<Ctx>>>,
    routes: Vec<Route>,
    pub state: State,
}

/// One request's store data.
pub struct Ctx {
    pub app: Arc<App>,
    pub index: usize,
    pub table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: Outbound,
}

impl Ctx {
    pub fn component(&self) -> &Component {
        &self.app.components[self.index]
    }
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Ctx {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}

impl App {
    /// Compiles and links every component; fails if one imports an interface this host lacks.
    pub fn load(manifest: Manifest, state_dir: &Path, cache: &Path) -> Result<Arc<App>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).w()?;
        let mut linker: Linker<Ctx> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).w()?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).w()?;
        crate::interfaces::add_to_linker(&mut linker).w()?;

        let state = State::open(state_dir)?;
        let mut pres = Vec::new();
        let mut crons = Vec::new();
        let mut allowed = Vec::new();
        for c in &manifest.components {
            let wasm = compile(&engine, &c.source, cache).with_context(|| format!("component {}", c.id))?;
            let pre = linker.instantiate_pre(&wasm).w().with_context(|| format!("component {}: it imports something this host does not provide", c.id))?;
            let http = c.route != Route::None;
            pres.push(if http { Some(ProxyPre::new(pre.clone()).w().with_context(|| format!("component {} does not export wasi:http/incoming-handler", c.id))?) } else { None });
            let cron = !c.cron.is_empty();
            crons.push(if cron { Some(crate::cron::SpinCronPre::new(pre).w().with_context(|| format!("component {} does not export handle-cron-event (fermyon:spin-cron@2.0.0)", c.id))?) } else { None });
            allowed.push(c.allowed_outbound_hosts.iter().map(|h| AllowedHost::parse(h)).collect::<Result<Vec<_>>>().with_context(|| format!("component {}", c.id))?);
            for label in &c.key_value_stores {
                state.kv_create(label)?;
            }
        }
        let routes = manifest.components.iter().map(|c| c.route.clone()).collect();
        Ok(Arc::new(App { components: manifest.components, allowed, pres, crons, routes, state }))
    }

    /// Serves an incoming request: routes it by path, or answers 404 as Spin does.
    pub async fn serve<B>(self: &Arc<Self>, req: hyper::Request<B>, client: SocketAddr) -> hyper::Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = req.uri().path().to_string();
        let Some(m) = routing::route(&self.routes, &path) else {
            return text(404, "Not Found");
        };
        let mut req = req;
        let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_string();
        let full_url = format!("http://{host}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let h = req.headers_mut();
        set(h, "spin-full-url", &full_url);
        set(h, "spin-path-info", &m.path_info);
        set(h, "spin-matched-route", &m.matched_route);
        set(h, "spin-raw-component-route", &m.matched_route);
        set(h, "spin-component-route", &m.component_route);
        set(h, "spin-base-path", "/");
        set(h, "spin-client-addr", &client.to_string());
        match self.handle(m.index, req).await {
            Ok(resp) => resp,
            Err(e) => {
                eprintln!("spin-host: component {}: {e:#}", self.components[m.index].id);
                text(500, "Internal Server Error")
            }
        }
    }

    /// Runs component `index` on `req` in a fresh instance.
    pub async fn handle<B>(self: &Arc<Self>, index: usize, req: hyper::Request<B>) -> Result<hyper::Response<HyperOutgoingBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let pre = self.pres[index].clone().with_context(|| format!("component {} has no HTTP trigger", self.components[index].id))?;
        let mut store = self.store(index, pre.engine());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, req).w()?;
        let out = store.data_mut().http().new_response_outparam(sender).w()?;
        // The instance keeps running in its task after it sets the response, to stream the body.
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await
        });
        match receiver.await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(anyhow!("component answered with error {e:?}")),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("component returned without setting a response"),
                Ok(Err(e)) => Err(wasm_err(e).context("component trapped")),
                Err(e) => Err(anyhow!(e).context("component task failed")),
            },
        }
    }

    /// A fresh store for one instance of component `index`.
    fn store(self: &Arc<Self>, index: usize, engine: &Engine) -> Store<Ctx> {
        let c = &self.components[index];
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        for (k, v) in &c.environment {
            wasi.env(k, v);
        }
        Store::new(engine, Ctx { app: self.clone(), index, table: ResourceTable::new(), wasi: wasi.build(), http: WasiHttpCtx::new(), outbound: Outbound { app: self.clone(), index } })
    }

    /// Runs component `index`'s `handle-cron-event` in a fresh instance, as the cron trigger
    /// does when its schedule fires.
    pub async fn cron_event(self: &Arc<Self>, index: usize, timestamp: u64) -> Result<()> {
        let pre = self.crons[index].clone().with_context(|| format!("component {} has no cron trigger", self.components[index].id))?;
        let mut store = self.store(index, pre.engine());
        let cron = pre.instantiate_async(&mut store).await.w()?;
        match cron.call_handle_cron_event(&mut store, crate::cron::Metadata { timestamp }).await.map_err(wasm_err).context("cron handler trapped")? {
            Ok(()) => Ok(()),
            Err(crate::cron::Error::Other(e)) => bail!("cron handler failed: {e}"),
        }
    }
}

/// Compiles `source`, reusing the machine code cached under `cache` from an earlier start
/// (keyed by the file's contents and this engine's settings).
fn compile(engine: &Engine, source: &Path, cache: &Path) -> Result<WasmComponent> {
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    let cached = cache.join(format!("{:016x}.cwasm", h.finish()));
    if cached.exists() {
        // SAFETY: the file was written by `serialize` below, by this same engine configuration.
        if let Ok(c) = unsafe { WasmComponent::deserialize_file(engine, &cached) } {
            return Ok(c);
        }
    }
    let c = WasmComponent::new(engine, &bytes).w()?;
    if std::fs::create_dir_all(cache).is_ok() {
        let tmp = cached.with_extension(format!("{}.tmp", std::process::id()));
        if c.serialize().ok().and_then(|b| std::fs::write(&tmp, b).ok()).is_some() {
            let _ = std::fs::rename(&tmp, &cached);
        }
    }
    Ok(c)
}

/// wasmtime 48 has its own error type; without its `anyhow` feature it does not convert.
fn wasm_err(e: wasmtime::Error) -> anyhow::Error {
    anyhow!("{e:?}")
}

trait W<T> {
    fn w(self) -> Result<T>;
}

impl<T> W<T> for wasmtime::Result<T> {
    fn w(self) -> Result<T> {
        self.map_err(wasm_err)
    }
}

fn set(h: &mut http::HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = http::HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

pub fn text(status: u16, body: &'static str) -> hyper::Response<HyperOutgoingBody> {
    let body = http_body_util::Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}).boxed_unsync();
    let mut r = hyper::Response::new(body);
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r
}

/// Outgoing HTTP for one component instance.
pub struct Outbound {
    app: Arc<App>,
    index: usize,
}

type SendFuture = Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<(http::Response<WasiBody>, Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>)>> + Send>;

impl WasiHttpHooks for Outbound {
    fn send_request(&mut self, request: http::Request<WasiBody>, options: Option<RequestOptions>, _fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>) -> SendFuture {
        let app = self.app.clone();
        let from = self.index;
        Box::new(async move {
            let uri = request.uri().clone();
            let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
            let host = uri.host().ok_or(wasmtime_wasi_http::Error::HttpRequestUriInvalid)?.to_ascii_lowercase();
            let port = uri.port_u16().or_else(|| outbound::default_port(&scheme)).ok_or(wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
            if !outbound::allowed(&app.allowed[from], &scheme, &host, port) {
                eprintln!("spin-host: component {} may not send to {scheme}://{host}:{port} (not in allowed_outbound_hosts)", app.components[from].id);
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            let done: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send> = Box::new(async { Ok(()) });
            if let Some(id) = host.strip_suffix(INTERNAL_SUFFIX) {
                let Some(to) = app.components.iter().position(|c| c.id == id && c.route != Route::None) else {
                    return Err(wasmtime_wasi_http::Error::DestinationNotFound);
                };
                let mut request = request;
                let full_url = uri.to_string();
                let h = request.headers_mut();
                set(h, "spin-full-url", &full_url);
                set(h, "spin-path-info", uri.path());
                set(h, "spin-matched-route", "");
                set(h, "spin-raw-component-route", "");
                set(h, "spin-component-route", "");
                set(h, "spin-base-path", "/");
                set(h, "spin-client-addr", "127.0.0.1:0");
                let resp = app.handle(to, request).await.map_err(|e| {
                    eprintln!("spin-host: chained call to {id}: {e:#}");
                    wasmtime_wasi_http::Error::InternalError(Some(e.to_string()))
                })?;
                return Ok((resp, done));
            }
            let (resp, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let io: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send> = Box::new(io);
            Ok((resp.map(|b| b.boxed_unsync()), io))
        })
    }
}
