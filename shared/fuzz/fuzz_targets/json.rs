//! The strict JSON reader every accepted body goes through: never a panic or a stack
//! overflow, and it accepts nothing serde_json itself would refuse. (Values are not
//! compared after a round trip: serde_json's float parsing is not round-trip exact, and the
//! hub never re-serialises a message; it forwards the bytes it accepted.)
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if switchyard_core::common::json::parse_value(data).is_ok() {
        assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok(), "strict accepted what serde_json refuses");
    }
});
