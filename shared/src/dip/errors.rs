//! What the DIP endpoints answer when the gateway refuses a request. Elexon's OpenAPI gives
//! these statuses (401, 404, 413, 429, 500, 503) no body, so neither does the hub.

use crate::common::auth::AuthError;
use crate::common::http::HttpResponse;
use crate::common::refusal::Refusal;

/// Paths the DIP owns: its refusals are answered here, not in the OTS book.
pub fn owns(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    matches!(first, "dip-channel" | "validate" | "statusmessage")
}

pub fn refusal(r: Refusal) -> HttpResponse {
    let status = match r {
        Refusal::NotFound => 404,
        Refusal::Blocked => 503,
        Refusal::Auth(AuthError::Missing | AuthError::InvalidApiKey | AuthError::InvalidToken | AuthError::UnknownClient) => 401,
        Refusal::Throttled { .. } => 429,
        Refusal::TooLarge { .. } => 413,
        Refusal::Backend => 500,
    };
    HttpResponse::empty(status)
}
