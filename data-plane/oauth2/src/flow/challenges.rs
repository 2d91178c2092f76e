//! Hydra's challenge API, used by the project's login and consent apps with the project API key:
//! get / accept / reject a login or consent request, list and revoke consent sessions, revoke login sessions.
//! Accepting or rejecting issues a one-time verifier and answers `{"redirect_to"}`, which the app sends the
//! browser to; a second accept or reject answers 410 with the same `redirect_to`.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tessera_platform::query::Params;
use tessera_platform::tenant::TenantContext;

use super::authorize::{client_json, random_token, remember_login, with_query};
use super::cookies::{FlowCookies, hex_digest};
use super::{ConsentResult, Denial, Flow, FlowState, LoginResult};
use crate::api::{json, parse_body};
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::FlowKey;

type Svc = Data<OAuth2Service>;

/// Registers the challenge API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/oauth2/auth/requests/login").route(web::get().to(get_login)))
        .service(web::resource("/admin/oauth2/auth/requests/login/accept").route(web::put().to(accept_login)))
        .service(web::resource("/admin/oauth2/auth/requests/login/reject").route(web::put().to(reject_login)))
        .service(web::resource("/admin/oauth2/auth/requests/consent").route(web::get().to(get_consent)))
        .service(web::resource("/admin/oauth2/auth/requests/consent/accept").route(web::put().to(accept_consent)))
        .service(web::resource("/admin/oauth2/auth/requests/consent/reject").route(web::put().to(reject_consent)))
        .service(
            web::resource("/admin/oauth2/auth/sessions/consent")
                .route(web::get().to(list_consents))
                .route(web::delete().to(revoke_consents)),
        )
        .service(web::resource("/admin/oauth2/auth/sessions/login").route(web::delete().to(revoke_logins)));
}

fn param<'a>(params: &'a Params, key: &str) -> Result<&'a str, OAuth2Error> {
    params
        .get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuth2Error::BadRequest(format!("The query parameter `{key}` is required.")))
}

async fn flow_of(svc: &OAuth2Service, tenant: &TenantContext, key: FlowKey<'_>) -> Result<Flow, OAuth2Error> {
    let flow = svc.store(tenant).flow(key).await?.ok_or(OAuth2Error::NotFound)?;
    if flow.expires_at <= svc.now() && flow.state != FlowState::Done {
        return Err(OAuth2Error::NotFound);
    }
    Ok(flow)
}

/// Which of the two challenges a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Login,
    Consent,
}

impl Step {
    fn param(self) -> &'static str {
        match self {
            Step::Login => "login_challenge",
            Step::Consent => "consent_challenge",
        }
    }

    fn unused(self) -> FlowState {
        match self {
            Step::Login => FlowState::LoginUnused,
            Step::Consent => FlowState::ConsentUnused,
        }
    }

    fn redirect(self, flow: &Flow) -> String {
        match self {
            Step::Login => flow.login_redirect.clone(),
            Step::Consent => flow.consent_redirect.clone(),
        }
    }
}

/// The flow a login or consent request names, while it still waits for the app: 404 when unknown, 410 with the
/// earlier `redirect_to` when it was handled.
async fn pending(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    q: Query<Vec<(String, String)>>,
    step: Step,
) -> Result<Flow, OAuth2Error> {
    let params = Params::from(q);
    let value = param(&params, step.param())?;
    let key = match step {
        Step::Login => FlowKey::LoginChallenge(value),
        Step::Consent => FlowKey::ConsentChallenge(value),
    };
    let flow = flow_of(svc, tenant, key).await?;
    if flow.state != step.unused() {
        return Err(OAuth2Error::AlreadyHandled { redirect_to: step.redirect(&flow) });
    }
    Ok(flow)
}

async fn client_of(svc: &OAuth2Service, tenant: &TenantContext, flow: &Flow) -> Result<Value, OAuth2Error> {
    let client = svc.store(tenant).client(&flow.request.client_id).await?.ok_or(OAuth2Error::NotFound)?;
    Ok(client_json(&client))
}

/// The flow's original `/oauth2/auth` URL with a verifier appended.
fn back_to_auth(flow: &Flow, key: &str, verifier: &str) -> String {
    with_query(&flow.request.request_url, &[(key, verifier)])
}

async fn get_login(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let flow = pending(&svc, &tenant, q, Step::Login).await?;
    Ok(json(StatusCode::OK, &flow.login_request_json(client_of(&svc, &tenant, &flow).await?)))
}

/// Body of `PUT …/login/accept`.
#[derive(Debug, Deserialize)]
struct AcceptLogin {
    subject: String,
    #[serde(default)]
    remember: bool,
    #[serde(default)]
    remember_for: i64,
    #[serde(default)]
    acr: String,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default)]
    context: Option<Value>,
}

/// Moves a login or consent request to "handled" and answers `redirect_to`.
async fn handle(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    mut flow: Flow,
    from: FlowState,
    login: bool,
) -> Result<HttpResponse, OAuth2Error> {
    let verifier = random_token();
    let digest = hex_digest(&verifier);
    let redirect_to = back_to_auth(&flow, if login { "login_verifier" } else { "consent_verifier" }, &verifier);
    if login {
        flow.state = FlowState::LoginHandled;
        flow.login_redirect = redirect_to.clone();
    } else {
        flow.state = FlowState::ConsentHandled;
        flow.consent_redirect = redirect_to.clone();
    }
    let (lv, cv) = if login { (Some(digest.as_str()), None) } else { (None, Some(digest.as_str())) };
    if !svc.store(tenant).advance_flow(&flow, from, lv, cv).await? {
        let current = svc.store(tenant).flow(FlowKey::LoginChallenge(&flow.login_challenge)).await?;
        let redirect_to =
            current.map(|f| if login { f.login_redirect } else { f.consent_redirect }).unwrap_or_default();
        return Err(OAuth2Error::AlreadyHandled { redirect_to });
    }
    Ok(json(StatusCode::OK, &json!({"redirect_to": redirect_to})))
}

async fn accept_login(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let mut flow = pending(&svc, &tenant, q, Step::Login).await?;
    let body: AcceptLogin = parse_body(&body)?;
    if body.subject.is_empty() || body.subject.len() > 1024 {
        return Err(OAuth2Error::BadRequest("Field `subject` must be 1 to 1024 characters.".into()));
    }
    if flow.login_skip && body.subject != flow.subject {
        return Err(OAuth2Error::BadRequest(
            "Field `subject` does not match the subject of the remembered login session; the login request was skipped for it.".into(),
        ));
    }
    if body.remember_for < 0 {
        return Err(OAuth2Error::BadRequest("Field `remember_for` must not be negative.".into()));
    }
    let previous = match svc.store(&tenant).login_session(&flow.login_session_id).await? {
        Some(s) if flow.login_skip => Some(s.authenticated_at),
        _ => None,
    };
    flow.subject = body.subject.clone();
    flow.login = Some(LoginResult {
        subject: body.subject,
        remember: body.remember,
        remember_for: body.remember_for,
        acr: body.acr,
        amr: body.amr,
        context: body.context.filter(|c| !c.is_null()).unwrap_or(Value::Object(Map::new())),
        authenticated_at: previous.unwrap_or_else(|| svc.now()),
    });
    handle(&svc, &tenant, flow, FlowState::LoginUnused, true).await
}

async fn reject_login(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let mut flow = pending(&svc, &tenant, q, Step::Login).await?;
    flow.login_denied = Some(parse_body(&body)?);
    handle(&svc, &tenant, flow, FlowState::LoginUnused, true).await
}

/// Back from the login app (`/oauth2/auth?login_verifier=`): remember the login, then ask for consent (or skip
/// it when a remembered consent covers the request).
pub async fn after_login(
    tenant: &TenantContext,
    req: &HttpRequest,
    svc: &OAuth2Service,
    cookies: &FlowCookies,
    verifier: &str,
) -> Result<HttpResponse, OAuth2Error> {
    let invalid = || {
        OAuth2Error::Protocol(
            "invalid_request",
            "The login verifier has already been used, has not been granted, or is invalid.".into(),
        )
    };
    let digest = hex_digest(verifier);
    let mut flow = svc.store(tenant).flow(FlowKey::LoginVerifier(&digest)).await?.ok_or_else(invalid)?;
    if flow.state != FlowState::LoginHandled || flow.expires_at <= svc.now() {
        return Err(invalid());
    }
    if !cookies.csrf_matches(req, &flow.csrf_digest) {
        return Err(OAuth2Error::Protocol("request_forbidden", "The login verifier was sent by another browser than the one that started the flow (CSRF cookie missing or different).".into()));
    }
    if let Some(denial) = flow.login_denied.clone() {
        flow.state = FlowState::Done;
        if !svc.store(tenant).advance_flow(&flow, FlowState::LoginHandled, None, None).await? {
            return Err(invalid());
        }
        if flow.request.device_request.is_some() {
            return super::device::refused(tenant, svc, &flow, &denial).await;
        }
        return Ok(redirect_refusal(&flow, &denial));
    }
    let now = svc.now();
    let client = svc.store(tenant).client(&flow.request.client_id).await?.ok_or_else(invalid)?;
    let remembered = svc.store(tenant).consents(&flow.subject, Some(&flow.request.client_id), true, now, 20).await?;
    let covered = remembered.iter().filter_map(|f| f.consent.as_ref()).any(|c| {
        flow.request.scope.iter().all(|s| c.grant_scope.contains(s))
            && flow.request.audience.iter().all(|a| c.grant_audience.contains(a))
    });
    let forced = flow.request.prompt.iter().any(|p| p == "consent");
    // A public client's device flow never skips consent: the user must see what the device asks for, as in Hydra.
    let device_public = flow.request.device_request.is_some() && client.client.is_public();
    flow.consent_skip = (client.client.skip_consent || covered) && !forced && !device_public;
    flow.consent_challenge = Some(random_token());
    flow.state = FlowState::ConsentUnused;
    if !svc.store(tenant).advance_flow(&flow, FlowState::LoginHandled, None, None).await? {
        return Err(invalid());
    }
    let consent_url = tenant
        .config()
        .oauth2
        .urls
        .consent
        .as_ref()
        .map(|u| u.0.to_string())
        .ok_or_else(|| OAuth2Error::Internal("the project has no consent URL configured".into()))?;
    let challenge = flow.consent_challenge.clone().unwrap_or_default();
    let mut resp = HttpResponse::Found()
        .insert_header((
            actix_web::http::header::LOCATION,
            with_query(&consent_url, &[("consent_challenge", &challenge)]),
        ))
        .finish();
    if let Some(cookie) = remember_login(tenant, svc, cookies, &flow).await? {
        resp.add_cookie(&cookie).map_err(|e| OAuth2Error::Internal(e.to_string()))?;
    }
    Ok(resp)
}

fn redirect_refusal(flow: &Flow, denial: &Denial) -> HttpResponse {
    let error = if denial.error.is_empty() { "access_denied" } else { denial.error.as_str() };
    let description = format!("{} {}", denial.error_description, denial.error_hint).trim().to_owned();
    let mut pairs = vec![("error", error), ("error_description", description.as_str())];
    if !flow.request.state.is_empty() {
        pairs.push(("state", flow.request.state.as_str()));
    }
    HttpResponse::Found()
        .insert_header((actix_web::http::header::LOCATION, with_query(&flow.request.redirect_uri, &pairs)))
        .finish()
}

async fn get_consent(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let flow = pending(&svc, &tenant, q, Step::Consent).await?;
    Ok(json(StatusCode::OK, &flow.consent_request_json(client_of(&svc, &tenant, &flow).await?)))
}

/// Body of `PUT …/consent/accept`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AcceptConsent {
    grant_scope: Vec<String>,
    grant_access_token_audience: Vec<String>,
    remember: bool,
    remember_for: i64,
    session: Option<ConsentSessionBody>,
    context: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConsentSessionBody {
    access_token: Option<Value>,
    id_token: Option<Value>,
}

fn claims(v: Option<Value>, field: &str) -> Result<Value, OAuth2Error> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(o)) if Value::Object(o.clone()).to_string().len() <= 16 * 1024 => Ok(Value::Object(o)),
        Some(Value::Object(_)) => {
            Err(OAuth2Error::BadRequest(format!("Field `session.{field}` is larger than 16 KiB.")))
        }
        Some(_) => Err(OAuth2Error::BadRequest(format!("Field `session.{field}` must be an object."))),
    }
}

async fn accept_consent(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let mut flow = pending(&svc, &tenant, q, Step::Consent).await?;
    let body: AcceptConsent = parse_body(&body)?;
    if body.remember_for < 0 {
        return Err(OAuth2Error::BadRequest("Field `remember_for` must not be negative.".into()));
    }
    let client = svc.store(&tenant).client(&flow.request.client_id).await?.ok_or(OAuth2Error::NotFound)?;
    let strategy = tenant.config().oauth2.strategies.scope;
    crate::grant::scopes::check_scopes(&client.client, strategy, &body.grant_scope)
        .map_err(|e| OAuth2Error::BadRequest(format!("A granted scope is not allowed for this client: {e}")))?;
    crate::grant::scopes::check_audience(&client.client, &body.grant_access_token_audience)
        .map_err(|e| OAuth2Error::BadRequest(format!("A granted audience is not allowed for this client: {e}")))?;
    let session = body.session.unwrap_or_default();
    flow.consent = Some(ConsentResult {
        grant_scope: body.grant_scope,
        grant_audience: body.grant_access_token_audience,
        remember: body.remember,
        remember_for: body.remember_for,
        access_token_claims: claims(session.access_token, "access_token")?,
        id_token_claims: claims(session.id_token, "id_token")?,
        context: body.context.filter(|c| !c.is_null()).unwrap_or(Value::Object(Map::new())),
        handled_at: svc.now(),
    });
    handle(&svc, &tenant, flow, FlowState::ConsentUnused, false).await
}

async fn reject_consent(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let mut flow = pending(&svc, &tenant, q, Step::Consent).await?;
    flow.consent_denied = Some(parse_body(&body)?);
    handle(&svc, &tenant, flow, FlowState::ConsentUnused, false).await
}

async fn list_consents(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let params = Params::from(q);
    let subject = param(&params, "subject")?;
    let size = params.int("page_size")?.unwrap_or(250).clamp(1, 500);
    let sessions = svc.store(&tenant).consents(subject, None, false, svc.now(), size).await?;
    let sid = params.get("login_session_id").filter(|s| !s.is_empty());
    let mut body = Vec::new();
    for flow in sessions.iter().filter(|f| sid.is_none_or(|s| f.login_session_id == s)) {
        let client = match svc.store(&tenant).client(&flow.request.client_id).await? {
            Some(c) => client_json(&c),
            None => continue,
        };
        body.push(flow.consent_session_json(client));
    }
    Ok(json(StatusCode::OK, &Value::Array(body)))
}

async fn revoke_consents(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let params = Params::from(q);
    let subject = param(&params, "subject")?;
    let client = params.get("client").filter(|c| !c.is_empty());
    let all = params.bool("all")?.unwrap_or(false);
    if client.is_none() && !all {
        return Err(OAuth2Error::BadRequest("Either `client` or `all=true` is required.".into()));
    }
    for flow_id in svc.store(&tenant).revoke_consents(subject, client).await? {
        svc.store(&tenant).revoke_request(flow_id).await?;
        svc.tokens_revoked();
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn revoke_logins(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let params = Params::from(q);
    let subject = params.get("subject").filter(|s| !s.is_empty());
    let sid = params.get("sid").filter(|s| !s.is_empty());
    if subject.is_none() && sid.is_none() {
        return Err(OAuth2Error::BadRequest("Either `subject` or `sid` is required.".into()));
    }
    svc.store(&tenant).revoke_login_sessions(subject, sid).await?;
    Ok(HttpResponse::NoContent().finish())
}
