//! `/health/alive` and `/health/ready`, as Ory's services answer them.
//!
//! Alive says the process serves HTTP; ready says it can do useful work (its database answers).
//! Load balancers route on ready; orchestrators restart on alive.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::Database;

/// Registers both health routes; `ready` pings the [`Database`] in app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/alive", web::get().to(alive)).route("/health/ready", web::get().to(ready));
}

async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn ready(db: web::Data<Database>) -> HttpResponse {
    match db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"errors": {"database": "the database is not reachable"}}))
        }
    }
}
