//! The error shape clients see.
//!
//! Ory's generic APIs (the workspace API, Kratos, Keto) answer errors as
//! `{"error": {"code", "status", "id"?, "reason"?, "message"}}`. [`ApiError`] is that shape;
//! each crate keeps its own domain error enum and converts it into an `ApiError` in exactly one place,
//! so the mapping from failure to status code is reviewable at a glance.
//! Protocol surfaces with their own shape (OAuth2's `{"error", "error_description"}`) build it at their own edge.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An error as the client sees it: a status, a stable machine id where one exists, and human-readable text.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    id: Option<String>,
    reason: Option<String>,
    message: String,
    retry_after_secs: Option<u64>,
}

/// The JSON body of an [`ApiError`]; `{"error": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

/// The inner object of Ory's generic error shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The HTTP status code.
    pub code: u16,
    /// The HTTP status text, e.g. "Not Found".
    pub status: String,
    /// A stable identifier a client can branch on; present only where Ory defines one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What exactly was wrong with this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A short, generic description of the error class.
    pub message: String,
}

impl ApiError {
    /// An error with the given status and message; use the named constructors where one fits.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, id: None, reason: None, message: message.into(), retry_after_secs: None }
    }

    /// 400: the request is malformed or violates a rule; `reason` says which.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "The request was malformed or contained invalid parameters")
            .with_reason(reason)
    }

    /// 401: no credential, or one we do not recognise.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "The request could not be authorized").with_reason(reason)
    }

    /// 403: the credential is valid but may not do this.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "The requested action was forbidden").with_reason(reason)
    }

    /// 404: absent, or belonging to someone the caller may not know about.
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "The requested resource could not be found").with_reason(reason)
    }

    /// 406: understood, but carrying it out would break an invariant (removing a project's last owner).
    pub fn not_acceptable(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "The request cannot be carried out").with_reason(reason)
    }

    /// 409: the request conflicts with the current state (a stale revision, a taken name).
    pub fn conflict(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "The request could not be completed due to a conflict").with_reason(reason)
    }

    /// 413: the body is larger than this endpoint accepts.
    pub fn payload_too_large(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large").with_reason(reason)
    }

    /// 429 with a `Retry-After` header.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            .with_reason(format!("Rate limit exceeded; retry after {retry_after_secs} seconds."));
        e.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }

    /// 500: our fault. The message never carries internal detail; log the cause where this is built.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal server error occurred, please contact the system administrator",
        )
    }

    /// 503: a dependency (usually the database) is unavailable.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable").with_reason(reason)
    }

    /// Attaches the specific reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Attaches a stable error id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable id, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The specific reason, if any.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The body clients receive.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.status.as_u16(),
                status: self.status.canonical_reason().unwrap_or("Error").to_owned(),
                id: self.id.clone(),
                reason: self.reason.clone(),
                message: self.message.clone(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        resp.insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store, must-revalidate"),
        ));
        resp.json(self.envelope())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_ory_generic_shape() {
        let e = ApiError::not_found("project 123 does not exist").with_id("resource_not_found");
        let v = serde_json::to_value(e.envelope()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {
                "code": 404, "status": "Not Found", "id": "resource_not_found",
                "reason": "project 123 does not exist",
                "message": "The requested resource could not be found"}})
        );
    }

    #[test]
    fn too_many_requests_sets_retry_after() {
        let resp = ApiError::too_many_requests(0).error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}
