//! Loading Elexon's multi-file OpenAPI and resolving its `$ref`s.
//!
//! The files refer to each other by raw GitHub URLs
//! (`https://raw.githubusercontent.com/elexon-data/dip-api-documentation/main/<File>#/<pointer>`);
//! only the file name after the last `/` is kept, and it is read from the local spec directory,
//! so an import never touches the network and always sees the release on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{missing, ImportError};

/// The root document: the send API with one `/validate/{IF}/{Event}` path per event.
pub const SUBMIT_EVENTS: &str = "SubmitEvents-unresolved.yaml";
/// Every interface variant and report with its blocks and `S0` enums.
pub const INTERFACES: &str = "Interfaces-EventCodes-unresolved.yaml";
/// `DT-000-InterfaceID`: the enumeration of every channel id.
pub const DATA_TYPES: &str = "DataTypes-unresolved.yaml";
/// Elexon's example messages.
pub const EXAMPLES: &str = "Examples-unresolved.yaml";

/// A place in the spec: a file name and a JSON Pointer into it (`/components/schemas/S1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: String,
    pub pointer: String,
}

impl Location {
    pub fn schema(file: &str, name: &str) -> Location {
        Location {
            file: file.to_owned(),
            pointer: format!("/components/schemas/{name}"),
        }
    }

    /// The last pointer segment, unescaped: the component's own name (`S1`, `DT-003-DateTime`).
    pub fn name(&self) -> String {
        let last = self.pointer.rsplit('/').next().unwrap_or_default();
        last.replace("~1", "/").replace("~0", "~")
    }
}

/// The spec directory, each file read once (on first use) and held as JSON.
pub struct Spec {
    dir: PathBuf,
    files: BTreeMap<String, Value>,
}

impl Spec {
    pub fn open(dir: &Path) -> Result<Spec, ImportError> {
        let mut spec = Spec {
            dir: dir.to_owned(),
            files: BTreeMap::new(),
        };
        spec.load(SUBMIT_EVENTS)?;
        Ok(spec)
    }

    /// Reads `file` unless it is already loaded.
    pub fn load(&mut self, file: &str) -> Result<&Value, ImportError> {
        if !self.files.contains_key(file) {
            let path = self.dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|source| ImportError::Io {
                path: path.clone(),
                source,
            })?;
            let yaml: serde_yaml::Value =
                serde_yaml::from_str(&text).map_err(|e| ImportError::Yaml {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let json = yaml_to_json(yaml).map_err(|message| ImportError::Yaml {
                path: path.clone(),
                message,
            })?;
            self.files.insert(file.to_owned(), json);
        }
        Ok(&self.files[file])
    }

    /// The value at `at`, loading its file if needed.
    pub fn get(&mut self, at: &Location) -> Result<&Value, ImportError> {
        self.load(&at.file)?
            .pointer(&at.pointer)
            .ok_or_else(|| missing(format!("{}#{}", at.file, at.pointer)))
    }

    /// Where a `$ref` found in `from_file` points: a URL or relative file keeps only its file
    /// name; a bare `#/...` stays in `from_file`.
    pub fn resolve(&mut self, reference: &str, from_file: &str) -> Result<Location, ImportError> {
        let bad = || ImportError::Reference {
            reference: reference.to_owned(),
            from: from_file.to_owned(),
        };
        let (document, fragment) = reference.split_once('#').ok_or_else(bad)?;
        let file = match document.rsplit('/').next() {
            Some("") | None => from_file.to_owned(),
            Some(name) => name.to_owned(),
        };
        let at = Location {
            file,
            pointer: fragment.to_owned(),
        };
        self.get(&at).map_err(|_| bad())?;
        Ok(at)
    }
}

/// YAML to JSON. Mapping keys must be strings or scalars (`'201':` and `201:` both become "201").
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut object = serde_json::Map::new();
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}
