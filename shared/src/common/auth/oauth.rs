//! `POST /oauth2/token`, RFC 6749 client credentials as TOTSCo API v2.0 §3.2.1.1 profiles it:
//! credentials by `Authorization: Basic` or `client_id`/`client_secret` form fields,
//! `grant_type=client_credentials`, form content type; errors 400/401/404/405/415
//! (§3.2.1.1.3). The bodies of those errors are in the OTS error book
//! (`crate::ots::errors::token_error`).

use alloc::string::String;
use serde_json::json;

use super::{presented, token, Presented};
use crate::common::http::{form_pairs, HttpRequest, HttpResponse, Method};

pub const TOKEN_PATH: &str = "/oauth2/token";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// 404: not the token URL.
    NotFound,
    /// 405: not POST.
    MethodNotAllowed,
    /// 415: not `application/x-www-form-urlencoded`, or a mandatory parameter is missing.
    UnsupportedMediaType(&'static str),
    /// 400: a parameter has an invalid value.
    InvalidRequest(&'static str),
    /// 400: a grant type other than client_credentials.
    UnsupportedGrantType,
    /// 401: unknown client or wrong secret.
    InvalidClient,
}

impl TokenError {
    /// The status §3.2.1.1.3 gives each cause.
    pub fn status(&self) -> u16 {
        match self {
            TokenError::NotFound => 404,
            TokenError::MethodNotAllowed => 405,
            TokenError::UnsupportedMediaType(_) => 415,
            TokenError::InvalidRequest(_) | TokenError::UnsupportedGrantType => 400,
            TokenError::InvalidClient => 401,
        }
    }
}

/// Validates the request in the order §3.2.1.1.3 lists its causes.
pub fn parse_request(req: &HttpRequest) -> Result<ClientCredentials, TokenError> {
    if req.path() != TOKEN_PATH {
        return Err(TokenError::NotFound);
    }
    if req.method != Method::Post {
        return Err(TokenError::MethodNotAllowed);
    }
    let form_type = req
        .header("content-type")
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(TokenError::UnsupportedMediaType("Content-Type must be application/x-www-form-urlencoded."));
    }
    let body = core::str::from_utf8(&req.body).map_err(|_| TokenError::InvalidRequest("The body is not UTF-8."))?;
    let form = form_pairs(body);
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    match field("grant_type").as_deref() {
        None | Some("") => return Err(TokenError::UnsupportedMediaType("grant_type is required.")),
        Some("client_credentials") => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    }
    match (presented(req), field("client_id"), field("client_secret")) {
        (Presented::Basic { client_id, client_secret }, None, None) => Ok(ClientCredentials { client_id, client_secret }),
        // RFC 6749 §2.3: a client must not use more than one authentication method.
        (Presented::Basic { .. }, _, _) => Err(TokenError::InvalidRequest("Use either Basic authentication or form credentials, not both.")),
        (Presented::None, Some(client_id), Some(client_secret)) if !client_id.is_empty() => {
            Ok(ClientCredentials { client_id, client_secret })
        }
        (Presented::None, None, None) => Err(TokenError::InvalidClient),
        (Presented::None, _, _) => Err(TokenError::UnsupportedMediaType("client_id and client_secret are both required.")),
        _ => Err(TokenError::InvalidClient),
    }
}

/// A salted hash no secret matches: unknown clients cost the same as wrong secrets.
const DECOY_HASH: &str = "sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Checks the presented secret against the stored client (constant time, even for unknown
/// clients) and answers with a fresh access token or 401.
pub fn grant(
    creds: &ClientCredentials,
    client: Option<&crate::common::config::ClientRecord>,
    token_secret: &[u8],
    now_ms: u64,
    jti: String,
) -> Result<HttpResponse, TokenError> {
    let stored = client.map(|c| c.secret_hash.as_str()).unwrap_or(DECOY_HASH);
    if !super::secret::verify(&creds.client_secret, stored) || client.is_none() {
        return Err(TokenError::InvalidClient);
    }
    let claims = token::Claims::issue(&creds.client_id, now_ms, token::Kind::Access, None, jti);
    Ok(success(&token::mint(&claims, token_secret)))
}

/// The §3.2.1.1.2 success body.
pub fn success(access_token: &str) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": "default",
            "expires_in": token::ACCESS_TOKEN_TTL_SECS
        }),
    )
    .with_header("cache-control", "no-store")
    .with_header("pragma", "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: &str) -> HttpRequest {
        HttpRequest::new(Method::Post, TOKEN_PATH)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body.as_bytes().to_vec())
    }

    #[test]
    fn each_error_of_the_table() {
        let ok = post("grant_type=client_credentials&client_id=a&client_secret=b");
        assert_eq!(parse_request(&ok).unwrap().client_id, "a");
        let basic = post("grant_type=client_credentials").with_header("authorization", "Basic YTpi");
        assert_eq!(parse_request(&basic).unwrap().client_secret, "b");
        let mut get = ok.clone();
        get.method = Method::Get;
        assert_eq!(parse_request(&get).unwrap_err().status(), 405);
        let mut json = ok.clone();
        json.headers = alloc::vec![("content-type".into(), "application/json".into())];
        assert_eq!(parse_request(&json).unwrap_err().status(), 415);
        assert_eq!(parse_request(&post("client_id=a&client_secret=b")).unwrap_err().status(), 415);
        assert_eq!(parse_request(&post("grant_type=password&client_id=a&client_secret=b")).unwrap_err().status(), 400);
        assert_eq!(parse_request(&post("grant_type=client_credentials")).unwrap_err().status(), 401);
        let mut elsewhere = ok.clone();
        elsewhere.url = "/oauth2/token2".into();
        assert_eq!(parse_request(&elsewhere).unwrap_err().status(), 404);
    }
}
