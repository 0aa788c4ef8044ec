//! OpenAPI 3.0 schema objects to JSON Schema draft 2020-12, one schema node at a time (the
//! bundler walks the subschemas and rewrites `$ref`s).
//!
//! What changes, and why:
//! - `nullable: true` adds `"null"` to `type`, and to `enum` when there is one: 2020-12 has no
//!   `nullable`, and an enum without null would still reject the null OpenAPI allowed.
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form.
//! - `\d` in a `pattern` becomes `[0-9]`: OpenAPI patterns are ECMA-262, where `\d` is ASCII
//!   only, but Rust's regex engines read `\d` as any Unicode digit ("١٢٣٤" would pass `^\d{4}$`).
//! - `description`, `example`, `examples`, `title`, `xml`, `discriminator`, `externalDocs` are
//!   dropped: they never change what validates, and the catalogue stays small.
//! - `format` stays: whether formats assert is the validator's choice.

use serde_json::{Map, Value};

use crate::error::ImportError;

/// Keywords whose value is a map of name -> subschema.
pub const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "$defs"];
/// Keywords whose value is one subschema (`additionalProperties` may also be a boolean).
pub const SCHEMA_SINGLES: &[&str] = &["items", "additionalProperties", "not"];
/// Keywords whose value is a list of subschemas.
pub const SCHEMA_LISTS: &[&str] = &["allOf", "oneOf", "anyOf"];

const DROPPED: &[&str] = &[
    "description",
    "example",
    "examples",
    "title",
    "xml",
    "discriminator",
    "externalDocs",
];

/// Converts the keywords of one schema node that are not subschemas.
pub fn node(mut schema: Map<String, Value>) -> Result<Map<String, Value>, ImportError> {
    for keyword in DROPPED {
        schema.remove(*keyword);
    }
    if let Some(Value::String(pattern)) = schema.get_mut("pattern") {
        *pattern = ascii_digits(pattern)?;
    }
    exclusive_bound(&mut schema, "exclusiveMinimum", "minimum");
    exclusive_bound(&mut schema, "exclusiveMaximum", "maximum");
    if schema.remove("nullable") == Some(Value::Bool(true)) {
        add_null(&mut schema);
    }
    Ok(schema)
}

/// OpenAPI 3.0 `exclusiveMinimum: true` qualifies `minimum`; 2020-12 carries the bound itself.
fn exclusive_bound(schema: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    match schema.get(exclusive) {
        Some(Value::Bool(true)) => {
            if let Some(bound) = schema.remove(inclusive) {
                schema.insert(exclusive.to_owned(), bound);
            } else {
                schema.remove(exclusive);
            }
        }
        Some(Value::Bool(false)) => {
            schema.remove(exclusive);
        }
        _ => {}
    }
}

fn add_null(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            schema.insert(
                "type".into(),
                Value::Array(vec![single.into(), "null".into()]),
            );
        }
        Some(Value::Array(types)) if !types.contains(&"null".into()) => types.push("null".into()),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
}

/// Rewrites `\d` to ASCII digits (`[0-9]`, or `0-9` inside a character class) and `\D` to
/// `[^0-9]`. Other escapes, `\\` included, are copied unchanged.
pub fn ascii_digits(pattern: &str) -> Result<String, ImportError> {
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') if in_class => out.push_str("0-9"),
                Some('d') => out.push_str("[0-9]"),
                Some('D') if in_class => {
                    return Err(ImportError::Pattern {
                        pattern: pattern.to_owned(),
                        reason: "\\D inside a character class has no ASCII-only spelling",
                    })
                }
                Some('D') => out.push_str("[^0-9]"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` or `^]` right after the opening bracket is a literal, not the end.
                let rest = chars.as_str();
                for prefix in ["^]", "]", "^"] {
                    if let Some(after) = rest.strip_prefix(prefix) {
                        out.push_str(prefix);
                        chars = after.chars();
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digits_become_ascii_outside_and_inside_classes() {
        assert_eq!(ascii_digits(r"^\d{4}$").unwrap(), "^[0-9]{4}$");
        assert_eq!(ascii_digits(r"^[\d.]+$").unwrap(), "^[0-9.]+$");
        assert_eq!(ascii_digits(r"^\D$").unwrap(), "^[^0-9]$");
        assert_eq!(ascii_digits(r"^[^\d]$").unwrap(), "^[^0-9]$");
    }

    #[test]
    fn escaped_backslash_before_d_is_left_alone() {
        assert_eq!(ascii_digits(r"^\\d\.\d$").unwrap(), r"^\\d\.[0-9]$");
        assert_eq!(ascii_digits(r"[]\d]").unwrap(), "[]0-9]");
    }

    #[test]
    fn negated_digit_inside_a_class_is_refused() {
        assert!(ascii_digits(r"[\D]").is_err());
    }

    fn convert(v: Value) -> Value {
        Value::Object(node(v.as_object().unwrap().clone()).unwrap())
    }

    #[test]
    fn nullable_adds_null_to_type_and_enum() {
        let out = convert(json!({"type": "string", "nullable": true, "enum": ["T", "F"]}));
        assert_eq!(
            out,
            json!({"type": ["string", "null"], "enum": ["T", "F", null]})
        );
        let already = convert(json!({"type": "string", "nullable": true, "enum": ["1", null]}));
        assert_eq!(already["enum"], json!(["1", null]));
        let not_nullable = convert(json!({"type": "string", "nullable": false}));
        assert_eq!(not_nullable, json!({"type": "string"}));
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers() {
        let out = convert(
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true,
                                 "maximum": 9, "exclusiveMaximum": false}),
        );
        assert_eq!(
            out,
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 9})
        );
    }

    #[test]
    fn documentation_is_dropped_and_format_kept() {
        let out = convert(
            json!({"type": "string", "format": "byte", "description": "d", "example": "e"}),
        );
        assert_eq!(out, json!({"type": "string", "format": "byte"}));
    }
}
