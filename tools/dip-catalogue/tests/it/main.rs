//! Integration tests against Elexon's real DIP OpenAPI (`SWITCHYARD_DIP_SPEC`, default
//! `shared/specs/dip-api` beside the repository). A missing spec directory fails every test.

mod e2e_cli;
mod integ_catalogue;
mod integ_examples;
mod integ_generate;
mod utils;
