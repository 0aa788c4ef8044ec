//! Copies the WIT packages that ship inside the spin-sdk 5.2 crate into `wit/deps`, so that
//! `bindgen!` reads Spin's own interface definitions: `fermyon:spin@2.0.0`, `spin:sqlite@3.0.0`
//! and the WASI 0.2.0
//! (and 2023-10-18 release candidate) packages its worlds include. The WASIp3 packages are
//! left out: parsing them needs wasmtime's `component-model-async` feature. The crate comes from cargo's registry
//! cache (`cargo fetch` in the repository root downloads it); `SPIN_SDK_WIT` overrides the path.

use std::path::{Path, PathBuf};

const SPIN_SDK: &str = "spin-sdk-5.2.0";

fn main() {
    println!("cargo:rerun-if-env-changed=SPIN_SDK_WIT");
    println!("cargo:rerun-if-changed=wit/host.wit");
    println!("cargo:rerun-if-changed=../../shared/host-spin/wit/cron.wit");
    let source = std::env::var_os("SPIN_SDK_WIT").map(PathBuf::from).or_else(find_in_registry).unwrap_or_else(|| {
        panic!("{SPIN_SDK}/wit not found in cargo's registry: run `cargo fetch` in the repository root (its functions depend on spin-sdk 5.2), or set SPIN_SDK_WIT")
    });
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/deps");
    let _ = std::fs::remove_dir_all(&deps);
    for entry in std::fs::read_dir(source.join("deps")).expect("read spin-sdk WIT").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if NEEDED.iter().any(|suffix| name.ends_with(suffix)) {
            copy_dir(&entry.path(), &deps.join(&name)).expect("copy spin-sdk WIT");
        }
    }
}

/// Suffixes of the `wit/deps` entries that `fermyon:spin@2.0.0` needs.
const NEEDED: &[&str] = &["spin@2.0.0", "spin-sqlite@3.0.0", "@0.2.0", "-2023-10-18"];

fn find_in_registry() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    for index in std::fs::read_dir(home.join("registry/src")).ok()?.flatten() {
        let wit = index.path().join(SPIN_SDK).join("wit");
        if wit.join("deps").is_dir() {
            return Some(wit);
        }
    }
    None
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
