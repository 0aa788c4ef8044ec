//! Cloudflare entry: service bindings per function (`FN_SEND`, `FN_TOKEN`, ...).

use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::ots::errors::OtsError;
use switchyard_core::ports::{PortError, PortResult};
use switchyard_core::routes::{Function, GATEWAY_MAX_BODY_BYTES};
use switchyard_host_cloudflare::{read_request, to_worker_request, to_worker_response, CfHost};
use switchyard_core::ports::Throttle;
use switchyard_core::ratelimit::{self, Decision, Window};
use worker::{durable_object, event, Context, DurableObject, Env, Method, Request, RequestInit, Response, Result, State};

struct Services<'a>(&'a Env);

impl super::Forward for Services<'_> {
    async fn forward(&self, to: Function, req: HttpRequest) -> PortResult<HttpResponse> {
        let binding = format!("FN_{}", to.name().to_ascii_uppercase());
        let service = self.0.service(&binding).map_err(|e| PortError::new(e.to_string()))?;
        // Service bindings need an absolute URL; the host part is ignored.
        let mut outbound = req;
        outbound.url = format!("https://{}.internal{}", to.name(), outbound.url);
        let wreq = to_worker_request(&outbound).map_err(|e| PortError::new(e.to_string()))?;
        let mut resp = service.fetch_request(wreq).await.map_err(|e| PortError::new(e.to_string()))?;
        let status = resp.status_code();
        let headers = resp.headers().entries().collect();
        let body = resp.bytes().await.map_err(|e| PortError::new(e.to_string()))?;
        Ok(HttpResponse { status, headers, body })
    }
}

/// Ask `deliver` to sweep the outbox at most this often per gateway isolate.
const SWEEP_EVERY_MS: u64 = 5_000;
static LAST_SWEEP_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Starts an outbox sweep in the background when the last one is old enough, so jobs a
/// crashed broker lost are re-sent as soon as the hub sees traffic again.
fn kick_sweep(env: &Env, ctx: &Context) {
    use std::sync::atomic::Ordering;
    let now = js_sys::Date::now() as u64;
    let last = LAST_SWEEP_MS.load(Ordering::Relaxed);
    if now.saturating_sub(last) < SWEEP_EVERY_MS || LAST_SWEEP_MS.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    let Ok(deliver) = env.service("FN_DELIVER") else { return };
    ctx.wait_until(async move {
        let mut init = RequestInit::new();
        init.with_method(Method::Post);
        if let Ok(req) = Request::new_with_init("https://deliver.internal/sweep", &init) {
            if let Err(e) = deliver.fetch_request(req).await {
                worker::console_error!("sweep request: {e}");
            }
        }
    });
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    kick_sweep(&env, &ctx);
    let host = match CfHost::from_env(&env) {
        Ok(h) => h,
        Err(e) => {
            worker::console_error!("gateway settings: {e}");
            return to_worker_response(OtsError::Backend.response());
        }
    };
    let remote_ip = req.headers().get("cf-connecting-ip")?;
    let (core_req, oversize) = read_request(req, GATEWAY_MAX_BODY_BYTES).await?;
    let resp = super::handle(&host, &Services(&env), &Windows(&env), core_req, remote_ip.as_deref(), oversize).await;
    to_worker_response(resp)
}

/// Throttling windows, one Durable Object per client: its storage operations are serialised,
/// so concurrent posts of one client cannot both take the last place in a window.
struct Windows<'a>(&'a Env);

impl Throttle for Windows<'_> {
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<Decision> {
        let err = |e: worker::Error| PortError::new(e.to_string());
        let stub = self.0.durable_object("RATE_LIMITER").map_err(err)?.id_from_name(key).map_err(err)?.get_stub().map_err(err)?;
        let body = serde_json::json!({ "limit": limit, "nowMs": now_ms }).to_string();
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = Request::new_with_init("https://rate-limiter.internal/hit", &init).map_err(err)?;
        let answer: serde_json::Value = stub.fetch_with_request(req).await.map_err(err)?.json().await.map_err(err)?;
        Ok(match answer["nextAccessMs"].as_u64() {
            Some(next_access_ms) => Decision::Throttled { next_access_ms },
            None => Decision::Allowed,
        })
    }
}

#[durable_object]
pub struct RateLimiter {
    state: State,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let q: serde_json::Value = req.json().await?;
        let (limit, now_ms) = (q["limit"].as_u64().unwrap_or(1) as u32, q["nowMs"].as_u64().unwrap_or(0));
        let storage = self.state.storage();
        let window: Option<Window> = storage.get("window").await?;
        let (decision, next) = ratelimit::hit(window, limit, now_ms);
        storage.put("window", next).await?;
        Response::from_json(&match decision {
            Decision::Allowed => serde_json::json!({ "allowed": true }),
            Decision::Throttled { next_access_ms } => serde_json::json!({ "allowed": false, "nextAccessMs": next_access_ms }),
        })
    }
}
