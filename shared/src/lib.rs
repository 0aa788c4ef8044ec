//! Switchyard core: every rule the hub decides, and nothing it does.
//!
//! The crate performs no I/O. Hosts (Cloudflare Workers, Spin) provide time, randomness,
//! storage, the broker and outbound HTTP through the traits in [`ports`]; everything
//! protocol-shaped (envelopes, error bodies, routing, delivery outcomes, tokens, signatures)
//! is decided here so every host behaves the same.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod admin;
pub mod archive;
pub mod auth;
pub mod broker;
pub mod config;
pub mod delivery;
pub mod directory;
pub mod host;
pub mod http;
pub mod ids;
pub mod json;
pub mod net;
pub mod ots;
pub mod ports;
pub mod ratelimit;
pub mod routes;
pub mod signing;
pub mod store;
pub mod time;
