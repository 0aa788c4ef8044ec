//! DIP webhook registration: publication webhooks (`/dip-channel/{id}/pubconfig/{recipient-id}`)
//! and status-message webhooks (`/statusmessage/config/{recipient-id}`), served by
//! `switchyard_core::dip::webhooks`. Its own function, so it holds no more than it needs.

use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::host::Host;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    switchyard_core::dip::webhooks::handle(host, &req).await
}
