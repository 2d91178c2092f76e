//! Logout: browser (a logout URL, then a GET on it) and api (DELETE with the session token).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tessera_platform::secrets::constant_time_eq;

use super::{Ctx, Failure, add_cookie, csrf, json_response, return_to, see_other, with_query};
use crate::error::IdentityError;
use crate::session::{digest_hex, expired_session_cookie, logout_token_for};

const NO_SESSION: IdentityError =
    IdentityError::SessionInactive { reason: "No active session was found in this request." };

/// `GET /self-service/logout/browser`: the URL that ends the caller's session.
pub async fn logout_url(ctx: &Ctx<'_>, return_to_param: Option<&str>) -> Result<HttpResponse, Failure> {
    let return_to = match return_to_param.filter(|r| !r.is_empty()) {
        Some(r) => Some(return_to::check(ctx.tenant, &ctx.urls, r)?.to_string()),
        None => None,
    };
    let session = ctx.session().await?.ok_or(NO_SESSION)?;
    let token = logout_token_for(&session.token);
    let mut url = with_query(&ctx.urls.url("/self-service/logout"), "token", &token);
    if let Some(r) = &return_to {
        url = with_query(&url, "return_to", r);
    }
    Ok(json_response(StatusCode::OK, &json!({"logout_url": url, "logout_token": token})))
}

/// `GET /self-service/logout?token=`: ends the session the cookie names, if the token is its logout token.
pub async fn logout(
    ctx: &Ctx<'_>,
    token: Option<&str>,
    return_to_param: Option<&str>,
) -> Result<HttpResponse, Failure> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(IdentityError::BadRequest("Please include a token in the URL query.".into()).into());
    };
    let return_to = match return_to_param.filter(|r| !r.is_empty()) {
        Some(r) => return_to::check(ctx.tenant, &ctx.urls, r)?.to_string(),
        None => ctx.default_return_url(None),
    };
    let Some(session) = ctx.session().await? else {
        // Already signed out: a browser simply goes on.
        if !ctx.json {
            return Ok(see_other(&return_to));
        }
        return Err(NO_SESSION.into());
    };
    let expected = digest_hex(&logout_token_for(&session.token));
    if !constant_time_eq(expected.as_bytes(), digest_hex(token).as_bytes()) {
        return Err(IdentityError::Forbidden(
            "Unable to log out because the logout token in the URL query does not match the session cookie.".into(),
        )
        .into());
    }
    let id = session.stored.session.id;
    if let Some(seq) = ctx.svc.store(ctx.tenant).revoke_session(id, ctx.svc.now()).await? {
        ctx.svc.sessions.invalidate_now(id.0, seq);
    }
    let mut resp = if ctx.json { HttpResponse::NoContent().finish() } else { see_other(&return_to) };
    add_cookie(&mut resp, expired_session_cookie(ctx.tenant, &ctx.urls));
    // A new anti-CSRF token for whoever uses this browser next.
    add_cookie(&mut resp, csrf::cookie(&ctx.urls, &csrf::generate()));
    Ok(resp)
}

/// `DELETE /self-service/logout/api`.
#[derive(Debug, Deserialize)]
pub struct ApiLogoutBody {
    pub session_token: String,
}

/// Revokes the session a native app holds.
pub async fn logout_api(ctx: &Ctx<'_>, body: ApiLogoutBody) -> Result<HttpResponse, Failure> {
    let unknown = || {
        IdentityError::Forbidden(
            "The provided Ory Session Token could not be found, is invalid, or otherwise malformed.".into(),
        )
    };
    let store = ctx.svc.store(ctx.tenant);
    let stored = store.session_by_token(&digest_hex(&body.session_token)).await?.ok_or_else(unknown)?;
    if !stored.session.is_active_at(ctx.svc.now()) {
        return Err(unknown().into());
    }
    let id = stored.session.id;
    if let Some(seq) = store.revoke_session(id, ctx.svc.now()).await? {
        ctx.svc.sessions.invalidate_now(id.0, seq);
    }
    Ok(HttpResponse::NoContent().finish())
}
