//! `dip-catalogue --spec DIR [--out FILE]`: imports Elexon's DIP OpenAPI from DIR and writes the
//! channel catalogue JSON to FILE, or to stdout.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: dip-catalogue --spec DIR [--out FILE]";

fn main() -> ExitCode {
    let mut spec = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--spec", Some(dir)) => spec = Some(PathBuf::from(dir)),
            ("--out", Some(file)) => out = Some(PathBuf::from(file)),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(spec) = spec else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let catalogue = match dip_catalogue::import(&spec) {
        Ok(catalogue) => catalogue,
        Err(e) => {
            eprintln!("dip-catalogue: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = serde_json::to_string(&catalogue).expect("a catalogue is plain JSON");
    let written = match out {
        Some(file) => std::fs::write(&file, json + "\n"),
        None => {
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "{json}")
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // `dip-catalogue --spec DIR | head` is a normal way to look at it.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dip-catalogue: {e}");
            ExitCode::FAILURE
        }
    }
}
