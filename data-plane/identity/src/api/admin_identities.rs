//! `/admin/identities`: create, list, get, replace, patch, delete, get by external id, batch import, and an
//! identity's sessions and credentials.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;
use uuid::Uuid;

use super::{Params, json, link_header, parse_body, parse_uuid};
use crate::error::IdentityError;
use crate::identities::{CreateIdentityBody, UpdateIdentityBody, parse_include_credential, parse_state};
use crate::model::{Identity, IdentityId};
use crate::service::IdentityService;
use crate::store::{ListFilter, SessionPage};
use crate::urls::PublicUrls;
use crate::wire::{Audience, SessionView, identity_json, session_json};

/// Most identities in one batch import.
pub const MAX_BATCH: usize = 1000;
/// Most identities with a plaintext password in one batch (each costs a full hash).
pub const MAX_BATCH_PLAINTEXT: usize = 200;
/// Largest page of identities.
pub const MAX_PAGE: i64 = 500;
/// Most ids in an `ids` filter.
pub const MAX_IDS: usize = 500;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/identities", web::post().to(create))
        .route("/admin/identities", web::get().to(list))
        .route("/admin/identities", web::patch().to(batch))
        .route("/admin/identities/by/external/{external_id}", web::get().to(get_by_external_id))
        .route("/admin/identities/{id}", web::get().to(get))
        .route("/admin/identities/{id}", web::put().to(update))
        .route("/admin/identities/{id}", web::patch().to(patch))
        .route("/admin/identities/{id}", web::delete().to(delete))
        .route("/admin/identities/{id}/sessions", web::get().to(sessions_of))
        .route("/admin/identities/{id}/sessions", web::delete().to(delete_sessions_of))
        .route("/admin/identities/{id}/credentials/{kind}", web::delete().to(delete_credential));
}

type Svc = Data<IdentityService>;

fn identity_id(raw: &str) -> Result<IdentityId, IdentityError> {
    parse_uuid(raw, "id").map(IdentityId)
}

async fn create(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, IdentityError> {
    let body: CreateIdentityBody = parse_body(&body)?;
    let identity = svc.identity_from_body(&tenant, &body).await?;
    svc.store(&tenant).create(&identity).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    let location = urls.url(&format!("/admin/identities/{}", identity.id));
    Ok(HttpResponse::Created()
        .insert_header(("location", location))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(identity_json(&identity, &urls, Audience::Admin { declassify: &[] }).to_string()))
}

async fn list(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let params = Params::from(q);
    let size = params.int("page_size")?.or(params.int("per_page")?).unwrap_or(250);
    if size < 1 {
        return Err(IdentityError::BadRequest("page_size must be at least 1.".into()));
    }
    let size = size.min(MAX_PAGE);
    let after = match params.get("page_token").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(IdentityId(Uuid::parse_str(t).map_err(|_| {
            IdentityError::BadRequest("The page token is invalid, do not craft your own page tokens".into())
        })?)),
    };
    let ids = params.all("ids");
    let identifier = params.get("credentials_identifier").filter(|v| !v.is_empty());
    let similar = params.get("preview_credentials_identifier_similar").filter(|v| !v.is_empty());
    let organization = params.get("organization_id").filter(|v| !v.is_empty());
    let filters = [!ids.is_empty(), identifier.is_some(), similar.is_some(), organization.is_some()];
    if filters.iter().filter(|f| **f).count() > 1 {
        return Err(IdentityError::BadRequest("You cannot combine multiple filters in this API".into()));
    }
    let include = parse_include_credential(&params.all("include_credential"))?;
    let filter = if !ids.is_empty() {
        if ids.len() > MAX_IDS {
            return Err(IdentityError::BadRequest(format!("The number of ids to filter must not exceed {MAX_IDS}.")));
        }
        ListFilter::Ids(ids.iter().map(|v| parse_uuid(v, "ids").map(IdentityId)).collect::<Result<_, _>>()?)
    } else if let Some(i) = identifier {
        ListFilter::Identifier(normalize_identifier(i))
    } else if let Some(p) = similar {
        ListFilter::IdentifierPrefix(normalize_identifier(p))
    } else if let Some(o) = organization {
        ListFilter::Organization(parse_uuid(o, "organization_id")?)
    } else {
        ListFilter::All
    };
    let with_credentials = filter != ListFilter::All || !include.is_empty();
    let mut page = svc.store(&tenant).list(&filter, after, size + 1, with_credentials).await?;
    let next = if page.len() as i64 > size {
        page.truncate(size as usize);
        page.last().map(|i| i.id.to_string())
    } else {
        None
    };
    let urls = PublicUrls::from_request(&req, &tenant);
    let audience = if with_credentials { Audience::Admin { declassify: &include } } else { Audience::AdminList };
    let body: Vec<Value> = page.iter().map(|i| identity_json(i, &urls, audience)).collect();
    let link = link_header(&req, tenant.base_path(), &params, size, &Uuid::nil().to_string(), next.as_deref());
    Ok(HttpResponse::Ok()
        .insert_header(("link", link))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}

/// Identifiers are stored normalised (trimmed, lower-cased); filters are normalised the same way.
fn normalize_identifier(s: &str) -> String {
    s.trim().to_lowercase()
}

async fn get(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    let include = parse_include_credential(&Params::from(q).all("include_credential"))?;
    let identity = load(&svc, &tenant, id).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    Ok(json(StatusCode::OK, &identity_json(&identity, &urls, Audience::Admin { declassify: &include })))
}

async fn get_by_external_id(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    external_id: Path<String>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let include = parse_include_credential(&Params::from(q).all("include_credential"))?;
    let identity = svc
        .store(&tenant)
        .get_by_external_id(&external_id, true)
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    let urls = PublicUrls::from_request(&req, &tenant);
    Ok(json(StatusCode::OK, &identity_json(&identity, &urls, Audience::Admin { declassify: &include })))
}

async fn load(svc: &IdentityService, tenant: &TenantContext, id: IdentityId) -> Result<Identity, IdentityError> {
    svc.store(tenant)
        .get(id, true)
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))
}

async fn save(svc: &IdentityService, tenant: &TenantContext, identity: &Identity) -> Result<(), IdentityError> {
    let seq = svc
        .store(tenant)
        .replace(identity, identity.updated_at)
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    svc.sessions.invalidate_now(identity.id.0, seq);
    Ok(())
}

async fn update(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
    body: Bytes,
) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    let body: UpdateIdentityBody = parse_body(&body)?;
    let mut identity = load(&svc, &tenant, id).await?;
    svc.apply_update(&tenant, &mut identity, &body).await?;
    save(&svc, &tenant, &identity).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    Ok(json(StatusCode::OK, &identity_json(&identity, &urls, Audience::Admin { declassify: &[] })))
}

/// Paths a JSON Patch may not touch.
fn forbidden_patch_path(path: &str) -> bool {
    path == "/id"
        || path == "/credentials"
        || path == "/state_changed_at"
        || path == "/stateChangedAt"
        || path.starts_with("/credentials/")
        || path == "/created_at"
        || path == "/updated_at"
        || path == "/schema_url"
}

async fn patch(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
    body: Bytes,
) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    let ops: json_patch::Patch = parse_body(&body)?;
    for op in &ops.0 {
        let path = op.path().to_string();
        if forbidden_patch_path(&path) {
            return Err(IdentityError::BadRequest(format!("The JSON Patch may not change `{path}`.")));
        }
    }
    let mut identity = load(&svc, &tenant, id).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    let mut doc = identity_json(&identity, &urls, Audience::AdminList);
    json_patch::patch(&mut doc, &ops)
        .map_err(|e| IdentityError::BadRequest(format!("failed to apply JSON patch: {e}")))?;
    let state = doc.get("state").and_then(Value::as_str).map(str::to_owned);
    parse_state(state.as_deref())?;
    let update = UpdateIdentityBody {
        schema_id: doc.get("schema_id").and_then(Value::as_str).unwrap_or_default().to_owned(),
        traits: doc.get("traits").cloned().unwrap_or(Value::Null),
        state,
        metadata_public: doc.get("metadata_public").cloned(),
        metadata_admin: doc.get("metadata_admin").cloned(),
        external_id: doc.get("external_id").and_then(Value::as_str).map(str::to_owned),
        credentials: None,
    };
    svc.apply_update(&tenant, &mut identity, &update).await?;
    save(&svc, &tenant, &identity).await?;
    Ok(json(StatusCode::OK, &identity_json(&identity, &urls, Audience::Admin { declassify: &[] })))
}

async fn delete(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    let seq = svc
        .store(&tenant)
        .delete(id, svc.now())
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    svc.sessions.invalidate_now(id.0, seq);
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_credential(
    tenant: TenantContext,
    svc: Svc,
    path: Path<(String, String)>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let (id, kind) = path.into_inner();
    let id = identity_id(&id)?;
    let params = Params::from(q);
    let mut identity = load(&svc, &tenant, id).await?;
    let Some(pos) = identity.credentials.iter().position(|c| c.kind == kind) else {
        return Err(IdentityError::NotFound("Unable to locate the resource".into()));
    };
    match kind.as_str() {
        "password" | "oidc" | "saml" => {
            let first_factors =
                identity.credentials.iter().filter(|c| matches!(c.kind.as_str(), "password" | "oidc" | "saml")).count();
            let federated = kind != "password";
            let identifier = params.get("identifier").filter(|v| !v.is_empty());
            if federated && identifier.is_none() {
                return Err(IdentityError::BadRequest(format!(
                    "The `identifier` query parameter is required to delete {kind} credentials."
                )));
            }
            let removes_all = !federated || identity.credentials[pos].identifiers.len() <= 1;
            if removes_all && first_factors < 2 {
                return Err(IdentityError::BadRequest("You cannot remove the last first factor credential.".into()));
            }
            if let (true, Some(identifier)) = (federated, identifier) {
                let c = &mut identity.credentials[pos];
                let before = c.identifiers.len();
                c.identifiers.retain(|i| i != identifier);
                if c.identifiers.len() == before {
                    return Err(IdentityError::NotFound("Unable to locate the resource".into()));
                }
                if let Some(providers) = c.config.get_mut("providers").and_then(Value::as_array_mut) {
                    providers.retain(|p| {
                        format!(
                            "{}:{}",
                            p.get("provider").and_then(Value::as_str).unwrap_or_default(),
                            p.get("subject").and_then(Value::as_str).unwrap_or_default()
                        ) != identifier
                    });
                }
                if c.identifiers.is_empty() {
                    identity.credentials.remove(pos);
                }
            } else {
                identity.credentials.remove(pos);
            }
        }
        "totp" | "lookup_secret" => {
            identity.credentials.remove(pos);
        }
        other => return Err(IdentityError::BadRequest(format!("Credentials type {other} cannot be deleted."))),
    }
    identity.updated_at = svc.now();
    save(&svc, &tenant, &identity).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn sessions_of(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    id: Path<String>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    let params = Params::from(q);
    let identity = svc
        .store(&tenant)
        .get(id, false)
        .await?
        .ok_or_else(|| IdentityError::NotFound("Unable to locate the resource".into()))?;
    let per_page = params.int("per_page")?.or(params.int("page_size")?).unwrap_or(250).clamp(1, 1000);
    let now = svc.now();
    let page = SessionPage { active: params.bool("active")?, now, after: None, limit: per_page };
    let sessions = svc.store(&tenant).sessions_of(id, &page).await?;
    let urls = PublicUrls::from_request(&req, &tenant);
    let view = SessionView { identity: Some(&identity), show_identity: true, admin: true, devices: true, now };
    let body: Vec<Value> = sessions.iter().map(|s| session_json(s, &urls, view)).collect();
    Ok(json(StatusCode::OK, &Value::Array(body)))
}

async fn delete_sessions_of(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, IdentityError> {
    let id = identity_id(&id)?;
    if svc.store(&tenant).get(id, false).await?.is_none() {
        return Err(IdentityError::NotFound("Unable to locate the resource".into()));
    }
    let seq = svc.store(&tenant).delete_sessions_of(id, svc.now()).await?;
    svc.sessions.invalidate_now(id.0, seq);
    Ok(HttpResponse::NoContent().finish())
}

/// `PATCH /admin/identities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    identities: Vec<BatchItem>,
    #[serde(default)]
    with_partial_inserts: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    #[serde(default)]
    patch_id: Option<Uuid>,
    #[serde(default)]
    create: Option<CreateIdentityBody>,
}

async fn batch(tenant: TenantContext, svc: Svc, body: Bytes) -> Result<HttpResponse, IdentityError> {
    let body: BatchBody = parse_body(&body)?;
    if body.identities.len() > MAX_BATCH {
        return Err(IdentityError::BadRequest(format!(
            "The maximum number of identities per request that can be created or deleted at once is {MAX_BATCH}."
        )));
    }
    let plaintext = body
        .identities
        .iter()
        .filter(|i| {
            i.create
                .as_ref()
                .and_then(|c| c.credentials.as_ref())
                .and_then(|c| c.password.as_ref())
                .is_some_and(|p| p.config.password.as_deref().is_some_and(|p| !p.is_empty()))
        })
        .count();
    if plaintext > MAX_BATCH_PLAINTEXT {
        return Err(IdentityError::BadRequest(format!(
            "The maximum number of identities per request that can be created with a plaintext password is {MAX_BATCH_PLAINTEXT}."
        )));
    }
    // Whole-request checks first: a bad state or an unusable hash anywhere refuses the batch.
    for (n, item) in body.identities.iter().enumerate() {
        let Some(create) = &item.create else {
            return Err(IdentityError::BadRequest(format!(
                "identities[{n}] has no `create`; only creates are supported."
            )));
        };
        parse_state(create.state.as_deref())?;
        if let Some(hash) = create
            .credentials
            .as_ref()
            .and_then(|c| c.password.as_ref())
            .and_then(|p| p.config.hashed_password.as_deref())
        {
            tessera_password::check_imported_hash(hash)
                .map_err(|e| IdentityError::BadRequest(format!("identities[{n}]: {}", e.reason())))?;
        }
    }
    let store = svc.store(&tenant);
    let all_or_nothing = body.with_partial_inserts == Some(false);
    let mut results = Vec::with_capacity(body.identities.len());
    let mut built = Vec::new();
    let mut any_ok = false;
    let mut any_conflict = false;
    for item in &body.identities {
        let Some(create) = &item.create else { continue };
        let outcome = match svc.identity_from_body(&tenant, create).await {
            Ok(identity) if all_or_nothing => {
                let id = identity.id;
                built.push(identity);
                Ok(id)
            }
            Ok(identity) => store.create(&identity).await.map(|_| identity.id).map_err(IdentityError::from),
            Err(e) => Err(e),
        };
        let mut r = serde_json::Map::new();
        match outcome {
            Ok(id) => {
                any_ok = true;
                r.insert("action".into(), json!("create"));
                r.insert("identity".into(), json!(id));
            }
            Err(e) => {
                if all_or_nothing {
                    return Err(e);
                }
                any_conflict |= matches!(e, IdentityError::Conflict);
                r.insert("action".into(), json!("error"));
                r.insert("error".into(), e.object());
            }
        }
        if let Some(p) = item.patch_id {
            r.insert("patch_id".into(), json!(p));
        }
        results.push(Value::Object(r));
    }
    if all_or_nothing {
        store.create_all(&built).await?;
    }
    let body = json!({ "identities": results });
    if !any_ok && !results.is_empty() {
        let status = if any_conflict { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
        let err = json!({"error": {
            "code": status.as_u16(),
            "status": status.canonical_reason(),
            "reason": "None of the identities could be imported; see details.identities for each one's error.",
            "details": body,
            "message": if any_conflict { "Unable to insert or update resource because a resource with that value exists already" } else { "The request was malformed or contained invalid parameters" },
        }});
        return Ok(json(status, &err));
    }
    Ok(json(StatusCode::OK, &body))
}
