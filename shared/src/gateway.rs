//! The hub's public surface: which function serves each path, how the caller must
//! authenticate, and how large a body may be. The edge gateway applies this table; what it
//! refuses is a [`Refusal`], which the protocol owning the path turns into its body
//! (`crate::protocols::refuse`).

pub use crate::host::Function;
pub use crate::common::refusal::Refusal;

/// What the host knows of a request beyond its bytes: the caller's address and the URL as the
/// caller addressed it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Edge<'a> {
    pub remote_ip: Option<&'a str>,
    pub addressed_url: Option<&'a str>,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// No gateway authentication (the function authenticates itself, e.g. the token endpoint).
    Open,
    /// An OTS participant: bearer access token or API key (TOTSCo API v2.0 §3.2).
    Participant,
    /// The operator: `Authorization: Bearer <admin token>`.
    Admin,
    /// A DIP participant: its current `X-API-Key` (DSD002 9.12). The function checks the
    /// message signatures, which need the body.
    DipKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub function: Function,
    pub guard: Guard,
    /// Bodies above this are refused before they reach the function.
    pub max_body_bytes: usize,
}

impl Route {
    /// The per-minute quota a caller's request on this route counts against: letterbox posts
    /// count against the client's `rateLimit` (§2.1.8.1, 429/900804); nothing else is throttled.
    pub fn quota(&self, grant: &crate::common::config::ClientGrant) -> Option<u32> {
        match (self.function, grant.rate_limit) {
            (Function::Send, Some(limit)) => Some(limit.messages_per_minute),
            _ => None,
        }
    }
}

/// Bodies the gateway takes on routes that name no other limit.
pub const GATEWAY_MAX_BODY_BYTES: usize = 1_048_576;
/// The admin API takes seed bundles and the DIP catalogue (KV values stop at 25 MiB).
pub const ADMIN_MAX_BODY_BYTES: usize = 24 * 1_048_576;
/// What the gateway reads of a body on `path`: its route's limit (nothing more is buffered for
/// a caller who sends more; the route then refuses by the declared length), or the default.
pub fn read_limit(path: &str) -> usize {
    route(path).map_or(GATEWAY_MAX_BODY_BYTES, |r| r.max_body_bytes)
}

/// The most any route takes: what a function behind the gateway reads of a forwarded body.
pub const MAX_READ_BYTES: usize = if ADMIN_MAX_BODY_BYTES > crate::dip::ingest::MAX_BATCH_BYTES {
    ADMIN_MAX_BODY_BYTES
} else {
    crate::dip::ingest::MAX_BATCH_BYTES
};

/// The route for `path`, or `None` (the gateway answers the owning protocol's 404).
pub fn route(path: &str) -> Option<Route> {
    let r = |function, guard, max_body_bytes| Some(Route { function, guard, max_body_bytes });
    let seg: alloc::vec::Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match seg.as_slice() {
        // TOTSCo API v2.0 §2.1.8.1: messages over 256000 bytes are refused.
        ["letterbox", "v1" | "v2", "post"] => r(Function::Send, Guard::Participant, crate::ots::MAX_MESSAGE_BYTES),
        ["directory", "v1" | "v2", "entry"] => r(Function::Directory, Guard::Participant, GATEWAY_MAX_BODY_BYTES),
        ["oauth2", "token"] => r(Function::Token, Guard::Open, GATEWAY_MAX_BODY_BYTES),
        ["admin", "v1", ..] => r(Function::Admin, Guard::Admin, ADMIN_MAX_BODY_BYTES),
        ["dip-channel", _] | ["validate", _, _] => r(Function::Send, Guard::DipKey, crate::dip::ingest::MAX_BATCH_BYTES),
        ["statusmessage"] => r(Function::Send, Guard::DipKey, GATEWAY_MAX_BODY_BYTES),
        ["dip-channel", _, "pubconfig", _] | ["statusmessage", "config", _] => r(Function::Webhooks, Guard::DipKey, GATEWAY_MAX_BODY_BYTES),
        _ => None,
    }
}

/// Whether answering `status` to a `method` request on `path` may have put new jobs in the
/// outbox (or released held ones): a host that keeps no shard awake (Spin) drains then, after
/// the answer has gone.
pub fn may_have_queued(method: crate::common::http::Method, path: &str, status: u16) -> bool {
    let queues = matches!(route(path).map(|r| r.function), Some(Function::Send | Function::Webhooks));
    method != crate::common::http::Method::Get && queues && (200..300).contains(&status)
}

/// The size rule for a routed request whose body is `body_len` bytes (checked after
/// authentication, as §2.1.8.1 orders it).
pub fn admit_size(route: &Route, body_len: usize) -> Result<(), Refusal> {
    if body_len > route.max_body_bytes {
        return Err(Refusal::TooLarge { limit: route.max_body_bytes });
    }
    Ok(())
}

/// Refused when the operator blocked the route's API (`SWITCHYARD_BLOCKED_APIS`).
pub fn admit_unblocked(route: &Route, blocked: &[alloc::string::String]) -> Result<(), Refusal> {
    match route.function.api() {
        Some(api) if blocked.iter().any(|b| b == api) => Err(Refusal::Blocked),
        _ => Ok(()),
    }
}

/// Headers the gateway sets for the function after authenticating the caller.
pub use crate::common::trusted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_posts_to_send_and_webhooks_may_queue_jobs() {
        use crate::common::http::Method;
        assert!(may_have_queued(Method::Post, "/letterbox/v2/post", 202));
        assert!(may_have_queued(Method::Post, "/dip-channel/IF-021", 207));
        assert!(may_have_queued(Method::Post, "/dip-channel/IF-021/pubconfig/1000000001", 201));
        assert!(!may_have_queued(Method::Post, "/letterbox/v2/post", 400));
        assert!(!may_have_queued(Method::Get, "/directory/v2/entry", 200));
        assert!(!may_have_queued(Method::Post, "/oauth2/token", 200));
    }

    #[test]
    fn table() {
        assert_eq!(route("/letterbox/v2/post").unwrap().function, Function::Send);
        assert_eq!(route("/letterbox/v1/post").unwrap().guard, Guard::Participant);
        assert_eq!(route("/oauth2/token").unwrap().guard, Guard::Open);
        assert_eq!(route("/admin/v1/apply").unwrap().guard, Guard::Admin);
        assert!(route("/letterbox/v3/post").is_none());
        assert!(route("/").is_none());
        let send = route("/letterbox/v2/post").unwrap();
        assert!(admit_size(&send, 256_000).is_ok());
        let too_large = admit_size(&send, 256_001).unwrap_err();
        assert_eq!(crate::ots::errors::refusal("/letterbox/v2/post", too_large.clone()).body()["errorCode"], "9017");
        assert_eq!(crate::ots::errors::refusal("/letterbox/v1/post", too_large).body()["code"], "400");
        let limited = crate::common::config::ClientGrant {
            identities: alloc::vec![],
            networks: alloc::vec![],
            routing_ids: alloc::vec![],
            rate_limit: Some(crate::common::config::RateLimit { messages_per_minute: 7 }),
        };
        assert_eq!(send.quota(&limited), Some(7));
        assert_eq!(route("/directory/v2/entry").unwrap().quota(&limited), None, "only letterbox posts are throttled");
        assert_eq!(send.quota(&crate::common::config::ClientGrant { rate_limit: None, ..limited }), None);
        assert_eq!(read_limit("/letterbox/v2/post"), crate::ots::MAX_MESSAGE_BYTES, "no more is buffered than the route takes");
        assert_eq!(read_limit("/dip-channel/IF-021"), crate::dip::ingest::MAX_BATCH_BYTES);
        assert_eq!(read_limit("/nowhere"), GATEWAY_MAX_BODY_BYTES);
        let blocked = [alloc::string::String::from("letterbox")];
        assert_eq!(admit_unblocked(&send, &blocked), Err(Refusal::Blocked));
        assert!(admit_unblocked(&route("/admin/v1/apply").unwrap(), &[alloc::string::String::from("admin")]).is_ok());
    }
}
