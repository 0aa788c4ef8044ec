//! Schema validation of DIP payloads against the catalogue (feature `schema`: the one
//! function that validates carries the validator). Each (channel, event code) schema is
//! compiled the first time a message needs it and kept for as long as the catalogue it came
//! from is the current one.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use serde_json::Value;

use super::catalogue::Catalogue;

/// The catalogue's event for an `S0.eventCode`: Elexon's schemas and examples write event
/// codes in brackets (`[InitialRegistration]`), the `/validate/{IF}/{Event}` paths without.
pub fn event_key(event_code: &str) -> &str {
    event_code.strip_prefix('[').and_then(|c| c.strip_suffix(']')).unwrap_or(event_code)
}

/// Why a payload is not a valid message of its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// `S0.eventCode` is missing or not an event of the channel.
    UnknownEvent(Option<String>),
    /// The schema was not met: where, and what.
    Schema(String),
    /// The catalogue's schema itself does not compile (an operator's problem, said once).
    BadSchema(String),
}

impl Invalid {
    pub fn describe(&self) -> String {
        match self {
            Invalid::UnknownEvent(Some(code)) => format!("eventCode {code:?} is not an event of this channel"),
            Invalid::UnknownEvent(None) => "CommonBlock.S0.eventCode is missing".into(),
            Invalid::Schema(why) | Invalid::BadSchema(why) => why.clone(),
        }
    }
}

/// The compiled schemas of one catalogue.
pub struct Schemas {
    id: String,
    catalogue: Catalogue,
    compiled: BTreeMap<(String, String), Result<jsonschema::Validator, String>>,
}

impl Schemas {
    /// `id` names the catalogue's version (the admin API stores its digest beside it).
    pub fn new(id: &str, catalogue: Catalogue) -> Schemas {
        Schemas { id: id.into(), catalogue, compiled: BTreeMap::new() }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Validates `payload` as a message on `channel`, of the event its S0 names.
    pub fn check(&mut self, channel: &str, payload: &Value) -> Result<(), Invalid> {
        let code = payload.pointer("/CommonBlock/S0/eventCode").and_then(Value::as_str);
        let Some(code) = code else { return Err(Invalid::UnknownEvent(None)) };
        self.check_event(channel, event_key(code), payload).map_err(|e| match e {
            Invalid::UnknownEvent(_) => Invalid::UnknownEvent(Some(code.to_string())),
            other => other,
        })
    }

    /// Validates `payload` against the schema of (`channel`, `event`) as the catalogue names
    /// them (`/validate/{IF}/{Event}`).
    pub fn check_event(&mut self, channel: &str, event: &str, payload: &Value) -> Result<(), Invalid> {
        let Some(spec) = self.catalogue.event(channel, event) else { return Err(Invalid::UnknownEvent(Some(event.into()))) };
        let validator = self
            .compiled
            .entry((channel.into(), event.into()))
            .or_insert_with(|| jsonschema::draft202012::new(&spec.schema).map_err(|e| format!("schema of {channel}/{event}: {e}")));
        let validator = validator.as_ref().map_err(|e| Invalid::BadSchema(e.clone()))?;
        match validator.iter_errors(payload).next() {
            None => Ok(()),
            Some(e) => Err(Invalid::Schema(format!("{}: {}", e.instance_path(), e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dip::catalogue::{Channel, Event};
    use serde_json::json;

    fn schemas() -> Schemas {
        let schema = json!({ "type": "object", "required": ["CommonBlock"], "properties": { "CommonBlock": { "type": "object",
            "properties": { "S0": { "type": "object", "properties": { "eventCode": { "enum": ["[ActivePower]"] } } },
                            "SSC": { "type": "string", "pattern": "^[0-9]{4}$" } } } } });
        let mut channels = BTreeMap::new();
        let mut events = BTreeMap::new();
        events.insert("ActivePower".to_string(), Event { schema_versions: alloc::vec!["011".into()], schema });
        channels.insert("IF-021".to_string(), Channel { events });
        Schemas::new("v1", Catalogue { release: "t".into(), channels })
    }

    #[test]
    fn events_are_read_from_s0_without_their_brackets() {
        let mut s = schemas();
        let ok = json!({ "CommonBlock": { "S0": { "eventCode": "[ActivePower]" }, "SSC": "0393" } });
        assert_eq!(s.check("IF-021", &ok), Ok(()));
        assert_eq!(s.check_event("IF-021", "ActivePower", &ok), Ok(()));
        let bad = json!({ "CommonBlock": { "S0": { "eventCode": "[ActivePower]" }, "SSC": "83" } });
        assert!(matches!(s.check("IF-021", &bad), Err(Invalid::Schema(why)) if why.starts_with("/CommonBlock/SSC")));
        let other = json!({ "CommonBlock": { "S0": { "eventCode": "[ReactivePower]" } } });
        assert_eq!(s.check("IF-021", &other), Err(Invalid::UnknownEvent(Some("[ReactivePower]".into()))));
        assert_eq!(s.check("IF-021", &json!({})), Err(Invalid::UnknownEvent(None)));
        assert!(matches!(s.check("IF-999", &ok), Err(Invalid::UnknownEvent(_))));
    }
}
