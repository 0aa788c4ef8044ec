//! Switchyard core: every rule the hub decides, and nothing it does.
//!
//! The crate performs no I/O. Hosts (Cloudflare Workers, Spin) provide time, randomness,
//! storage, the broker and outbound HTTP through the traits in [`ports`]; everything
//! protocol-shaped (envelopes, error bodies, routing, delivery outcomes, tokens, signatures)
//! is decided here so every host behaves the same.
//!
//! Where to look:
//! - [`common`]: mechanisms every protocol shares: authentication, the key-value layout,
//!   the broker and its outbox, the delivery engine and its policy, archive keys, time,
//!   strict JSON, HTTP types. None of it knows a protocol's wire format.
//! - [`ots`]: the TOTSCo OTS letterbox: envelope, error book, directory, ingest checks,
//!   delivery rules and failure notifications.
//! - [`dip`]: the Elexon MHHS DIP: the channel catalogue and the send API's rules.
//! - [`protocols`]: the protocols the hub speaks, and how shared mechanisms reach each one's
//!   rules (delivery jobs, refusals at the gateway).
//! - [`gateway`]: the public surface: which function serves a path and how callers are admitted.
//! - [`admin`]: the operator's rules for participants, endpoints, clients and seed bundles.
//! - [`ports`] and [`host`]: what a host provides.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod admin;
pub mod common;
pub mod dip;
pub mod gateway;
pub mod host;
pub mod ots;
pub mod ports;
pub mod protocols;
#[cfg(test)]
pub mod testing;
