//! The DIP channel catalogue importer: reads Elexon's DIP OpenAPI (a directory of unresolved
//! multi-file YAML, root `SubmitEvents-unresolved.yaml`) and produces
//! [`switchyard_core::dip::catalogue::Catalogue`]: every channel of `DT-000-InterfaceID`, and
//! for each (channel, event code) one self-contained JSON Schema (draft 2020-12) of a message's
//! `payload`. [`generate`] builds a valid message from any of those schemas.
//!
//! Each event's schema is the variant its `/validate/{IF}/{Event}` path names, with
//! `S0.eventCode` narrowed to that one code: Elexon's `*-Payload` components join variants with
//! a literal `oneOf`, and some variants list several codes (IF-020's RelatedCreate variant also
//! lists RelatedAdd and RelatedRemove), so a message valid for one event can match two
//! branches and be rejected by `oneOf`.
//!
//! Event codes are matched as messages carry them: in square brackets (`"[InitialRegistration]"`),
//! exactly as the schemas' own enums and all of Elexon's example messages spell them.

pub mod bundle;
mod channels;
pub mod convert;
mod error;
pub mod generate;
pub mod spec;

use std::path::Path;

use serde_json::Value;
use switchyard_core::dip::catalogue::{Catalogue, Channel, Event};

pub use channels::strip_brackets;
pub use error::ImportError;
use spec::{Location, Spec, SUBMIT_EVENTS};

/// Where `S0` sits in every payload schema.
pub const S0_POINTER: &str = "/properties/CommonBlock/properties/S0/properties";

/// Imports the whole catalogue from a spec directory.
pub fn import(spec_dir: &Path) -> Result<Catalogue, ImportError> {
    let mut spec = Spec::open(spec_dir)?;
    let release = spec
        .get(&Location {
            file: SUBMIT_EVENTS.into(),
            pointer: "/info/version".into(),
        })?
        .as_str()
        .ok_or_else(|| error::missing("info.version in SubmitEvents"))?
        .to_owned();
    let mut catalogue = Catalogue {
        release,
        channels: Default::default(),
    };
    for (id, events) in channels::find(&mut spec)? {
        let mut channel = Channel {
            events: Default::default(),
        };
        for (code, payload) in events {
            let event = event(&mut spec, &id, &code, &payload)?;
            channel.events.insert(code, event);
        }
        catalogue.channels.insert(id, channel);
    }
    Ok(catalogue)
}

/// One event: the payload component bundled, its `S0.eventCode` narrowed to `[code]`.
fn event(
    spec: &mut Spec,
    channel: &str,
    code: &str,
    payload: &Location,
) -> Result<Event, ImportError> {
    let mut schema = bundle::bundle(spec, payload)?;
    let s0 = schema.pointer_mut(S0_POINTER).ok_or_else(|| {
        error::missing(format!(
            "an inline CommonBlock.S0 in {} ({channel} {code})",
            payload.name()
        ))
    })?;
    let bracketed = format!("[{code}]");
    let listed = s0.pointer("/eventCode/enum").and_then(Value::as_array);
    if !listed.is_some_and(|codes| codes.contains(&Value::String(bracketed.clone()))) {
        return Err(error::missing(format!(
            "event code {bracketed} in {}",
            payload.name()
        )));
    }
    s0["eventCode"] = serde_json::json!({ "type": "string", "const": bracketed });
    let schema_versions = s0
        .pointer("/schemaVersion/enum")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .ok_or_else(|| error::missing(format!("an S0.schemaVersion enum in {}", payload.name())))?;
    Ok(Event {
        schema_versions,
        schema,
    })
}
