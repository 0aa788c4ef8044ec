//! Obfuscation (DSD002 7.8 and the DIP contract): a copy of a message for a recipient role the
//! channel obfuscates has the listed fields replaced by a value of the field's own type in
//! Elexon's schema, so the copy still validates: DIP IDs (DT-006) `9999999999`, date-times
//! (DT-003) `1900-01-01T00:00:00+00:00`, dates (DT-021) `1900-01-01`, booleans `true`;
//! numbers and decimal strings stay as they are; any other string is `x` repeated to the
//! field's maxLength; null stays null.

use alloc::string::String;
#[cfg(test)]
use alloc::string::ToString;
use alloc::vec::Vec;
use serde_json::Value;

/// What a field is, as far as obfuscation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    DipId,
    DateTime,
    Date,
    Decimal,
    Text { max_length: Option<usize> },
    Other,
}

/// Follows `pointer` through `schema` (a catalogue event schema, `$ref`s into `$defs`) and
/// returns the names of the definitions met at its end, innermost last, with the node there.
fn field<'a>(schema: &'a Value, pointer: &str) -> Option<(Vec<&'a str>, &'a Value)> {
    let defs = schema.get("$defs");
    let mut node = schema;
    let mut names = Vec::new();
    let resolve = |mut n: &'a Value, names: &mut Vec<&'a str>| {
        while let Some(name) = n.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            names.push(name);
            n = defs?.get(name)?;
        }
        Some(n)
    };
    node = resolve(node, &mut names)?;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        names.clear();
        let next = match node.get("properties").and_then(|p| p.get(&token)) {
            Some(n) => n,
            None if token.parse::<usize>().is_ok() => node.get("items")?,
            None => return None,
        };
        node = resolve(next, &mut names)?;
    }
    Some((names, node))
}

fn kind(schema: &Value, pointer: &str) -> Kind {
    let Some((names, node)) = field(schema, pointer) else { return Kind::Other };
    let named = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    let is = |t: &str| node.get("type").is_some_and(|v| v == t || v.as_array().is_some_and(|a| a.iter().any(|x| x == t)));
    if named("DT-006") {
        Kind::DipId
    } else if named("DT-003") {
        Kind::DateTime
    } else if named("DT-021") {
        Kind::Date
    } else if names.iter().any(|n| n.contains("Decimal")) || is("number") || is("integer") {
        Kind::Decimal
    } else if is("string") {
        Kind::Text { max_length: node.get("maxLength").and_then(Value::as_u64).map(|n| n as usize) }
    } else {
        Kind::Other
    }
}

/// `payload` with every field at `pointers` obfuscated per its type in `schema`. Pointers that
/// name nothing in this message are skipped.
pub fn obfuscate(payload: &mut Value, pointers: &[String], schema: &Value) {
    for pointer in pointers {
        let kind = kind(schema, pointer);
        let Some(value) = payload.pointer_mut(pointer) else { continue };
        let replacement = match (&*value, kind) {
            (Value::Null, _) => continue,
            (Value::Bool(_), _) => Value::Bool(true),
            (Value::Number(_), _) | (_, Kind::Decimal) => continue,
            (_, Kind::DipId) => Value::String("9999999999".into()),
            (_, Kind::DateTime) => Value::String("1900-01-01T00:00:00+00:00".into()),
            (_, Kind::Date) => Value::String("1900-01-01".into()),
            (Value::String(s), Kind::Text { max_length }) => Value::String("x".repeat(max_length.unwrap_or(s.chars().count()))),
            (Value::String(s), Kind::Other) => Value::String("x".repeat(s.chars().count())),
            _ => continue,
        };
        *value = replacement;
    }
}

/// The pointers the channel obfuscates for `role`, if any.
pub fn for_role<'a>(config: &'a super::config::ChannelConfig, role: &str) -> Option<&'a [String]> {
    config.obfuscation.get(role).map(Vec::as_slice).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    fn schema() -> Value {
        json!({ "type": "object", "properties": { "CustomBlock": { "$ref": "#/$defs/CB" } }, "$defs": {
            "CB": { "type": "object", "properties": {
                "ds": { "$ref": "#/$defs/DI-845-Issuing-Data-Service-DIP-ID" },
                "at": { "$ref": "#/$defs/DT-003-DateTime" },
                "on": { "$ref": "#/$defs/DT-021N-Date" },
                "flag": { "type": "boolean" },
                "amount": { "$ref": "#/$defs/DT-016-Decimal-9-3" },
                "name": { "type": "string", "maxLength": 5 },
                "list": { "type": "array", "items": { "$ref": "#/$defs/DT-006-DIPParticipantID" } },
                "gone": { "type": ["string", "null"] } } },
            "DI-845-Issuing-Data-Service-DIP-ID": { "$ref": "#/$defs/DT-006-DIPParticipantID" },
            "DT-006-DIPParticipantID": { "type": "string", "minLength": 10, "maxLength": 10 },
            "DT-003-DateTime": { "type": "string", "minLength": 25, "maxLength": 25 },
            "DT-021N-Date": { "type": ["string", "null"] },
            "DT-016-Decimal-9-3": { "type": "string", "pattern": "^-?[0-9]{1,6}(\\\\.[0-9]{1,3})?$" } } })
    }

    #[test]
    fn each_field_becomes_a_value_of_its_own_type() {
        let mut m = json!({ "CustomBlock": { "ds": "1000000001", "at": "2026-04-01T12:00:00+00:00", "on": "2026-04-01",
            "flag": false, "amount": "12.5", "name": "Bob", "list": ["1000000002"], "gone": null } });
        let all = pointers(&["/CustomBlock/ds", "/CustomBlock/at", "/CustomBlock/on", "/CustomBlock/flag", "/CustomBlock/amount",
            "/CustomBlock/name", "/CustomBlock/list/0", "/CustomBlock/gone", "/CustomBlock/absent"]);
        obfuscate(&mut m, &all, &schema());
        assert_eq!(m, json!({ "CustomBlock": { "ds": "9999999999", "at": "1900-01-01T00:00:00+00:00", "on": "1900-01-01",
            "flag": true, "amount": "12.5", "name": "xxxxx", "list": ["9999999999"], "gone": null } }));
    }
}
