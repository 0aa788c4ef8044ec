//! Every synchronous error the OTS letterbox, directory and token APIs answer, with the
//! status code and body the TOTSCo Hub API v2.0 specification shows (§2.1.8.1, §2.2.3,
//! §3.2.1.1.3). Error codes are JSON strings, as in the spec's examples. This is the one
//! place OTS rejections, authentication failures, gateway refusals and host failures become
//! responses ([`respond`], [`refusal`], [`token_error`]). The admin API answers with the same
//! bodies.
//!
//! Where the spec's examples disagree with themselves (some print the key `"errorText "` with
//! a trailing space), the body uses the consistent form; docs/conformance.md records each choice.

use alloc::string::String;
use serde_json::json;

use crate::common::auth::{AuthError, AuthFailure};
use crate::common::auth::oauth::TokenError;
use crate::common::http::HttpResponse;
use crate::common::refusal::Refusal;
use crate::host::Host;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtsError {
    // --- security (checked first) ---
    /// 401/900901: an OAuth2 token that is invalid or expired.
    InvalidCredentials,
    /// 401/900902: no `Authorization` header and no `apikey`.
    MissingCredentials,
    /// 401/900900: an API key that is invalid or expired.
    InvalidApiKey,
    /// 403/900908: the caller is not subscribed to this API.
    ResourceForbidden,
    /// 429/900804: the client's quota for the current minute is used up.
    Throttled { next_access_ms: u64 },
    // --- size ---
    /// 400/9017 (v2 only): over [`crate::ots::MAX_MESSAGE_BYTES`].
    MessageTooLarge,
    // --- JSON and envelope structure ---
    /// 400 with the schema-validation body; the string is the spec-style detail.
    Schema(String),
    /// 400 with the generic body (`code` "400"), e.g. an oversized message on letterbox v1.
    BadRequest(String),
    // --- envelope contents ---
    UnknownDestinationType, // 400/9000
    UnknownDestination,     // 400/9001
    UnknownSourceType,      // 400/9002
    UnknownSource,          // 400/9003
    UnknownRoutingId,       // 400/9012
    // --- authorisation ---
    /// 401/9004: the client may not send for this source, or not from this network.
    SourceNotPermitted,
    /// 400/9010: the routing ID is not mapped to the source.
    RoutingIdNotMapped,
    // --- account status ---
    SourceStatusInvalid,      // 403/9003
    DestinationStatusInvalid, // 403/9001
    // --- directory (§2.2.3 c, d, e) ---
    ListTypeMissing,
    ListTypeUnknown,
    IdentityUnknown,
    // --- universal ---
    NotFound,
    MethodNotAllowed,
    /// 500/101503: the back end (storage or broker) could not be reached; nothing was accepted.
    Backend,
    /// 503/700700: the operator blocked this API for a while.
    ApiBlocked,
}

impl OtsError {
    pub fn status(&self) -> u16 {
        use OtsError::*;
        match self {
            InvalidCredentials | MissingCredentials | InvalidApiKey | SourceNotPermitted => 401,
            ResourceForbidden | SourceStatusInvalid | DestinationStatusInvalid => 403,
            Throttled { .. } => 429,
            MessageTooLarge | Schema(_) | BadRequest(_) | UnknownDestinationType | UnknownDestination | UnknownSourceType
            | UnknownSource | UnknownRoutingId | RoutingIdNotMapped => 400,
            NotFound | ListTypeMissing | ListTypeUnknown | IdentityUnknown => 404,
            MethodNotAllowed => 405,
            Backend => 500,
            ApiBlocked => 503,
        }
    }

    /// The body exactly as §2.1.8.1 shows it.
    pub fn body(&self) -> serde_json::Value {
        use OtsError::*;
        let fault = |code: &str, text: &str| json!({ "errorCode": code, "errorText": text });
        match self {
            InvalidCredentials => json!({
                "code": "900901",
                "message": "Invalid Credentials",
                "description": "Invalid Credentials. Make sure you have provided the correct security credentials."
            }),
            MissingCredentials => json!({
                "code": "900902",
                "message": "Missing Credentials",
                "description": "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' or 'apikey: API_KEY'"
            }),
            InvalidApiKey => json!({
                "code": "900900",
                "message": "Unclassified Authentication Failure",
                "description": "Invalid API key. Make sure you have provided a valid, unexpired API key."
            }),
            ResourceForbidden => json!({ "code": "900908", "message": "Resource forbidden", "description": "Resource forbidden" }),
            Throttled { next_access_ms } => {
                let at = crate::common::time::ots_access_time(*next_access_ms);
                json!({
                    "code": "900804",
                    "message": "Message throttled out",
                    "description": alloc::format!("Hub exceeded the quota. You can access API after {at}"),
                    "nextAccessTime": at
                })
            }
            MessageTooLarge => fault("9017", "Request message size limit is exceeded. Maximum allowed bytes are 256000."),
            Schema(detail) => json!({
                "code": "400",
                "message": "Bad Request",
                "description": alloc::format!("Schema validation failed in the Request: {detail}")
            }),
            BadRequest(detail) => json!({ "code": "400", "message": "Bad Request", "description": detail }),
            UnknownDestinationType => fault("9000", "Unknown or invalid destination Type."),
            UnknownDestination => fault("9001", "Unknown or invalid destination ID."),
            UnknownSourceType => fault("9002", "Unknown or invalid source Type."),
            UnknownSource => fault("9003", "Unknown or invalid source ID."),
            UnknownRoutingId => fault("9012", "Unknown or invalid routing ID."),
            SourceNotPermitted => fault("9004", "Source type and ID not permitted from originating location."),
            RoutingIdNotMapped => fault("9010", "No routingID is mapped with Source RCP."),
            SourceStatusInvalid => fault("9003", "Source RCPID account status is not valid"),
            DestinationStatusInvalid => fault("9001", "Destination RCPID account status is not valid."),
            ListTypeMissing => json!({ "code": "404", "description": "Invalid ListType, ListType cannot be empty" }),
            ListTypeUnknown => json!({ "code": "404", "description": "Invalid ListType, ListType is not available in directory hub" }),
            IdentityUnknown => json!({ "code": "404", "description": "Invalid identity, identity not available in directory hub" }),
            NotFound => json!({
                "code": "404",
                "type": "Status report",
                "message": "Runtime Error",
                "description": "No matching resource found for given API Request"
            }),
            MethodNotAllowed => json!({
                "code": "405",
                "type": "Status report",
                "message": "Runtime Error",
                "description": "Method not allowed for given API resource"
            }),
            Backend => json!({
                "code": "101503",
                "type": "Status report",
                "message": "Runtime Error",
                "description": "Error connecting to the back end"
            }),
            ApiBlocked => json!({
                "code": "700700",
                "type": "API blocked",
                "description": "This API has been blocked temporarily. Please try again later or contact the system administrators."
            }),
        }
    }

    pub fn response(&self) -> HttpResponse {
        HttpResponse::json(self.status(), &self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_strings_and_statuses_match_the_table() {
        let cases = [
            (OtsError::MessageTooLarge, 400, "errorCode", "9017"),
            (OtsError::UnknownDestinationType, 400, "errorCode", "9000"),
            (OtsError::SourceNotPermitted, 401, "errorCode", "9004"),
            (OtsError::SourceStatusInvalid, 403, "errorCode", "9003"),
            (OtsError::DestinationStatusInvalid, 403, "errorCode", "9001"),
            (OtsError::MissingCredentials, 401, "code", "900902"),
            (OtsError::InvalidCredentials, 401, "code", "900901"),
            (OtsError::ResourceForbidden, 403, "code", "900908"),
        ];
        for (e, status, key, code) in cases {
            assert_eq!(e.status(), status, "{e:?}");
            assert_eq!(e.body()[key], code, "{e:?}");
        }
    }

    #[test]
    fn throttle_body_names_the_next_access_time() {
        let b = OtsError::Throttled { next_access_ms: 1_684_384_980_000 }.body();
        assert_eq!(b["nextAccessTime"], "2023-May-18 04:43:00+0000 UTC");
        assert_eq!(b["description"], "Hub exceeded the quota. You can access API after 2023-May-18 04:43:00+0000 UTC");
    }
}

/// Why a request was not served: the caller's fault (answered with the spec's body) or the
/// host's (answered 500/101503 and logged; nothing was acknowledged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Rejected(OtsError),
    Host(crate::ports::PortError),
}

impl From<OtsError> for Failure {
    fn from(e: OtsError) -> Self {
        Failure::Rejected(e)
    }
}

impl From<crate::ports::PortError> for Failure {
    fn from(e: crate::ports::PortError) -> Self {
        Failure::Host(e)
    }
}

impl From<AuthError> for OtsError {
    /// §2.1.8.1, security rows.
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => OtsError::MissingCredentials,
            AuthError::InvalidToken => OtsError::InvalidCredentials,
            AuthError::InvalidApiKey => OtsError::InvalidApiKey,
            AuthError::UnknownClient => OtsError::ResourceForbidden,
        }
    }
}

impl From<AuthFailure> for Failure {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Denied(e) => Failure::Rejected(e.into()),
            AuthFailure::Host(e) => Failure::Host(e),
        }
    }
}

/// Turns a handler's result into the response, logging host failures (never their payload).
pub fn respond(host: &impl Host, context: &str, result: Result<HttpResponse, Failure>) -> HttpResponse {
    match result {
        Ok(r) => r,
        Err(Failure::Rejected(e)) => e.response(),
        Err(Failure::Host(e)) => {
            host.log_error(&alloc::format!("{context}: {e}"));
            OtsError::Backend.response()
        }
    }
}

/// A refusal of the gateway on an OTS route (`path`). Size: §2.1.8.1 answers 9017 on
/// letterbox v2 and the generic 400 on v1 (v2.0 change log, item 9); other routes say their limit.
pub fn refusal(path: &str, r: Refusal) -> OtsError {
    match r {
        Refusal::NotFound => OtsError::NotFound,
        Refusal::Blocked => OtsError::ApiBlocked,
        Refusal::Auth(e) => e.into(),
        Refusal::Throttled { next_access_ms } => OtsError::Throttled { next_access_ms },
        Refusal::TooLarge { limit } => match super::letterbox_version(path) {
            Some(super::ApiVersion::V2) => OtsError::MessageTooLarge,
            Some(super::ApiVersion::V1) => OtsError::BadRequest(alloc::format!(
                "Request message size limit is exceeded. Maximum allowed bytes are {limit}."
            )),
            None => OtsError::BadRequest(alloc::format!("Request body exceeds the limit of {limit} bytes.")),
        },
        Refusal::Backend => OtsError::Backend,
    }
}

/// `POST /oauth2/token` errors (§3.2.1.1.3) with RFC 6749 §5.2 bodies; 404 and 405 use the
/// hub's status report bodies like every other API.
pub fn token_error(e: &TokenError) -> HttpResponse {
    let oauth = |status, error: &str, description: &str| {
        HttpResponse::json(status, &json!({ "error": error, "error_description": description }))
            .with_header("cache-control", "no-store")
            .with_header("pragma", "no-cache")
    };
    match e {
        TokenError::NotFound => OtsError::NotFound.response(),
        TokenError::MethodNotAllowed => OtsError::MethodNotAllowed.response().with_header("allow", "POST"),
        TokenError::UnsupportedMediaType(d) => oauth(e.status(), "invalid_request", d),
        TokenError::InvalidRequest(d) => oauth(e.status(), "invalid_request", d),
        TokenError::UnsupportedGrantType => oauth(e.status(), "unsupported_grant_type", "Only grant_type=client_credentials is supported."),
        TokenError::InvalidClient => oauth(e.status(), "invalid_client", "Client authentication failed.")
            .with_header("www-authenticate", "Basic realm=\"switchyard\""),
    }
}
