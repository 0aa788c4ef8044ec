//! Spin entry: functions are private components reached by local service chaining
//! (`http://<function>.spin.internal`), declared in spin.toml's `allowed_outbound_hosts`.

use switchyard_core::http::{HttpRequest, HttpResponse};
use switchyard_core::host::Host;
use switchyard_core::ports::{HttpClient, KeyValue, PortError, PortResult, Throttle};
use switchyard_core::ratelimit::{self, Decision, Window};
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
    switchyard_host_spin::serve(req, async |host: &SpinHost, core_req| super::handle(host, &Chaining, &Windows(host), core_req, remote_ip.as_deref(), None).await).await
}

/// Throttling windows in the key-value store (Spin serves one instance per request on a
/// local SQLite store; a multi-node Spin deployment would need a transactional store).
struct Windows<'a>(&'a SpinHost);

impl Throttle for Windows<'_> {
    async fn hit(&self, key: &str, limit: u32, now_ms: u64) -> PortResult<Decision> {
        let kv = self.0.kv()?;
        let k = format!("ratelimit/{key}");
        let window: Option<Window> = kv.get(&k).await?.and_then(|v| serde_json::from_slice(&v).ok());
        let (decision, next) = ratelimit::hit(window, limit, now_ms);
        kv.put(&k, &serde_json::to_vec(&next).map_err(|e| PortError::new(e.to_string()))?).await?;
        Ok(decision)
    }
}
