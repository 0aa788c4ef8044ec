//! The Workers-specific wiring of each kind of function: fetch entries, the gateway (service
//! bindings, the caller's address, throttling windows in a Durable Object, sweep requests),
//! the outbox shards and sweep of `deliver`, and the Durable Object classes. Function crates invoke
//! the macros; the logic stays here so it exists once.

use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::common::ratelimit::{self, Decision, Reservation, Window};
use switchyard_core::host::{Forward, Function};
use switchyard_core::ports::{PortError, PortResult, Throttle};
use worker::{Context, Env, Method, Request, RequestInit, Response, State};

use crate::{bindings, to_worker_request};

fn err(e: worker::Error) -> PortError {
    PortError::new(e.to_string())
}

/// Forwards to function Workers through their service bindings (`FN_SEND`, `FN_TOKEN`, ...),
/// handing on the configuration generation the gateway read, so the function reads none.
pub struct Services<'a>(pub &'a Env, pub &'a crate::CfHost);

impl Forward for Services<'_> {
    async fn forward(&self, to: Function, mut req: HttpRequest) -> PortResult<HttpResponse> {
        if let Some(g) = crate::known_generation(self.1.generation()) {
            req.headers.push((crate::GENERATION_HEADER.into(), g));
        }
        forward(self.0, to, req).await
    }
}

pub async fn forward(env: &Env, to: Function, mut req: HttpRequest) -> PortResult<HttpResponse> {
    let binding = format!("FN_{}", to.name().to_ascii_uppercase());
    let service = env.service(&binding).map_err(err)?;
    // Service bindings need an absolute URL; the host part is ignored.
    req.url = format!("https://{}.internal{}", to.name(), req.url);
    let wreq = to_worker_request(&req).map_err(err)?;
    let mut resp = service.fetch_request(wreq).await.map_err(err)?;
    let status = resp.status_code();
    let headers = resp.headers().entries().collect();
    let body = resp.bytes().await.map_err(err)?;
    Ok(HttpResponse { status, headers, body })
}

/// The caller's address as Cloudflare reports it.
pub fn remote_ip(req: &Request) -> Option<String> {
    req.headers().get("cf-connecting-ip").ok().flatten()
}

/// Throttling windows, one Durable Object per client: its storage operations are serialised,
/// so concurrent posts of one client cannot both take the last place in a window. The
/// gateway isolate takes a few places per call (`ratelimit::reserve`) and spends them
/// itself, so the object is called once per few messages.
pub struct Windows<'a>(pub &'a Env);

/// What this isolate knows of a client's window: places reserved and not yet spent, or that
/// the window is full until it ends (places come back only then, so this is exact).
#[derive(Clone, Copy)]
struct Allowance {
    places: u32,
    window_ends_ms: u64,
    limit: u32,
    full: bool,
}

thread_local! {
    static ALLOWANCES: std::cell::RefCell<std::collections::HashMap<String, Allowance>> = std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Spends a place of `key`'s allowance: `Some(decision)` when the allowance decides.
fn from_allowance(key: &str, limit: u32, now_ms: u64) -> Option<Decision> {
    ALLOWANCES.with(|a| {
        let mut a = a.borrow_mut();
        let al = a.get_mut(key).filter(|al| al.limit == limit && now_ms < al.window_ends_ms)?;
        if al.full {
            return Some(Decision::Throttled { next_access_ms: al.window_ends_ms });
        }
        (al.places > 0).then(|| {
            al.places -= 1;
            Decision::Allowed
        })
    })
}

impl Throttle for Windows<'_> {
    /// Spends a reserved place, or reserves more and spends one of them. Requests never wait
    /// on one another's reservation (a request's I/O stays its own): concurrent misses each
    /// reserve, and every grant joins the allowance, so at worst a burst is throttled a few
    /// places early, never let through beyond the quota.
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<Decision> {
        if let Some(decision) = from_allowance(key, limit, now_ms) {
            return Ok(decision);
        }
        let reservation = throttle_hit(self.0, key, limit, now_ms).await?;
        ALLOWANCES.with(|a| {
            let mut a = a.borrow_mut();
            let kept = a.get(key).filter(|al| !al.full && al.limit == limit && now_ms < al.window_ends_ms).copied();
            let next = match (reservation, kept) {
                (Reservation::Granted { places, window_ends_ms }, Some(k)) if k.window_ends_ms == window_ends_ms => Allowance { places: k.places + places, ..k },
                (Reservation::Granted { places, window_ends_ms }, _) => Allowance { places, window_ends_ms, limit, full: false },
                // Another request's grant may have joined the allowance meanwhile: spend that.
                (Reservation::Throttled { .. }, Some(k)) if k.places > 0 => k,
                (Reservation::Throttled { next_access_ms }, _) => Allowance { places: 0, window_ends_ms: next_access_ms, limit, full: true },
            };
            a.insert(key.to_string(), next);
        });
        Ok(from_allowance(key, limit, now_ms).unwrap_or(Decision::Throttled { next_access_ms: now_ms + ratelimit::WINDOW_MS }))
    }
}

/// Asks the client's rate-limiter object for up to [`ratelimit::PLACES_PER_RESERVATION`] places.
pub async fn throttle_hit(env: &Env, key: &str, limit: u32, now_ms: u64) -> PortResult<Reservation> {
    let stub = env.durable_object(bindings::RATE_LIMITER).map_err(err)?.id_from_name(key).map_err(err)?.get_stub().map_err(err)?;
    let body = serde_json::json!({ "limit": limit, "nowMs": now_ms, "want": ratelimit::PLACES_PER_RESERVATION }).to_string();
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://rate-limiter.internal/hit", &init).map_err(err)?;
    let answer: serde_json::Value = stub.fetch_with_request(req).await.map_err(err)?.json().await.map_err(err)?;
    Ok(match (answer["nextAccessMs"].as_u64(), answer["places"].as_u64(), answer["windowEndsMs"].as_u64()) {
        (Some(next_access_ms), _, _) => Reservation::Throttled { next_access_ms },
        (None, Some(places), Some(window_ends_ms)) if places >= 1 => Reservation::Granted { places: places as u32, window_ends_ms },
        _ => return Err(PortError::new(format!("rate limiter answered {answer}"))),
    })
}

/// The rate limiter object's request: reserve places of the window it keeps.
pub async fn rate_limiter_fetch(state: &State, mut req: Request) -> worker::Result<Response> {
    let q: serde_json::Value = req.json().await?;
    let (limit, now_ms) = (q["limit"].as_u64().unwrap_or(1) as u32, q["nowMs"].as_u64().unwrap_or(0));
    let want = q["want"].as_u64().unwrap_or(1) as u32;
    let storage = state.storage();
    let window: Option<Window> = storage.get("window").await?;
    let (reservation, next) = ratelimit::reserve(window, limit, want, now_ms);
    storage.put("window", next).await?;
    Response::from_json(&match reservation {
        Reservation::Granted { places, window_ends_ms } => serde_json::json!({ "places": places, "windowEndsMs": window_ends_ms }),
        Reservation::Throttled { next_access_ms } => serde_json::json!({ "nextAccessMs": next_access_ms }),
    })
}

/// The unique-key object's request: a JSON array of `{key, value}`; the answer, a JSON array
/// of booleans: `true` where the key was absent and is now recorded, in order (of two entries
/// with one key, the first). The object runs one request at a time (SQLite statements run
/// synchronously between its awaits), so each check-and-set is atomic.
pub async fn unique_fetch(state: &State, mut req: Request) -> worker::Result<Response> {
    use worker::SqlStorageValue as V;
    let items: Vec<serde_json::Value> = req.json().await?;
    let sql = state.storage().sql();
    sql.exec(switchyard_core::common::unique::sql::SCHEMA, None)?;
    let mut answers = Vec::with_capacity(items.len());
    for item in &items {
        let (Some(key), Some(value)) = (item["key"].as_str(), item["value"].as_str()) else {
            return Response::error("each item needs key and value", 400);
        };
        let inserted = sql.exec(switchyard_core::common::unique::sql::INSERT, vec![V::from(key), V::from(value)])?.raw().next().is_some();
        answers.push(inserted);
    }
    Response::from_json(&answers)
}

/// Ask `deliver` to sweep the outbox at most this often per gateway isolate.
pub const SWEEP_EVERY_MS: u64 = 5_000;
static LAST_SWEEP_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Starts an outbox sweep in the background when the last one is old enough: every shard
/// pushes what is due and re-arms its alarm (the safety net beside the shards' own alarms;
/// crons do not fire locally, deployments also sweep from deliver's cron trigger).
pub fn kick_sweep(env: &Env, ctx: &Context) {
    use std::sync::atomic::Ordering;
    let now = js_sys::Date::now() as u64;
    let last = LAST_SWEEP_MS.load(Ordering::Relaxed);
    if now.saturating_sub(last) < SWEEP_EVERY_MS || LAST_SWEEP_MS.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    let Ok(deliver) = env.service(bindings::DELIVER) else { return };
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

/// The fetch entry of a function Worker: `fetch_entry!(handle)` serves every request with
/// `handle(&CfHost, HttpRequest) -> HttpResponse` through [`crate::serve`].
#[macro_export]
macro_rules! fetch_entry {
    ($handler:path) => {
        mod cloudflare_entry {
            #[::worker::event(fetch)]
            async fn fetch(req: ::worker::Request, env: ::worker::Env, _ctx: ::worker::Context) -> ::worker::Result<::worker::Response> {
                ::switchyard_host_cloudflare::serve(req, &env, $handler).await
            }
        }
    };
}

/// The gateway Worker: `gateway_entry!(handle)` calls
/// `handle(&CfHost, &impl Forward, &impl Throttle, HttpRequest, Edge, declared_len)`
/// for every request, and defines the `RateLimiter` Durable Object class it throttles with.
#[macro_export]
macro_rules! gateway_entry {
    ($handler:path) => {
        mod cloudflare_entry {
            use ::switchyard_host_cloudflare as cf;

            #[::worker::event(fetch)]
            async fn fetch(req: ::worker::Request, env: ::worker::Env, ctx: ::worker::Context) -> ::worker::Result<::worker::Response> {
                cf::kick_sweep(&env, &ctx);
                let host = cf::CfHost::from_env(&env);
                let remote_ip = cf::remote_ip(&req);
                let url = req.url()?;
                let addressed_url = url.to_string();
                let limit = ::switchyard_core::gateway::read_limit(url.path());
                let (core_req, oversize) = cf::read_request(req, limit).await?;
                let edge = ::switchyard_core::gateway::Edge { remote_ip: remote_ip.as_deref(), addressed_url: Some(&addressed_url) };
                let resp = $handler(&host, &cf::Services(&env, &host), &cf::Windows(&env), core_req, edge, oversize).await;
                cf::to_worker_response(resp)
            }

            #[::worker::durable_object]
            pub struct RateLimiter {
                state: ::worker::State,
            }

            impl ::worker::DurableObject for RateLimiter {
                fn new(state: ::worker::State, _env: ::worker::Env) -> Self {
                    RateLimiter { state }
                }

                async fn fetch(&self, req: ::worker::Request) -> ::worker::Result<::worker::Response> {
                    cf::rate_limiter_fetch(&self.state, req).await
                }
            }
        }
    };
}

/// The `UniqueKeys` Durable Object class behind [`crate::CfUnique`]; the function whose
/// config declares the class invokes this once.
#[macro_export]
macro_rules! unique_object {
    () => {
        mod cloudflare_unique {
            #[::worker::durable_object]
            pub struct UniqueKeys {
                state: ::worker::State,
            }

            impl ::worker::DurableObject for UniqueKeys {
                fn new(state: ::worker::State, _env: ::worker::Env) -> Self {
                    UniqueKeys { state }
                }

                async fn fetch(&self, req: ::worker::Request) -> ::worker::Result<::worker::Response> {
                    ::switchyard_host_cloudflare::unique_fetch(&self.state, req).await
                }
            }
        }
    };
}

/// The `AddressShard` Durable Object class behind [`crate::CfAddressTable`] (SQLite storage);
/// the function whose config declares the class invokes this once.
#[macro_export]
macro_rules! address_table_object {
    () => {
        mod cloudflare_addresses {
            #[::worker::durable_object]
            pub struct AddressShard {
                state: ::worker::State,
            }

            impl ::worker::DurableObject for AddressShard {
                fn new(state: ::worker::State, _env: ::worker::Env) -> Self {
                    ::switchyard_host_cloudflare::address_shard_init(&state);
                    AddressShard { state }
                }

                async fn fetch(&self, req: ::worker::Request) -> ::worker::Result<::worker::Response> {
                    ::switchyard_host_cloudflare::address_shard_fetch(&self.state, req).await
                }
            }
        }
    };
}

/// The deliver Worker: `deliver_entry!(run_jobs, sweep)` defines the `OutboxShard` Durable
/// Object class, whose shards push each hand-out with
/// `run_jobs(&CfHost, Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<Ack>` (jobs and payloads in order),
/// and runs `sweep(&CfHost) -> PortResult<usize>` on its cron trigger and on `POST /sweep`
/// (reached only through the gateway's service binding).
#[macro_export]
macro_rules! deliver_entry {
    ($run_jobs:path, $sweep:path) => {
        mod cloudflare_entry {
            use ::switchyard_host_cloudflare as cf;

            fn run_boxed<'a>(
                host: &'a cf::CfHost,
                jobs: Vec<(Vec<u8>, Option<Vec<u8>>)>,
            ) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Vec<::switchyard_core::common::broker::Ack>> + 'a>> {
                Box::pin($run_jobs(host, jobs))
            }

            #[::worker::durable_object]
            pub struct OutboxShard {
                shard: ::std::rc::Rc<cf::Shard>,
            }

            impl ::worker::DurableObject for OutboxShard {
                fn new(state: ::worker::State, env: ::worker::Env) -> Self {
                    OutboxShard { shard: cf::Shard::new(state, env, run_boxed) }
                }

                async fn fetch(&self, req: ::worker::Request) -> ::worker::Result<::worker::Response> {
                    self.shard.fetch(req).await
                }

                async fn alarm(&self) -> ::worker::Result<::worker::Response> {
                    self.shard.alarm().await
                }
            }

            #[::worker::event(fetch)]
            async fn fetch(req: ::worker::Request, env: ::worker::Env, _ctx: ::worker::Context) -> ::worker::Result<::worker::Response> {
                if req.path() != "/sweep" || req.method() != ::worker::Method::Post {
                    return ::worker::Response::error("Not Found", 404);
                }
                match $sweep(&cf::CfHost::from_env(&env)).await {
                    Ok(n) => ::worker::Response::from_json(&::serde_json::json!({ "resumed": n })),
                    Err(e) => {
                        ::worker::console_error!("sweep: {e}");
                        ::worker::Response::error("sweep failed", 500)
                    }
                }
            }

            #[::worker::event(scheduled)]
            async fn scheduled(_event: ::worker::ScheduledEvent, env: ::worker::Env, _ctx: ::worker::ScheduleContext) {
                if let Err(e) = $sweep(&cf::CfHost::from_env(&env)).await {
                    ::worker::console_error!("scheduled sweep: {e}");
                }
            }
        }
    };
}
