//! The imported catalogue (once per test run) and validation helpers.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use switchyard_core::dip::catalogue::{Catalogue, Event};

pub fn spec_dir() -> PathBuf {
    match std::env::var_os("SWITCHYARD_DIP_SPEC") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/specs/dip-api"
        )),
    }
}

pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let dir = spec_dir();
        dip_catalogue::import(&dir).unwrap_or_else(|e| {
            panic!(
                "importing {} failed (set SWITCHYARD_DIP_SPEC to the dip-api directory): {e}",
                dir.display()
            )
        })
    })
}

pub fn event(channel: &str, code: &str) -> &'static Event {
    catalogue()
        .event(channel, code)
        .unwrap_or_else(|| panic!("no {channel} {code} in the catalogue"))
}

/// Every error of `instance` against `schema`, formats asserted, as `path: message`.
pub fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    dip_catalogue::generate::validation_errors(schema, instance).expect("catalogue schemas compile")
}

/// A generated valid payload of one event.
pub fn payload(channel: &str, code: &str) -> Value {
    dip_catalogue::generate::instance(&event(channel, code).schema)
        .unwrap_or_else(|e| panic!("{channel} {code}: {e}"))
}

/// A spec file as JSON, read the way the importer reads it.
pub fn spec_file(file: &str) -> Value {
    let mut spec = dip_catalogue::spec::Spec::open(&spec_dir()).expect("spec directory readable");
    spec.load(file).expect("spec file readable").clone()
}
