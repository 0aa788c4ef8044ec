//! Mechanisms every protocol shares. Nothing here knows a protocol's wire format: failures
//! say *what* went wrong, and each protocol's error book decides the body it answers with.

pub mod address_table;
pub mod archive;
pub mod auth;
pub mod broker;
pub mod config;
pub mod delivery;
pub mod http;
pub mod ids;
pub mod json;
pub mod net;
pub mod ratelimit;
pub mod refusal;
pub mod signing;
pub mod store;
pub mod time;
pub mod trusted;
pub mod unique;
