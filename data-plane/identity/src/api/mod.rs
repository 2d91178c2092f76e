//! Kratos's HTTP API on a project's host. Handlers are thin: parse Kratos's query and body conventions, call
//! the engine, render Kratos's JSON. Errors are [`IdentityError`]s, mapped to HTTP in `crate::error`.

mod admin_identities;
mod admin_sessions;
mod schemas;
mod sessions;

use actix_web::http::header;
use actix_web::web::{self, Query};
use actix_web::{HttpRequest, HttpResponse};
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

/// A query string as repeated pairs (Kratos repeats `ids`, `include_credential`, `expand`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// From actix's query extractor.
    pub fn from(q: Query<Vec<(String, String)>>) -> Self {
        Self(q.into_inner())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// An integer parameter; a 400 naming it when it is not one.
    pub fn int(&self, key: &str) -> Result<Option<i64>, IdentityError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| IdentityError::BadRequest(format!("Invalid value `{v}` for parameter `{key}`."))),
        }
    }

    /// A boolean parameter.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, IdentityError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(v) => Err(IdentityError::BadRequest(format!("Invalid value `{v}` for parameter `{key}`."))),
        }
    }

    /// The pairs with `page_size`/`page_token` replaced, sorted by key as Go encodes them.
    fn with_page(&self, size: i64, token: &str) -> String {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k != "page_size" && k != "page_token" && k != "per_page" && k != "page")
            .cloned()
            .collect();
        pairs.push(("page_size".into(), size.to_string()));
        pairs.push(("page_token".into(), token.to_owned()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

/// Kratos's keyset `Link` header: `first` always, `next` when another page follows. Relative URLs.
pub fn link_header(
    req: &HttpRequest,
    base_path: &str,
    params: &Params,
    size: i64,
    first: &str,
    next: Option<&str>,
) -> String {
    let path = format!("{base_path}{}", req.path());
    let mut links = vec![format!("<{path}?{}>; rel=\"first\"", params.with_page(size, first))];
    if let Some(next) = next {
        links.push(format!("<{path}?{}>; rel=\"next\"", params.with_page(size, next)));
    }
    links.join(",")
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
