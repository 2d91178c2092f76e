//! The crate's one error type, and its single mapping to the platform's [`ApiError`].
//!
//! Storage failures are logged once, with their whole source chain, where they are mapped; clients see a
//! generic 500. A failed job records [`Error::job_message`], which says what went wrong without naming the
//! region's bucket, endpoint or database.

use actix_web::ResponseError;
use actix_web::http::StatusCode;
use tessera_export::ExportError;
use tessera_platform::ApiError;
use tessera_platform::db::DbError;

use crate::job::ExportId;

/// Everything that can go wrong starting, running or reading a project export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The region has no `[data_plane.export]`: exports are not offered here.
    #[error("project data exports are not configured in this region")]
    NotConfigured,
    /// `[data_plane.export]` does not parse or cannot work; `key` names the offending setting.
    #[error("{key}: {message}")]
    Config {
        /// The full configuration key, e.g. `data_plane.export.bucket`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Another export of the project is still running.
    #[error("an export of this project is still running")]
    AlreadyRunning {
        /// The running export, when it could be read (the client can poll it).
        running: Option<ExportId>,
    },
    /// No export with this id in this project (including other projects' exports).
    #[error("no such export")]
    NotFound,
    /// The job record could not be read or written.
    #[error("the export job's database access failed")]
    Db(#[from] DbError),
    /// An engine's data could not be read.
    #[error("reading the project's {what} failed")]
    Read {
        /// `identities`, `relationships` or `OAuth2 clients`.
        what: &'static str,
        /// The engine's store error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An export record could not be serialised.
    #[error("serialising an export record failed")]
    Json(#[source] serde_json::Error),
    /// S3 refused or did not answer.
    #[error("writing the export to S3 failed")]
    Storage(#[source] ExportError),
    /// The job stopped beating for so long that it was marked failed while it still ran; it gives up.
    #[error("the export was marked failed while it ran")]
    Abandoned,
}

impl Error {
    /// Wraps an engine's store error.
    pub(crate) fn read(what: &'static str) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Self {
        move |source| Self::Read { what, source }
    }

    /// What a failed job tells its project: the kind of failure, never the region's internals.
    pub fn job_message(&self) -> String {
        match self {
            Self::Storage(e) => format!("The export could not be written to storage: {}.", storage_reason(e)),
            Self::Read { what, .. } => format!("The project's {what} could not be read; retry the export."),
            Self::Db(_) => "The export's progress could not be recorded; retry the export.".into(),
            Self::Abandoned => STALE_MESSAGE.into(),
            other => format!("The export failed: {other}."),
        }
    }
}

/// Why a job that stopped beating was failed (its worker stopped, or lost its database for too long).
pub const STALE_MESSAGE: &str = "The export was interrupted (the worker running it stopped); start a new one.";

fn storage_reason(e: &ExportError) -> &'static str {
    match e {
        ExportError::BucketMissing { .. } => "the export bucket does not exist",
        ExportError::AccessDenied { .. } => "the export bucket refused the region's credentials",
        ExportError::Network { .. } => "the export storage could not be reached",
        ExportError::Timeout { .. } => "the export storage did not answer in time",
        ExportError::Config(_) => "the region's export settings are invalid",
        _ => "the export storage refused a write",
    }
}

/// The source chain of an error, `: `-separated, for the one log line that reports it.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        out.push_str(": ");
        out.push_str(&next.to_string());
        source = next.source();
    }
    out
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> Self {
        match e {
            Error::NotConfigured => ApiError::bad_request(
                "Project data exports are not offered in this region: its operator has not configured an export bucket.",
            )
            .with_id("feature_not_available"),
            Error::AlreadyRunning { running } => {
                let which = running.map(|id| format!(" ({id})")).unwrap_or_default();
                ApiError::conflict(format!(
                    "An export of this project is already running{which}; wait until it has finished."
                ))
                .with_id("export_already_running")
            }
            Error::NotFound => ApiError::not_found("No export of this project has this id."),
            other => {
                tracing::error!(error = %chain(other), "project export request failed");
                ApiError::internal()
            }
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        ApiError::from(self).status()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        ApiError::from(self).error_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_have_the_platform_shape() {
        let not_configured = ApiError::from(&Error::NotConfigured);
        assert_eq!((not_configured.status().as_u16(), not_configured.id()), (400, Some("feature_not_available")));
        let running = ApiError::from(&Error::AlreadyRunning { running: Some(ExportId::new()) });
        assert_eq!(running.status().as_u16(), 409);
        assert_eq!(ApiError::from(&Error::NotFound).status().as_u16(), 404);
        assert_eq!(ApiError::from(&Error::Abandoned).status().as_u16(), 500);
    }

    #[test]
    fn job_messages_name_the_failure_not_the_bucket() {
        let e = Error::Storage(ExportError::BucketMissing {
            bucket: "internal-bucket".into(),
            endpoint: "http://10.0.0.1:9000".into(),
        });
        let message = e.job_message();
        assert!(message.contains("bucket does not exist"), "{message}");
        assert!(!message.contains("internal-bucket") && !message.contains("10.0.0.1"), "{message}");
    }
}
