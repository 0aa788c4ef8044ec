//! Black-box suites against a running hub (see utils/hub.rs for how it is found or started).

mod e2e_ots_slice;
mod e2e_signing;
