//! The OAuth2 engine's one error type and its mapping to Hydra's error JSON, in one place.
//!
//! Hydra answers every failure, admin API included, as `{"error": …, "error_description": …}` (RFC 6749 §5.2
//! for the protocol endpoints; its herodot errors squeezed into the same two fields for the rest). Relying-party
//! libraries branch on `error`, so the codes and statuses here follow RFC 6749 and Hydra exactly.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::store::StoreError;

/// What went wrong, as the client must learn it.
#[derive(Debug, thiserror::Error)]
pub enum OAuth2Error {
    /// 400 `invalid_request`: a parameter is missing, repeated or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// 401 `invalid_client`: client authentication failed (unknown client, wrong secret, wrong method).
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// 400 `invalid_grant`: a code, refresh token or assertion is invalid, expired, revoked or not this client's.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// 400 `unauthorized_client`: the client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// 400 `unsupported_grant_type`.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// 400 `invalid_scope`: a requested scope the client is not allowed.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// 400 `invalid_request` for a refused audience, as Hydra reports it; separate for its own text.
    #[error("audience not allowed: {0}")]
    InvalidAudience(String),
    /// 400 `invalid_client_metadata`: a client registration field is invalid.
    #[error("invalid_client_metadata: {0}")]
    InvalidClientMetadata(String),
    /// 400 `invalid_redirect_uri`: a registered redirect URI is invalid.
    #[error("invalid_redirect_uri: {0}")]
    InvalidRedirectUri(String),
    /// 400 with another RFC 6749 / OIDC error code (`invalid_state`, `login_required`, `unsupported_response_type`,
    /// `request_forbidden`, ...) and its description.
    #[error("{0}: {1}")]
    Protocol(&'static str, String),
    /// 401 `invalid_token` (RFC 6750): a bearer token that is missing, unknown, expired or revoked.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// 410 with `redirect_to`: a login, consent or logout request that was already handled.
    #[error("the request was already handled")]
    AlreadyHandled { redirect_to: String },
    /// 400 for a malformed admin request (bad JSON, bad query parameter).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: no such resource in this project.
    #[error("not found")]
    NotFound,
    /// 409: the id is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: a body or list beyond our limits.
    #[error("too large: {0}")]
    TooLarge(String),
    /// 402 `quota_exceeded`: the project used up its plan's hard limit of this meter for the period.
    #[error("quota_exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// 500; the cause is logged once, here, and not shown.
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// 500 for an internal failure other than storage (key material, signing).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<tessera_platform::query::BadParam> for OAuth2Error {
    fn from(e: tessera_platform::query::BadParam) -> Self {
        OAuth2Error::BadRequest(e.to_string())
    }
}

impl OAuth2Error {
    /// The RFC 6749 / Hydra `error` code and the status it goes with.
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        use StatusCode as S;
        match self {
            Self::InvalidRequest(_) | Self::InvalidAudience(_) => ("invalid_request", S::BAD_REQUEST),
            Self::InvalidClient(_) => ("invalid_client", S::UNAUTHORIZED),
            Self::InvalidGrant(_) => ("invalid_grant", S::BAD_REQUEST),
            Self::UnauthorizedClient(_) => ("unauthorized_client", S::BAD_REQUEST),
            Self::UnsupportedGrantType(_) => ("unsupported_grant_type", S::BAD_REQUEST),
            Self::InvalidScope(_) => ("invalid_scope", S::BAD_REQUEST),
            Self::InvalidClientMetadata(_) => ("invalid_client_metadata", S::BAD_REQUEST),
            Self::InvalidRedirectUri(_) => ("invalid_redirect_uri", S::BAD_REQUEST),
            Self::Protocol(code, _) => (code, S::BAD_REQUEST),
            Self::InvalidToken(_) => ("invalid_token", S::UNAUTHORIZED),
            Self::AlreadyHandled { .. } => ("The request was already handled", S::GONE),
            Self::BadRequest(_) => ("The request was malformed or contained invalid parameters", S::BAD_REQUEST),
            Self::NotFound => ("Unable to locate the resource", S::NOT_FOUND),
            Self::Conflict(_) => {
                ("Unable to insert or update resource because a resource with that value exists already", S::CONFLICT)
            }
            Self::TooLarge(_) => ("The request entity is too large", S::PAYLOAD_TOO_LARGE),
            Self::QuotaExceeded(_) => ("quota_exceeded", S::PAYMENT_REQUIRED),
            Self::Store(_) | Self::Internal(_) => ("server_error", S::INTERNAL_SERVER_ERROR),
        }
    }

    /// The `error` code and the `error_description`, for errors sent as query parameters of a redirect.
    pub fn code_and_text(&self) -> (&'static str, String) {
        (self.code_and_status().0, self.description().trim_end().to_owned())
    }

    /// The `error_description`: RFC 6749's sentence for the code, then what exactly was wrong.
    fn description(&self) -> String {
        match self {
            Self::InvalidRequest(d) => format!(
                "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. {d}"
            ),
            Self::InvalidClient(d) => format!(
                "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). {d}"
            ),
            Self::InvalidGrant(d) => format!(
                "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client. {d}"
            ),
            Self::UnauthorizedClient(d) => {
                format!("The client is not authorized to request a token using this method. {d}")
            }
            Self::UnsupportedGrantType(d) => {
                format!("The authorization grant type is not supported by the authorization server. {d}")
            }
            Self::InvalidScope(d) => {
                format!("The requested scope is invalid, unknown, or malformed. {d}")
            }
            Self::InvalidAudience(d) => format!("Requested audience is not allowed. {d}"),
            Self::InvalidClientMetadata(d) => format!(
                "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. {d}"
            ),
            Self::InvalidRedirectUri(d) => {
                format!("The value of one or more redirect_uris is invalid. {d}")
            }
            Self::QuotaExceeded(meter) => format!(
                "This project used all of its plan's `{meter}` for this billing period; upgrade the workspace's plan to continue."
            ),
            Self::BadRequest(d) | Self::Conflict(d) | Self::TooLarge(d) | Self::Protocol(_, d) => d.clone(),
            Self::InvalidToken(d) => format!("The access token provided is expired, revoked, malformed, or invalid for other reasons. {d}"),
            Self::AlreadyHandled { .. } => String::new(),
            Self::NotFound => String::new(),
            Self::Store(_) | Self::Internal(_) => {
                "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.".into()
            }
        }
    }
}

impl ResponseError for OAuth2Error {
    fn status_code(&self) -> StatusCode {
        self.code_and_status().1
    }

    fn error_response(&self) -> HttpResponse {
        let (code, status) = self.code_and_status();
        match self {
            Self::Store(e) => tracing::error!(error = ?e, "OAuth2 storage failed"),
            Self::Internal(e) => tracing::error!(error = %e, "OAuth2 engine failed"),
            _ => {}
        }
        if let Self::AlreadyHandled { redirect_to } = self {
            return HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
                .body(json!({"redirect_to": redirect_to}).to_string());
        }
        let body = json!({"error": code, "error_description": self.description().trim_end()});
        let mut resp = HttpResponse::build(status);
        resp.insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
        if let Self::InvalidToken(_) = self {
            resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\"")));
        } else if status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth2\"")));
        }
        resp.body(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_errors_carry_rfc_codes_and_statuses() {
        let e = OAuth2Error::InvalidClient("The client secret does not match.".into());
        assert_eq!(e.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(e.code_and_status().0, "invalid_client");
        assert!(e.description().ends_with("The client secret does not match."));
        assert_eq!(OAuth2Error::NotFound.code_and_status().0, "Unable to locate the resource");
        assert_eq!(OAuth2Error::NotFound.description(), "");
    }
}
