//! Runs the hub's own Spin components (spin.toml, `target/wasm32-wasip2/release`) and a probe
//! component (tests/fixture) on the emulator. `e2e_*`: the hub served end to end; `integ_*`:
//! each capability a component does not declare is refused.

mod e2e_hub;
mod integ_capabilities;
mod integ_probe;
mod utils;
