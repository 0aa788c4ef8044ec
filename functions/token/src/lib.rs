//! `POST /oauth2/token`: a client proves its id and secret and receives a one-hour access
//! token that every function verifies without a lookup (TOTSCo API v2.0 §3.2.1).

use switchyard_core::common::auth::oauth;
use switchyard_core::common::http::{HttpRequest, HttpResponse};
use switchyard_core::common::{ids, store};
use switchyard_core::host::Host;
use switchyard_core::ots::errors::{token_error, OtsError};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    let creds = match oauth::parse_request(&req) {
        Ok(c) => c,
        Err(e) => return token_error(&e),
    };
    let issued = async {
        let client = store::client(host.kv()?, &creds.client_id).await?;
        let jti = ids::uuid_v4(host)?;
        Ok::<_, switchyard_core::ports::PortError>(oauth::grant(&creds, client.as_ref(), host.settings().token_secret()?, host.now_ms(), jti))
    };
    match issued.await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => token_error(&e),
        Err(e) => {
            host.log_error(&format!("token: {e}"));
            OtsError::Backend.response()
        }
    }
}
