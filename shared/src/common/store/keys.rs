//! The key-value layout. One namespace holds every table; a prefix per table keeps them
//! apart, and this is the only place that spells one.

use alloc::format;
use alloc::string::String;

/// Marks a list type (e.g. `RCPID`) as configured.
pub fn list_type(list_type: &str) -> String {
    format!("listtype/{list_type}")
}
pub fn list_type_prefix() -> &'static str {
    "listtype/"
}
/// A directory entry.
pub fn participant(list_type: &str, id: &str) -> String {
    format!("dir/{list_type}/{id}")
}
pub fn participant_prefix(list_type: &str) -> String {
    format!("dir/{list_type}/")
}
/// A recipient's delivery endpoint (its sealed credentials are bound to this key).
pub fn endpoint(list_type: &str, id: &str) -> String {
    format!("endpoint/{list_type}/{id}")
}
/// A routing ID's process and delivery policy.
pub fn routing_id(routing_id: &str) -> String {
    format!("routing/{routing_id}")
}
/// An API client: its grant and hashed credentials.
pub fn client(client_id: &str) -> String {
    format!("client/{client_id}")
}
/// Cached outbound OAuth2 token for a recipient endpoint (sealed, bound to this key).
pub fn outbound_token(list_type: &str, id: &str) -> String {
    format!("outtoken/{list_type}/{id}")
}
