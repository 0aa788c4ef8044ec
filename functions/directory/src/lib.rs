//! `GET /directory/{v1|v2}/entry?listType=&identity=` (TOTSCo API v2.0 §2.2): every identity
//! of a list, those supporting a process, or one identity.

use switchyard_core::directory::{self, DirectoryError};
use switchyard_core::host::{respond, Host};
use switchyard_core::http::{HttpRequest, HttpResponse, Method};
use switchyard_core::ots::errors::{Failure, OtsError};
use switchyard_core::{ots, store};

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
    let Some(list_type) = req.query("listType").filter(|l| !l.trim().is_empty()) else {
        return Ok(DirectoryError::ListTypeMissing.response());
    };
    if !store::list_type_known(kv, &list_type).await? {
        return Ok(DirectoryError::ListTypeUnknown.response());
    }
    let participants = store::participants(kv, &list_type).await?;
    let selector = directory::selector(req.query("identity").as_deref(), version, &participants);
    Ok(match directory::answer(&list_type, &selector, participants) {
        Ok(body) => HttpResponse::json(200, &body),
        Err(e) => e.response(),
    })
}
