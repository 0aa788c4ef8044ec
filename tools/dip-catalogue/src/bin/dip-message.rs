//! `dip-message CATALOGUE CHANNEL EVENT SENDER ROLE [POINTER=JSON ...]`: prints a batch of one
//! valid message (`[{"payload": ...}]`) of (CHANNEL, EVENT), generated from the catalogue's
//! schema, sent by SENDER in ROLE now, with a fresh senderUniqueReference; each
//! `POINTER=JSON` then sets a field (e.g. `/CommonBlock/M0/MPANCore="1900000000001"`).

use std::process::ExitCode;

use serde_json::{json, Value};
use switchyard_core::common::time;
use switchyard_core::dip::catalogue::Catalogue;

const USAGE: &str = "usage: dip-message CATALOGUE CHANNEL EVENT SENDER ROLE [POINTER=JSON ...]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(batch) => {
            println!("{batch}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dip-message: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<Value, String> {
    let [catalogue, channel, event, sender, role, fields @ ..] = args.as_slice() else { return Err(USAGE.into()) };
    let text = std::fs::read(catalogue).map_err(|e| format!("{catalogue}: {e}"))?;
    let catalogue: Catalogue = serde_json::from_slice(&text).map_err(|e| format!("{catalogue}: {e}"))?;
    let spec = catalogue.event(channel, event).ok_or_else(|| format!("{channel}/{event} is not in the catalogue"))?;
    let mut m = dip_catalogue::generate::instance(&spec.schema).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
    let now_ms = now.as_millis() as u64;
    // DT-995 takes `IF-`/`REP-` and digits only.
    let reference_channel = channel.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unique = format!("{:x}", now.as_nanos());
    let s1 = [
        ("environmentTag", json!("DEV")),
        ("senderDIPID", json!(sender)),
        ("senderRoleID", json!(role)),
        ("DIPConnectionProviderID", Value::Null),
        ("senderCorrelationID", Value::Null),
        ("senderTimestamp", json!(time::dt003(now_ms))),
        ("senderUniqueReference", json!(format!("S-{reference_channel}-{sender}-{role}-{}-{unique}", time::compact_date(now_ms)))),
    ];
    for (field, value) in s1 {
        dip_catalogue::generate::set(&mut m, &format!("/CommonBlock/S1/{field}"), value).map_err(|e| e.to_string())?;
    }
    for f in fields {
        let (pointer, value) = f.split_once('=').ok_or_else(|| format!("{f}: expected POINTER=JSON"))?;
        let value: Value = serde_json::from_str(value).map_err(|e| format!("{f}: {e}"))?;
        dip_catalogue::generate::set(&mut m, pointer, value).map_err(|e| e.to_string())?;
    }
    Ok(json!([{ "payload": m }]))
}
