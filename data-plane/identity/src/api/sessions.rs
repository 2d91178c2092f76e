//! The frontend's session endpoints: whoami, and a user's management of their own sessions.

use actix_web::http::{Method, StatusCode};
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;

use super::{Params, json, parse_uuid};
use crate::error::IdentityError;
use crate::model::SessionId;
use crate::service::IdentityService;
use crate::session::{IDENTITY_HEADER, request_token};
use crate::store::SessionPage;
use crate::urls::PublicUrls;
use crate::wire::{SessionView, session_json};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sessions/whoami", web::route().to(whoami))
        .route("/sessions", web::get().to(list_mine))
        .route("/sessions", web::delete().to(revoke_others))
        .route("/sessions/{id}", web::delete().to(revoke_one));
}

type Svc = Data<IdentityService>;

/// whoami: the hottest route. A cache hit costs a digest and a map lookup; the body is served as stored.
async fn whoami(tenant: TenantContext, req: HttpRequest, svc: Svc) -> Result<HttpResponse, IdentityError> {
    const NONE: IdentityError = IdentityError::NoSession("No valid session credentials found in the request.");
    let Some((token, _)) = request_token(&req, &tenant) else { return Err(NONE) };
    let urls = PublicUrls::from_request(&req, &tenant);
    let Some((body, identity)) = svc.whoami(&tenant, &urls, &token).await? else { return Err(NONE) };
    let mut resp = HttpResponse::Ok();
    resp.insert_header((IDENTITY_HEADER, identity.to_string()))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .insert_header(("cache-control", "private, no-cache, no-store, must-revalidate"));
    if req.method() == Method::HEAD {
        return Ok(resp.finish());
    }
    Ok(resp.body(body))
}

const NO_SESSION_COOKIE: IdentityError = IdentityError::NoSession("No valid session cookie found.");

/// The caller's other active sessions (the current one excluded), newest first.
async fn list_mine(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let current = svc.current_session(&tenant, &req).await?.ok_or(NO_SESSION_COOKIE)?;
    let params = Params::from(q);
    let per_page = params.int("per_page")?.or(params.int("page_size")?).unwrap_or(250).clamp(1, 1000);
    let page_no = params.int("page")?.unwrap_or(0).max(0);
    let now = svc.now();
    let wanted = (page_no + 1) * per_page;
    if wanted > 10_000 {
        return Err(IdentityError::BadRequest("page and per_page reach past the 10,000th session.".into()));
    }
    let page = SessionPage { active: Some(true), now, after: None, limit: wanted + 1 };
    let all: Vec<_> = svc
        .store(&tenant)
        .sessions_of(current.identity.id, &page)
        .await?
        .into_iter()
        .filter(|s| s.id != current.stored.session.id)
        .collect();
    let total = all.len();
    let urls = PublicUrls::from_request(&req, &tenant);
    let view = SessionView { identity: Some(&current.identity), show_identity: true, admin: false, devices: true, now };
    let body: Vec<Value> = all
        .iter()
        .skip((page_no * per_page) as usize)
        .take(per_page as usize)
        .map(|s| session_json(s, &urls, view))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("x-total-count", total.to_string()))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}

/// Revokes every other session of the caller.
async fn revoke_others(tenant: TenantContext, req: HttpRequest, svc: Svc) -> Result<HttpResponse, IdentityError> {
    let current = svc.current_session(&tenant, &req).await?.ok_or(NO_SESSION_COOKIE)?;
    let (count, seq) =
        svc.store(&tenant).revoke_sessions_of(current.identity.id, Some(current.stored.session.id), svc.now()).await?;
    if let Some(seq) = seq {
        svc.sessions.invalidate_now(current.identity.id.0, seq);
    }
    Ok(json(StatusCode::OK, &json!({ "count": count })))
}

/// Revokes one of the caller's other sessions.
async fn revoke_one(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
) -> Result<HttpResponse, IdentityError> {
    let id = SessionId(parse_uuid(&id, "id")?);
    let current = svc.current_session(&tenant, &req).await?.ok_or(NO_SESSION_COOKIE)?;
    if id == current.stored.session.id {
        return Err(IdentityError::BadRequest("cannot revoke current session".into()));
    }
    let store = svc.store(&tenant);
    // Only the caller's own sessions; another identity's session id is as good as unknown.
    let owned = store.session(id).await?.is_some_and(|s| s.session.identity_id == current.identity.id);
    if owned && let Some(seq) = store.revoke_session(id, svc.now()).await? {
        svc.sessions.invalidate_now(id.0, seq);
    }
    Ok(HttpResponse::NoContent().finish())
}
