//! `services.permission.config`: namespaces (a list, or an Ory Permission Language document) and read limits.
//!
//! Ory Network stores OPL as `namespaces: {"location": "base64://<source>"}`. We accept exactly that inline
//! form and never fetch a location from a file or the network. The document is parsed here, at write time,
//! so a bad one is refused with the parser's errors; the regions compile the same source when they load it.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::Invalid;
use super::types::Bounded;

/// The permission engine's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermissionConfig {
    pub namespaces: Namespaces,
    pub limit: Limits,
}

/// Namespaces as a plain list, or as an OPL document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Namespaces {
    /// `[{"id": 0, "name": "files"}, ...]`.
    List(Vec<Namespace>),
    /// `{"location": "base64://..."}`.
    Opl(OplLocation),
}

impl Default for Namespaces {
    fn default() -> Self {
        Self::List(Vec::new())
    }
}

/// A plain namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    #[serde(default)]
    pub id: Option<i64>,
    pub name: String,
}

/// Where the OPL document is; only `base64://` is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OplLocation {
    pub location: String,
}

/// Read limits, clamped server-side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub max_read_depth: Bounded<1, 100>,
    pub max_read_width: Bounded<1, 10_000>,
    pub max_batch_check_size: Bounded<1, 1_000>,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_read_depth: Bounded(5), max_read_width: Bounded(100), max_batch_check_size: Bounded(10) }
    }
}

/// Checks names and decodes the OPL location.
pub fn validate(c: &PermissionConfig) -> Result<(), Invalid> {
    match &c.namespaces {
        Namespaces::List(list) => {
            let mut seen = std::collections::HashSet::new();
            for (i, ns) in list.iter().enumerate() {
                if ns.name.is_empty() || ns.name.len() > 200 {
                    return Err(Invalid::at(format!("namespaces.{i}.name"), "must be 1 to 200 characters"));
                }
                if !seen.insert(ns.name.as_str()) {
                    return Err(Invalid::at(
                        format!("namespaces.{i}.name"),
                        format!("`{}` is declared twice", ns.name),
                    ));
                }
            }
        }
        Namespaces::Opl(loc) => {
            let source = decode_opl(&loc.location).map_err(|m| Invalid::at("namespaces.location", m))?;
            if let Err(errors) = tessera_opl::parse(&source) {
                let listed: Vec<String> = errors
                    .iter()
                    .map(|e| format!("line {}, column {}: {}", e.start.line, e.start.column, e.message))
                    .collect();
                return Err(Invalid::at(
                    "namespaces.location",
                    format!("the OPL document does not compile: {}", listed.join("; ")),
                ));
            }
        }
    }
    Ok(())
}

/// The OPL source inside a `base64://` location.
pub fn decode_opl(location: &str) -> Result<String, String> {
    let Some(encoded) = location.strip_prefix("base64://") else {
        return Err(
            "the OPL document must be inline as base64://<source>; file and http locations are not fetched".to_owned()
        );
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded.trim()))
        .map_err(|_| "the base64 after base64:// does not decode".to_owned())?;
    String::from_utf8(bytes).map_err(|_| "the OPL document is not UTF-8".to_owned())
}
