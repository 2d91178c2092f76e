//! The one error type of the crate, and the mapping of S3 SDK failures onto it.
//!
//! Operators read these messages in logs and CLI output, so each variant says what was tried, against which
//! bucket or endpoint, and what to check; the SDK's own error chain is kept as `detail`.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Result alias so signatures stay short.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// Everything that can go wrong while exporting to or verifying objects in S3.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The settings cannot work (empty bucket, endpoint without scheme, zero timeout...); caught before any I/O.
    #[error("invalid S3 export settings: {0}")]
    Config(String),
    /// The caller passed something the export format cannot represent (an id that is not a key segment, a row
    /// of another day...).
    #[error("invalid export input: {0}")]
    InvalidInput(String),
    /// The configured bucket does not exist at the endpoint.
    #[error("S3 bucket `{bucket}` does not exist at {endpoint}")]
    BucketMissing { bucket: String, endpoint: String },
    /// S3 refused the credentials or the operation.
    #[error(
        "S3 denied {operation} on bucket `{bucket}` ({code}): check the access key id, the secret and the bucket policy"
    )]
    AccessDenied { operation: &'static str, bucket: String, code: String },
    /// The object asked for does not exist.
    #[error("object `{key}` does not exist in S3 bucket `{bucket}`")]
    ObjectMissing { bucket: String, key: String },
    /// No HTTP exchange happened: DNS, refused connection, TLS, reset.
    #[error("cannot reach S3 at {endpoint} ({operation}): {detail}")]
    Network { operation: &'static str, endpoint: String, detail: String },
    /// An object's body stopped arriving, or failed the SDK's own checksum check, while being downloaded.
    #[error("download of `{key}` failed mid-way: {detail}")]
    Download { key: String, detail: String },
    /// The endpoint accepted the connection but did not answer within the configured timeouts.
    #[error("S3 at {endpoint} did not answer {operation} in time: {detail}")]
    Timeout { operation: &'static str, endpoint: String, detail: String },
    /// Any other error answer from S3; `code` is the S3 error code when one was sent.
    #[error("S3 {operation} on `{key}` failed ({code}): {detail}")]
    S3 { operation: &'static str, key: String, code: String, detail: String },
    /// The object was written without the `sha256` metadata this crate puts on every object.
    #[error("object `{key}` carries no `sha256` metadata, so it cannot be verified")]
    MissingChecksum { key: String },
    /// The object's bytes do not hash to what was recorded when it was written: it was changed or damaged.
    #[error(
        "object `{key}` is corrupt: its content hashes to sha256 {actual}, but its {source_of_truth} says {expected}"
    )]
    ChecksumMismatch { key: String, source_of_truth: &'static str, expected: String, actual: String },
    /// A streaming upload is used after it failed, was aborted, or was interrupted mid-write.
    #[error("the upload of `{key}` already failed or was aborted; start a new one")]
    UploadClosed { key: String },
    /// A value fed to an export could not be serialised.
    #[error("cannot serialise {what} as JSON: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Where an SDK call went, so the mapped error can name it.
pub(crate) struct Context<'a> {
    pub operation: &'static str,
    pub endpoint: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
}

impl Context<'_> {
    /// Maps an SDK failure onto the crate's error, by transport failure first and S3 error code second.
    pub(crate) fn map<E>(&self, err: SdkError<E>) -> ExportError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let detail = match err.message() {
            Some(message) => message.to_owned(),
            None => source_chain(&err),
        };
        let endpoint = self.endpoint.to_owned();
        let operation = self.operation;
        match &err {
            SdkError::TimeoutError(_) => return ExportError::Timeout { operation, endpoint, detail },
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                return ExportError::Timeout { operation, endpoint, detail };
            }
            SdkError::DispatchFailure(_) => return ExportError::Network { operation, endpoint, detail },
            _ => {}
        }
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_owned);
        match (code.as_deref(), status) {
            (Some("NoSuchBucket"), _) => ExportError::BucketMissing { bucket: self.bucket.to_owned(), endpoint },
            (Some("NoSuchKey"), _) => {
                ExportError::ObjectMissing { bucket: self.bucket.to_owned(), key: self.key.to_owned() }
            }
            // HEAD answers carry no body, hence no code: the status is all there is.
            (None | Some("NotFound"), Some(404)) if self.key.is_empty() => {
                ExportError::BucketMissing { bucket: self.bucket.to_owned(), endpoint }
            }
            (None | Some("NotFound"), Some(404)) => {
                ExportError::ObjectMissing { bucket: self.bucket.to_owned(), key: self.key.to_owned() }
            }
            (
                Some(
                    code @ ("AccessDenied"
                    | "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "AllAccessDisabled"
                    | "InvalidToken"
                    | "ExpiredToken"
                    | "AccountProblem"),
                ),
                _,
            ) => ExportError::AccessDenied { operation, bucket: self.bucket.to_owned(), code: code.to_owned() },
            (None | Some("Forbidden"), Some(403)) => {
                ExportError::AccessDenied { operation, bucket: self.bucket.to_owned(), code: "HTTP 403".to_owned() }
            }
            _ => ExportError::S3 {
                operation,
                key: self.key.to_owned(),
                code: code.or_else(|| status.map(|s| format!("HTTP {s}"))).unwrap_or_else(|| "no code".to_owned()),
                detail,
            },
        }
    }
}

/// The error and its sources joined by `: ` (what `DisplayErrorContext` prints, without its Debug dump).
pub(crate) fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        // hyper repeats its source in its own message; skip exact repetitions.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}

/// Checks that an id can be one segment of an object key, so ids never climb out of their prefix.
pub(crate) fn check_segment(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value != "."
        && value != ".."
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ExportError::InvalidInput(format!(
            "{what} `{value}` is not a valid key segment (1-128 characters of A-Z a-z 0-9 - _ ., not `.` or `..`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_reject_path_tricks() {
        assert!(check_segment("project id", "0190f0c2-7c1e-7b4e-9d3a-5f0e8f3a1b2c").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", "ä", &"x".repeat(129)] {
            let err = check_segment("project id", bad).unwrap_err();
            assert!(err.to_string().contains("not a valid key segment"), "{bad}: {err}");
        }
    }
}
