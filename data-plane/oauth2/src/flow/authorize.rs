//! `/oauth2/auth`: validates an authorization request, hands it to the login app, and on the way back (with a
//! login or consent verifier) moves the flow on until a code goes to the client's redirect URI.
//!
//! Errors found before the redirect URI is known to be the client's go to the project's error page; errors
//! after that go to the redirect URI with `error`, `error_description` and `state` (RFC 6749 §4.1.2.1).

use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;
use time::Duration;
use url::Url;
use uuid::Uuid;

use super::cookies::{FlowCookies, hex_digest};
use super::{AuthRequest, Denial, Flow, FlowState};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::grant::scopes::{check_audience, check_scopes, split};
use crate::service::OAuth2Service;
use crate::store::{FlowKey, LoginSession, NewToken, StoredClient};
use crate::token::TokenKind;

type Svc = Data<OAuth2Service>;

/// Registers `/oauth2/auth` (GET and POST, as OIDC Core §3.1.2.1 allows).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth2/auth").route(web::get().to(get)).route(web::post().to(post)));
}

/// A random value for challenges, verifiers and CSRF cookies (256 bits, URL-safe).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An error for the client: where it goes depends on whether the redirect URI was established.
enum Refusal {
    /// Shown on the project's error page (the redirect URI is unknown or not the client's).
    Page(OAuth2Error),
    /// Sent to the client's redirect URI.
    Redirect { redirect_uri: String, state: String, error: String, description: String },
}

impl From<OAuth2Error> for Refusal {
    fn from(e: OAuth2Error) -> Self {
        Refusal::Page(e)
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

/// `url` with `pairs` appended to its query.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

impl Refusal {
    fn respond(self, tenant: &TenantContext) -> HttpResponse {
        match self {
            Refusal::Redirect { redirect_uri, state, error, description } => {
                let mut pairs = vec![("error", error.as_str()), ("error_description", description.as_str())];
                if !state.is_empty() {
                    pairs.push(("state", state.as_str()));
                }
                found(&with_query(&redirect_uri, &pairs))
            }
            Refusal::Page(e) => match &tenant.config().oauth2.urls.error {
                Some(page) => {
                    let (code, description) = e.code_and_text();
                    found(&with_query(page.0.as_str(), &[("error", code), ("error_description", &description)]))
                }
                None => actix_web::ResponseError::error_response(&e),
            },
        }
    }
}

/// An error shown on the project's error page (or as JSON when it has none).
pub(super) fn page_error(tenant: &TenantContext, e: OAuth2Error) -> HttpResponse {
    Refusal::Page(e).respond(tenant)
}

fn redirect_error(request: &AuthRequest, e: OAuth2Error) -> Refusal {
    let (code, description) = e.code_and_text();
    Refusal::Redirect {
        redirect_uri: request.redirect_uri.clone(),
        state: request.state.clone(),
        error: code.to_owned(),
        description,
    }
}

async fn get(tenant: TenantContext, req: HttpRequest, svc: Svc, q: Query<Vec<(String, String)>>) -> HttpResponse {
    let params = q.into_inner();
    let query = req.query_string().to_owned();
    authorize(&tenant, &req, &svc, params, query).await.unwrap_or_else(|r| r.respond(&tenant))
}

async fn post(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> HttpResponse {
    let params = crate::api::form_pairs(&body);
    let query = String::from_utf8_lossy(&body).into_owned();
    authorize(&tenant, &req, &svc, params, query).await.unwrap_or_else(|r| r.respond(&tenant))
}

async fn authorize(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    params: Vec<(String, String)>,
    query: String,
) -> Result<HttpResponse, Refusal> {
    let base = tenant.public_base_url(req);
    let cookies = FlowCookies::new(&base, tenant.base_path());
    if let Some(verifier) = single(&params, "login_verifier")? {
        return super::challenges::after_login(tenant, req, svc, &cookies, verifier).await.map_err(Into::into);
    }
    if let Some(verifier) = single(&params, "consent_verifier")? {
        return after_consent(tenant, req, svc, &cookies, verifier).await;
    }
    let client_id = single(&params, "client_id")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `client_id` is missing.".into()))?;
    let stored = svc
        .store(tenant)
        .client(client_id)
        .await
        .map_err(OAuth2Error::from)?
        .ok_or_else(|| OAuth2Error::InvalidClient("The requested OAuth 2.0 Client does not exist.".into()))?;
    let client = &stored.client;
    let sent_redirect = single(&params, "redirect_uri")?;
    let redirect_uri = match sent_redirect {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            return Err(OAuth2Error::InvalidRequest(
                "The `redirect_uri` does not exactly match one of the client's registered redirect URIs.".into(),
            )
            .into());
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Err(OAuth2Error::InvalidRequest(
                "The `redirect_uri` is missing and the client does not have exactly one registered.".into(),
            )
            .into());
        }
    };
    let now = svc.now();
    let list = |key: &str| -> Result<Vec<String>, OAuth2Error> {
        Ok(split(&single(&params, key)?.into_iter().collect::<Vec<_>>()))
    };
    let mut request = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_sent: sent_redirect.is_some(),
        response_type: single(&params, "response_type")?.unwrap_or_default().to_owned(),
        scope: Vec::new(),
        audience: Vec::new(),
        state: single(&params, "state")?.unwrap_or_default().to_owned(),
        nonce: single(&params, "nonce")?.unwrap_or_default().to_owned(),
        code_challenge: single(&params, "code_challenge")?.unwrap_or_default().to_owned(),
        code_challenge_method: single(&params, "code_challenge_method")?.unwrap_or_default().to_owned(),
        prompt: list("prompt")?,
        max_age: None,
        login_hint: single(&params, "login_hint")?.unwrap_or_default().to_owned(),
        acr_values: list("acr_values")?,
        ui_locales: list("ui_locales")?,
        display: single(&params, "display")?.unwrap_or_default().to_owned(),
        request_url: format!("{base}/oauth2/auth?{query}"),
        requested_at: now,
        device_request: None,
    };
    // From here on the redirect URI is the client's: errors go there.
    validate_request(tenant, &stored, &params, &mut request).map_err(|e| redirect_error(&request, e))?;

    let keys = svc.keys(tenant.project_id());
    let remembered = match cookies.session_id(req, &keys) {
        Some(sid) => svc.store(tenant).login_session(&sid).await.map_err(OAuth2Error::from)?,
        None => None,
    };
    let usable = remembered.filter(|s| {
        let fresh = request.max_age.is_none_or(|age| s.authenticated_at + Duration::seconds(age) >= now);
        s.active
            && s.remember
            && s.expires_at.is_none_or(|e| e > now)
            && fresh
            && !request.prompt.iter().any(|p| p == "login")
    });
    if request.prompt.iter().any(|p| p == "none") && usable.is_none() {
        return Err(redirect_error(
            &request,
            OAuth2Error::Protocol(
                "login_required",
                "The Authorization Server requires End-User authentication.".into(),
            ),
        ));
    }
    let csrf = random_token();
    let ttl = tenant.config().oauth2.ttl.login_consent_request.0;
    let expires_at = now + Duration::try_from(ttl).unwrap_or(Duration::minutes(30));
    let flow = Flow::start(Uuid::now_v7(), request, usable.as_ref(), &csrf, expires_at);
    svc.store(tenant).insert_flow(&flow).await.map_err(OAuth2Error::from)?;
    Ok(to_login(tenant, &cookies, &flow, &csrf)?)
}

/// Sends the browser to the project's login app with the flow's challenge, setting the CSRF cookie that its
/// verifiers will be checked against.
pub(super) fn to_login(
    tenant: &TenantContext,
    cookies: &FlowCookies,
    flow: &Flow,
    csrf: &str,
) -> Result<HttpResponse, OAuth2Error> {
    let login_url = tenant
        .config()
        .oauth2
        .urls
        .login
        .as_ref()
        .map(|u| u.0.to_string())
        .ok_or_else(|| OAuth2Error::Internal("the project has no login URL configured".into()))?;
    let mut resp = found(&with_query(&login_url, &[("login_challenge", &flow.login_challenge)]));
    resp.add_cookie(&cookies.csrf(csrf)).map_err(|e| OAuth2Error::Internal(e.to_string()))?;
    Ok(resp)
}

/// Checks response type, grant, scopes, audience, state, nonce, PKCE, prompt and max_age against the client.
fn validate_request(
    tenant: &TenantContext,
    stored: &StoredClient,
    params: &[(String, String)],
    request: &mut AuthRequest,
) -> Result<(), OAuth2Error> {
    let client = &stored.client;
    let config = &tenant.config().oauth2;
    if request.response_type.is_empty() {
        return Err(OAuth2Error::InvalidRequest("The parameter `response_type` is missing.".into()));
    }
    if request.response_type != "code" {
        return Err(OAuth2Error::Protocol(
            "unsupported_response_type",
            format!("The response type `{}` is not served; use `code`.", request.response_type),
        ));
    }
    if !client.allows_response_type("code") || !client.allows_grant("authorization_code") {
        return Err(OAuth2Error::UnauthorizedClient(
            "The client is not allowed to request an authorization code (grant type `authorization_code`, response type `code`).".into(),
        ));
    }
    request.scope = split(&single(params, "scope")?.into_iter().collect::<Vec<_>>());
    check_scopes(client, config.strategies.scope, &request.scope)?;
    let audiences: Vec<&str> = params.iter().filter(|(k, _)| k == "audience").map(|(_, v)| v.as_str()).collect();
    request.audience = split(&audiences);
    check_audience(client, &request.audience)?;
    if request.state.len() < 8 {
        return Err(OAuth2Error::Protocol(
            "invalid_state",
            "The state is missing or has less than 8 characters and is therefore considered too weak.".into(),
        ));
    }
    if !request.nonce.is_empty() && request.nonce.len() < 8 {
        return Err(OAuth2Error::InvalidRequest(
            "The nonce has less than 8 characters and is therefore considered too weak.".into(),
        ));
    }
    if request.code_challenge.is_empty() {
        if config.oauth2.pkce.enforced || (client.is_public() && config.oauth2.pkce.enforced_for_public_clients) {
            return Err(OAuth2Error::InvalidRequest(
                "Clients must include a code_challenge when performing the authorize code flow (PKCE is enforced)."
                    .into(),
            ));
        }
        if !request.code_challenge_method.is_empty() {
            return Err(OAuth2Error::InvalidRequest(
                "A code_challenge_method was sent without a code_challenge.".into(),
            ));
        }
    } else {
        if request.code_challenge_method != "S256" {
            return Err(OAuth2Error::InvalidRequest(
                "The code_challenge_method must be `S256`; `plain` (the default when none is sent) is not allowed."
                    .into(),
            ));
        }
        let c = &request.code_challenge;
        if c.len() < 43 || c.len() > 128 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            return Err(OAuth2Error::InvalidRequest(
                "The code_challenge must be 43 to 128 unreserved characters.".into(),
            ));
        }
    }
    for p in &request.prompt {
        if !matches!(p.as_str(), "none" | "login" | "consent" | "select_account") {
            return Err(OAuth2Error::InvalidRequest(format!("Used unknown value `{p}` for prompt parameter.")));
        }
    }
    if request.prompt.iter().any(|p| p == "none") && request.prompt.len() > 1 {
        return Err(OAuth2Error::InvalidRequest(
            "Parameter `prompt` was set to `none` but contains other values as well.".into(),
        ));
    }
    if let Some(age) = single(params, "max_age")? {
        let age: i64 = age.parse().ok().filter(|a| *a >= 0).ok_or_else(|| {
            OAuth2Error::InvalidRequest("The parameter `max_age` must be a non-negative integer.".into())
        })?;
        request.max_age = Some(age);
    }
    Ok(())
}

/// Back from the consent app: issue the code (or pass the refusal on).
async fn after_consent(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    verifier: &str,
) -> Result<HttpResponse, Refusal> {
    let invalid = || {
        OAuth2Error::Protocol(
            "invalid_request",
            "The consent verifier has already been used, has not been granted, or is invalid.".into(),
        )
    };
    let digest = hex_digest(verifier);
    let mut flow = svc
        .store(tenant)
        .flow(FlowKey::ConsentVerifier(&digest))
        .await
        .map_err(OAuth2Error::from)?
        .ok_or_else(invalid)?;
    if flow.state != FlowState::ConsentHandled || flow.expires_at <= svc.now() || flow.request.device_request.is_some()
    {
        return Err(invalid().into());
    }
    if !cookies.csrf_matches(req, &flow.csrf_digest) {
        return Err(OAuth2Error::Protocol("request_forbidden", "The consent verifier was sent by another browser than the one that started the flow (CSRF cookie missing or different).".into()).into());
    }
    flow.state = FlowState::Done;
    if !svc.store(tenant).advance_flow(&flow, FlowState::ConsentHandled, None, None).await.map_err(OAuth2Error::from)? {
        return Err(invalid().into());
    }
    if let Some(denial) = &flow.consent_denied {
        return Err(denied(&flow.request, denial));
    }
    let consent = flow.consent.clone().ok_or_else(invalid)?;
    let now = svc.now();
    let remember_until =
        (consent.remember && consent.remember_for > 0).then(|| now + Duration::seconds(consent.remember_for));
    svc.store(tenant).insert_consent(&flow, remember_until).await.map_err(OAuth2Error::from)?;
    let login = flow.login.clone().ok_or_else(invalid)?;
    let ttl = tenant.config().oauth2.ttl.auth_code.0;
    let minted = svc.keys(tenant.project_id()).mint(TokenKind::AuthorizeCode);
    let scope = consent.grant_scope.join(" ");
    let extra = json!({
        "redirect_uri": flow.request.redirect_uri,
        "redirect_uri_sent": flow.request.redirect_uri_sent,
        "code_challenge": flow.request.code_challenge,
        "nonce": flow.request.nonce,
        "auth_time": login.authenticated_at.unix_timestamp(),
        "requested_at": flow.request.requested_at.unix_timestamp(),
        "sid": flow.login_session_id,
        "acr": login.acr,
        "amr": login.amr,
        "access_token_claims": consent.access_token_claims,
        "id_token_claims": consent.id_token_claims,
    });
    svc.store_token(
        tenant,
        &NewToken {
            signature: &minted.signature,
            kind: TokenKind::AuthorizeCode.as_str(),
            request_id: flow.id,
            client_id: &flow.request.client_id,
            subject: &flow.subject,
            scope: &scope,
            audience: &consent.grant_audience,
            extra: &extra,
            issued_at: now,
            expires_at: now + Duration::try_from(ttl).unwrap_or(Duration::minutes(10)),
        },
    )
    .await
    .map_err(OAuth2Error::from)?;
    let mut pairs = vec![("code", minted.token.as_str()), ("scope", scope.as_str())];
    if !flow.request.state.is_empty() {
        pairs.push(("state", flow.request.state.as_str()));
    }
    Ok(found(&with_query(&flow.request.redirect_uri, &pairs)))
}

/// A refusal from the login or consent app, sent to the client's redirect URI.
fn denied(request: &AuthRequest, denial: &Denial) -> Refusal {
    let error = if denial.error.is_empty() { "access_denied".to_owned() } else { denial.error.clone() };
    let mut description = denial.error_description.clone();
    if !denial.error_hint.is_empty() {
        description = format!("{description} {}", denial.error_hint).trim().to_owned();
    }
    Refusal::Redirect { redirect_uri: request.redirect_uri.clone(), state: request.state.clone(), error, description }
}

/// Records a login session for an accepted login and the cookie that remembers it (if asked to).
pub(super) async fn remember_login(
    tenant: &TenantContext,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    flow: &Flow,
) -> Result<Option<actix_web::cookie::Cookie<'static>>, OAuth2Error> {
    let Some(login) = &flow.login else { return Ok(None) };
    let now = svc.now();
    let expires_at = (login.remember && login.remember_for > 0).then(|| now + Duration::seconds(login.remember_for));
    svc.store(tenant)
        .upsert_login_session(&LoginSession {
            id: flow.login_session_id.clone(),
            subject: login.subject.clone(),
            remember: login.remember,
            authenticated_at: login.authenticated_at,
            expires_at,
            active: true,
        })
        .await?;
    if !login.remember {
        return Ok(None);
    }
    let max_age = (login.remember_for > 0).then(|| actix_web::cookie::time::Duration::seconds(login.remember_for));
    Ok(Some(cookies.session(&svc.keys(tenant.project_id()), &flow.login_session_id, max_age)))
}

/// The client's JSON as the login and consent apps see it.
pub(super) fn client_json(stored: &StoredClient) -> Value {
    stored.client.to_json(None)
}
