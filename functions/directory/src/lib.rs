//! `GET /directory/{v1|v2}/entry?listType=&identity=` (TOTSCo API v2.0 §2.2): every identity
//! of a list, those supporting a process, or one identity.

use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::host::Host;
use switchyard_core::ots::errors::{respond, Failure, OtsError};
use switchyard_core::ots::{self, directory};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
switchyard_host_cloudflare::fetch_entry!(crate::handle);
#[cfg(target_os = "wasi")]
switchyard_host_spin::http_entry!(crate::handle);

pub async fn handle(host: &impl Host, req: HttpRequest) -> HttpResponse {
    respond(host, "directory", entry(host, &req).await)
}

async fn entry(host: &impl Host, req: &HttpRequest) -> Result<HttpResponse, Failure> {
    let version = ots::directory_version(req.path()).ok_or(OtsError::NotFound)?;
    if req.method != Method::Get {
        return Err(OtsError::MethodNotAllowed.into());
    }
    let kv = host.kv()?;
    let list_type = req.query("listType").filter(|l| !l.trim().is_empty()).ok_or(OtsError::ListTypeMissing)?;
    if !directory::list_type_known(kv, &list_type).await? {
        return Err(OtsError::ListTypeUnknown.into());
    }
    let participants = directory::participants(kv, &list_type).await?;
    let selector = directory::selector(req.query("identity").as_deref(), version, &participants);
    Ok(HttpResponse::json(200, &directory::answer(&list_type, &selector, participants)?))
}
