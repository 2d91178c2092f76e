//! The self-service routes: init (api and browser), fetch and submit for login, registration and settings;
//! logout; and the error page's endpoint.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;
use tessera_platform::tenant::TenantContext;
use uuid::Uuid;

use super::flow::{Flow, FlowKind, FlowType};
use super::ui::text;
use super::{
    Ctx, Failure, add_cookie, csrf, json_response, login, logout, registration, request, return_to, see_other,
    settings, with_query,
};
use crate::api::Params;
use crate::error::IdentityError;
use crate::model::{FlowErrorId, FlowId};
use crate::service::IdentityService;
use crate::wire::timestamp;

/// Registers the self-service routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for kind in [FlowKind::Login, FlowKind::Registration, FlowKind::Settings] {
        let k = kind.as_str();
        cfg.route(
            &format!("/self-service/{k}/api"),
            web::get().to(move |t, r, s, q| init(kind, FlowType::Api, t, r, s, q)),
        )
        .route(
            &format!("/self-service/{k}/browser"),
            web::get().to(move |t, r, s, q| init(kind, FlowType::Browser, t, r, s, q)),
        )
        .route(&format!("/self-service/{k}/flows"), web::get().to(move |t, r, s, q| fetch(kind, t, r, s, q)))
        .route(&format!("/self-service/{k}"), web::post().to(move |t, r, s, q, b| submit(kind, t, r, s, q, b)));
    }
    cfg.route("/self-service/logout/browser", web::get().to(logout_browser))
        .route("/self-service/logout", web::get().to(logout_get))
        .route("/self-service/logout/api", web::delete().to(logout_api))
        .route("/self-service/errors", web::get().to(errors));
}

type Svc = Data<IdentityService>;

/// Init parameters.
#[derive(Debug, Default)]
pub struct FlowParams {
    pub return_to: Option<String>,
    pub refresh: bool,
    pub aal: Option<String>,
}

async fn init(
    kind: FlowKind,
    flow_type: FlowType,
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> HttpResponse {
    let mut ctx = Ctx::new(&svc, &tenant, &req);
    if flow_type == FlowType::Api {
        ctx.json = true;
    }
    let params = Params::from(q);
    match init_inner(&ctx, kind, flow_type, &params).await {
        Ok(resp) => resp,
        Err(f) => ctx.fail(f, flow_type).await,
    }
}

async fn init_inner(
    ctx: &Ctx<'_>,
    kind: FlowKind,
    flow_type: FlowType,
    params: &Params,
) -> Result<HttpResponse, Failure> {
    let return_to = match params.get("return_to").filter(|r| !r.is_empty()) {
        Some(r) => Some(return_to::check(ctx.tenant, &ctx.urls, r)?.to_string()),
        None => None,
    };
    let flow_params = FlowParams {
        return_to: return_to.clone(),
        refresh: params.bool("refresh").map_err(IdentityError::from)?.unwrap_or(false),
        aal: params.get("aal").map(str::to_owned),
    };
    let session = ctx.session().await?;
    let mut new_cookie = None;
    let csrf_token = match flow_type {
        FlowType::Api => String::new(),
        FlowType::Browser => match csrf::from_cookie(ctx.req, &ctx.urls).filter(|t| csrf::is_well_formed(t)) {
            Some(t) => t,
            None => {
                let t = csrf::generate();
                new_cookie = Some(csrf::cookie(&ctx.urls, &t));
                t
            }
        },
    };
    let request_url = ctx.urls.url(&ctx.req.uri().to_string());
    let now = ctx.svc.now();
    let mut flow =
        Flow::new(kind, flow_type, &ctx.urls, request_url, return_to, now, kind.lifespan(ctx.tenant), csrf_token);
    let early = match kind {
        FlowKind::Login => login::init(ctx, &mut flow, session.as_ref(), &flow_params).await?,
        FlowKind::Registration => registration::init(ctx, &mut flow, session.as_ref())?,
        FlowKind::Settings => settings::init(ctx, &mut flow, session.as_ref())?,
    };
    let mut resp = match early {
        Some(resp) => resp,
        None => {
            ctx.svc.store(ctx.tenant).insert_flow(&flow.record()).await?;
            if flow_type == FlowType::Browser && !ctx.json {
                see_other(&with_query(&kind.ui_url(ctx.tenant, &ctx.urls), "flow", &flow.id.to_string()))
            } else {
                let identity = session.as_ref().filter(|_| kind == FlowKind::Settings).map(|s| &s.identity);
                json_response(StatusCode::OK, &flow.render(&ctx.urls, identity))
            }
        }
    };
    if let Some(c) = new_cookie {
        add_cookie(&mut resp, c);
    }
    Ok(resp)
}

async fn load_flow(ctx: &Ctx<'_>, kind: FlowKind, params: &Params, key: &str) -> Result<Flow, IdentityError> {
    let Some(raw) = params.get(key).filter(|v| !v.is_empty()) else {
        return Err(IdentityError::BadRequest(format!("The `{key}` query parameter is missing.")));
    };
    let not_found = || IdentityError::NotFound("Unable to locate the resource".into());
    let id = Uuid::parse_str(raw).map_err(|_| not_found())?;
    let record = ctx.svc.store(ctx.tenant).flow(FlowId(id), kind.as_str()).await?.ok_or_else(not_found)?;
    Flow::from_record(&record)
}

async fn fetch(
    kind: FlowKind,
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> HttpResponse {
    let ctx = Ctx::new(&svc, &tenant, &req);
    match fetch_inner(&ctx, kind, &Params::from(q)).await {
        Ok(resp) => resp,
        Err(e) => e.error_response(),
    }
}

async fn fetch_inner(ctx: &Ctx<'_>, kind: FlowKind, params: &Params) -> Result<HttpResponse, IdentityError> {
    let flow = load_flow(ctx, kind, params, "id").await?;
    if flow.flow_type == FlowType::Browser {
        // Only the browser that started the flow may read it (its CSRF cookie holds the flow's token).
        let cookie = csrf::from_cookie(ctx.req, &ctx.urls);
        if !cookie.is_some_and(|c| csrf::matches(&flow.csrf_token, &c)) {
            return Err(IdentityError::Csrf {
                reject_reason: "The flow was started in another browser or the anti-CSRF cookie is missing.",
            });
        }
    }
    let identity = if kind == FlowKind::Settings {
        match settings::owner(ctx, &flow).await {
            Ok(s) => Some(s.identity),
            Err(Failure::Error(e)) => return Err(e),
            Err(Failure::Invalid(_)) => return Err(IdentityError::Internal),
        }
    } else {
        None
    };
    if flow.is_expired(ctx.svc.now()) {
        let k = kind.as_str();
        let (reason, details) = match flow.flow_type {
            FlowType::Browser => {
                let mut to = ctx.urls.url(&format!("/self-service/{k}/browser"));
                if let Some(r) = &flow.return_to {
                    to = with_query(&to, "return_to", r);
                }
                (
                    format!(
                        "The {k} flow has expired. Redirect the user to the {k} flow init endpoint to initialize a new {k} flow."
                    ),
                    json!({"redirect_to": to, "return_to": flow.return_to.clone().unwrap_or_default()}),
                )
            }
            FlowType::Api => (
                format!("The {k} flow has expired. Call the {k} flow init API endpoint to initialize a new {k} flow."),
                json!({"api": ctx.urls.url(&format!("/self-service/{k}/api"))}),
            ),
        };
        return Err(IdentityError::FlowExpiredFetch { reason, details });
    }
    Ok(json_response(StatusCode::OK, &flow.render(&ctx.urls, identity.as_ref())))
}

async fn submit(
    kind: FlowKind,
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> HttpResponse {
    let mut ctx = Ctx::new(&svc, &tenant, &req);
    let params = Params::from(q);
    let mut flow = match load_flow(&ctx, kind, &params, "flow").await {
        Ok(f) => f,
        Err(e) => return ctx.fail(Failure::Error(e), FlowType::Browser).await,
    };
    if flow.flow_type == FlowType::Api {
        ctx.json = true;
    }
    match submit_inner(&ctx, &mut flow, &body).await {
        Ok(resp) => resp,
        Err(f) => ctx.fail(f, flow.flow_type).await,
    }
}

async fn submit_inner(ctx: &Ctx<'_>, flow: &mut Flow, body: &[u8]) -> Result<HttpResponse, Failure> {
    let submitted = request::parse_submission(ctx.req, body)?;
    match flow.flow_type {
        FlowType::Api => {
            if let Some(reason) = request::browser_signal(ctx.req) {
                flow.ui.clear_messages();
                flow.ui.messages.push(text::generic(reason));
                ctx.save(flow).await?;
                return Err(Failure::Invalid(Box::new(flow.clone())));
            }
        }
        FlowType::Browser => csrf::verify(ctx.req, &ctx.urls, request::field(&submitted, "csrf_token"))?,
    }
    let now = ctx.svc.now();
    if flow.is_expired(now) {
        return expired(ctx, flow).await;
    }
    if flow.state == "passed_challenge" {
        flow.ui.clear_messages();
        flow.ui.messages.push(text::generic("This flow was already completed; start a new one."));
        return Err(Failure::Invalid(Box::new(flow.clone())));
    }
    match flow.kind {
        FlowKind::Login => login::submit(ctx, flow, &submitted).await,
        FlowKind::Registration => registration::submit(ctx, flow, &submitted).await,
        FlowKind::Settings => settings::submit(ctx, flow, &submitted).await,
    }
}

/// A submission of an expired flow: a new flow to continue with, carrying the "expired" message.
async fn expired(ctx: &Ctx<'_>, old: &Flow) -> Result<HttpResponse, Failure> {
    let now = ctx.svc.now();
    let session = ctx.session().await?;
    let mut flow = Flow::new(
        old.kind,
        old.flow_type,
        &ctx.urls,
        old.request_url.clone(),
        old.return_to.clone(),
        now,
        old.kind.lifespan(ctx.tenant),
        old.csrf_token.clone(),
    );
    match old.kind {
        FlowKind::Login => login::populate(ctx, &mut flow, None)?,
        FlowKind::Registration => registration::populate(ctx, &mut flow)?,
        FlowKind::Settings => {
            let s = session
                .as_ref()
                .ok_or(IdentityError::SessionInactive { reason: "No active session was found in this request." })?;
            flow.identity_id = Some(s.identity.id);
            settings::populate(ctx, &mut flow, &s.identity)?;
        }
    }
    let since = now - old.expires_at;
    let kind = old.kind.as_str();
    flow.ui.messages.push(text::expired(
        old.kind.expired_message_id(),
        kind,
        since.as_seconds_f64() / 60.0,
        &timestamp(old.expires_at),
        old.expires_at.unix_timestamp(),
    ));
    ctx.svc.store(ctx.tenant).insert_flow(&flow.record()).await?;
    if old.flow_type == FlowType::Browser && !ctx.json {
        return Ok(see_other(&with_query(&old.kind.ui_url(ctx.tenant, &ctx.urls), "flow", &flow.id.to_string())));
    }
    Err(IdentityError::FlowExpired {
        expired_at: old.expires_at,
        since_nanos: since.whole_nanoseconds(),
        use_flow_id: Some(flow.id.to_string()),
    }
    .into())
}

async fn logout_browser(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> HttpResponse {
    let ctx = Ctx::new(&svc, &tenant, &req);
    let params = Params::from(q);
    match logout::logout_url(&ctx, params.get("return_to")).await {
        Ok(r) => r,
        Err(f) => ctx.fail(f, FlowType::Browser).await,
    }
}

async fn logout_get(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> HttpResponse {
    let ctx = Ctx::new(&svc, &tenant, &req);
    let params = Params::from(q);
    match logout::logout(&ctx, params.get("token"), params.get("return_to")).await {
        Ok(r) => r,
        Err(f) => ctx.fail(f, FlowType::Browser).await,
    }
}

async fn logout_api(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> HttpResponse {
    let mut ctx = Ctx::new(&svc, &tenant, &req);
    ctx.json = true;
    let parsed = match crate::api::parse_body::<logout::ApiLogoutBody>(&body) {
        Ok(b) => b,
        Err(e) => return e.error_response(),
    };
    match logout::logout_api(&ctx, parsed).await {
        Ok(r) => r,
        Err(f) => ctx.fail(f, FlowType::Api).await,
    }
}

/// `GET /self-service/errors?id=`: an error kept for the project's error page.
async fn errors(tenant: TenantContext, svc: Svc, q: Query<Vec<(String, String)>>) -> HttpResponse {
    let params = Params::from(q);
    let not_found = || IdentityError::NotFound("Unable to locate the resource".into()).error_response();
    let Some(id) = params.get("id").or(params.get("error")) else { return not_found() };
    if id == "stub:500" {
        return json_response(
            StatusCode::OK,
            &json!({
                "id": Uuid::now_v7(),
                "error": {"code": 500, "status": "Internal Server Error", "reason": "This is a stub error.",
                          "message": "An internal server error occurred, please contact the system administrator"},
                "created_at": "0001-01-01T00:00:00Z",
                "updated_at": "0001-01-01T00:00:00Z",
            }),
        );
    }
    let Ok(uuid) = Uuid::parse_str(id) else { return not_found() };
    match svc.store(&tenant).take_error(FlowErrorId(uuid)).await {
        Ok(Some(e)) => json_response(
            StatusCode::OK,
            &json!({"id": e.id, "error": e.error, "created_at": timestamp(e.created_at), "updated_at": timestamp(e.updated_at)}),
        ),
        Ok(None) => not_found(),
        Err(e) => IdentityError::from(e).error_response(),
    }
}
