//! Which (channel, event code) pairs exist and which spec component describes each.
//!
//! - Every `/validate/{IF}/{Event}` path of SubmitEvents is one pair; its request body names
//!   the payload component. Several paths may share one component (IF-041's ten event codes
//!   all use `IF-041-Payload`): the path, not the component, says which event code it is.
//! - Every other channel of `DT-000-InterfaceID` (IF-016, IF-047 and the REP-xxx reports have
//!   no `/validate` path) takes its pairs from `<id>-Payload` in Interfaces-EventCodes: each
//!   `oneOf` variant (or the payload itself) with each event code its `S0.eventCode` lists.
//!   When several variants list one code, the one named `<id>-<code>` wins.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{missing, ImportError};
use crate::spec::{Location, Spec, DATA_TYPES, INTERFACES, SUBMIT_EVENTS};

/// One channel's events: event code (as the `/validate` path spells it) -> payload component.
pub type Events = BTreeMap<String, Location>;

/// Every channel of the spec, with no events when the spec gives it no payload schema.
pub fn find(spec: &mut Spec) -> Result<BTreeMap<String, Events>, ImportError> {
    let mut channels: BTreeMap<String, Events> = BTreeMap::new();
    for (channel, event, payload) in validate_paths(spec)? {
        channels.entry(channel).or_default().insert(event, payload);
    }
    for channel in channel_ids(spec)? {
        if channels.contains_key(&channel) {
            continue;
        }
        let events = payload_variants(spec, &channel)?;
        channels.insert(channel, events);
    }
    Ok(channels)
}

/// `(channel, event code, payload component)` for each `/validate/{IF}/{Event}` path.
fn validate_paths(spec: &mut Spec) -> Result<Vec<(String, String, Location)>, ImportError> {
    let paths = spec
        .load(SUBMIT_EVENTS)?
        .get("paths")
        .cloned()
        .unwrap_or_default();
    let Value::Object(paths) = paths else {
        return Err(missing("paths in SubmitEvents"));
    };
    let mut found = Vec::new();
    for (path, item) in &paths {
        let Some(rest) = path.strip_prefix("/validate/") else {
            continue;
        };
        let Some((channel, event)) = rest.split_once('/') else {
            continue;
        };
        let reference = item
            .pointer(
                "/post/requestBody/content/application~1json/schema/items/properties/payload/$ref",
            )
            .and_then(Value::as_str)
            .ok_or_else(|| missing(format!("a payload $ref for {path}")))?;
        let payload = spec.resolve(reference, SUBMIT_EVENTS)?;
        found.push((channel.to_owned(), event.to_owned(), payload));
    }
    if found.is_empty() {
        return Err(missing("any /validate/{IF}/{Event} path"));
    }
    Ok(found)
}

/// The `DT-000-InterfaceID` enumeration: every channel id.
fn channel_ids(spec: &mut Spec) -> Result<Vec<String>, ImportError> {
    let at = Location::schema(DATA_TYPES, "DT-000-InterfaceID");
    strings(spec.get(&at)?.get("enum"), "the DT-000-InterfaceID enum")
}

/// A channel's events read from `<id>-Payload` (empty when the spec has no such component).
fn payload_variants(spec: &mut Spec, channel: &str) -> Result<Events, ImportError> {
    let payload = Location::schema(INTERFACES, &format!("{channel}-Payload"));
    let Some(body) = spec.load(INTERFACES)?.pointer(&payload.pointer).cloned() else {
        return Ok(Events::new());
    };
    let variants = match body.get("oneOf").and_then(Value::as_array) {
        Some(refs) => refs
            .iter()
            .map(|r| {
                let reference = r.get("$ref").and_then(Value::as_str).unwrap_or_default();
                spec.resolve(reference, INTERFACES)
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![payload],
    };
    let mut candidates: BTreeMap<String, Vec<Location>> = BTreeMap::new();
    for variant in variants {
        for code in s0_enum(spec, &variant, "eventCode")? {
            candidates
                .entry(strip_brackets(&code).to_owned())
                .or_default()
                .push(variant.clone());
        }
    }
    let mut events = Events::new();
    for (code, variants) in candidates {
        let named = format!("{channel}-{code}");
        let chosen = match variants.iter().find(|v| v.name() == named) {
            Some(v) => v.clone(),
            None if variants.len() == 1 => variants[0].clone(),
            None => {
                return Err(missing(format!(
                    "one {channel} variant for event code {code}"
                )))
            }
        };
        events.insert(code, chosen);
    }
    Ok(events)
}

/// The enum of `CommonBlock.S0.<field>` in a payload component, following `$ref`s on the way.
pub fn s0_enum(
    spec: &mut Spec,
    payload: &Location,
    field: &str,
) -> Result<Vec<String>, ImportError> {
    let path = [
        "properties",
        "CommonBlock",
        "properties",
        "S0",
        "properties",
        field,
    ];
    let mut at = payload.clone();
    let mut node = spec.get(&at)?.clone();
    for step in path {
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            at = spec.resolve(reference, &at.file)?;
            node = spec.get(&at)?.clone();
        }
        node = node
            .get(step)
            .cloned()
            .ok_or_else(|| missing(format!("CommonBlock.S0.{field} in {}", payload.name())))?;
    }
    strings(
        node.get("enum"),
        &format!("an S0.{field} enum in {}", payload.name()),
    )
}

fn strings(value: Option<&Value>, what: &str) -> Result<Vec<String>, ImportError> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .filter(|items| !items.is_empty())
        .ok_or_else(|| missing(what))
}

/// `[InitialRegistration]` -> `InitialRegistration`.
pub fn strip_brackets(code: &str) -> &str {
    code.strip_prefix('[')
        .and_then(|c| c.strip_suffix(']'))
        .unwrap_or(code)
}
