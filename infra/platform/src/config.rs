//! One typed configuration for every Tessera process.
//!
//! Sources, later ones winning: built-in defaults, a TOML file (`--config`), then `TESSERA_<SECTION>__<KEY>`
//! environment variables (double underscore between levels; a value is read as a TOML scalar when it parses
//! as one, so `TESSERA_DATABASE__MAX_CONNECTIONS=20` is a number and `'"20"'` a string).
//! Unknown keys are reported as warnings, not errors, so that rolling back to an older binary with a newer
//! file still starts. Every rejection names the offending key.
//! The result is loaded once in `main` and passed down; nothing reads configuration from a global.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

/// Region names Ory uses; a project's `home_region` must be one of these (and configured here).
pub const ORY_REGION_NAMES: &[&str] =
    &["eu-central", "asia-northeast", "us-east", "us-west", "eu", "asia", "us", "global"];

const ENV_PREFIX: &str = "TESSERA_";

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Where this process keeps its state.
    pub database: DatabaseConfig,
    /// The HTTP listener.
    pub http: HttpConfig,
    /// Logs and metrics.
    pub telemetry: TelemetryConfig,
    /// Settings only the control plane reads.
    pub control_plane: ControlPlaneConfig,
    /// Settings only regional workers read.
    pub data_plane: DataPlaneConfig,
    /// The registry of regions, by Ory region name.
    pub regions: BTreeMap<String, RegionConfig>,
    /// Plans and invoicing; read by the control plane.
    pub billing: BillingConfig,
}

/// Plans and invoicing.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct BillingConfig {
    /// The plan catalogue by plan id (`[billing.plans.<id>]`); empty means the built-in catalogue. The billing
    /// crate validates each table and names the bad field.
    pub plans: BTreeMap<String, serde_json::Value>,
    /// Hours after a month ends before its invoices are frozen, so usage still in regional outboxes arrives first.
    pub finalize_after_hours: u32,
    /// Where daily usage exports go (`[billing.export]`: the S3 settings of `tessera-export`); absent: no exports.
    pub export: Option<serde_json::Value>,
    /// Stripe sync (`[billing.stripe]`: the settings of `tessera-billing-stripe`); absent: no Stripe.
    pub stripe: Option<serde_json::Value>,
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self { plans: BTreeMap::new(), finalize_after_hours: 6, export: None, stripe: None }
    }
}

/// Database connection settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `postgres://…` for production, `sqlite://path` for the embedded default.
    pub url: Secret,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: Secret::new("sqlite://.tessera/control-plane.db"), max_connections: 10 }
    }
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The externally visible base URL; defaults to `http://<listen>`.
    pub public_url: Option<Url>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Number of actix worker threads; defaults to the number of cores.
    pub workers: Option<usize>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            public_url: None,
            max_body_bytes: 2 * 1024 * 1024,
            workers: None,
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured; for `tessera dev`.
    Pretty,
    /// One JSON object per line; for production log pipelines.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// A `tracing` filter directive such as `info` or `info,sqlx=warn`.
    pub log_level: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { log_format: LogFormat::Json, log_level: "info,sqlx=warn".to_owned() }
    }
}

/// Control-plane settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ControlPlaneConfig {
    /// The platform operator's key: may create workspaces and manage all of them. Set it through
    /// `TESSERA_CONTROL_PLANE__ADMIN_API_KEY`; without it, no workspace can be created over HTTP.
    pub admin_api_key: Option<Secret>,
    /// Projects are reachable at `<slug>.<projects_domain>`.
    pub projects_domain: String,
    /// The home region of a project created without one.
    pub default_region: String,
    /// Per-API-key request budget.
    pub rate_limit: RateLimitConfig,
    /// How custom domains are verified.
    pub domain_verification: DomainVerificationConfig,
}

impl Default for ControlPlaneConfig {
    fn default() -> Self {
        Self {
            admin_api_key: None,
            projects_domain: "projects.localhost".to_owned(),
            default_region: "eu-central".to_owned(),
            rate_limit: RateLimitConfig::default(),
            domain_verification: DomainVerificationConfig::default(),
        }
    }
}

/// Custom-domain verification: the control plane fetches
/// `http://<hostname>:<port>/.well-known/tessera-domain-verification` and compares it with the issued token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DomainVerificationConfig {
    /// Port of the owner's web server.
    pub port: u16,
    /// Whether a hostname may resolve to a loopback, private or link-local address. Off in production:
    /// verification must not become a way to make the control plane call its own network.
    pub allow_private_addresses: bool,
    /// Fixed addresses for hostnames (split-horizon DNS, tests), used instead of DNS.
    pub resolve: BTreeMap<String, std::net::IpAddr>,
}

impl Default for DomainVerificationConfig {
    fn default() -> Self {
        Self { port: 80, allow_private_addresses: false, resolve: BTreeMap::new() }
    }
}

/// Regional worker settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DataPlaneConfig {
    /// The region this worker serves (`--region` overrides it).
    pub region: Option<String>,
    /// Where the control plane's internal API is.
    pub control_plane_url: Url,
    /// The key the control plane issued to this region (`tessera control-plane issue-region-key`).
    pub region_key: Option<Secret>,
    /// Shared by every region's workers: proves a forwarded request came from another worker.
    pub forward_secret: Option<Secret>,
    /// The installation's secret for OAuth2 (token signatures, client-secret digests), the same in every region
    /// and never stored in a database: losing it invalidates every opaque token and client secret.
    pub system_secret: Option<Secret>,
    /// How many times a request may be forwarded between regions before it is refused (508).
    pub max_hops: u8,
    /// How long one directory long-poll waits for news, in milliseconds.
    pub directory_wait_ms: u64,
    /// Per-project request budgets: multiply every plan's numbers by this (tests and benchmarks).
    pub rate_limit_scale: f64,
    /// Whether usage is counted at all (off only to measure what metering costs).
    pub metering: bool,
    /// How often the in-memory usage counters are flushed into the region's outbox, in milliseconds: the most
    /// usage a crash can lose.
    pub usage_flush_ms: u64,
    /// Where project data exports go (`[data_plane.export]`: the S3 settings of `tessera-export`); absent: the
    /// export endpoints answer that exports are not configured.
    pub export: Option<serde_json::Value>,
}

impl Default for DataPlaneConfig {
    fn default() -> Self {
        Self {
            region: None,
            control_plane_url: Url::parse("http://127.0.0.1:4000").expect("static url"),
            region_key: None,
            forward_secret: None,
            system_secret: None,
            max_hops: 3,
            directory_wait_ms: 20_000,
            rate_limit_scale: 1.0,
            metering: true,
            usage_flush_ms: 1_000,
            export: None,
        }
    }
}

/// A token bucket: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Sustained requests per second.
    pub requests_per_second: u32,
    /// Requests allowed at once before the sustained rate applies.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { requests_per_second: 20, burst: 100 }
    }
}

/// One region in the registry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Base URL of the region's data-plane workers.
    pub url: Url,
}

/// A configuration value that must never be logged.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// A configuration that loaded, with the keys that were ignored.
#[derive(Debug)]
pub struct Loaded {
    /// The validated configuration.
    pub config: Config,
    /// Keys present in the sources that no setting reads, as dotted paths.
    pub unknown_keys: Vec<String>,
}

/// Why configuration could not be loaded; always names the source and, where there is one, the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), message: message.into() }
    }
}

impl Config {
    /// Loads from defaults, an optional TOML file and `TESSERA_*` variables in `env`, then validates.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Loaded, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?
            }
            None => toml::Table::new(),
        };
        apply_env_overrides(&mut table, env)?;
        Self::from_table(table)
    }

    /// Deserializes and validates an already merged table.
    pub fn from_table(table: toml::Table) -> Result<Loaded, ConfigError> {
        let mut unknown_keys = Vec::new();
        let value = toml::Value::Table(table);
        let mut record_unknown = |path: serde_ignored::Path<'_>| unknown_keys.push(path.to_string());
        let de = serde_ignored::Deserializer::new(value, &mut record_unknown);
        let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::invalid(key, e.into_inner().to_string())
        })?;
        if config.regions.is_empty() {
            config.regions = default_regions();
        }
        config.validate()?;
        Ok(Loaded { config, unknown_keys })
    }

    /// Rules serde cannot express.
    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database.url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
            return Err(ConfigError::invalid("database.url", "must start with postgres://, postgresql:// or sqlite:"));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid("database.max_connections", "must be at least 1"));
        }
        if self.http.max_body_bytes < 1024 {
            return Err(ConfigError::invalid("http.max_body_bytes", "must be at least 1024"));
        }
        if self.http.workers == Some(0) {
            return Err(ConfigError::invalid("http.workers", "must be at least 1"));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.telemetry.log_level) {
            return Err(ConfigError::invalid("telemetry.log_level", e.to_string()));
        }
        for name in self.regions.keys() {
            if !ORY_REGION_NAMES.contains(&name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("regions.{name}"),
                    format!("unknown region name; expected one of {}", ORY_REGION_NAMES.join(", ")),
                ));
            }
        }
        if !self.regions.contains_key(&self.control_plane.default_region) {
            return Err(ConfigError::invalid(
                "control_plane.default_region",
                format!(
                    "`{}` is not a configured region (configured: {})",
                    self.control_plane.default_region,
                    self.regions.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let domain = &self.control_plane.projects_domain;
        if domain.is_empty() || !domain.split('.').all(is_dns_label) {
            return Err(ConfigError::invalid(
                "control_plane.projects_domain",
                "must be a DNS name such as projects.example.com",
            ));
        }
        let rl = self.control_plane.rate_limit;
        if rl.requests_per_second == 0 || rl.burst == 0 {
            return Err(ConfigError::invalid(
                "control_plane.rate_limit",
                "requests_per_second and burst must both be at least 1",
            ));
        }
        if let Some(region) = &self.data_plane.region
            && !self.regions.contains_key(region)
        {
            return Err(ConfigError::invalid("data_plane.region", format!("`{region}` is not a configured region")));
        }
        if self.data_plane.max_hops == 0 {
            return Err(ConfigError::invalid("data_plane.max_hops", "must be at least 1"));
        }
        if !(10..=60_000).contains(&self.data_plane.usage_flush_ms) {
            return Err(ConfigError::invalid("data_plane.usage_flush_ms", "must be between 10 and 60000"));
        }
        if !(self.data_plane.rate_limit_scale > 0.0 && self.data_plane.rate_limit_scale.is_finite()) {
            return Err(ConfigError::invalid("data_plane.rate_limit_scale", "must be a positive number"));
        }
        if let Some(secret) = &self.data_plane.forward_secret
            && secret.expose().len() < 16
        {
            return Err(ConfigError::invalid("data_plane.forward_secret", "must be at least 16 characters long"));
        }
        if let Some(secret) = &self.data_plane.system_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::invalid("data_plane.system_secret", "must be at least 32 characters long"));
        }
        if let Some(key) = &self.control_plane.admin_api_key
            && key.expose().len() < 16
        {
            return Err(ConfigError::invalid("control_plane.admin_api_key", "must be at least 16 characters long"));
        }
        Ok(())
    }

    /// The public base URL of this process, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.http.public_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.http.listen),
        }
    }
}

/// The two regions `tessera dev` runs when none are configured.
pub fn default_regions() -> BTreeMap<String, RegionConfig> {
    let mut regions = BTreeMap::new();
    regions.insert(
        "eu-central".to_owned(),
        RegionConfig { url: Url::parse("http://127.0.0.1:4100").expect("static url") },
    );
    regions
        .insert("us-east".to_owned(), RegionConfig { url: Url::parse("http://127.0.0.1:4200").expect("static url") });
    regions
}

fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Merges `TESSERA_A__B=value` into `table` at `a.b`; variables without `__` belong to the CLI.
fn apply_env_overrides(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(String, String)> =
        env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__")).collect();
    vars.sort();
    for (name, raw) in vars {
        let path: Vec<String> = name[ENV_PREFIX.len()..].split("__").map(|s| s.to_ascii_lowercase()).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::invalid(name, "empty path segment in environment override"));
        }
        let value = parse_env_value(&raw);
        let mut node = &mut *table;
        for segment in &path[..path.len() - 1] {
            let entry = node.entry(segment.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::invalid(
                        path.join("."),
                        format!("{name} overrides a value that is not a table"),
                    ));
                }
            };
        }
        node.insert(path[path.len() - 1].clone(), value);
    }
    Ok(())
}

/// A TOML scalar when the text is one (number, bool, quoted string), else the raw text as a string.
fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v
                @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) | toml::Value::String(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(&path, toml_text).unwrap();
        Config::load(Some(&path), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_are_valid() {
        let loaded = Config::load(None, Vec::new()).unwrap();
        assert_eq!(loaded.config.control_plane.default_region, "eu-central");
        assert!(loaded.config.regions.contains_key("us-east"));
        assert!(loaded.unknown_keys.is_empty());
    }

    #[test]
    fn env_overrides_file_and_parses_scalars() {
        let loaded = load(
            "[database]\nmax_connections = 3\n",
            &[
                ("TESSERA_DATABASE__MAX_CONNECTIONS", "7"),
                ("TESSERA_HTTP__LISTEN", "127.0.0.1:0"),
                ("TESSERA_CONFIG", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(loaded.config.database.max_connections, 7);
        assert_eq!(loaded.config.http.listen.port(), 0);
    }

    #[test]
    fn unknown_keys_warn_instead_of_failing() {
        let loaded = load("[http]\nlisten = \"127.0.0.1:1\"\nfuture_knob = true\n[brand_new]\nx = 1\n", &[]).unwrap();
        let mut keys = loaded.unknown_keys.clone();
        keys.sort();
        assert_eq!(keys, vec!["brand_new".to_owned(), "http.future_knob".to_owned()]);
    }

    #[test]
    fn type_errors_name_the_key() {
        let err = load("[database]\nmax_connections = \"many\"\n", &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("database.max_connections"), "{text}");
    }

    #[test]
    fn rule_errors_name_the_key() {
        let err = load("[control_plane]\ndefault_region = \"us-west\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("control_plane.default_region"), "{err}");
        let err = load("[regions.mars]\nurl = \"http://x\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("regions.mars"), "{err}");
        let err = load("[database]\nurl = \"mysql://x\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("database.url"), "{err}");
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = Config::load(Some(Path::new("/nonexistent/tessera.toml")), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tessera.toml"), "{err}");
    }

    #[test]
    fn secrets_do_not_leak_into_debug_output() {
        let loaded =
            Config::load(None, vec![("TESSERA_CONTROL_PLANE__ADMIN_API_KEY".into(), "supersecretvalue-123".into())])
                .unwrap();
        let dbg = format!("{:?}", loaded.config);
        assert!(!dbg.contains("supersecretvalue"), "{dbg}");
    }
}
