//! The binary writes the same catalogue the library imports.

use std::process::Command;

use switchyard_core::dip::catalogue::Catalogue;

use crate::utils::{catalogue, spec_dir};

#[test]
fn cli_writes_the_catalogue_to_a_file_and_to_stdout() {
    let out = std::env::temp_dir().join(format!("dip-catalogue-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_dip-catalogue"))
        .arg("--spec")
        .arg(spec_dir())
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let written: Catalogue = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(&written, catalogue());

    let stdout = Command::new(env!("CARGO_BIN_EXE_dip-catalogue"))
        .arg("--spec")
        .arg(spec_dir())
        .output()
        .unwrap();
    assert!(stdout.status.success());
    let printed: Catalogue = serde_json::from_slice(&stdout.stdout).unwrap();
    assert_eq!(&printed, catalogue());
}

#[test]
fn cli_fails_on_a_missing_spec_directory() {
    let output = Command::new(env!("CARGO_BIN_EXE_dip-catalogue"))
        .args(["--spec", "/nonexistent/dip-api"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SubmitEvents-unresolved.yaml"));
}

#[test]
fn cli_without_spec_prints_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_dip-catalogue"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage"));
}
