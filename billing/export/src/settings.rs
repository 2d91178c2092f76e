//! Where exports go: the S3 settings the control plane reads from its TOML config, and the SDK client built
//! from them without aws-config (static credentials only, so no instance metadata or profile lookups at start).

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use serde::Deserialize;

use crate::error::{ExportError, Result};

/// The bucket exports are written to and how to reach it.
///
/// Deserialised from the control plane's config. `Debug` never prints the secret access key, so the settings
/// can be logged at start-up.
#[derive(Clone, Deserialize)]
pub struct S3Settings {
    /// An S3-compatible endpoint (`http://127.0.0.1:5055`, MinIO, R2...); `None` means AWS S3 for `region`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The signing region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// The bucket; it must exist (exports never create buckets).
    pub bucket: String,
    /// A key prefix every export is written under, without leading or trailing `/` (empty: bucket root).
    #[serde(default)]
    pub prefix: String,
    /// Static credentials: the access key id...
    pub access_key_id: String,
    /// ...and its secret (never printed).
    pub secret_access_key: String,
    /// How long establishing a connection may take before the attempt fails.
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// How long one attempt (one request and its answer, e.g. one 5 MiB part) may take.
    #[serde(default = "default_attempt_timeout_secs")]
    pub attempt_timeout_secs: u64,
    /// Attempts per operation, including the first (retries use the SDK's standard backoff).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_connect_timeout_secs() -> u64 {
    5
}

fn default_attempt_timeout_secs() -> u64 {
    120
}

fn default_max_attempts() -> u32 {
    3
}

impl S3Settings {
    /// Settings for AWS S3 with default timeouts; chain [`Self::with_endpoint`] and [`Self::with_prefix`].
    pub fn new(
        region: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: None,
            region: region.into(),
            bucket: bucket.into(),
            prefix: String::new(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            connect_timeout_secs: default_connect_timeout_secs(),
            attempt_timeout_secs: default_attempt_timeout_secs(),
            max_attempts: default_max_attempts(),
        }
    }

    /// Points the settings at an S3-compatible server instead of AWS.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Puts every export under `prefix/`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Refuses settings that cannot work, before any network call, with a message naming the field.
    pub fn validate(&self) -> Result<()> {
        let fail = |msg: String| Err(ExportError::Config(msg));
        if let Some(endpoint) = &self.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return fail(format!("endpoint `{endpoint}` must start with http:// or https://"));
        }
        if self.region.trim().is_empty() {
            return fail("region is empty".into());
        }
        // S3's bucket naming rules, enough to catch typos and path-style injection.
        let bucket = &self.bucket;
        if bucket.len() < 3
            || bucket.len() > 63
            || !bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return fail(format!("bucket `{bucket}` is not a valid S3 bucket name (3-63 of a-z 0-9 - .)"));
        }
        if self.prefix.starts_with('/') || self.prefix.ends_with('/') || self.prefix.contains("//") {
            return fail(format!("prefix `{}` must not start or end with `/` nor contain `//`", self.prefix));
        }
        if self.access_key_id.is_empty() || self.secret_access_key.is_empty() {
            return fail("access_key_id and secret_access_key must both be set".into());
        }
        if self.connect_timeout_secs == 0 || self.attempt_timeout_secs == 0 || self.max_attempts == 0 {
            return fail("connect_timeout_secs, attempt_timeout_secs and max_attempts must be positive".into());
        }
        Ok(())
    }

    /// A human name for where requests go, used in error messages.
    pub(crate) fn endpoint_label(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("AWS S3 ({})", self.region),
        }
    }

    /// Builds the SDK client: path-style addressing, explicit timeouts so a dead endpoint fails instead of
    /// hanging, and request checksums only where we compute them ourselves (SHA-256) or S3 requires them.
    pub(crate) fn client(&self) -> Result<aws_sdk_s3::Client> {
        self.validate()?;
        let credentials =
            Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "tessera-export-settings");
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(self.connect_timeout_secs))
            .operation_attempt_timeout(Duration::from_secs(self.attempt_timeout_secs))
            .build();
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(true)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts))
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint.trim_end_matches('/'));
        }
        Ok(aws_sdk_s3::Client::from_conf(config.build()))
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("attempt_timeout_secs", &self.attempt_timeout_secs)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialises_from_toml_with_defaults_and_hides_the_secret() {
        let settings: S3Settings = toml::from_str(
            r#"
            endpoint = "http://127.0.0.1:5055"
            region = "us-east-1"
            bucket = "tessera-exports"
            prefix = "prod/eu"
            access_key_id = "AKIAEXAMPLE"
            secret_access_key = "very-secret-value"
            "#,
        )
        .unwrap();
        assert_eq!(settings.endpoint.as_deref(), Some("http://127.0.0.1:5055"));
        assert_eq!((settings.connect_timeout_secs, settings.attempt_timeout_secs, settings.max_attempts), (5, 120, 3));
        settings.validate().unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("very-secret-value"), "{debug}");
        assert!(debug.contains("<redacted>") && debug.contains("AKIAEXAMPLE"), "{debug}");
    }

    #[test]
    fn validation_names_the_bad_field() {
        let base = S3Settings::new("us-east-1", "tessera-exports", "id", "secret");
        let cases = [
            (base.clone().with_endpoint("127.0.0.1:5055"), "must start with http"),
            (S3Settings { bucket: "Bad_Bucket".into(), ..base.clone() }, "not a valid S3 bucket name"),
            (base.clone().with_prefix("/lead"), "prefix"),
            (S3Settings { secret_access_key: String::new(), ..base.clone() }, "secret_access_key"),
            (S3Settings { attempt_timeout_secs: 0, ..base.clone() }, "must be positive"),
            (S3Settings { region: " ".into(), ..base }, "region"),
        ];
        for (settings, expected) in cases {
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }
}
