//! The settings document a project's owners write: what `PUT` replaces and `PATCH` edits.
//!
//! Stored as JSON exactly as written (key order included), so a revision round-trips byte for byte.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The part of a project its owners write: what `PUT` replaces and `PATCH` edits.
///
/// Stored as JSON exactly as written (key order included), so a revision round-trips byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSettings {
    pub name: String,
    pub services: Services,
    #[serde(default)]
    pub cors_public: Cors,
    #[serde(default)]
    pub cors_admin: Cors,
    #[serde(default)]
    pub organizations: Vec<Value>,
}

/// Per-service configuration documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Services {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ServiceConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<ServiceConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<ServiceConfig>,
    /// Services Tessera does not run (account experience, Talos, ...): kept and reported as warnings.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One service's `{"config": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub config: Map<String, Value>,
    /// Anything beside `config`; kept, reported as warnings.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// CORS settings of the public or admin endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub origins: Vec<String>,
}

/// A configuration key Tessera keeps but does not (yet) act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigWarning {
    /// A stable code; see [`crate::WARNING_UNSUPPORTED_KEY`].
    pub code: i64,
    /// Which key, and what happens to it.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_keep_unknown_services_and_key_order() {
        let raw = r#"{"name":"x","services":{"identity":{"config":{"z":1,"a":2}},"talos":{"config":{}}},"cors_public":{"enabled":false,"origins":[]},"cors_admin":{"enabled":false,"origins":[]},"organizations":[]}"#;
        let s: ProjectSettings = serde_json::from_str(raw).unwrap();
        assert!(s.services.other.contains_key("talos"));
        assert_eq!(serde_json::to_string(&s).unwrap(), raw);
    }
}
