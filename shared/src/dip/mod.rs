//! The Elexon MHHS Data Integration Platform (DSD002 Annex 2, Elexon's DIP OpenAPI, and the
//! hub's DIP contract): the channel catalogue imported from the OpenAPI, and (as they land) the
//! send API's checks, signatures, addressing and status messages.

pub mod addressing;
pub mod auth;
pub mod catalogue;
pub mod codes;
#[cfg(feature = "compression")]
pub mod compression;
pub mod config;
pub mod delivery;
pub mod errors;
pub mod ingest;
pub mod mams;
pub mod obfuscation;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "schema")]
pub mod send;
pub mod signature;
pub mod status;
pub mod store;
pub mod webhooks;

/// Where accepted DIP messages are archived.
pub const ARCHIVE_AREA: &str = "dip";
