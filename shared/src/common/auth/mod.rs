//! Who is calling: credential extraction, hub-signed tokens and API keys, hashed secrets.
//! Failures say what failed ([`AuthError`]); each protocol's error book picks the body.

pub mod oauth;
pub mod secret;
pub mod seal;
pub mod token;

use alloc::string::String;

use crate::common::http::HttpRequest;

/// The credentials a request presents, in the order the hub looks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Bearer(String),
    Basic { client_id: String, client_secret: String },
    ApiKey(String),
    /// An `Authorization` header that is neither well-formed Bearer nor Basic.
    Malformed,
    None,
}

/// Reads `Authorization: Bearer|Basic`, then the `apikey` header, then the `apikey` query
/// parameter (TOTSCo API v2.0 §3.2.2 allows both forms for API keys).
pub fn presented(req: &HttpRequest) -> Presented {
    if let Some(h) = req.header("authorization") {
        let h = h.trim();
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Presented::Bearer(rest.into());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            return basic(rest).unwrap_or(Presented::Malformed);
        }
        return Presented::Malformed;
    }
    if let Some(k) = req.header("apikey").filter(|k| !k.trim().is_empty()) {
        return Presented::ApiKey(k.trim().into());
    }
    if let Some(k) = req.query("apikey").filter(|k| !k.trim().is_empty()) {
        return Presented::ApiKey(k.trim().into());
    }
    Presented::None
}

fn basic(b64: &str) -> Option<Presented> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    Some(Presented::Basic {
        client_id: crate::common::http::percent_decode(id),
        client_secret: crate::common::http::percent_decode(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::http::Method;

    #[test]
    fn finds_each_form() {
        let r = HttpRequest::new(Method::Post, "/x").with_header("Authorization", "Bearer abc");
        assert_eq!(presented(&r), Presented::Bearer("abc".into()));
        let r = HttpRequest::new(Method::Post, "/x").with_header("Authorization", "Basic ZGVtbzpzM2NyZXQ=");
        assert_eq!(presented(&r), Presented::Basic { client_id: "demo".into(), client_secret: "s3cret".into() });
        let r = HttpRequest::new(Method::Post, "/x?apikey=a%2Eb").with_header("x", "y");
        assert_eq!(presented(&r), Presented::ApiKey("a.b".into()));
        let r = HttpRequest::new(Method::Post, "/x").with_header("Authorization", "Token z");
        assert_eq!(presented(&r), Presented::Malformed);
        assert_eq!(presented(&HttpRequest::new(Method::Post, "/x")), Presented::None);
    }
}

/// What failed when a caller was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials at all.
    Missing,
    /// A bearer token (or admin token) that is invalid or expired, or credentials in a form
    /// this route does not take (Basic, a malformed `Authorization` header).
    InvalidToken,
    /// An API key that is invalid, expired or rotated out of its slot.
    InvalidApiKey,
    /// Valid credentials of a client that no longer exists.
    UnknownClient,
}

/// Authentication failed: either the caller's fault or the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    Denied(AuthError),
    Host(crate::ports::PortError),
}

impl From<AuthError> for AuthFailure {
    fn from(e: AuthError) -> Self {
        AuthFailure::Denied(e)
    }
}

impl From<crate::ports::PortError> for AuthFailure {
    fn from(e: crate::ports::PortError) -> Self {
        AuthFailure::Host(e)
    }
}

/// Who a participant route's caller is, after authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub client: crate::common::config::ClientRecord,
    pub via: &'static str,
}

/// Authenticates a participant: a hub access token (`Bearer`) or API key (`apikey` header or
/// query). The client must still exist: a deleted client's unexpired tokens are refused as
/// [`AuthError::UnknownClient`]; a deleted client's API keys as [`AuthError::InvalidApiKey`].
pub async fn participant(
    req: &HttpRequest,
    kv: &impl crate::ports::KeyValue,
    token_secret: &[u8],
    now_ms: u64,
) -> Result<Caller, AuthFailure> {
    let now = now_ms / 1000;
    let (claims, via) = match presented(req) {
        Presented::None => return Err(AuthError::Missing.into()),
        Presented::Bearer(t) => {
            (token::verify(&t, token_secret, token::Kind::Access, now).map_err(|_| AuthError::InvalidToken)?, "bearer")
        }
        Presented::ApiKey(k) => {
            let c = token::verify(&k, token_secret, token::Kind::Apikey, now).map_err(|_| AuthError::InvalidApiKey)?;
            let client = crate::common::store::client(kv, &c.sub).await?.ok_or(AuthError::InvalidApiKey)?;
            let slot = match c.slot.as_deref() {
                Some("primary") => client.primary_key.as_ref(),
                Some("secondary") => client.secondary_key.as_ref(),
                _ => None,
            };
            // A rotated slot holds another key's hash: the old key stops working at once.
            let current = slot.is_some_and(|s| s.expires_at_ms > now_ms && secret::verify(&k, &s.key_hash));
            if !current {
                return Err(AuthError::InvalidApiKey.into());
            }
            return Ok(Caller { client, via: "apikey" });
        }
        Presented::Basic { .. } | Presented::Malformed => return Err(AuthError::InvalidToken.into()),
    };
    let client = crate::common::store::client(kv, &claims.sub).await?.ok_or(AuthError::UnknownClient)?;
    Ok(Caller { client, via })
}

/// The operator's admin token. Both sides are hashed before the constant-time comparison,
/// so neither the token's content nor its length leaks through timing.
pub fn admin(req: &HttpRequest, admin_token: Option<&str>) -> Result<(), AuthError> {
    match (presented(req), admin_token) {
        (Presented::None, _) => Err(AuthError::Missing),
        (Presented::Bearer(t), Some(expected)) if secret::digest_eq(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(AuthError::InvalidToken),
    }
}

#[cfg(test)]
mod admin_tests {
    use super::*;
    use crate::common::http::Method;

    #[test]
    fn admin_token_is_checked() {
        let with = |h: &str| HttpRequest::new(Method::Get, "/admin/v1/x").with_header("authorization", h);
        assert_eq!(admin(&with("Bearer 0123456789abcdef"), Some("0123456789abcdef")), Ok(()));
        assert_eq!(admin(&with("Bearer 0123456789abcdeX"), Some("0123456789abcdef")), Err(AuthError::InvalidToken));
        assert_eq!(admin(&with("Bearer 0123456789abcdef"), None), Err(AuthError::InvalidToken));
        assert_eq!(admin(&HttpRequest::new(Method::Get, "/x"), Some("0123456789abcdef")), Err(AuthError::Missing));
    }
}
