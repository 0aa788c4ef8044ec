//! The Elexon MHHS Data Integration Platform (DSD002 Annex 2, Elexon's DIP OpenAPI, and the
//! hub's DIP contract): the channel catalogue imported from the OpenAPI, and (as they land) the
//! send API's checks, signatures, addressing and status messages.

pub mod catalogue;
pub mod signature;

/// Where accepted DIP messages are archived.
pub const ARCHIVE_AREA: &str = "dip";
