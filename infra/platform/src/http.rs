//! HTTP plumbing shared by every server: credential extraction, body limits and extractor errors in
//! Ory's error shape, and the fallback for unknown routes.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::ApiError;

/// The token of an `Authorization: Bearer <token>` header, if the request carries one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// JSON bodies up to `limit` bytes; malformed or oversized bodies answer in Ory's error shape.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _req| {
        let api = match &err {
            JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                ApiError::payload_too_large(format!("The request body exceeds the limit of {limit} bytes."))
            }
            JsonPayloadError::ContentType => {
                ApiError::bad_request("The request body must be JSON with Content-Type: application/json.")
            }
            JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!("The request body is invalid: {e}")),
            other => ApiError::bad_request(format!("The request body could not be read: {other}")),
        };
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

/// Query strings that do not parse answer 400 in Ory's error shape.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let api = ApiError::bad_request(format!("The query parameters are invalid: {err}"));
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

/// Path parameters that do not parse (an id that is not a UUID) cannot name anything: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let api = ApiError::not_found("No resource exists at this path.");
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

/// The answer for routes that do not exist.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    ApiError::not_found(format!("No route matches {} {}.", req.method(), req.path())).error_response()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn bearer_token_is_extracted_case_insensitively() {
        let req = TestRequest::default().insert_header(("Authorization", "bearer abc")).to_http_request();
        assert_eq!(bearer_token(&req), Some("abc"));
        let req = TestRequest::default().insert_header(("Authorization", "Basic abc")).to_http_request();
        assert_eq!(bearer_token(&req), None);
        let req = TestRequest::default().insert_header(("Authorization", "Bearer ")).to_http_request();
        assert_eq!(bearer_token(&req), None);
        assert_eq!(bearer_token(&TestRequest::default().to_http_request()), None);
    }
}
