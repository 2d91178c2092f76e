//! `[data_plane.export]`: the S3 settings of `tessera-export`, plus two tunables of the job, read once at boot.
//!
//! ```toml
//! [data_plane.export]
//! endpoint = "https://s3.eu-central-1.amazonaws.com"   # optional; absent: AWS S3 for `region`
//! region = "eu-central-1"
//! bucket = "tessera-project-exports"
//! prefix = "eu-central"                                 # optional
//! access_key_id = "..."
//! secret_access_key = "..."
//! page_size = 500                                       # optional: rows read per query
//! page_pause_ms = 0                                     # optional: pause between pages
//! ```
//!
//! Errors name the key (`data_plane.export.bucket: ...`); unknown keys are warned about, not refused, as
//! everywhere else in the configuration.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tessera_export::{ExportError, S3Settings};

use crate::error::Error;

/// The configuration prefix errors name.
const KEY: &str = "data_plane.export";

/// The most rows one page reads (the identity engine's own page limit).
pub const MAX_PAGE_SIZE: i64 = 500;

/// Every key the section knows, for the unknown-key warning and for naming a field in validation errors.
const KNOWN_KEYS: [&str; 11] = [
    "endpoint",
    "region",
    "bucket",
    "prefix",
    "access_key_id",
    "secret_access_key",
    "connect_timeout_secs",
    "attempt_timeout_secs",
    "max_attempts",
    "page_size",
    "page_pause_ms",
];

/// How an export job paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Rows per query (1..=[`MAX_PAGE_SIZE`]); progress is recorded after every page.
    pub page_size: i64,
    /// A pause after every page, so a large export takes a bounded share of the regional database from the
    /// requests it serves meanwhile.
    pub page_pause: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self { page_size: MAX_PAGE_SIZE, page_pause: Duration::ZERO }
    }
}

/// The parsed section.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Where exports go.
    pub s3: S3Settings,
    /// How jobs pace themselves.
    pub tuning: Tuning,
}

#[derive(Deserialize)]
struct RawTuning {
    #[serde(default)]
    page_size: Option<i64>,
    #[serde(default)]
    page_pause_ms: Option<u64>,
}

impl ExportConfig {
    /// Parses and validates the section; no network call (the bucket is checked in the background at start).
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        let Value::Object(map) = value else {
            return Err(Error::Config { key: KEY.into(), message: "must be a table of S3 settings".into() });
        };
        for key in map.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            tracing::warn!(key = %format!("{KEY}.{key}"), "unknown configuration key ignored");
        }
        let s3: S3Settings = parse(value)?;
        s3.validate().map_err(|e| validation_error(&e))?;
        let raw: RawTuning = parse(value)?;
        let page_size = raw.page_size.unwrap_or(MAX_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(Error::Config {
                key: format!("{KEY}.page_size"),
                message: format!("must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"),
            });
        }
        let page_pause = Duration::from_millis(raw.page_pause_ms.unwrap_or(0));
        if page_pause > Duration::from_secs(10) {
            return Err(Error::Config {
                key: format!("{KEY}.page_pause_ms"),
                message: "must be at most 10000 (a longer pause would look like a stalled export)".into(),
            });
        }
        Ok(Self { s3, tuning: Tuning { page_size, page_pause } })
    }
}

/// Deserialises the section, naming the key of a missing or mistyped value.
fn parse<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A missing field has no path of its own; serde names it in the message.
        let field = if path == "." { missing_field(&inner) } else { Some(path) };
        Error::Config { key: field.map_or_else(|| KEY.to_owned(), |f| format!("{KEY}.{f}")), message: inner }
    })
}

/// `missing field `bucket`` → `bucket`.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// `tessera-export`'s validation messages start with the field they are about; name it as a key.
fn validation_error(e: &ExportError) -> Error {
    let message = match e {
        ExportError::Config(m) => m.clone(),
        other => other.to_string(),
    };
    let first = message.split([' ', ',']).next().unwrap_or_default();
    let key = if KNOWN_KEYS.contains(&first) { format!("{KEY}.{first}") } else { KEY.to_owned() };
    Error::Config { key, message }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({"endpoint": "http://127.0.0.1:5055", "region": "us-east-1", "bucket": "exports",
               "access_key_id": "id", "secret_access_key": "secret"})
    }

    fn key_of(value: Value) -> String {
        match ExportConfig::from_value(&value) {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn parses_with_defaults() {
        let config = ExportConfig::from_value(&base()).unwrap();
        assert_eq!(config.s3.bucket, "exports");
        assert_eq!(config.tuning, Tuning::default());
        let mut tuned = base();
        tuned["page_size"] = json!(50);
        tuned["page_pause_ms"] = json!(20);
        let config = ExportConfig::from_value(&tuned).unwrap();
        assert_eq!(config.tuning, Tuning { page_size: 50, page_pause: Duration::from_millis(20) });
    }

    #[test]
    fn errors_name_the_key() {
        let mut missing = base();
        missing.as_object_mut().unwrap().remove("bucket");
        assert_eq!(key_of(missing), "data_plane.export.bucket");
        let mut mistyped = base();
        mistyped["max_attempts"] = json!("three");
        assert_eq!(key_of(mistyped), "data_plane.export.max_attempts");
        let mut invalid = base();
        invalid["bucket"] = json!("Not_A_Bucket");
        assert_eq!(key_of(invalid), "data_plane.export.bucket");
        let mut endpoint = base();
        endpoint["endpoint"] = json!("127.0.0.1:5055");
        assert_eq!(key_of(endpoint), "data_plane.export.endpoint");
        let mut page = base();
        page["page_size"] = json!(0);
        assert_eq!(key_of(page), "data_plane.export.page_size");
        assert_eq!(key_of(json!("s3://bucket")), "data_plane.export");
    }
}
