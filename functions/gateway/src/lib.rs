//! The edge gateway: every public request enters here. It finds the route (404/405 bodies
//! of TOTSCo API v2.0 §2.1.8.1 otherwise), authenticates the caller before anything else,
//! applies size limits, and forwards to the function that serves the route with the
//! caller's identity in trusted headers (anything the caller sent under those names is
//! dropped first).
#![allow(async_fn_in_trait)]

use switchyard_core::auth::{self, AuthFailure};
use switchyard_core::host::Host;
use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::ots::errors::OtsError;
use switchyard_core::ports::{PortResult, Throttle};
use switchyard_core::ratelimit::Decision;
use switchyard_core::routes::{self, trusted, Function, Guard};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod cloudflare;
#[cfg(target_os = "wasi")]
mod spin;

/// How the gateway reaches a function: a service binding on Cloudflare, local service
/// chaining on Spin.
pub trait Forward {
    async fn forward(&self, to: Function, req: HttpRequest) -> PortResult<HttpResponse>;
}

/// `declared_len` is the request's Content-Length when the host did not read a body that
/// large; otherwise the body is in `req`.
pub async fn handle(
    host: &impl Host,
    fwd: &impl Forward,
    throttle: &impl Throttle,
    mut req: HttpRequest,
    remote_ip: Option<&str>,
    declared_len: Option<usize>,
) -> HttpResponse {
    let path = req.path().to_string();
    let Some(route) = routes::route(&path) else {
        return OtsError::NotFound.response();
    };
    req.headers.retain(|(k, _)| !k.starts_with(trusted::PREFIX));
    // An operator's block answers before anything else (503/700700, §2.1.8.1).
    if let Err(e) = routes::admit_unblocked(&route, &host.settings().blocked_apis) {
        return e.response();
    }

    match route.guard {
        Guard::Open => {}
        Guard::Admin => {
            if let Err(e) = auth::admin(&req, host.settings().admin_token.as_deref()) {
                return e.response();
            }
        }
        Guard::Participant => {
            let kv = match host.kv() {
                Ok(kv) => kv,
                Err(e) => return backend(host, &e.0),
            };
            match auth::participant(&req, kv, &host.settings().token_secret, host.now_ms()).await {
                Ok(caller) => {
                    // Throttling follows authentication; every request on a throttled route
                    // counts, refused or not.
                    if let Some(quota) = route.quota(&caller.client.grant) {
                        match throttle.hit(&caller.client.client_id, quota, host.now_ms()).await {
                            Ok(Decision::Allowed) => {}
                            Ok(Decision::Throttled { next_access_ms }) => return OtsError::Throttled { next_access_ms }.response(),
                            Err(e) => return backend(host, &e.0),
                        }
                    }
                    req.headers.push((trusted::CLIENT_GRANT.into(), trusted::encode_grant(&caller.client.grant)));
                    req.headers.push((trusted::CLIENT_ID.into(), caller.client.client_id));
                    req.headers.push((trusted::AUTH_KIND.into(), caller.via.into()));
                }
                Err(AuthFailure::Denied(e)) => return e.response(),
                Err(AuthFailure::Host(e)) => return backend(host, &e.0),
            }
        }
    }
    if let Some(ip) = remote_ip {
        req.headers.push((trusted::REMOTE_IP.into(), ip.into()));
    }

    let body_len = declared_len.unwrap_or(req.body.len());
    if let Err(e) = routes::admit_size(&route, &path, body_len) {
        return e.response();
    }
    match fwd.forward(route.function, req).await {
        Ok(resp) => resp,
        Err(e) => backend(host, &format!("forward to {}: {}", route.function.name(), e.0)),
    }
}

fn backend(host: &impl Host, cause: &str) -> HttpResponse {
    host.log_error(cause);
    OtsError::Backend.response()
}
