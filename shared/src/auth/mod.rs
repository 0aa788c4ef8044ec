//! Who is calling: credential extraction, hub-signed tokens and API keys, hashed secrets.

pub mod secret;
pub mod seal;
pub mod token;

use alloc::string::String;

use crate::http::HttpRequest;

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
        client_id: crate::http::percent_decode(id),
        client_secret: crate::http::percent_decode(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

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
