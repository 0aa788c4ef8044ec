//! Spin entry: functions are private components reached by local service chaining
//! (`http://<function>.spin.internal`), declared in spin.toml's `allowed_outbound_hosts`.

use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::ports::{HttpClient, PortError, PortResult};
use switchyard_core::routes::Function;
use switchyard_host_spin::{SpinHttp, SpinHost};

struct Chaining;

impl super::Forward for Chaining {
    async fn forward(&self, to: Function, mut req: HttpRequest) -> PortResult<HttpResponse> {
        req.url = format!("http://{}.spin.internal{}", to.name(), req.url);
        SpinHttp.send(req, switchyard_core::delivery::ATTEMPT_TIMEOUT_MS).await.map_err(|e| PortError::new(format!("{e:?}")))
    }
}

#[spin_sdk::http_component]
async fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    // Spin sets the caller's address in this header.
    let remote_ip = req.header("spin-client-addr").and_then(|v| v.as_str()).map(|a| a.rsplit_once(':').map_or(a, |(ip, _)| ip).trim_matches(['[', ']']).to_string());
    switchyard_host_spin::serve(req, async |host: &SpinHost, core_req| super::handle(host, &Chaining, core_req, remote_ip.as_deref(), None).await).await
}
