//! The tenant gate: the middleware every request passes before any engine code runs.
//!
//! In order: resolve the project (unknown → 404); refuse halted projects (403); forward to the home region
//! when it is not this one; spend the project's rate budget (429); authenticate admin and permission routes
//! against the project's replicated API-key hashes (401); then hand the engines a [`TenantContext`], with the
//! `/p/<slug>` prefix stripped. Requests that name no project fall through to the worker's own routes.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::StreamExt;
use tessera_platform::ApiError;
use tessera_platform::http::bearer_token;
use tessera_platform::rate_limit::retry_after_secs;
use tessera_platform::secrets::{constant_time_eq, hash_secret};
use tessera_platform::tenant::{TenantContext, TenantParts, quota_exceeded};
use tracing::Instrument;

use crate::directory::Tenant;
use crate::forward::{self, Provenance};
use crate::limits::{Group, tier_of};
use crate::routing::{self, Resolution};
use crate::state::WorkerState;

/// The client's address as this region determined it (through trusted forwarding headers).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// The billable meter whose hard limit, once reached, refuses every request of the project.
const API_REQUESTS_QUOTA: &str = "api_requests";

type GateResult<B> = Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error>;

fn refuse<B>(req: ServiceRequest, error: ApiError) -> GateResult<B> {
    Ok(req.error_response(error).map_into_right_body())
}

/// The middleware.
pub async fn gate<B: MessageBody + 'static>(req: ServiceRequest, next: Next<B>) -> GateResult<B> {
    let Some(state) = req.app_data::<web::Data<WorkerState>>().cloned() else {
        return refuse(req, ApiError::internal());
    };
    let host = req.connection_info().host().to_owned();
    let resolution = routing::resolve(&state.directory, &state.projects_domain, &host, req.path());
    let (tenant, rewritten) = match resolution {
        Resolution::Worker => return next.call(req).await.map(ServiceResponse::map_into_left_body),
        Resolution::UnknownProject => {
            return refuse(
                req,
                ApiError::not_found("No project is served at this address.").with_id("project_not_found"),
            );
        }
        Resolution::Tenant { tenant, rewritten_path } => (tenant, rewritten_path),
    };
    let project = tenant.record.project_id.to_string();
    let trace = forward::trace_id(req.request());
    let span = tracing::info_span!("tenant", project = %project, slug = %tenant.record.slug, region = %state.region, trace_id = %trace);
    async move {
        if tenant.record.state == "halted" {
            state.metrics.tenant(&project, "halted");
            return refuse(
                req,
                ApiError::forbidden("This project is halted; its owner must resume it before it serves requests.")
                    .with_id("project_halted"),
            );
        }
        let provenance = forward::provenance(req.request(), &state.forward_secret);
        if tenant.record.home_region != state.region {
            return forward_home(req, &state, &tenant, provenance, &trace).await;
        }
        let path = rewritten.clone().unwrap_or_else(|| req.path().to_owned());
        let group = Group::of(&path);
        if let Err(wait) = state.limits.check(
            tenant.record.project_id,
            tier_of(&tenant.record.plan, tenant.record.plan_tier.as_deref()),
            &tenant.record.environment,
            group,
        ) {
            state.metrics.tenant(&project, "rate_limited");
            return refuse(req, ApiError::too_many_requests(retry_after_secs(wait)));
        }
        if tenant.record.quota_exceeded.iter().any(|m| m == API_REQUESTS_QUOTA) {
            state.metrics.tenant(&project, "quota_exceeded");
            return refuse(req, quota_exceeded(API_REQUESTS_QUOTA));
        }
        if needs_project_key(&path) && !admin_key_valid(&req, &tenant, &state) {
            state.metrics.tenant(&project, "unauthorized");
            return refuse(
                req,
                ApiError::unauthorized(
                    "The request needs an API key of this project: send `Authorization: Bearer <key>`.",
                ),
            );
        }
        let config = match tenant.config() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the project's configuration does not load");
                return refuse(req, ApiError::internal());
            }
        };
        let r = &tenant.record;
        let context = TenantContext::new(
            TenantParts {
                project_id: r.project_id,
                workspace_id: r.workspace_id,
                slug: r.slug.clone(),
                environment: r.environment.clone(),
                revision_id: r.revision_id,
                config,
                base_path: if rewritten.is_some() {
                    format!("{}{}", routing::PATH_PREFIX, r.slug)
                } else {
                    String::new()
                },
                quota_exceeded: r.quota_exceeded.clone(),
            },
            &state.region,
            state.db.clone(),
            state.usage.clone(),
        );
        let mut req = req;
        if let Some(path) = rewritten {
            let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
            if let Ok(uri) = format!("{path}{query}").parse::<Uri>() {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
        req.extensions_mut().insert(context);
        req.extensions_mut().insert(ClientAddr(provenance.client));
        state.metrics.tenant(&project, "served");
        state.usage.count(r.project_id, group.meter(), 1);
        next.call(req).await.map(ServiceResponse::map_into_left_body)
    }
    .instrument(span)
    .await
}

/// Routes that only the project's API keys may call: every admin route, and (as on Ory Network) the whole
/// permission API, reads included.
pub fn needs_project_key(path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    under("/admin") || under("/relation-tuples") || under("/namespaces") || under("/opl")
}

/// Whether the request carries one of the project's unexpired API keys.
fn admin_key_valid(req: &ServiceRequest, tenant: &Tenant, state: &WorkerState) -> bool {
    let Some(token) = bearer_token(req.request()) else { return false };
    let hash = hash_secret(token);
    let now = state.clock.now();
    tenant
        .record
        .api_keys
        .iter()
        .any(|k| constant_time_eq(k.hash.as_bytes(), hash.as_bytes()) && k.expires_at.is_none_or(|at| at > now))
}

async fn forward_home<B: MessageBody + 'static>(
    req: ServiceRequest,
    state: &WorkerState,
    tenant: &Tenant,
    provenance: Provenance,
    trace: &str,
) -> GateResult<B> {
    let home = &tenant.record.home_region;
    if provenance.hops >= state.max_hops {
        tracing::warn!(hops = provenance.hops, home = %home, "forwarding loop refused");
        return refuse(
            req,
            ApiError::new(actix_web::http::StatusCode::LOOP_DETECTED, "The request was forwarded too many times")
                .with_reason("The regions disagree about where this project lives; retry shortly."),
        );
    }
    let Some(base) = state.regions.get(home).cloned() else {
        tracing::error!(home = %home, "the project's home region is not in the region registry");
        return refuse(req, ApiError::unavailable("The project's home region is not known to this region."));
    };
    let (http_req, mut payload) = req.into_parts();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                return Ok(ServiceResponse::new(http_req, ApiError::bad_request(e.to_string()).error_response())
                    .map_into_right_body());
            }
        };
        if body.len() + chunk.len() > state.max_body_bytes {
            let err = ApiError::payload_too_large(format!("The request body exceeds {} bytes.", state.max_body_bytes));
            return Ok(ServiceResponse::new(http_req, err.error_response()).map_into_right_body());
        }
        body.extend_from_slice(&chunk);
    }
    state.metrics.forwarded.with_label_values(&[home.as_str()]).inc();
    state.metrics.tenant(&tenant.record.project_id.to_string(), "forwarded");
    let resp = match forward::forward(
        &state.client,
        &http_req,
        body.freeze(),
        &base,
        provenance,
        &state.forward_secret,
        trace,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => e.error_response(),
    };
    Ok(ServiceResponse::new(http_req, resp).map_into_right_body())
}
