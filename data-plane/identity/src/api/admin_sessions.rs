//! `/admin/sessions`: list, get, revoke and extend any session of the project.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use super::{Params, json, link_header, parse_uuid};
use crate::error::IdentityError;
use crate::model::{Identity, IdentityId, SessionId};
use crate::service::IdentityService;
use crate::store::{SessionOrder, SessionPage};
use crate::urls::PublicUrls;
use crate::wire::{SessionView, session_json};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sessions", web::get().to(list))
        .route("/admin/sessions/{id}", web::get().to(get))
        .route("/admin/sessions/{id}", web::delete().to(disable))
        .route("/admin/sessions/{id}/extend", web::patch().to(extend));
}

type Svc = Data<IdentityService>;

/// Which parts of a session are expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Expand {
    identity: bool,
    devices: bool,
}

fn expand(params: &Params) -> Result<Expand, IdentityError> {
    let mut e = Expand::default();
    for v in params.all("expand") {
        match v.to_ascii_lowercase().as_str() {
            "identity" => e.identity = true,
            "devices" => e.devices = true,
            _ => return Err(IdentityError::BadRequest(format!("Could not parse expand option: {v}"))),
        }
    }
    Ok(e)
}

fn encode_token(o: &SessionOrder) -> String {
    let mut bytes = o.created_at.unix_timestamp_nanos().to_be_bytes().to_vec();
    bytes.extend_from_slice(o.id.0.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_token(t: &str) -> Result<SessionOrder, IdentityError> {
    let bad = || IdentityError::BadRequest("The page token is invalid, do not craft your own page tokens".into());
    let bytes = URL_SAFE_NO_PAD.decode(t).map_err(|_| bad())?;
    if bytes.len() != 32 {
        return Err(bad());
    }
    let nanos = i128::from_be_bytes(bytes[..16].try_into().map_err(|_| bad())?);
    let created_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
    let id = uuid::Uuid::from_slice(&bytes[16..]).map_err(|_| bad())?;
    Ok(SessionOrder { created_at, id: SessionId(id) })
}

async fn identities_of(
    svc: &IdentityService,
    tenant: &TenantContext,
    ids: impl Iterator<Item = IdentityId>,
) -> Result<HashMap<IdentityId, Identity>, IdentityError> {
    let ids: Vec<IdentityId> = {
        let mut v: Vec<IdentityId> = ids.collect();
        v.sort();
        v.dedup();
        v
    };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list =
        svc.store(tenant).list(&crate::store::ListFilter::Ids(ids.clone()), None, ids.len() as i64, false).await?;
    Ok(list.into_iter().map(|i| (i.id, i)).collect())
}

async fn list(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let params = Params::from(q);
    let size = params.int("page_size")?.unwrap_or(250).clamp(1, 1000);
    let after = params.get("page_token").filter(|t| !t.is_empty()).map(decode_token).transpose()?;
    let expand = expand(&params)?;
    let now = svc.now();
    let page = SessionPage { active: params.bool("active")?, now, after, limit: size + 1 };
    let mut sessions = svc.store(&tenant).sessions(&page).await?;
    let next = if sessions.len() as i64 > size {
        sessions.truncate(size as usize);
        sessions.last().map(|s| encode_token(&SessionOrder { created_at: s.created_at, id: s.id }))
    } else {
        None
    };
    let identities = identities_of(&svc, &tenant, sessions.iter().map(|s| s.identity_id)).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    let body: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let view = SessionView {
                identity: identities.get(&s.identity_id),
                show_identity: expand.identity,
                admin: true,
                devices: expand.devices,
                now,
            };
            session_json(s, &urls, view)
        })
        .collect();
    let link = link_header(&req, tenant.base_path(), &params, size, "", next.as_deref());
    Ok(HttpResponse::Ok()
        .insert_header(("link", link))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}

fn session_id(raw: &str) -> Result<SessionId, IdentityError> {
    parse_uuid(raw, "id").map(SessionId)
}

async fn get(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let id = session_id(&id)?;
    let expand = expand(&Params::from(q))?;
    let stored = svc
        .store(&tenant)
        .session(id)
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    let identity = svc.store(&tenant).get(stored.session.identity_id, false).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    let mut body = session_json(
        &stored.session,
        &urls,
        SessionView {
            identity: identity.as_ref(),
            show_identity: expand.identity,
            admin: true,
            devices: expand.devices,
            now: svc.now(),
        },
    );
    if !expand.devices {
        body["devices"] = Value::Array(Vec::new());
    }
    Ok(json(StatusCode::OK, &body))
}

async fn disable(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, IdentityError> {
    let id = session_id(&id)?;
    let seq = svc
        .store(&tenant)
        .revoke_session(id, svc.now())
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    svc.sessions.invalidate_now(id.0, seq);
    Ok(HttpResponse::NoContent().finish())
}

/// Moves expiry to now + lifespan, unless the session is further from expiry than
/// `earliest_possible_extend` allows (then nothing changes, as in Kratos).
async fn extend(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, IdentityError> {
    let id = session_id(&id)?;
    let store = svc.store(&tenant);
    let stored =
        store.session(id).await?.ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    let cfg = &tenant.config().identity.session;
    let now = svc.now();
    let lifespan = time::Duration::try_from(cfg.lifespan.0).unwrap_or(time::Duration::days(3));
    let may_extend = match cfg.earliest_possible_extend {
        None => true,
        Some(window) => {
            let window = time::Duration::try_from(window.0).unwrap_or(lifespan);
            stored.session.expires_at - window < now
        }
    };
    if may_extend {
        let seq = store
            .extend_session(id, now + lifespan, now)
            .await?
            .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
        svc.sessions.invalidate_now(id.0, seq);
    }
    Ok(HttpResponse::NoContent().finish())
}
