//! The device authorization grant (RFC 8628) as Hydra serves it.
//!
//! `POST /oauth2/device/auth` gives a device a device code (opaque `ory_dc_` token, polled at the token endpoint)
//! and a short user code, which the user enters in a browser at `/oauth2/device/verify`. The browser then goes
//! through the very login → consent journey of `/oauth2/auth` (a [`Flow`] whose request names the device
//! request and whose id is the device request's id); instead of a code for a redirect URI, the consent verifier
//! approves the device request with what was granted and sends the browser to `urls.device.success`.
//!
//! ```text
//! /oauth2/device/verify ──(no user_code)──▶ urls.device.verification?device_challenge
//!     ──PUT …/device/accept {user_code}──▶ /oauth2/device/verify?device_verifier ──┐
//! /oauth2/device/verify?user_code ─────────────────────────────────────────────────┴─▶ login ─▶ consent
//!     ──▶ /oauth2/device/verify?consent_verifier ──▶ device request approved ──▶ urls.device.success
//! ```
//!
//! A device request is `pending` until the consent verifier approves it (or a login or consent rejection denies
//! it), then `redeemed` by the one token request that wins the compare-and-set.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::authorize::{page_error, random_token, with_query};
use super::cookies::{FlowCookies, hex_digest};
use super::{AuthRequest, Denial, Flow, FlowState};
use crate::api::{form_pairs, json, no_store, parse_body, single};
use crate::error::OAuth2Error;
use crate::grant::auth::authenticate;
use crate::grant::scopes::{check_audience, check_scopes, split};
use crate::service::OAuth2Service;
use crate::store::{DeviceChallenge, FlowKey, StoreError};
use crate::token::TokenKind;

type Svc = Data<OAuth2Service>;

/// The grant type a client must be registered for.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Seconds a device waits between polls (RFC 8628 §3.2's default); faster polls get `slow_down`.
pub const POLL_INTERVAL: i64 = 5;

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O or 1/I to confuse), 20^8 ≈ 2^34.6 codes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH: usize = 8;

/// Where a device request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Redeemed].into_iter().find(|v| v.as_str() == s)
    }
}

/// What the user granted the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub subject: String,
    pub scope: Vec<String>,
    pub audience: Vec<String>,
    /// The login and consent facts (auth_time, sid, acr, amr, claims), as the code flow stores them with a code.
    pub session: Value,
}

/// One `/oauth2/device/auth` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub id: Uuid,
    pub client_id: String,
    pub state: DeviceState,
    pub scope: Vec<String>,
    pub audience: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub grant: Option<DeviceGrant>,
    pub denial: Option<Denial>,
    /// From its own column, not the document.
    #[serde(skip)]
    pub last_polled_at: Option<OffsetDateTime>,
}

/// Registers the device endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth2/device/auth").route(web::post().to(device_auth)))
        .service(web::resource("/oauth2/device/verify").route(web::get().to(verify)))
        .service(web::resource("/admin/oauth2/auth/requests/device/accept").route(web::put().to(accept)));
}

fn new_user_code() -> String {
    let mut rng = rand::rng();
    (0..USER_CODE_LENGTH).map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char).collect()
}

/// A user code as typed: case, spaces and dashes (`BDWP-HQPK`) do not matter.
pub fn normalize_user_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

/// `POST /oauth2/device/auth` (RFC 8628 §3.1–3.2).
async fn device_auth(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
        return Err(OAuth2Error::InvalidRequest(
            "The request must be form-encoded (application/x-www-form-urlencoded).".into(),
        ));
    }
    let form = form_pairs(&body);
    let stored = authenticate(&req, &tenant, &svc, &form).await?;
    let client = &stored.client;
    if !client.allows_grant(DEVICE_CODE_GRANT) {
        return Err(OAuth2Error::UnauthorizedClient(format!(
            "The client is not allowed to use the device authorization grant (grant type `{DEVICE_CODE_GRANT}`)."
        )));
    }
    let config = &tenant.config().oauth2;
    let scope = split(&single(&form, "scope")?.into_iter().collect::<Vec<_>>());
    check_scopes(client, config.strategies.scope, &scope)?;
    let audiences: Vec<&str> = form.iter().filter(|(k, _)| k == "audience").map(|(_, v)| v.as_str()).collect();
    let audience = split(&audiences);
    check_audience(client, &audience)?;

    let now = svc.now();
    let ttl = Duration::try_from(config.ttl.device_user_code.0).unwrap_or(Duration::minutes(15));
    let request = DeviceRequest {
        id: Uuid::now_v7(),
        client_id: client.client_id.clone(),
        state: DeviceState::Pending,
        scope,
        audience,
        requested_at: now,
        expires_at: now + ttl,
        grant: None,
        denial: None,
        last_polled_at: None,
    };
    let keys = svc.keys(tenant.project_id());
    let device_code = keys.mint(TokenKind::DeviceCode);
    let mut user_code = String::new();
    for attempt in 0..3 {
        user_code = new_user_code();
        match svc
            .store(&tenant)
            .insert_device_request(&request, &device_code.signature, &keys.user_code_digest(&user_code))
            .await
        {
            Ok(()) => break,
            Err(StoreError::Conflict) if attempt < 2 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let verification_uri = format!("{}/oauth2/device/verify", tenant.public_base_url(&req));
    let complete = with_query(&verification_uri, &[("user_code", &user_code)]);
    Ok(no_store(&json!({
        "device_code": device_code.token,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": complete,
        "expires_in": ttl.whole_seconds(),
        "interval": POLL_INTERVAL,
    })))
}

/// `GET /oauth2/device/verify`: the browser's side. Errors go to the project's error page.
async fn verify(tenant: TenantContext, req: HttpRequest, svc: Svc, q: Query<Vec<(String, String)>>) -> HttpResponse {
    let params = q.into_inner();
    verify_step(&tenant, &req, &svc, &params).await.unwrap_or_else(|e| page_error(&tenant, e))
}

async fn verify_step(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    params: &[(String, String)],
) -> Result<HttpResponse, OAuth2Error> {
    let base = tenant.public_base_url(req);
    let cookies = FlowCookies::new(&base, tenant.base_path());
    if let Some(verifier) = single(params, "login_verifier")? {
        return super::challenges::after_login(tenant, req, svc, &cookies, verifier).await;
    }
    if let Some(verifier) = single(params, "consent_verifier")? {
        return after_consent(tenant, req, svc, &cookies, verifier).await;
    }
    let unknown = || {
        OAuth2Error::InvalidRequest(
            "The user code is unknown, has expired, or was already used; start again on the device.".into(),
        )
    };
    if let Some(verifier) = single(params, "device_verifier")? {
        let invalid = || {
            OAuth2Error::InvalidRequest(
                "The device verifier has already been used, has not been granted, or is invalid.".into(),
            )
        };
        let digest = hex_digest(verifier);
        let challenge = svc.store(tenant).device_challenge(None, Some(&digest)).await?.ok_or_else(invalid)?;
        if challenge.state != "handled" || challenge.expires_at <= svc.now() {
            return Err(invalid());
        }
        if !cookies.csrf_matches(req, &challenge.csrf_digest) {
            return Err(OAuth2Error::Protocol("request_forbidden", "The device verifier was sent by another browser than the one that started the flow (CSRF cookie missing or different).".into()));
        }
        if !svc
            .store(tenant)
            .advance_device_challenge(&challenge.challenge, "handled", "done", None, None, None)
            .await?
        {
            return Err(invalid());
        }
        let id = challenge.device_request_id.ok_or_else(invalid)?;
        let device = svc.store(tenant).device_request(id).await?.ok_or_else(unknown)?;
        return start_login(tenant, req, svc, &cookies, &device).await;
    }
    if let Some(code) = single(params, "user_code")? {
        let digest = svc.keys(tenant.project_id()).user_code_digest(&normalize_user_code(code));
        let device = svc.store(tenant).device_request_by_user_code(&digest).await?.ok_or_else(unknown)?;
        return start_login(tenant, req, svc, &cookies, &device).await;
    }
    // No user code: the project's verification UI collects it and accepts the device challenge.
    let ui = tenant.config().oauth2.urls.device.verification.as_ref().map(|u| u.0.to_string()).ok_or_else(|| {
        OAuth2Error::InvalidRequest(
            "The parameter `user_code` is missing and the project has no device verification URL configured.".into(),
        )
    })?;
    let csrf = random_token();
    let ttl = tenant.config().oauth2.ttl.login_consent_request.0;
    let challenge = DeviceChallenge {
        challenge: random_token(),
        state: "unused".into(),
        csrf_digest: hex_digest(&csrf),
        request_url: format!("{base}/oauth2/device/verify"),
        device_request_id: None,
        redirect_to: String::new(),
        expires_at: svc.now() + Duration::try_from(ttl).unwrap_or(Duration::minutes(30)),
    };
    svc.store(tenant).insert_device_challenge(&challenge).await?;
    let mut resp = found(&with_query(&ui, &[("device_challenge", &challenge.challenge)]));
    resp.add_cookie(&cookies.csrf(&csrf)).map_err(|e| OAuth2Error::Internal(e.to_string()))?;
    Ok(resp)
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

/// Starts the login → consent journey for a pending device request: a flow whose id is the request's.
async fn start_login(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    device: &DeviceRequest,
) -> Result<HttpResponse, OAuth2Error> {
    let now = svc.now();
    if device.state != DeviceState::Pending || device.expires_at <= now {
        return Err(OAuth2Error::InvalidRequest(
            "The user code is unknown, has expired, or was already used; start again on the device.".into(),
        ));
    }
    let base = tenant.public_base_url(req);
    let keys = svc.keys(tenant.project_id());
    let remembered = match cookies.session_id(req, &keys) {
        Some(sid) => svc.store(tenant).login_session(&sid).await?,
        None => None,
    };
    let usable = remembered.filter(|s| s.active && s.remember && s.expires_at.is_none_or(|e| e > now));
    let request = AuthRequest {
        client_id: device.client_id.clone(),
        redirect_uri: String::new(),
        redirect_uri_sent: false,
        response_type: String::new(),
        scope: device.scope.clone(),
        audience: device.audience.clone(),
        state: String::new(),
        nonce: String::new(),
        code_challenge: String::new(),
        code_challenge_method: String::new(),
        prompt: Vec::new(),
        max_age: None,
        login_hint: String::new(),
        acr_values: Vec::new(),
        ui_locales: Vec::new(),
        display: String::new(),
        request_url: with_query(&format!("{base}/oauth2/device/verify"), &[("client_id", &device.client_id)]),
        requested_at: now,
        device_request: Some(device.id),
    };
    let csrf = random_token();
    let ttl = Duration::try_from(tenant.config().oauth2.ttl.login_consent_request.0).unwrap_or(Duration::minutes(30));
    let flow = Flow::start(device.id, request, usable.as_ref(), &csrf, (now + ttl).min(device.expires_at));
    svc.store(tenant).drop_unfinished_device_flow(device.id).await?;
    svc.store(tenant).insert_flow(&flow).await?;
    super::authorize::to_login(tenant, cookies, &flow, &csrf)
}

/// Back from the consent app: approve the device request with what was granted (or deny it).
async fn after_consent(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    verifier: &str,
) -> Result<HttpResponse, OAuth2Error> {
    let invalid = || {
        OAuth2Error::InvalidRequest(
            "The consent verifier has already been used, has not been granted, or is invalid.".into(),
        )
    };
    let digest = hex_digest(verifier);
    let mut flow = svc.store(tenant).flow(FlowKey::ConsentVerifier(&digest)).await?.ok_or_else(invalid)?;
    if flow.state != FlowState::ConsentHandled || flow.expires_at <= svc.now() || flow.request.device_request.is_none()
    {
        return Err(invalid());
    }
    if !cookies.csrf_matches(req, &flow.csrf_digest) {
        return Err(OAuth2Error::Protocol("request_forbidden", "The consent verifier was sent by another browser than the one that started the flow (CSRF cookie missing or different).".into()));
    }
    flow.state = FlowState::Done;
    if !svc.store(tenant).advance_flow(&flow, FlowState::ConsentHandled, None, None).await? {
        return Err(invalid());
    }
    if let Some(denial) = flow.consent_denied.clone() {
        return refused(tenant, svc, &flow, &denial).await;
    }
    let consent = flow.consent.clone().ok_or_else(invalid)?;
    let login = flow.login.clone().ok_or_else(invalid)?;
    let now = svc.now();
    let remember_until =
        (consent.remember && consent.remember_for > 0).then(|| now + Duration::seconds(consent.remember_for));
    svc.store(tenant).insert_consent(&flow, remember_until).await?;
    let id = flow.request.device_request.ok_or_else(invalid)?;
    let mut device = svc.store(tenant).device_request(id).await?.ok_or_else(invalid)?;
    device.state = DeviceState::Approved;
    device.grant = Some(DeviceGrant {
        subject: flow.subject.clone(),
        scope: consent.grant_scope.clone(),
        audience: consent.grant_audience.clone(),
        session: json!({
            "auth_time": login.authenticated_at.unix_timestamp(),
            "requested_at": device.requested_at.unix_timestamp(),
            "sid": flow.login_session_id,
            "acr": login.acr,
            "amr": login.amr,
            "access_token_claims": consent.access_token_claims,
            "id_token_claims": consent.id_token_claims,
        }),
    });
    if !svc.store(tenant).finish_device_request(&device, now).await? {
        return Err(OAuth2Error::InvalidRequest(
            "The device request has expired or was already approved or denied; start again on the device.".into(),
        ));
    }
    Ok(success(tenant, &flow.request.client_id))
}

/// A login or consent rejection of a device flow: the device request is denied (the device learns
/// `access_denied`), the browser goes to the error page.
pub(super) async fn refused(
    tenant: &TenantContext,
    svc: &OAuth2Service,
    flow: &Flow,
    denial: &Denial,
) -> Result<HttpResponse, OAuth2Error> {
    if let Some(id) = flow.request.device_request
        && let Some(mut device) = svc.store(tenant).device_request(id).await?
    {
        device.state = DeviceState::Denied;
        device.denial = Some(denial.clone());
        svc.store(tenant).finish_device_request(&device, svc.now()).await?;
    }
    let description = format!("{} {}", denial.error_description, denial.error_hint).trim().to_owned();
    let code = if denial.error.is_empty() { "access_denied" } else { denial.error.as_str() };
    Ok(page_error(tenant, OAuth2Error::Protocol(static_code(code), description)))
}

/// Error codes are `&'static str` in [`OAuth2Error::Protocol`]; a rejection's own code is mapped onto the known ones.
fn static_code(code: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "access_denied",
        "login_required",
        "consent_required",
        "interaction_required",
        "account_selection_required",
        "invalid_request",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "request_forbidden",
    ];
    KNOWN.iter().find(|k| **k == code).copied().unwrap_or("access_denied")
}

/// Where the browser goes once the device is approved: `urls.device.success?client_id=`, or a plain page.
fn success(tenant: &TenantContext, client_id: &str) -> HttpResponse {
    match &tenant.config().oauth2.urls.device.success {
        Some(url) => found(&with_query(url.0.as_str(), &[("client_id", client_id)])),
        None => HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(
            "<!doctype html><title>Device approved</title><p>Your device is signed in. You can close this window.</p>",
        ),
    }
}

/// Body of `PUT /admin/oauth2/auth/requests/device/accept`.
#[derive(Debug, Deserialize)]
struct AcceptDevice {
    #[serde(default)]
    user_code: String,
}

/// The verification UI accepts a device challenge with the user code it collected; `{redirect_to}` continues the
/// browser into login. A second accept answers 410 with the same `redirect_to`.
async fn accept(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let params = q.into_inner();
    let challenge = single(&params, "device_challenge")?.ok_or_else(|| {
        OAuth2Error::InvalidRequest("Query parameter 'device_challenge' is not defined but should have been.".into())
    })?;
    let body: AcceptDevice = parse_body(&body)?;
    if body.user_code.trim().is_empty() {
        return Err(OAuth2Error::InvalidRequest("Field 'user_code' must not be empty.".into()));
    }
    let now = svc.now();
    let found = svc.store(&tenant).device_challenge(Some(challenge), None).await?.ok_or(OAuth2Error::NotFound)?;
    if found.expires_at <= now {
        return Err(OAuth2Error::NotFound);
    }
    if found.state != "unused" {
        return Err(OAuth2Error::AlreadyHandled { redirect_to: found.redirect_to });
    }
    let digest = svc.keys(tenant.project_id()).user_code_digest(&normalize_user_code(&body.user_code));
    let device = svc
        .store(&tenant)
        .device_request_by_user_code(&digest)
        .await?
        .filter(|d| d.state == DeviceState::Pending && d.expires_at > now)
        .ok_or_else(|| {
            OAuth2Error::InvalidRequest(
                "The 'user_code' session could not be found or has expired or is otherwise malformed.".into(),
            )
        })?;
    let verifier = random_token();
    let redirect_to =
        with_query(&found.request_url, &[("device_verifier", &verifier), ("client_id", &device.client_id)]);
    if !svc
        .store(&tenant)
        .advance_device_challenge(
            &found.challenge,
            "unused",
            "handled",
            Some(&hex_digest(&verifier)),
            Some(device.id),
            Some(&redirect_to),
        )
        .await?
    {
        let current = svc.store(&tenant).device_challenge(Some(challenge), None).await?;
        return Err(OAuth2Error::AlreadyHandled { redirect_to: current.map(|c| c.redirect_to).unwrap_or_default() });
    }
    Ok(json(StatusCode::OK, &json!({"redirect_to": redirect_to})))
}
