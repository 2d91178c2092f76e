//! Hydra's HTTP API on a project's host. Handlers are thin: parse Hydra's conventions (JSON for the admin
//! API, forms for the protocol endpoints), call the engine, render Hydra's JSON. Errors are [`OAuth2Error`]s,
//! mapped to HTTP in `crate::error`.

mod clients;
mod discovery;
mod introspect;
mod keys;
mod token;
mod trust;
mod userinfo;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web;
use serde_json::Value;

use crate::error::OAuth2Error;

/// Registers the OAuth2 routes (inside the worker's tenant scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    clients::configure(cfg);
    token::configure(cfg);
    introspect::configure(cfg);
    discovery::configure(cfg);
    keys::configure(cfg);
    userinfo::configure(cfg);
    trust::configure(cfg);
    crate::flow::authorize::configure(cfg);
    crate::flow::challenges::configure(cfg);
    crate::flow::device::configure(cfg);
    crate::flow::logout::configure(cfg);
}

/// A JSON response as Hydra sends it.
pub fn json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
        .body(body.to_string())
}

/// A JSON answer that must not be cached (tokens, introspection): RFC 6749 §5.1.
pub fn no_store(body: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .body(body.to_string())
}

/// Parses a JSON body into `T`, refusing malformed JSON with a 400 that says where.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, OAuth2Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        OAuth2Error::BadRequest(if path == "." || path.is_empty() {
            format!("Unable to decode the request body: {inner}")
        } else {
            format!("Unable to decode the request body at `{path}`: {inner}")
        })
    })
}

/// A form body (`application/x-www-form-urlencoded`) as pairs; a parameter sent twice is refused later by
/// [`single`], as RFC 6749 §3.1 requires.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The one value of `key`: `None` when absent or empty, `invalid_request` when repeated.
pub fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, OAuth2Error> {
    let mut values = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(OAuth2Error::InvalidRequest(format!("The parameter `{key}` must be sent only once.")));
    }
    Ok(first.filter(|v| !v.is_empty()))
}
