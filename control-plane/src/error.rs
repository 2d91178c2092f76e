//! The control plane's error type and its single mapping to HTTP.

use tessera_platform::ApiError;

use crate::store::StoreError;

/// Everything a control-plane operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credential, or one we do not recognise (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid credential that may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Absent, or outside the caller's scope (404; never 403 across tenants).
    #[error("{0}")]
    NotFound(String),
    /// Bad input; the message says which key and why (400).
    #[error("{0}")]
    Invalid(String),
    /// A feature Tessera does not offer (yet) (400, id `feature_not_available`).
    #[error("{0}")]
    FeatureNotAvailable(String),
    /// The write lost a race or names a stale revision (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is understood but would break an invariant, such as removing the last owner (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// Storage failed (500); the cause is logged, never shown.
    #[error("storage failure")]
    Store(#[from] StoreError),
}

/// A control-plane result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthenticated(m) => ApiError::unauthorized(m),
            Error::Forbidden(m) => ApiError::forbidden(m),
            Error::NotFound(m) => ApiError::not_found(m),
            Error::Invalid(m) => ApiError::bad_request(m),
            Error::FeatureNotAvailable(m) => ApiError::bad_request(m).with_id("feature_not_available"),
            Error::Conflict(m) => ApiError::conflict(m),
            Error::NotAcceptable(m) => ApiError::not_acceptable(m),
            Error::Store(source) => {
                // The one place a storage failure is logged, with its whole chain.
                let mut chain = source.to_string();
                let mut cause = std::error::Error::source(&source);
                while let Some(c) = cause {
                    chain.push_str(": ");
                    chain.push_str(&c.to_string());
                    cause = c.source();
                }
                tracing::error!(error = %chain, "control-plane storage failure");
                ApiError::internal()
            }
        }
    }
}
