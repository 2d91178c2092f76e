//! `/admin/clients`: Hydra's client management (create, list, get, replace, JSON-patch, delete, lifespans,
//! secret rotation). Secrets are shown in the answer that sets them and never again.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tessera_platform::query::{Params, link_header};
use tessera_platform::tenant::TenantContext;
use uuid::Uuid;

use super::{json, parse_body};
use crate::client::{ClientBody, Rules, set_lifespans, validate};
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::{ClientPage, StoreError, StoredClient};
use crate::token::generate_client_secret;

type Svc = Data<OAuth2Service>;

/// Registers the client routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/clients").route(web::post().to(create)).route(web::get().to(list)))
        .service(
            web::resource("/admin/clients/{id}")
                .route(web::get().to(get))
                .route(web::put().to(replace))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete)),
        )
        .service(web::resource("/admin/clients/{id}/lifespans").route(web::put().to(lifespans)))
        .service(
            web::resource("/admin/clients/{id}/secrets/rotate")
                .route(web::post().to(rotate))
                .route(web::delete().to(drop_rotated)),
        );
}

fn rules(tenant: &TenantContext) -> Rules {
    let types = &tenant.config().oauth2.oidc.subject_identifiers.supported_types;
    Rules {
        subject_types: types
            .iter()
            .map(|t| serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .collect(),
    }
}

/// The stored client or 404.
async fn load(svc: &Svc, tenant: &TenantContext, id: &str) -> Result<StoredClient, OAuth2Error> {
    svc.store(tenant).client(id).await?.ok_or(OAuth2Error::NotFound)
}

/// A client's JSON with its new secret when one was just set (public clients never show one).
fn answer(status: StatusCode, stored: &StoredClient, secret: Option<&str>) -> HttpResponse {
    let secret = secret.filter(|_| !stored.client.is_public());
    json(status, &stored.client.to_json(secret))
}

async fn create(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let mut body: ClientBody = parse_body(&body)?;
    let id = body.client_id.take().filter(|id| !id.is_empty()).unwrap_or_else(|| Uuid::now_v7().to_string());
    let now = svc.now();
    let mut v = validate(body, id, &rules(&tenant), now, now)?;
    let secret = if v.client.is_public() { None } else { Some(v.secret.take().unwrap_or_else(generate_client_secret)) };
    let keys = svc.keys(tenant.project_id());
    let stored = StoredClient {
        secret_digest: secret.as_deref().map(|s| keys.client_secret_digest(&v.client.client_id, s)),
        rotated_secret_digests: Vec::new(),
        client: v.client,
    };
    match svc.store(&tenant).insert_client(&stored).await {
        Err(StoreError::Conflict) => {
            return Err(OAuth2Error::Conflict(
                "Unable to insert or update resource because a resource with that value exists already".into(),
            ));
        }
        other => other?,
    }
    let location = format!("{}/admin/clients/{}", tenant.base_path(), url_path_escape(&stored.client.client_id));
    let mut resp = answer(StatusCode::CREATED, &stored, secret.as_deref());
    resp.headers_mut().insert(
        actix_web::http::header::LOCATION,
        actix_web::http::header::HeaderValue::from_str(&location).map_err(|e| OAuth2Error::Internal(e.to_string()))?,
    );
    let _ = req;
    Ok(resp)
}

fn url_path_escape(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20")
}

async fn list(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let params = Params::from(q);
    let size = params.int("page_size")?.unwrap_or(250).clamp(1, 500);
    let after = match params.get("page_token").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(URL_SAFE_NO_PAD.decode(t).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
            OAuth2Error::BadRequest("Unable to parse pagination parameters: the page token is invalid.".into())
        })?),
    };
    let page = ClientPage {
        client_name: params.get("client_name").filter(|s| !s.is_empty()).map(str::to_owned),
        owner: params.get("owner").filter(|s| !s.is_empty()).map(str::to_owned),
        after,
        limit: size + 1,
    };
    let mut clients = svc.store(&tenant).clients(&page).await?;
    let next = if clients.len() as i64 > size {
        clients.truncate(size as usize);
        clients.last().map(|c| URL_SAFE_NO_PAD.encode(c.client.client_id.as_bytes()))
    } else {
        None
    };
    let body: Vec<Value> = clients.iter().map(|c| c.client.to_json(None)).collect();
    let link = link_header(&req, tenant.base_path(), &params, size, "", next.as_deref());
    Ok(HttpResponse::Ok()
        .insert_header(("link", link))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}

async fn get(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    let stored = load(&svc, &tenant, &id).await?;
    Ok(answer(StatusCode::OK, &stored, None))
}

/// Validates `body` as the new state of `current` and stores it; a secret in the body replaces the old one.
async fn save(
    svc: &Svc,
    tenant: &TenantContext,
    current: StoredClient,
    body: ClientBody,
) -> Result<(StoredClient, Option<String>), OAuth2Error> {
    let id = current.client.client_id.clone();
    let v = validate(body, id, &rules(tenant), current.client.created_at, svc.now())?;
    let keys = svc.keys(tenant.project_id());
    let mut stored = StoredClient { client: v.client, ..current };
    if stored.client.is_public() {
        stored.secret_digest = None;
        stored.rotated_secret_digests.clear();
    } else if let Some(secret) = &v.secret {
        stored.secret_digest = Some(keys.client_secret_digest(&stored.client.client_id, secret));
        stored.rotated_secret_digests.clear();
    } else if stored.secret_digest.is_none() {
        return Err(OAuth2Error::InvalidClientMetadata(
            "A confidential client needs a client_secret: the client was public before, so set one.".into(),
        ));
    }
    if !svc.store(tenant).update_client(&stored).await? {
        return Err(OAuth2Error::NotFound);
    }
    svc.forget_client(tenant.project_id(), &stored.client.client_id);
    Ok((stored, v.secret))
}

async fn replace(tenant: TenantContext, svc: Svc, id: Path<String>, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let mut body: ClientBody = parse_body(&body)?;
    let current = load(&svc, &tenant, &id).await?;
    body.client_id = None;
    let (stored, secret) = save(&svc, &tenant, current, body).await?;
    Ok(answer(StatusCode::OK, &stored, secret.as_deref()))
}

async fn patch(tenant: TenantContext, svc: Svc, id: Path<String>, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let ops: json_patch::Patch = parse_body(&body)?;
    let current = load(&svc, &tenant, &id).await?;
    for op in ops.0.iter() {
        let path = op.path().to_string();
        if path == "/client_id" || path.starts_with("/client_id/") || path == "/created_at" || path == "/updated_at" {
            return Err(OAuth2Error::BadRequest(format!("The JSON Patch may not change `{path}`.")));
        }
    }
    let mut doc = current.client.to_json(None);
    json_patch::patch(&mut doc, &ops)
        .map_err(|e| OAuth2Error::BadRequest(format!("Unable to apply the JSON Patch: {e}")))?;
    let body: ClientBody = serde_json::from_value(doc)
        .map_err(|e| OAuth2Error::BadRequest(format!("The patched client is not valid: {e}")))?;
    let (stored, secret) = save(&svc, &tenant, current, body).await?;
    Ok(answer(StatusCode::OK, &stored, secret.as_deref()))
}

async fn delete(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    let deleted = svc.store(&tenant).delete_client(&id).await?;
    svc.tokens_revoked();
    svc.forget_client(tenant.project_id(), &id);
    if deleted { Ok(HttpResponse::NoContent().finish()) } else { Err(OAuth2Error::NotFound) }
}

async fn lifespans(
    tenant: TenantContext,
    svc: Svc,
    id: Path<String>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let body: Map<String, Value> = parse_body(&body)?;
    let mut stored = load(&svc, &tenant, &id).await?;
    set_lifespans(&mut stored.client, &body)?;
    stored.client.updated_at = svc.now();
    if !svc.store(&tenant).update_client(&stored).await? {
        return Err(OAuth2Error::NotFound);
    }
    svc.forget_client(tenant.project_id(), &stored.client.client_id);
    Ok(answer(StatusCode::OK, &stored, None))
}

/// The optional body of a rotation: `{"client_secret": …}` sets the new secret (to match one issued elsewhere);
/// without it (no body, `{}`, `null` or an empty string) the server generates one.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct RotateBody {
    client_secret: Option<String>,
}

/// A new secret; the old one keeps working until the rotated secrets are deleted (rotation without downtime).
async fn rotate(tenant: TenantContext, svc: Svc, id: Path<String>, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let chosen = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        parse_body::<Option<RotateBody>>(&body)?.and_then(|b| b.client_secret).filter(|s| !s.is_empty())
    };
    if let Some(s) = &chosen
        && (s.len() < 6 || s.len() > 512)
    {
        return Err(OAuth2Error::InvalidClientMetadata(
            "Field client_secret must contain a secret that is at least 6 characters long.".into(),
        ));
    }
    let mut stored = load(&svc, &tenant, &id).await?;
    if stored.client.is_public() {
        return Err(OAuth2Error::BadRequest(
            "A public client (token_endpoint_auth_method `none`) has no secret to rotate.".into(),
        ));
    }
    let secret = chosen.unwrap_or_else(generate_client_secret);
    let keys = svc.keys(tenant.project_id());
    if let Some(old) = stored.secret_digest.replace(keys.client_secret_digest(&stored.client.client_id, &secret)) {
        stored.rotated_secret_digests.insert(0, old);
        stored.rotated_secret_digests.truncate(10);
    }
    stored.client.updated_at = svc.now();
    if !svc.store(&tenant).update_client(&stored).await? {
        return Err(OAuth2Error::NotFound);
    }
    svc.forget_client(tenant.project_id(), &stored.client.client_id);
    Ok(answer(StatusCode::OK, &stored, Some(&secret)))
}

async fn drop_rotated(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    let mut stored = load(&svc, &tenant, &id).await?;
    stored.rotated_secret_digests.clear();
    stored.client.updated_at = svc.now();
    if !svc.store(&tenant).update_client(&stored).await? {
        return Err(OAuth2Error::NotFound);
    }
    svc.forget_client(tenant.project_id(), &stored.client.client_id);
    Ok(answer(StatusCode::OK, &stored, None))
}
