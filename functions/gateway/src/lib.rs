//! The edge gateway: every public request enters here. It finds the route, authenticates
//! the caller before anything else, applies size limits, and forwards to the function that
//! serves the route with the caller's identity in trusted headers (anything the caller sent
//! under those names is dropped first). What it refuses, the protocol owning the path words
//! (`switchyard_core::protocols::refuse`).

use switchyard_core::common::auth::{self, AuthFailure};
use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::common::ratelimit::Decision;
use switchyard_core::gateway::{self, trusted, Edge, Guard, Refusal};
use switchyard_core::host::Host;
use switchyard_core::host::Forward;
use switchyard_core::ports::Throttle;
use switchyard_core::protocols::refuse;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::gateway_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::gateway_entry!(crate::handle);

/// `edge` is what the host knew of the request; `declared_len` is the request's Content-Length when the host did not read a body that
/// large; otherwise the body is in `req`.
pub async fn handle(
    host: &impl Host,
    fwd: &impl Forward,
    throttle: &impl Throttle,
    mut req: HttpRequest,
    edge: Edge<'_>,
    declared_len: Option<usize>,
) -> HttpResponse {
    let path = req.path().to_string();
    match admit(host, throttle, &mut req, &path, edge, declared_len).await {
        Ok(route) => match fwd.forward(route.function, req).await {
            Ok(resp) => resp,
            Err(e) => refuse(&path, logged(host, &format!("forward to {}: {}", route.function.name(), e.0))),
        },
        Err(r) => refuse(&path, r),
    }
}

/// The route, once the caller is admitted to it; the caller's identity is then in `req`.
async fn admit(
    host: &impl Host,
    throttle: &impl Throttle,
    req: &mut HttpRequest,
    path: &str,
    edge: Edge<'_>,
    declared_len: Option<usize>,
) -> Result<gateway::Route, Refusal> {
    let route = gateway::route(path).ok_or(Refusal::NotFound)?;
    req.headers.retain(|(k, _)| !k.starts_with(trusted::PREFIX));
    // An operator's block answers before anything else (503/700700, §2.1.8.1).
    gateway::admit_unblocked(&route, &host.settings().blocked_apis)?;

    match route.guard {
        Guard::Open => {}
        Guard::Admin => auth::admin(req, host.settings().admin_token()).map_err(Refusal::Auth)?,
        Guard::Participant => {
            let (kv, secret) = match (host.kv(), host.settings().token_secret()) {
                (Ok(kv), Ok(secret)) => (kv, secret),
                (Err(e), _) | (_, Err(e)) => return Err(logged(host, &e.0)),
            };
            let caller = match auth::participant(req, kv, secret, host.now_ms()).await {
                Ok(caller) => caller,
                Err(AuthFailure::Denied(e)) => return Err(Refusal::Auth(e)),
                Err(AuthFailure::Host(e)) => return Err(logged(host, &e.0)),
            };
            // Throttling follows authentication; every request on a throttled route counts,
            // refused or not.
            if let Some(quota) = route.quota(&caller.client.grant) {
                match throttle.hit(&caller.client.client_id, quota, host.now_ms()).await {
                    Ok(Decision::Allowed) => {}
                    Ok(Decision::Throttled { next_access_ms }) => return Err(Refusal::Throttled { next_access_ms }),
                    Err(e) => return Err(logged(host, &e.0)),
                }
            }
            req.headers.push((trusted::CLIENT_GRANT.into(), trusted::encode_grant(&caller.client.grant)));
            req.headers.push((trusted::CLIENT_ID.into(), caller.client.client_id));
            req.headers.push((trusted::AUTH_KIND.into(), caller.via.into()));
        }
        Guard::DipKey => {
            let kv = host.kv().map_err(|e| logged(host, &e.0))?;
            match switchyard_core::dip::auth::key_owner(req, kv).await {
                Ok(owner) => req.headers.push((trusted::DIP_KEY_OWNER.into(), owner)),
                Err(AuthFailure::Denied(e)) => return Err(Refusal::Auth(e)),
                Err(AuthFailure::Host(e)) => return Err(logged(host, &e.0)),
            }
        }
    }
    if let Some(ip) = edge.remote_ip {
        req.headers.push((trusted::REMOTE_IP.into(), ip.into()));
    }
    if let Some(url) = edge.addressed_url {
        req.headers.push((trusted::ADDRESSED_URL.into(), url.into()));
    }
    gateway::admit_size(&route, declared_len.unwrap_or(req.body.len()))?;
    Ok(route)
}

fn logged(host: &impl Host, cause: &str) -> Refusal {
    host.log_error(cause);
    Refusal::Backend
}
