//! DIP replay and re-queue (`/replay`, `/requeue`; DSD002 Annex 2 §9.6) and delivery status.
//! The room exists so every endpoint has its own least-privilege function; the gateway routes
//! no path here until the DIP channel work lands, and every request meets the hub's 404.

use switchyard_core::host::Host;
use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::ots::errors::OtsError;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod cloudflare {
    use worker::{event, Context, Env, Request, Response, Result};

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        switchyard_host_cloudflare::serve(req, &env, super::handle).await
    }
}

#[cfg(target_os = "wasi")]
mod spin {
    #[spin_sdk::http_component]
    async fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
        switchyard_host_spin::serve(req, super::handle).await
    }
}

pub async fn handle(_host: &impl Host, _req: HttpRequest) -> HttpResponse {
    OtsError::NotFound.response()
}
