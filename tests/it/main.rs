//! Black-box suites against a running hub (see utils/hub.rs for how it is found or started).

mod e2e_admin;
mod e2e_bad_input;
mod e2e_degraded;
mod e2e_dip_admin;
mod e2e_dip_dead_letter;
mod e2e_dip_delivery;
mod e2e_dip_flow;
mod e2e_dip_mams;
mod e2e_dip_send;
mod e2e_dip_signatures;
mod e2e_dip_webhooks;
mod e2e_durability;
mod e2e_isolation;
mod e2e_outbound_security;
mod e2e_ots_apikeys;
mod e2e_ots_delivery;
mod e2e_ots_directory;
mod e2e_ots_letterbox;
mod e2e_ots_slice;
mod e2e_ots_token;
mod e2e_signing;
