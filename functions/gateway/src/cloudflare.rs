//! Cloudflare entry: service bindings per function (`FN_SEND`, `FN_TOKEN`, ...).

use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::ots::errors::OtsError;
use switchyard_core::ports::{PortError, PortResult};
use switchyard_core::routes::{Function, GATEWAY_MAX_BODY_BYTES};
use switchyard_host_cloudflare::{read_request, to_worker_request, to_worker_response, CfHost};
use worker::{event, Context, Env, Request, Response, Result};

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

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let host = match CfHost::from_env(&env) {
        Ok(h) => h,
        Err(e) => {
            worker::console_error!("gateway settings: {e}");
            return to_worker_response(OtsError::Backend.response());
        }
    };
    let remote_ip = req.headers().get("cf-connecting-ip")?;
    let (core_req, oversize) = read_request(req, GATEWAY_MAX_BODY_BYTES).await?;
    let resp = super::handle(&host, &Services(&env), core_req, remote_ip.as_deref(), oversize).await;
    to_worker_response(resp)
}
