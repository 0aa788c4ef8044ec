//! How the hub authenticates when it pushes to a recipient (TOTSCo API v2.0 §3.2, outbound):
//! OAuth2 client credentials against the recipient's token URL (the token cached, sealed, and
//! refreshed early or on a 401), a static API key until its registered expiry, or nothing.

use alloc::string::String;
use alloc::vec::Vec;

use crate::common::auth::seal::{self, SealError};
use crate::common::config::{Endpoint, EndpointAuth};
use crate::common::http::{percent_encode, HttpRequest, HttpResponse, Method};

/// Refresh a cached outbound OAuth2 token this long before it expires.
pub const TOKEN_REFRESH_MARGIN_SECS: u64 = 60;
/// When a recipient's token response has no `expires_in`, assume OTS's one hour.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;

/// A recipient's OAuth2 access token as the hub caches it (sealed at rest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    pub access_token: String,
    pub expires_at_ms: u64,
}

impl CachedToken {
    /// Usable for a push starting now (refreshed [`TOKEN_REFRESH_MARGIN_SECS`] early).
    pub fn fresh(&self, now_ms: u64) -> bool {
        now_ms + TOKEN_REFRESH_MARGIN_SECS * 1000 < self.expires_at_ms
    }
}

/// Client-credentials request to a recipient's token URL.
pub fn token_request(token_url: &str, client_id: &str, client_secret: &str) -> HttpRequest {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(alloc::format!("{}:{}", percent_encode(client_id), percent_encode(client_secret)));
    HttpRequest::new(Method::Post, token_url)
        .with_header("authorization", alloc::format!("Basic {basic}"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("accept", "application/json")
        .with_body(b"grant_type=client_credentials".to_vec())
}

/// The token from a 200 response (`access_token`, optional `expires_in`), else `None`.
pub fn parse_token_response(resp: &HttpResponse, now_ms: u64) -> Option<CachedToken> {
    if resp.status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let token = v.get("access_token")?.as_str()?.trim();
    if token.is_empty() {
        return None;
    }
    let ttl = v.get("expires_in").and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok())).unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    Some(CachedToken { access_token: token.into(), expires_at_ms: now_ms + ttl * 1000 })
}

/// How a push authenticates to the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer(String),
    ApiKey(String),
    None,
}

impl Credential {
    /// `request` with this credential's header.
    pub fn apply(&self, request: HttpRequest) -> HttpRequest {
        match self {
            Credential::Bearer(t) => request.with_header("authorization", alloc::format!("Bearer {t}")),
            Credential::ApiKey(k) => request.with_header("apikey", k.clone()),
            Credential::None => request,
        }
    }
}

/// A JSON push of `payload`, byte for byte, so every attempt carries the same message and
/// recipients can de-duplicate.
pub fn post_json(url: &str, payload: &[u8], credential: &Credential) -> HttpRequest {
    let req = HttpRequest::new(Method::Post, url)
        .with_header("content-type", "application/json")
        .with_header("accept", "application/json")
        .with_body(payload.to_vec());
    credential.apply(req)
}

/// A 401 from a recipient the hub authenticates to with OAuth2 means our cached token was
/// revoked: fetch a new one and push once more before classifying the answer.
pub fn refresh_token_on(status: u16, auth: &EndpointAuth) -> bool {
    status == 401 && matches!(auth, EndpointAuth::Oauth2 { .. })
}

/// An API key is sent only until its registered expiry (TOTSCo API v2.0 §3.2.2).
pub fn api_key_usable(expires_at: &str, now_ms: u64) -> bool {
    crate::common::time::parse_rfc3339(expires_at).is_some_and(|exp| now_ms < exp)
}

/// The addresses a push of `endpoint` calls: the letterbox, and the token URL for OAuth2.
pub fn addresses(endpoint: &Endpoint) -> Vec<&str> {
    let mut out = alloc::vec![endpoint.url.as_str()];
    if let EndpointAuth::Oauth2 { token_url, .. } = &endpoint.auth {
        out.push(token_url);
    }
    out
}

/// The stored endpoint with its credentials opened, for delivery only. `record_key` is the
/// key the endpoint is stored under: a sealed value copied from another record does not open.
pub fn open_endpoint(mut e: Endpoint, seal_key: &[u8], record_key: &str) -> Result<Endpoint, SealError> {
    let open = |s: &mut String| -> Result<(), SealError> {
        *s = seal::open(seal_key, record_key.as_bytes(), s)?;
        Ok(())
    };
    match &mut e.auth {
        EndpointAuth::Oauth2 { client_secret, .. } => open(client_secret)?,
        EndpointAuth::Apikey { key, .. } => open(key)?,
        EndpointAuth::None => {}
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_exchange() {
        let r = token_request("https://cp.example/token", "hub", "s:cret");
        assert_eq!(r.header("authorization"), Some("Basic aHViOnMlM0FjcmV0"));
        let ok = HttpResponse { status: 200, headers: alloc::vec![], body: br#"{"access_token":"t","expires_in":120}"#.to_vec() };
        let t = parse_token_response(&ok, 1_000).unwrap();
        assert_eq!(t.expires_at_ms, 121_000);
        assert!(t.fresh(1_000) && !t.fresh(61_000));
        let bad = HttpResponse { status: 401, ..ok };
        assert!(parse_token_response(&bad, 0).is_none());
        assert!(api_key_usable("2030-01-01T00:00:00Z", 0) && !api_key_usable("2020-01-01T00:00:00Z", 1_700_000_000_000));
        let oauth = EndpointAuth::Oauth2 { token_url: "https://t".into(), client_id: "c".into(), client_secret: "s".into() };
        assert!(refresh_token_on(401, &oauth));
        assert!(!refresh_token_on(403, &oauth));
        assert!(!refresh_token_on(401, &EndpointAuth::None), "without OAuth2 a 401 is just an answer");
    }
}
