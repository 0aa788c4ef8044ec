//! The OTS letterbox envelope (TOTSCo API v2.0 §2.1.5; v0.5 §2.1.5 for letterbox v1) and its
//! structural validation. Structural failures carry a detail in the spec's schema-validator
//! style (`[Path '/envelope/source'] Object has missing required properties (["identity"])`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

use super::errors::OtsError;
use super::ApiVersion;

/// §2.1.5: correlationID, auditData name and value are at most 256 characters.
pub const MAX_FIELD_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// `type`: the directory list the identity belongs to (e.g. `RCPID`).
    pub list_type: String,
    pub identity: String,
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditItem {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub source: Party,
    pub destination: Party,
    pub routing_id: String,
    pub audit_data: Vec<AuditItem>,
}

/// Parses and structurally validates a letterbox post body. Size is checked before this.
pub fn parse(body: &[u8], version: ApiVersion) -> Result<Envelope, OtsError> {
    parse_with(body, Some(version))
}

/// Reads the envelope of a message the hub already accepted or created itself. The hub's
/// own failure notifications carry no source correlationID (§2.1.8.2), so that and the
/// body key are not required here.
pub fn parse_archived(body: &[u8]) -> Result<Envelope, OtsError> {
    parse_with(body, None)
}

/// `ingest` is the letterbox version for a post being validated, `None` for archived mail.
fn parse_with(body: &[u8], ingest: Option<ApiVersion>) -> Result<Envelope, OtsError> {
    let doc: Value = crate::common::json::parse_value(body).map_err(|e| OtsError::Schema(format!("[Path '/'] Invalid JSON: {e}")))?;
    let root = object(&doc, "")?;
    let env = object(required(root, "", "envelope")?, "/envelope")?;
    let source = party(required(env, "/envelope", "source")?, "/envelope/source", ingest.is_some())?;
    let destination = party(required(env, "/envelope", "destination")?, "/envelope/destination", false)?;
    let routing_id = string(required(env, "/envelope", "routingID")?, "/envelope/routingID")?;
    let audit_data = match env.get("auditData") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => audit(v)?,
    };
    // v2 §2.1.5: the message body is an object keyed by the routingID. v1 deployments posted
    // bodies under other names (e.g. `_messageBody`), so only v2 enforces the key.
    if ingest == Some(ApiVersion::V2) {
        match root.get(routing_id.as_str()) {
            Some(Value::Object(_)) => {}
            Some(other) => return Err(type_mismatch(&format!("/{}", pointer_escape(&routing_id)), other, "object")),
            None => return Err(missing("", &routing_id)),
        }
    }
    Ok(Envelope { source, destination, routing_id, audit_data })
}

fn party(v: &Value, path: &str, is_source: bool) -> Result<Party, OtsError> {
    let o = object(v, path)?;
    let list_type = string(required(o, path, "type")?, &format!("{path}/type"))?;
    let identity = string(required(o, path, "identity")?, &format!("{path}/identity"))?;
    let correlation_id = match o.get("correlationID") {
        None | Some(Value::Null) if is_source => return Err(missing(path, "correlationID")),
        None | Some(Value::Null) => None,
        Some(c) => Some(bounded(c, &format!("{path}/correlationID"))?),
    };
    Ok(Party { list_type, identity, correlation_id })
}

fn audit(v: &Value) -> Result<Vec<AuditItem>, OtsError> {
    let Value::Array(items) = v else {
        return Err(type_mismatch("/envelope/auditData", v, "array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("/envelope/auditData/{i}");
            let o = object(item, &path)?;
            let name = bounded(required(o, &path, "name")?, &format!("{path}/name"))?;
            let value = bounded(required(o, &path, "value")?, &format!("{path}/value"))?;
            Ok(AuditItem { name, value })
        })
        .collect()
}

fn bounded(v: &Value, path: &str) -> Result<String, OtsError> {
    let s = string(v, path)?;
    let n = s.chars().count();
    if n > MAX_FIELD_CHARS {
        return Err(OtsError::Schema(format!(
            "[Path '{path}'] String \"{}...\" is too long (length: {n}, maximum allowed: {MAX_FIELD_CHARS})",
            s.chars().take(16).collect::<String>()
        )));
    }
    Ok(s)
}

fn required<'a>(o: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a Value, OtsError> {
    match o.get(key) {
        Some(Value::Null) | None => Err(missing(path, key)),
        Some(v) => Ok(v),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, OtsError> {
    v.as_object().ok_or_else(|| type_mismatch(display(path), v, "object"))
}

fn string(v: &Value, path: &str) -> Result<String, OtsError> {
    v.as_str().map(ToString::to_string).ok_or_else(|| type_mismatch(path, v, "string"))
}

fn missing(path: &str, key: &str) -> OtsError {
    OtsError::Schema(format!("[Path '{}'] Object has missing required properties ([\"{key}\"])", display(path)))
}

fn type_mismatch(path: &str, v: &Value, allowed: &str) -> OtsError {
    OtsError::Schema(format!(
        "[Path '{}'] Instance type ({}) does not match any allowed primitive type (allowed: [\"{allowed}\"])",
        display(path),
        kind(v)
    ))
}

fn display(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}


#[cfg(test)]
mod tests {
    use super::*;

    fn detail(r: Result<Envelope, OtsError>) -> String {
        match r {
            Err(OtsError::Schema(d)) => d,
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    const OK: &str = r#"{"envelope":{"source":{"type":"RCPID","identity":"BBCD","correlationID":"c-1"},
        "destination":{"type":"RCPID","identity":"BCBX"},"routingID":"residentialSwitchMatchRequest",
        "auditData":[{"name":"a","value":"b"}]},"residentialSwitchMatchRequest":{"x":1}}"#;

    #[test]
    fn parses_a_valid_envelope() {
        let e = parse(OK.as_bytes(), ApiVersion::V2).unwrap();
        assert_eq!(e.source.identity, "BBCD");
        assert_eq!(e.source.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(e.destination.correlation_id, None);
        assert_eq!(e.routing_id, "residentialSwitchMatchRequest");
        assert_eq!(e.audit_data, [AuditItem { name: "a".into(), value: "b".into() }]);
    }

    #[test]
    fn structural_errors_name_the_path() {
        assert!(detail(parse(b"{nope", ApiVersion::V2)).starts_with("[Path '/'] Invalid JSON"));
        assert_eq!(
            detail(parse(b"{}", ApiVersion::V2)),
            "[Path '/'] Object has missing required properties ([\"envelope\"])"
        );
        let no_corr = OK.replace(r#","correlationID":"c-1""#, "");
        assert_eq!(
            detail(parse(no_corr.as_bytes(), ApiVersion::V2)),
            "[Path '/envelope/source'] Object has missing required properties ([\"correlationID\"])"
        );
        let int_id = OK.replace(r#""BBCD""#, "42");
        assert!(detail(parse(int_id.as_bytes(), ApiVersion::V2)).contains("Instance type (integer)"));
        let no_body = OK.replace(r#","residentialSwitchMatchRequest":{"x":1}"#, "");
        assert!(detail(parse(no_body.as_bytes(), ApiVersion::V2)).contains("residentialSwitchMatchRequest"));
        assert!(parse(no_body.as_bytes(), ApiVersion::V1).is_ok());
        assert!(parse_archived(no_corr.as_bytes()).is_ok(), "hub notifications have no source correlationID");
        let dup = OK.replace(r#""routingID":"#, r#""routingID":"x","routingID":"#);
        assert!(detail(parse(dup.as_bytes(), ApiVersion::V2)).contains("duplicate key"));
        let long = OK.replace("c-1", &"x".repeat(257));
        assert!(detail(parse(long.as_bytes(), ApiVersion::V2)).contains("too long"));
    }
}
