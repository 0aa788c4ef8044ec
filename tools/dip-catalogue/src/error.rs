//! Everything that can stop an import. Each variant names the file or reference at fault, so a
//! new Elexon release that breaks an assumption says where.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum ImportError {
    /// A spec file could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A spec file is not YAML the importer can read.
    Yaml { path: PathBuf, message: String },
    /// A `$ref` names a file the spec directory does not hold, or a place its file lacks.
    Reference { reference: String, from: String },
    /// The spec lacks something the catalogue is built from (a path, a block, an enum).
    Missing { what: String },
    /// A `pattern` uses a regex construct the ASCII-digit rewrite cannot express.
    Pattern {
        pattern: String,
        reason: &'static str,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ImportError::Yaml { path, message } => write!(f, "{}: {message}", path.display()),
            ImportError::Reference { reference, from } => {
                write!(f, "unresolvable $ref {reference:?} in {from}")
            }
            ImportError::Missing { what } => write!(f, "the spec does not define {what}"),
            ImportError::Pattern { pattern, reason } => write!(f, "pattern {pattern:?}: {reason}"),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn missing(what: impl Into<String>) -> ImportError {
    ImportError::Missing { what: what.into() }
}
