//! The worker's routes: its own (health, metrics, sync status) and the tenant-level ones the frame serves
//! before the engines arrive (a project's health, and `/admin/tenant`, which says how this region sees the
//! project).

use actix_web::{HttpResponse, guard, web};
use serde_json::json;
use tessera_platform::http::not_found;
use tessera_platform::tenant::TenantContext;

use crate::state::WorkerState;

/// Registers the tenant scope (only requests the gate resolved to a project reach it) and the worker's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .guard(guard::fn_guard(|ctx| ctx.req_data().contains::<TenantContext>()))
            .route("/health/alive", web::get().to(tenant_health))
            .route("/health/ready", web::get().to(tenant_health))
            .route("/admin/tenant", web::get().to(tenant_info))
            .configure(tessera_permission::api::configure)
            .configure(tessera_identity::api::configure)
            .configure(tessera_oauth2::api::configure)
            .configure(tessera_project_export::api::configure)
            .default_service(web::to(not_found)),
    )
    .route("/health/alive", web::get().to(worker_alive))
    .route("/health/ready", web::get().to(worker_ready))
    .route("/metrics", web::get().to(worker_metrics))
    .route("/status", web::get().to(worker_status));
}

async fn tenant_health(_tenant: TenantContext) -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How this region sees the project (a Tessera extension; needs a project API key).
async fn tenant_info(tenant: TenantContext, state: web::Data<WorkerState>) -> HttpResponse {
    let record = state.directory.by_id(tenant.project_id());
    HttpResponse::Ok().json(json!({
        "project_id": tenant.project_id(),
        "workspace_id": tenant.workspace_id(),
        "slug": tenant.slug(),
        "environment": tenant.environment(),
        "revision_id": tenant.revision_id(),
        "served_by": tenant.region(),
        "home_region": record.as_ref().map(|r| r.record.home_region.clone()),
        "hosts": record.as_ref().map(|r| r.record.hosts.clone()).unwrap_or_default(),
        "directory_seq": state.directory.seq(),
    }))
}

async fn worker_alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the regional database answers: a worker serves from its directory copy even while the control
/// plane is away, so the control plane's reachability is reported in `/status`, not here.
async fn worker_ready(state: web::Data<WorkerState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"errors": {"database": "the database is not reachable"}}))
        }
    }
}

async fn worker_metrics(state: web::Data<WorkerState>) -> HttpResponse {
    state.metrics.refresh(&state.directory, &state.status, &state.usage_status);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.http.render())
}

async fn worker_status(state: web::Data<WorkerState>) -> HttpResponse {
    let applied = state.directory.seq();
    let lag_seconds = state.status.lag_seconds(applied);
    HttpResponse::Ok().json(json!({
        "region": state.region,
        "directory": {
            "seq": applied,
            "projects": state.directory.len(),
            "lag_entries": state.status.lag_entries(applied),
            "lag_seconds": lag_seconds.is_finite().then_some(lag_seconds),
            "seconds_since_contact": state.status.seconds_since_contact(),
            "last_error": state.status.last_error(),
        },
        "usage": state.usage_status.json(),
    }))
}
