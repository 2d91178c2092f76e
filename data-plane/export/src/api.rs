//! `/admin/exports`: thin handlers over [`ExportService`]. The worker's gate has already authenticated the
//! project's API key (every `/admin/*` route needs one) and resolved the tenant.
//!
//! - `POST /admin/exports` → 202 with the job (`{id, state, created_at, counts}`) and a `Location`;
//!   409 while another export of the project runs.
//! - `GET /admin/exports/{id}` → the job; `manifest` once it succeeded, `error` once it failed.
//!   Another project's id, or no id at all, is 404.
//! - `GET /admin/exports?page_size=&page_token=` → `{"exports": [...], "next_page_token": ...}`, newest first.
//!
//! A region without an export bucket answers all three with 400 `feature_not_available`.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use tessera_platform::ApiError;
use tessera_platform::pagination::PageRequest;
use tessera_platform::tenant::TenantContext;
use uuid::Uuid;

use crate::error::Error;
use crate::job::ExportId;
use crate::service::ExportService;

/// Registers the export routes; the caller provides `Data<ExportService>` and the tenant scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/exports", web::post().to(start))
        .route("/admin/exports", web::get().to(list))
        .route("/admin/exports/{id}", web::get().to(get));
}

type Svc = Data<ExportService>;

async fn start(tenant: TenantContext, req: HttpRequest, svc: Svc) -> Result<HttpResponse, Error> {
    let job = svc.start(&tenant, &tenant.public_base_url(&req)).await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header(("location", format!("{}/admin/exports/{}", tenant.base_path(), job.id)))
        .json(job.to_json()))
}

async fn get(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, Error> {
    let id = Uuid::parse_str(&id).map(ExportId).map_err(|_| Error::NotFound)?;
    let job = svc.get(&tenant, id).await?;
    Ok(HttpResponse::Ok().json(job.to_json()))
}

/// `page_size` (1..=1000, default 250) and the opaque `page_token` of the previous answer.
#[derive(Debug, Deserialize)]
struct ListParams {
    page_size: Option<i64>,
    page_token: Option<String>,
}

async fn list(tenant: TenantContext, svc: Svc, q: Query<ListParams>) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.page_size, q.page_token.as_deref())?;
    let (jobs, next) = svc.list(&tenant, &page).await.map_err(|e| ApiError::from(&e))?;
    let exports: Vec<_> = jobs.iter().map(|j| j.to_json()).collect();
    Ok(HttpResponse::Ok().json(json!({"exports": exports, "next_page_token": next})))
}
