//! Valid messages from catalogue schemas, for tests that need a realistic DIP message on any
//! channel without writing one by hand.
//!
//! [`instance`] walks one event schema and builds the smallest value it can that validates:
//! required properties only, arrays of `max(minItems, 1)` items, strings at `minLength` or
//! matching `pattern`, numbers at the lowest allowed multiple, the first non-null `enum` value,
//! the first `oneOf`/`anyOf` branch whose value validates. The output is deterministic, and is
//! checked against the schema (formats asserted) before it is returned: a schema the generator
//! cannot satisfy is an error, never a silently invalid message.
//!
//! Elexon's data types carry no `format`, so a few are recognised by their `$defs` name, so that
//! a generated message also passes the hub's checks beyond the schema (a `senderTimestamp` that
//! is a real RFC 3339 date-time: MSG1007). Callers then adjust fields with [`set`].

use std::fmt;

use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Number, Value};

/// JSON Pointers (into a payload) of the fields a test usually overrides.
pub const INTERFACE_ID: &str = "/CommonBlock/S0/interfaceID";
pub const EVENT_CODE: &str = "/CommonBlock/S0/eventCode";
pub const SCHEMA_VERSION: &str = "/CommonBlock/S0/schemaVersion";
pub const S1: &str = "/CommonBlock/S1";

/// A `$ref` chain deeper than this is taken to be a recursive schema.
const MAX_DEPTH: usize = 64;
/// Values for Elexon data types (by `$defs` name prefix) whose shape the schema leaves open.
const TYPED_EXAMPLES: &[(&str, &str)] = &[
    ("DT-003", "2026-04-01T12:00:00+00:00"), // ISO 8601 date-time, 25 characters
    ("DT-021", "2026-04-01"),                // ISO 8601 date
    ("DT-006", "1000000001"),                // DIP participant id, 10 characters
    ("DT-009", "SUP"),                       // DIP role
];
const DATE_TIME: &str = "2026-04-01T12:00:00+00:00";

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateError(pub String);

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot generate an instance: {}", self.0)
    }
}

impl std::error::Error for GenerateError {}

/// A valid instance of `schema` (a self-contained schema: `$ref`s point into its `$defs`).
pub fn instance(schema: &Value) -> Result<Value, GenerateError> {
    let generator = Generator { root: schema };
    let value = generator.value(schema, None, 0)?;
    let errors = validation_errors(schema, &value)?;
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(GenerateError(format!(
            "generated value fails its schema: {}",
            errors.join("; ")
        )))
    }
}

/// Sets the value at `pointer` (RFC 6901), creating missing objects on the way; `-` appends
/// to an array. Used to shape a generated message (sender, event code, a field under test).
pub fn set(target: &mut Value, pointer: &str, value: Value) -> Result<(), GenerateError> {
    if pointer.is_empty() {
        *target = value;
        return Ok(());
    }
    let bad = || GenerateError(format!("cannot set {pointer:?}"));
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(bad());
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, parents) = tokens.split_last().ok_or_else(bad)?;
    let mut node = target;
    for token in parents {
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        node = match node {
            Value::Object(map) => map.entry(token.clone()).or_insert(Value::Null),
            Value::Array(items) => index(items, token).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
    }
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) if last == "-" => items.push(value),
        Value::Array(items) => {
            *index(items, last).ok_or_else(bad)? = value;
        }
        _ => return Err(bad()),
    }
    Ok(())
}

fn index<'a>(items: &'a mut [Value], token: &str) -> Option<&'a mut Value> {
    token.parse::<usize>().ok().and_then(|i| items.get_mut(i))
}

/// The validation errors of `instance` against `schema`, formats asserted.
pub fn validation_errors(schema: &Value, instance: &Value) -> Result<Vec<String>, GenerateError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| GenerateError(format!("schema does not compile: {e}")))?;
    Ok(validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect())
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    /// `hint` is the `$defs` name the schema was reached through, if any.
    fn value(
        &self,
        schema: &Value,
        hint: Option<&str>,
        depth: usize,
    ) -> Result<Value, GenerateError> {
        if depth > MAX_DEPTH {
            return Err(GenerateError("schema recursion too deep".into()));
        }
        let map = match schema {
            Value::Bool(true) => return Ok(Value::Null),
            Value::Bool(false) => {
                return Err(GenerateError("schema `false` admits nothing".into()))
            }
            Value::Object(map) => map,
            other => return Err(GenerateError(format!("not a schema: {other}"))),
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let (name, target) = self.resolve(reference)?;
            return self.value(target, Some(name), depth + 1);
        }
        if let Some(value) = map.get("const") {
            return Ok(value.clone());
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            let first = values.iter().find(|v| !v.is_null()).or(values.first());
            return first
                .cloned()
                .ok_or_else(|| GenerateError("empty enum".into()));
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(keyword) {
                return self.branch(map, branches, depth);
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            return self.all_of(map, parts, depth);
        }
        match primary_type(map).as_str() {
            "object" => self.object(map, depth),
            "array" => self.array(map, depth),
            "string" => string(map, hint),
            "integer" => number(map, true),
            "number" => number(map, false),
            "boolean" => Ok(Value::Bool(true)),
            _ => Ok(Value::Null),
        }
    }

    fn resolve<'r>(&'r self, reference: &'r str) -> Result<(&'r str, &'r Value), GenerateError> {
        let name = reference
            .strip_prefix("#/$defs/")
            .ok_or_else(|| GenerateError(format!("$ref {reference:?} is not into $defs")))?;
        let pointer = &reference[1..];
        let target = self
            .root
            .pointer(pointer)
            .ok_or_else(|| GenerateError(format!("no {reference}")))?;
        Ok((name, target))
    }

    /// The first branch whose value satisfies the whole node (for `oneOf`: exactly one branch).
    fn branch(
        &self,
        node: &Map<String, Value>,
        branches: &[Value],
        depth: usize,
    ) -> Result<Value, GenerateError> {
        let mut with_defs = node.clone();
        if let Some(defs) = self.root.get("$defs") {
            with_defs.insert("$defs".into(), defs.clone());
        }
        let with_defs = Value::Object(with_defs);
        for branch in branches {
            let Ok(candidate) = self.value(branch, None, depth + 1) else {
                continue;
            };
            if validation_errors(&with_defs, &candidate)?.is_empty() {
                return Ok(candidate);
            }
        }
        Err(GenerateError(
            "no oneOf/anyOf branch yields a valid value".into(),
        ))
    }

    /// Each part generated alone, objects merged; enough for the `allOf`s of composed blocks.
    fn all_of(
        &self,
        node: &Map<String, Value>,
        parts: &[Value],
        depth: usize,
    ) -> Result<Value, GenerateError> {
        let mut rest = node.clone();
        rest.remove("allOf");
        let mut merged = Value::Null;
        for part in parts.iter().chain(std::iter::once(&Value::Object(rest))) {
            match (&mut merged, self.value(part, None, depth + 1)?) {
                (Value::Object(into), Value::Object(from)) => into.extend(from),
                (slot @ Value::Null, value) => *slot = value,
                _ => {}
            }
        }
        Ok(merged)
    }

    fn object(&self, map: &Map<String, Value>, depth: usize) -> Result<Value, GenerateError> {
        let properties = map.get("properties").and_then(Value::as_object);
        let required = map
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Map::new();
        for name in required.iter().filter_map(Value::as_str) {
            let schema = properties
                .and_then(|p| p.get(name))
                .or_else(|| map.get("additionalProperties"))
                .unwrap_or(&Value::Bool(true));
            out.insert(name.to_owned(), self.value(schema, None, depth + 1)?);
        }
        Ok(Value::Object(out))
    }

    fn array(&self, map: &Map<String, Value>, depth: usize) -> Result<Value, GenerateError> {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let count = min.max(1).min(max);
        let items = map.get("items").unwrap_or(&Value::Bool(true));
        let item = self.value(items, None, depth + 1)?;
        Ok(Value::Array((0..count).map(|_| item.clone()).collect()))
    }
}

/// The type to generate: the first non-null `type`, else what the keywords imply.
fn primary_type(map: &Map<String, Value>) -> String {
    match map.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(types)) => {
            if let Some(t) = types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
            {
                return t.to_owned();
            }
            return "null".into();
        }
        _ => {}
    }
    let has = |k: &str| map.contains_key(k);
    if has("properties") || has("required") || has("additionalProperties") {
        "object".into()
    } else if has("items") {
        "array".into()
    } else if has("pattern") || has("minLength") || has("maxLength") || has("format") {
        "string".into()
    } else {
        "null".into()
    }
}

fn string(map: &Map<String, Value>, hint: Option<&str>) -> Result<Value, GenerateError> {
    let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = map
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX) as usize;
    let fits = |s: &str| (min..=max).contains(&s.chars().count());
    if let Some(Value::String(pattern)) = map.get("pattern") {
        let text = from_pattern(pattern, min)?;
        return Ok(Value::String(text));
    }
    let by_format = match map.get("format").and_then(Value::as_str) {
        Some("date-time") => Some(DATE_TIME),
        Some("date") => Some("2026-04-01"),
        Some("email") => Some("dip@example.com"),
        Some("uri") => Some("https://example.com/"),
        Some("uuid") => Some("00000000-0000-4000-8000-000000000000"),
        Some("byte") => Some("AAAA"),
        _ => None,
    };
    let by_name = hint.and_then(|h| {
        TYPED_EXAMPLES
            .iter()
            .find(|(p, _)| h.starts_with(p))
            .map(|(_, v)| *v)
    });
    if let Some(text) = by_format.or(by_name).filter(|t| fits(t)) {
        return Ok(Value::String(text.to_owned()));
    }
    let length = min.max(1).min(max);
    Ok(Value::String("X".repeat(length)))
}

fn number(map: &Map<String, Value>, integer: bool) -> Result<Value, GenerateError> {
    let get = |k: &str| map.get(k).and_then(Value::as_f64);
    let step = get("multipleOf").unwrap_or(if integer { 1.0 } else { 0.0 });
    let mut low = get("minimum").or(get("exclusiveMinimum").map(|m| m + step.max(1e-9)));
    let high = get("maximum").or(get("exclusiveMaximum").map(|m| m - step.max(1e-9)));
    if low.is_none() {
        low = Some(if high.is_some_and(|h| h < 0.0) {
            high.unwrap_or(0.0)
        } else {
            0.0
        });
    }
    let mut n = low.unwrap_or(0.0);
    if step > 0.0 {
        n = (n / step).ceil() * step;
    }
    if high.is_some_and(|h| n > h) {
        return Err(GenerateError(format!(
            "no multiple of {step} within the bounds of {map:?}"
        )));
    }
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        return Ok(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| GenerateError("number out of range".into()))
}

/// A string matching `pattern` (regex-syntax's reading of the ECMA subset Elexon uses),
/// repetitions stretched where they can be until the string is `min_length` long.
pub fn from_pattern(pattern: &str, min_length: usize) -> Result<String, GenerateError> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| GenerateError(format!("pattern {pattern:?}: {e}")))?;
    let mut shortest = String::new();
    emit(&hir, &mut shortest, &mut 0);
    let mut extra = min_length.saturating_sub(shortest.chars().count());
    let mut out = String::new();
    emit(&hir, &mut out, &mut extra);
    Ok(out)
}

fn emit(hir: &Hir, out: &mut String, extra: &mut usize) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(&String::from_utf8_lossy(&literal.0)),
        HirKind::Class(Class::Unicode(class)) => {
            if let Some(range) = class.ranges().first() {
                out.push(range.start());
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            if let Some(range) = class.ranges().first() {
                out.push(char::from(range.start()));
            }
        }
        HirKind::Repetition(repetition) => {
            let mut count = 0;
            while count < repetition.min {
                emit(&repetition.sub, out, extra);
                count += 1;
            }
            while *extra > 0 && repetition.max.is_none_or(|max| count < max) {
                let before = out.chars().count();
                emit(&repetition.sub, out, &mut 0);
                *extra = extra.saturating_sub((out.chars().count() - before).max(1));
                count += 1;
            }
        }
        HirKind::Capture(capture) => emit(&capture.sub, out, extra),
        HirKind::Concat(parts) => parts.iter().for_each(|part| emit(part, out, extra)),
        HirKind::Alternation(branches) => {
            if let Some(first) = branches.first() {
                emit(first, out, extra);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_of_the_spec_yield_matching_strings() {
        assert_eq!(from_pattern("^[0-9]{13}?$", 13).unwrap(), "0000000000000");
        assert_eq!(
            from_pattern("^-?[0-9]{1,9}\\.[0-9]{3}$", 0).unwrap(),
            "0.000"
        );
        assert_eq!(from_pattern("^[A-Z]{4}$", 4).unwrap(), "AAAA");
        assert_eq!(from_pattern("^[0-9]{1,2}$", 2).unwrap(), "00");
        let reference =
            "^S-((IF|REP)-)?[0-9]{3,4}-[0-9a-fA-F]{10}-[A-Z]{3,5}-[0-9]{8}-[a-zA-Z0-9]+$";
        assert_eq!(
            from_pattern(reference, 0).unwrap(),
            "S-000-0000000000-AAA-00000000-0"
        );
    }

    #[test]
    fn set_creates_objects_and_replaces_values() {
        let mut v = json!({"CommonBlock": {"S0": {"eventCode": "[A]"}}});
        set(&mut v, EVENT_CODE, json!("[B]")).unwrap();
        set(&mut v, "/CommonBlock/S1/senderDIPID", json!("2000000002")).unwrap();
        set(&mut v, "/list", json!([])).unwrap();
        set(&mut v, "/list/-", json!(1)).unwrap();
        set(&mut v, "/list/0", json!(2)).unwrap();
        assert_eq!(
            v,
            json!({"CommonBlock": {"S0": {"eventCode": "[B]"}, "S1": {"senderDIPID": "2000000002"}}, "list": [2]})
        );
        assert!(set(&mut v, "/list/5", json!(0)).is_err());
        assert!(set(&mut v, "no-slash", json!(0)).is_err());
    }

    #[test]
    fn numbers_respect_bounds_and_multiples() {
        let schema = json!({"type": "integer", "minimum": 30, "maximum": 30, "multipleOf": 15});
        assert_eq!(instance(&schema).unwrap(), json!(30));
        let schema = json!({"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5});
        assert_eq!(instance(&schema).unwrap(), json!(0.5));
    }

    #[test]
    fn one_of_takes_a_branch_that_validates() {
        let schema = json!({"oneOf": [{"type": "string", "maxLength": 0, "minLength": 1}, {"type": "integer", "minimum": 3}]});
        assert_eq!(instance(&schema).unwrap(), json!(3));
    }

    #[test]
    fn nullable_types_generate_the_non_null_type() {
        let schema = json!({"type": ["string", "null"], "minLength": 2, "maxLength": 2});
        assert_eq!(instance(&schema).unwrap(), json!("XX"));
    }
}
