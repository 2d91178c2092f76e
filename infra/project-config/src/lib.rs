//! Project configuration: the settings document, its validation, and the typed configuration the engines run on.
//!
//! Validated and rendered at write time (in the control plane), never on the request path.
//!
//! A revision keeps two things: the settings exactly as their author wrote them (so they round-trip byte
//! for byte), and the *rendered* configuration, typed and with every default filled in, which is what the
//! engines run on. Rendering parses each service's document into typed structs; a value of the wrong type
//! or outside its range fails with the full path of the key. Keys the structs do not know are kept in the
//! written settings and reported as warnings: never silently dropped, never silently acted on.

pub mod identity;
pub mod oauth2;
pub mod permission;
pub mod settings;
pub mod types;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use settings::{ConfigWarning, Cors, ProjectSettings, ServiceConfig, Services};

/// Warning code: a key Tessera keeps but does not act on.
pub const WARNING_UNSUPPORTED_KEY: i64 = 1001;
/// Warning code: a whole service Tessera does not run.
pub const WARNING_UNSUPPORTED_SERVICE: i64 = 1002;

/// What rendering needs to know about the project.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// The project's public base URL, e.g. `https://<slug>.projects.example.com`.
    pub project_url: String,
}

/// A rejected value, with the dotted path of its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

impl Invalid {
    /// A rejection at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }

    fn prefixed(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() || self.path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.path)
        };
        Self { path, message: self.message }
    }
}

/// The configuration the engines run on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedConfig {
    pub identity: identity::IdentityConfig,
    pub permission: permission::PermissionConfig,
    pub oauth2: oauth2::OAuth2Config,
    pub cors_public: Cors,
    pub cors_admin: Cors,
}

/// A rendering that succeeded.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub config: RenderedConfig,
    pub warnings: Vec<ConfigWarning>,
}

/// The settings a new project starts with. They render without warnings.
pub fn default_settings(name: &str, ctx: &RenderContext) -> ProjectSettings {
    let to_map = |v: Value| match without_nulls(v) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let service = |v: Value| Some(ServiceConfig { config: to_map(v), other: Map::new() });
    ProjectSettings {
        name: name.to_owned(),
        services: Services {
            identity: service(serde_json::to_value(identity::default_config(ctx)).expect("serializable")),
            permission: service(serde_json::to_value(permission::PermissionConfig::default()).expect("serializable")),
            oauth2: service(serde_json::to_value(oauth2::default_config(ctx)).expect("serializable")),
            other: Map::new(),
        },
        cors_public: Cors::default(),
        cors_admin: Cors::default(),
        organizations: Vec::new(),
    }
}

/// Drops `null` members, so that defaults show only what is set (absent and null mean the same to the parser).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Validates settings and renders the engines' configuration, collecting warnings.
pub fn render(settings: &ProjectSettings) -> Result<Rendered, Invalid> {
    validate_name(&settings.name)?;
    validate_cors("cors_public", &settings.cors_public)?;
    validate_cors("cors_admin", &settings.cors_admin)?;
    let mut warnings = Vec::new();
    for key in settings.services.other.keys() {
        warnings.push(ConfigWarning {
            code: WARNING_UNSUPPORTED_SERVICE,
            message: format!("services.{key} is not a service Tessera runs; it is kept but has no effect"),
        });
    }
    let identity: identity::IdentityConfig =
        parse_service("services.identity", settings.services.identity.as_ref(), &mut warnings)?;
    identity::validate(&identity).map_err(|e| e.prefixed("services.identity.config"))?;
    let permission: permission::PermissionConfig =
        parse_service("services.permission", settings.services.permission.as_ref(), &mut warnings)?;
    permission::validate(&permission).map_err(|e| e.prefixed("services.permission.config"))?;
    let oauth2: oauth2::OAuth2Config =
        parse_service("services.oauth2", settings.services.oauth2.as_ref(), &mut warnings)?;
    oauth2::validate(&oauth2).map_err(|e| e.prefixed("services.oauth2.config"))?;
    Ok(Rendered {
        config: RenderedConfig {
            identity,
            permission,
            oauth2,
            cors_public: settings.cors_public.clone(),
            cors_admin: settings.cors_admin.clone(),
        },
        warnings,
    })
}

/// The rendered configuration of a project with default settings at `project_url`: the reference that
/// [`compact`] records are relative to.
pub fn baseline(project_url: &str) -> Value {
    let ctx = RenderContext { project_url: project_url.to_owned() };
    let rendered = render(&default_settings("baseline", &ctx)).expect("default settings always render");
    serde_json::to_value(rendered.config).expect("rendered configs serialize")
}

/// What of `full` differs from `baseline`: equal members are left out, members the baseline has but `full`
/// lacks become `null`. A project on defaults compacts to `{}`, which keeps directory records small.
pub fn compact(full: &Value, baseline: &Value) -> Value {
    diff(full, baseline).unwrap_or_else(|| Value::Object(Map::new()))
}

fn diff(full: &Value, base: &Value) -> Option<Value> {
    match (full, base) {
        (Value::Object(f), Value::Object(b)) => {
            let mut out = Map::new();
            for (k, v) in f {
                match b.get(k) {
                    Some(bv) => {
                        if let Some(d) = diff(v, bv) {
                            out.insert(k.clone(), d);
                        }
                    }
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in b.keys() {
                if !f.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => (full != base).then(|| full.clone()),
    }
}

/// Reverses [`compact`]: `baseline` with `compacted` applied (`null` removes a member).
pub fn expand(compacted: &Value, baseline: &Value) -> Value {
    match (compacted, baseline) {
        (Value::Object(c), Value::Object(b)) => {
            let mut out = b.clone();
            for (k, v) in c {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match b.get(k) {
                        Some(bv) => expand(v, bv),
                        None => v.clone(),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        _ => compacted.clone(),
    }
}

/// Names are shown in consoles and CLIs: 1 to 256 characters, not blank, no control characters.
pub fn validate_name(name: &str) -> Result<(), Invalid> {
    if name.trim().is_empty() || name.chars().count() > 256 || name.chars().any(char::is_control) {
        return Err(Invalid::at("name", "must be 1 to 256 characters, not blank, without control characters"));
    }
    Ok(())
}

fn validate_cors(path: &str, cors: &Cors) -> Result<(), Invalid> {
    if cors.origins.len() > 100 {
        return Err(Invalid::at(format!("{path}.origins"), "at most 100 origins"));
    }
    for (i, origin) in cors.origins.iter().enumerate() {
        let ok = origin == "*"
            || ((origin.starts_with("https://") || origin.starts_with("http://"))
                && url::Url::parse(&origin.replacen("*.", "wildcard.", 1))
                    .map(|u| u.path() == "/" && u.query().is_none() && u.host_str().is_some())
                    .unwrap_or(false));
        if !ok {
            return Err(Invalid::at(
                format!("{path}.origins.{i}"),
                format!("`{origin}` is not an origin such as https://app.example.com or https://*.example.com"),
            ));
        }
    }
    Ok(())
}

/// Parses one service's `config` into its typed form, recording unknown keys as warnings.
fn parse_service<T: DeserializeOwned + Default>(
    prefix: &str,
    service: Option<&ServiceConfig>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<T, Invalid> {
    let Some(service) = service else {
        return Ok(T::default());
    };
    for key in service.other.keys() {
        warnings.push(unsupported(&format!("{prefix}.{key}")));
    }
    let value = Value::Object(service.config.clone());
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let de = serde_ignored::Deserializer::new(value, &mut record);
    let typed: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Invalid::at(path, e.into_inner().to_string()).prefixed(&format!("{prefix}.config"))
    })?;
    for path in unknown {
        warnings.push(unsupported(&format!("{prefix}.config.{path}")));
    }
    Ok(typed)
}

fn unsupported(path: &str) -> ConfigWarning {
    ConfigWarning {
        code: WARNING_UNSUPPORTED_KEY,
        message: format!("{path} is not supported by Tessera yet; it is kept in the revision but has no effect"),
    }
}

#[cfg(test)]
mod tests;
