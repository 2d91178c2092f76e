//! Kratos's HTTP API on a project's host. Handlers are thin: parse Kratos's query and body conventions, call
//! the engine, render Kratos's JSON. Errors are [`IdentityError`]s, mapped to HTTP in `crate::error`.

mod admin_identities;
mod admin_sessions;
mod schemas;
mod sessions;

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web;
use serde_json::Value;

use crate::error::IdentityError;

/// Registers the identity routes (inside the worker's tenant scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    admin_identities::configure(cfg);
    admin_sessions::configure(cfg);
    schemas::configure(cfg);
    sessions::configure(cfg);
    crate::flows::api::configure(cfg);
}

pub use tessera_platform::query::{Params, link_header};

impl From<tessera_platform::query::BadParam> for IdentityError {
    fn from(e: tessera_platform::query::BadParam) -> Self {
        IdentityError::BadRequest(e.to_string())
    }
}

/// A JSON response with Kratos's content type.
pub fn json(status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
        .body(body.to_string())
}

/// Parses a JSON body into `T`, refusing malformed JSON with a 400 that says where.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, IdentityError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            IdentityError::BadRequest(format!("The request body is not valid: {inner}"))
        } else {
            IdentityError::BadRequest(format!("The request body is not valid at `{path}`: {inner}"))
        }
    })
}

/// Parses a UUID path or query value; Kratos's 400 otherwise.
pub fn parse_uuid(value: &str, what: &str) -> Result<uuid::Uuid, IdentityError> {
    uuid::Uuid::parse_str(value)
        .map_err(|_| IdentityError::BadRequest(format!("Invalid UUID value `{value}` for parameter `{what}`.")))
}
