//! `/schemas` and `/schemas/{id}`: the project's identity schemas, as configured.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use serde_json::{Value, json};
use tessera_identity_schema::decode_schema_url_id;
use tessera_platform::tenant::TenantContext;

use super::{Params, json};
use crate::error::IdentityError;
use crate::service::IdentityService;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/schemas", web::get().to(list))
        .route("/schemas/{id}", web::get().to(get))
        .route("/admin/schemas", web::get().to(list))
        .route("/admin/schemas/{id}", web::get().to(get));
}

async fn list(
    tenant: TenantContext,
    svc: Data<IdentityService>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let params = Params::from(q);
    let per_page = params.int("per_page")?.or(params.int("page_size")?).unwrap_or(250).clamp(1, 1000) as usize;
    let page = params.int("page")?.unwrap_or(0).max(0) as usize;
    let schemas = svc.schemas.for_tenant(&tenant)?;
    let total = schemas.schemas.len();
    let body: Vec<Value> = schemas
        .schemas
        .iter()
        .skip(page.saturating_mul(per_page))
        .take(per_page)
        .map(|s| json!({"id": s.id(), "schema": s.raw()}))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("x-total-count", total.to_string()))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}

/// By plain id or by the base64url form `schema_url` uses.
async fn get(
    tenant: TenantContext,
    svc: Data<IdentityService>,
    id: Path<String>,
) -> Result<HttpResponse, IdentityError> {
    let schemas = svc.schemas.for_tenant(&tenant)?;
    let found = schemas.get(&id).or_else(|| decode_schema_url_id(&id).and_then(|decoded| schemas.get(&decoded)));
    match found {
        Some(s) => Ok(json(StatusCode::OK, s.raw())),
        None => Err(IdentityError::NotFound(format!("Identity schema `{id}` could not be found."))),
    }
}
