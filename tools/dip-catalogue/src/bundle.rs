//! Self-contained schemas: one spec component converted to JSON Schema 2020-12, with every
//! component it reaches (directly or through others) copied once under `$defs` and every
//! `$ref` rewritten to `#/$defs/<name>`.
//!
//! Components keep their spec names (`S1`, `DI-995-Sender-Unique-Reference`, `DT-006-DIPParticipantID`),
//! so a field's Elexon data type can still be read from the catalogue (obfuscation replaces a
//! value by what its DT-xxx type allows). Shared blocks are defined once per schema rather than
//! inlined at each use, which keeps the largest schema small.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::convert::{self, SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_SINGLES};
use crate::error::ImportError;
use crate::spec::{Location, Spec};

pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Bundles the component at `root` (its own body at the top, what it uses under `$defs`).
pub fn bundle(spec: &mut Spec, root: &Location) -> Result<Value, ImportError> {
    let mut bundler = Bundler {
        spec,
        names: BTreeMap::new(),
        defs: BTreeMap::new(),
    };
    let body = bundler.spec.get(root)?.clone();
    let mut top = match bundler.schema(&root.file, body)? {
        Value::Object(map) => map,
        other => {
            return Err(crate::error::missing(format!(
                "an object schema at {root:?}, found {other}"
            )))
        }
    };
    let mut out = Map::new();
    out.insert("$schema".into(), DRAFT_2020_12.into());
    out.append(&mut top);
    if !bundler.defs.is_empty() {
        out.insert(
            "$defs".into(),
            Value::Object(bundler.defs.into_iter().collect()),
        );
    }
    Ok(Value::Object(out))
}

struct Bundler<'a> {
    spec: &'a mut Spec,
    /// Component -> its name under `$defs` (assigned before its body is converted, so a
    /// recursive component refers to itself).
    names: BTreeMap<Location, String>,
    defs: BTreeMap<String, Value>,
}

impl Bundler<'_> {
    fn schema(&mut self, file: &str, schema: Value) -> Result<Value, ImportError> {
        let Value::Object(map) = schema else {
            return Ok(schema);
        };
        let mut map = convert::node(map)?;
        for (keyword, value) in map.iter_mut() {
            let keyword = keyword.as_str();
            if keyword == "$ref" {
                let Value::String(reference) = value else {
                    continue;
                };
                let name = self.define(file, reference)?;
                *value = Value::String(format!("#/$defs/{}", pointer_escape(&name)));
            } else if SCHEMA_MAPS.contains(&keyword) {
                if let Value::Object(children) = value {
                    for child in children.values_mut() {
                        *child = self.schema(file, child.take())?;
                    }
                }
            } else if SCHEMA_SINGLES.contains(&keyword) {
                *value = self.schema(file, value.take())?;
            } else if SCHEMA_LISTS.contains(&keyword) {
                if let Value::Array(children) = value {
                    for child in children.iter_mut() {
                        *child = self.schema(file, child.take())?;
                    }
                }
            }
        }
        Ok(Value::Object(map))
    }

    /// The `$defs` name of the component `reference` points at, converting it on first use.
    fn define(&mut self, from_file: &str, reference: &str) -> Result<String, ImportError> {
        let target = self.spec.resolve(reference, from_file)?;
        if let Some(name) = self.names.get(&target) {
            return Ok(name.clone());
        }
        let mut name = target.name();
        if self.names.values().any(|taken| *taken == name) {
            // Two files defining the same name: qualify the later one by its file.
            let stem = target.file.trim_end_matches("-unresolved.yaml");
            name = format!("{stem}.{name}");
        }
        self.names.insert(target.clone(), name.clone());
        let body = self.spec.get(&target)?.clone();
        let converted = self.schema(&target.file, body)?;
        self.defs.insert(name.clone(), converted);
        Ok(name)
    }
}

fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
