//! Logout (OpenID Connect RP-Initiated Logout 1.0) through the project's logout app: `/oauth2/sessions/logout`
//! opens a logout request, the app accepts (204 on reject, as Hydra answers), and the browser comes back with
//! the verifier; then the login session ends and the browser goes to the client's registered
//! `post_logout_redirect_uri` (with `state`) or the project's default page.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_platform::query::Params;
use tessera_platform::tenant::TenantContext;
use time::{Duration, OffsetDateTime};

use super::authorize::{random_token, with_query};
use super::cookies::{FlowCookies, hex_digest};
use crate::api::{form_pairs, json, single};
use crate::client::rfc3339;
use crate::error::OAuth2Error;
use crate::keys::ID_TOKEN_SET;
use crate::service::OAuth2Service;

type Svc = Data<OAuth2Service>;

/// Where a logout request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoutState {
    Unused,
    Accepted,
    Rejected,
    Done,
}

/// One logout request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub challenge: String,
    pub state: LogoutState,
    pub subject: String,
    pub sid: String,
    pub client_id: Option<String>,
    pub rp_initiated: bool,
    /// Where the browser goes when done (validated against the client's registration).
    pub post_logout_redirect: String,
    pub client_state: String,
    pub request_url: String,
    pub redirect_to: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Registers the public logout endpoint and the logout challenge API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth2/sessions/logout").route(web::get().to(get)).route(web::post().to(post)))
        .service(web::resource("/admin/oauth2/auth/requests/logout").route(web::get().to(get_request)))
        .service(web::resource("/admin/oauth2/auth/requests/logout/accept").route(web::put().to(accept)))
        .service(web::resource("/admin/oauth2/auth/requests/logout/reject").route(web::put().to(reject)));
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

fn default_destination(tenant: &TenantContext, base: &str) -> String {
    tenant.config().oauth2.urls.post_logout_redirect.as_ref().map_or_else(|| format!("{base}/"), |u| u.0.to_string())
}

async fn get(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let query = req.query_string().to_owned();
    logout(&tenant, &req, &svc, q.into_inner(), query).await
}

async fn post(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let query = String::from_utf8_lossy(&body).into_owned();
    logout(&tenant, &req, &svc, form_pairs(&body), query).await
}

async fn logout(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    params: Vec<(String, String)>,
    query: String,
) -> Result<HttpResponse, OAuth2Error> {
    let base = tenant.public_base_url(req);
    let cookies = FlowCookies::new(&base, tenant.base_path());
    if let Some(verifier) = single(&params, "logout_verifier")? {
        return finish(tenant, svc, &cookies, verifier).await;
    }
    let keys = svc.keys(tenant.project_id());
    let session = match cookies.session_id(req, &keys) {
        Some(sid) => svc.store(tenant).login_session(&sid).await?.filter(|s| s.active),
        None => None,
    };
    let hint = match single(&params, "id_token_hint")? {
        Some(token) => Some(verify_hint(tenant, req, svc, token).await?),
        None => None,
    };
    let client_id = hint.as_ref().and_then(|h| match &h["aud"] {
        Value::String(a) => Some(a.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    let mut destination = default_destination(tenant, &base);
    let client_state = single(&params, "state")?.unwrap_or_default().to_owned();
    if let Some(uri) = single(&params, "post_logout_redirect_uri")? {
        let client_id = client_id.as_deref().ok_or_else(|| {
            OAuth2Error::InvalidRequest("A post_logout_redirect_uri needs an id_token_hint naming the client.".into())
        })?;
        let client = svc.store(tenant).client(client_id).await?.ok_or_else(|| {
            OAuth2Error::InvalidRequest("The client the id_token_hint was issued to no longer exists.".into())
        })?;
        if !client.client.post_logout_redirect_uris.iter().any(|r| r == uri) {
            return Err(OAuth2Error::InvalidRequest(
                "The post_logout_redirect_uri is not one of the client's registered post_logout_redirect_uris.".into(),
            ));
        }
        destination = uri.to_owned();
    }
    let hinted_subject = hint.as_ref().and_then(|h| h["sub"].as_str()).map(str::to_owned);
    if let (Some(s), Some(sub)) = (&session, &hinted_subject)
        && &s.subject != sub
    {
        return Err(OAuth2Error::InvalidRequest(
            "The id_token_hint was issued to another subject than the one signed in.".into(),
        ));
    }
    let Some(session) = session else {
        // Nobody is signed in with this browser: nothing to end.
        let pairs: Vec<(&str, &str)> =
            if client_state.is_empty() { vec![] } else { vec![("state", client_state.as_str())] };
        return Ok(found(&with_query(&destination, &pairs)));
    };
    let now = svc.now();
    let request = LogoutRequest {
        challenge: random_token(),
        state: LogoutState::Unused,
        subject: session.subject.clone(),
        sid: session.id.clone(),
        client_id,
        rp_initiated: hint.is_some(),
        post_logout_redirect: destination,
        client_state,
        request_url: format!("{base}/oauth2/sessions/logout?{query}"),
        redirect_to: String::new(),
        requested_at: now,
        expires_at: now
            + Duration::try_from(tenant.config().oauth2.ttl.login_consent_request.0).unwrap_or(Duration::minutes(30)),
    };
    svc.store(tenant).insert_logout(&request).await?;
    let logout_url = tenant
        .config()
        .oauth2
        .urls
        .logout
        .as_ref()
        .map(|u| u.0.to_string())
        .unwrap_or_else(|| format!("{base}/ui/logout"));
    Ok(found(&with_query(&logout_url, &[("logout_challenge", &request.challenge)])))
}

/// An ID token of this project, expired or not (a hint may be old): its claims.
async fn verify_hint(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    token: &str,
) -> Result<Value, OAuth2Error> {
    let set = svc.key_set(tenant, ID_TOKEN_SET).await?;
    let claims = set
        .public()
        .verify_jwt(token, &tessera_jwk::Algorithm::ALL)
        .map_err(|_| OAuth2Error::InvalidRequest("The id_token_hint is not an ID token of this project.".into()))?;
    if claims["iss"].as_str() != Some(crate::issuer(tenant, req).as_str()) {
        return Err(OAuth2Error::InvalidRequest("The id_token_hint was issued by another issuer.".into()));
    }
    Ok(claims)
}

async fn finish(
    tenant: &TenantContext,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    verifier: &str,
) -> Result<HttpResponse, OAuth2Error> {
    let invalid = || {
        OAuth2Error::InvalidRequest(
            "The logout verifier has already been used, has not been granted, or is invalid.".into(),
        )
    };
    let digest = hex_digest(verifier);
    let mut request = svc.store(tenant).logout(None, Some(&digest)).await?.ok_or_else(invalid)?;
    if request.state != LogoutState::Accepted || request.expires_at <= svc.now() {
        return Err(invalid());
    }
    request.state = LogoutState::Done;
    if !svc.store(tenant).advance_logout(&request, LogoutState::Accepted, None).await? {
        return Err(invalid());
    }
    svc.store(tenant).revoke_login_sessions(None, Some(&request.sid)).await?;
    let pairs: Vec<(&str, &str)> =
        if request.client_state.is_empty() { vec![] } else { vec![("state", request.client_state.as_str())] };
    let mut resp = found(&with_query(&request.post_logout_redirect, &pairs));
    resp.add_cookie(&cookies.clear_session()).map_err(|e| OAuth2Error::Internal(e.to_string()))?;
    Ok(resp)
}

async fn load(svc: &OAuth2Service, tenant: &TenantContext, params: &Params) -> Result<LogoutRequest, OAuth2Error> {
    let challenge = params
        .get("logout_challenge")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuth2Error::BadRequest("The query parameter `logout_challenge` is required.".into()))?;
    let request = svc.store(tenant).logout(Some(challenge), None).await?.ok_or(OAuth2Error::NotFound)?;
    if request.state != LogoutState::Unused {
        return Err(OAuth2Error::AlreadyHandled { redirect_to: request.redirect_to });
    }
    if request.expires_at <= svc.now() {
        return Err(OAuth2Error::NotFound);
    }
    Ok(request)
}

async fn get_request(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let r = load(&svc, &tenant, &Params::from(q)).await?;
    let client = match &r.client_id {
        Some(id) => svc.store(&tenant).client(id).await?.map(|c| c.client.to_json(None)),
        None => None,
    };
    Ok(json(
        StatusCode::OK,
        &json!({
            "challenge": r.challenge,
            "client": client,
            "expires_at": rfc3339(r.expires_at),
            "request_url": r.request_url,
            "requested_at": rfc3339(r.requested_at),
            "rp_initiated": r.rp_initiated,
            "sid": r.sid,
            "subject": r.subject,
        }),
    ))
}

async fn accept(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let mut r = load(&svc, &tenant, &Params::from(q)).await?;
    let verifier = random_token();
    r.redirect_to = format!("{}/oauth2/sessions/logout?logout_verifier={verifier}", tenant.public_base_url(&req));
    r.state = LogoutState::Accepted;
    if !svc.store(&tenant).advance_logout(&r, LogoutState::Unused, Some(&hex_digest(&verifier))).await? {
        return Err(OAuth2Error::AlreadyHandled { redirect_to: String::new() });
    }
    Ok(json(StatusCode::OK, &json!({"redirect_to": r.redirect_to})))
}

async fn reject(tenant: TenantContext, svc: Svc, q: Query<Vec<(String, String)>>) -> Result<HttpResponse, OAuth2Error> {
    let mut r = load(&svc, &tenant, &Params::from(q)).await?;
    r.state = LogoutState::Rejected;
    if !svc.store(&tenant).advance_logout(&r, LogoutState::Unused, None).await? {
        return Err(OAuth2Error::AlreadyHandled { redirect_to: String::new() });
    }
    Ok(HttpResponse::NoContent().finish())
}
