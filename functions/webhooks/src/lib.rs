//! DIP webhook registration: `/pubconfig` publication and status webhooks (DSD002 Annex 2).
//! The room exists so every endpoint has its own least-privilege function; the gateway routes
//! no path here until the DIP channel work lands, and every request meets the hub's 404.

use switchyard_core::host::Host;
use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::ots::errors::OtsError;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(_host: &impl Host, _req: HttpRequest) -> HttpResponse {
    OtsError::NotFound.response()
}
