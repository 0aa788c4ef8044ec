//! Why the gateway did not admit a request, said without a protocol's words: the protocol
//! that owns the path turns a [`Refusal`] into its body (`crate::protocols::refuse`).

/// Why the gateway did not forward a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No route serves the path.
    NotFound,
    /// The operator blocked the route's API for a while.
    Blocked,
    Auth(crate::common::auth::AuthError),
    /// The caller's quota for the current window is used up.
    Throttled { next_access_ms: u64 },
    /// The body is larger than the route takes.
    TooLarge { limit: usize },
    /// The host failed (storage, throttle or forwarding).
    Backend,
}
