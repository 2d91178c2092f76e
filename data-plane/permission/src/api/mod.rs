//! The Keto REST API on a project's host: relationships, checks, expand, namespaces and OPL syntax checks.
//!
//! Handlers are thin: parse Keto's query and body conventions, call the [`PermissionService`], map to Keto's
//! JSON. Writes answer with an `X-Tessera-Consistency-Token` header; checks and expands that send it back (as
//! that header or the `consistency_token` query parameter) see at least that write.

pub mod wire;

use std::collections::BTreeMap;
use tessera_platform::usage::meter;

use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, Json, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_opl::Schema;
use tessera_platform::ApiError;
use tessera_platform::tenant::TenantContext;

use crate::engine::{CheckError, Membership};
use crate::service::{ConsistencyToken, PermissionService, ServiceError};
use crate::store::TupleQuery;
use crate::tuple::{RelationTuple, Subject, SubjectSet};
use wire::*;

/// The header carrying consistency tokens.
pub const TOKEN_HEADER: &str = "x-tessera-consistency-token";
/// Most deltas in one patch.
pub const MAX_PATCH: usize = 1000;
/// Largest page of relationships.
pub const MAX_PAGE_SIZE: i64 = 1000;

/// Registers the permission routes (inside the worker's tenant scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/relation-tuples", web::get().to(list))
        .route("/admin/relation-tuples", web::put().to(create))
        .route("/admin/relation-tuples", web::delete().to(delete))
        .route("/admin/relation-tuples", web::patch().to(patch))
        .route("/relation-tuples/check", web::get().to(check_get))
        .route("/relation-tuples/check", web::post().to(check_post))
        .route("/relation-tuples/check/openapi", web::get().to(check_get))
        .route("/relation-tuples/check/openapi", web::post().to(check_post))
        .route("/relation-tuples/batch/check", web::post().to(batch_check))
        .route("/relation-tuples/expand", web::get().to(expand))
        .route("/namespaces", web::get().to(namespaces))
        .route("/opl/syntax/check", web::post().to(opl_syntax_check));
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::BadToken | ServiceError::TokenAhead => ApiError::bad_request(e.to_string()),
            ServiceError::QuotaExceeded => tessera_platform::tenant::quota_exceeded(meter::PERMISSION_CHECKS),
            ServiceError::Schema(m) => {
                tracing::error!(error = %m, "a project's permission configuration does not compile");
                ApiError::internal()
            }
            ServiceError::Db(source) => {
                tracing::error!(error = %source, cause = ?std::error::Error::source(&source), "permission storage failure");
                ApiError::internal()
            }
        }
    }
}

fn check_error(e: CheckError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

type Params = BTreeMap<String, String>;

fn params(q: Query<Vec<(String, String)>>) -> Params {
    q.into_inner().into_iter().collect()
}

/// Keto's query conventions: `subject_id`, or all three `subject_set.*`; never `subject`.
fn query_from(p: &Params) -> Result<TupleQuery, ApiError> {
    if p.contains_key("subject") {
        return Err(ApiError::bad_request(
            "The `subject` query parameter was removed; use subject_id or subject_set.*.",
        ));
    }
    let set_keys = ["subject_set.namespace", "subject_set.object", "subject_set.relation"];
    let any_set = set_keys.iter().any(|k| p.contains_key(*k));
    let subject = match (p.get("subject_id"), any_set) {
        (Some(_), true) => return Err(ApiError::bad_request("Provide either subject_id or subject_set.*, not both.")),
        (Some(id), false) => Some(Subject::Id(id.clone())),
        (None, true) => {
            if !set_keys.iter().all(|k| p.contains_key(*k)) {
                return Err(ApiError::bad_request(
                    "A subject set needs subject_set.namespace, subject_set.object and subject_set.relation.",
                ));
            }
            Some(Subject::Set(SubjectSet {
                namespace: p["subject_set.namespace"].clone(),
                object: p["subject_set.object"].clone(),
                relation: p["subject_set.relation"].clone(),
            }))
        }
        (None, false) => None,
    };
    Ok(TupleQuery {
        namespace: p.get("namespace").cloned(),
        object: p.get("object").cloned(),
        relation: p.get("relation").cloned(),
        subject,
    })
}

fn tuple_from_query(p: &Params) -> Result<RelationTuple, ApiError> {
    let q = query_from(p)?;
    let subject =
        q.subject.ok_or_else(|| ApiError::bad_request("A subject is required: subject_id or subject_set.*."))?;
    match (q.namespace, q.object, q.relation) {
        (Some(namespace), Some(object), Some(relation)) => {
            let t = RelationTuple { namespace, object, relation, subject };
            t.validate().map_err(ApiError::bad_request)?;
            Ok(t)
        }
        _ => Err(ApiError::bad_request("namespace, object and relation are required.")),
    }
}

fn tuple_from_json(j: &RelationshipJson) -> Result<RelationTuple, ApiError> {
    let t = j.tuple().map_err(ApiError::bad_request)?;
    t.validate().map_err(ApiError::bad_request)?;
    Ok(t)
}

fn known_namespace(schema: &Schema, namespace: &str) -> Result<(), ApiError> {
    if schema.namespace(namespace).is_none() {
        return Err(ApiError::not_found(format!("Unknown namespace with name \"{namespace}\".")));
    }
    Ok(())
}

fn writable(schema: &Schema, t: &RelationTuple) -> Result<(), ApiError> {
    known_namespace(schema, &t.namespace)?;
    if let Subject::Set(s) = &t.subject {
        known_namespace(schema, &s.namespace)?;
    }
    Ok(())
}

/// The depth to use: the request's `max-depth` when positive and below the project's limit, else the limit.
fn depth(p: &Params, extra: Option<i64>, tenant: &TenantContext) -> Result<i32, ApiError> {
    let limit = tenant.config().permission.limit.max_read_depth.0 as i32;
    let asked = match (p.get("max-depth"), extra) {
        (Some(v), _) => v.parse::<i64>().map_err(|_| ApiError::bad_request("max-depth must be an integer."))?,
        (None, Some(v)) => v,
        (None, None) => 0,
    };
    Ok(if asked <= 0 || asked > i64::from(limit) { limit } else { asked as i32 })
}

fn token(req: &HttpRequest, p: &Params, tenant: &TenantContext) -> Result<Option<ConsistencyToken>, ApiError> {
    let text = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| p.get("consistency_token").cloned());
    text.map(|t| ConsistencyToken::decode(&t, tenant.project_id())).transpose().map_err(ApiError::from)
}

fn with_token(
    mut resp: actix_web::HttpResponseBuilder,
    tenant: &TenantContext,
    seq: i64,
) -> actix_web::HttpResponseBuilder {
    resp.insert_header((TOKEN_HEADER, ConsistencyToken { project: tenant.project_id(), seq }.encode()));
    resp
}

async fn list(
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    let query = query_from(&p)?;
    let schema = svc.schema(&tenant)?;
    if let Some(ns) = &query.namespace {
        known_namespace(&schema, ns)?;
    }
    let size = match p.get("page_size") {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("page_size must be between 1 and {MAX_PAGE_SIZE}.")))?,
        None => 100,
    };
    let after = match p.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => decode_page_token(t).ok_or_else(|| ApiError::bad_request("page_token is not valid."))?,
        None => 0,
    };
    let mut rows = svc.store().list(tenant.project_id(), &query, after, size + 1).await.map_err(ServiceError::from)?;
    let next = if rows.len() as i64 > size {
        rows.truncate(size as usize);
        rows.last().map(|(seq, _)| encode_page_token(*seq)).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(HttpResponse::Ok().json(Relationships {
        relation_tuples: rows.iter().map(|(_, t)| Relationship::from(t)).collect(),
        next_page_token: next,
    }))
}

fn encode_page_token(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

fn decode_page_token(t: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(t).ok()?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?)).filter(|s| *s >= 0)
}

async fn create(
    tenant: TenantContext,
    svc: Data<PermissionService>,
    body: Json<RelationshipJson>,
) -> Result<HttpResponse, ApiError> {
    let t = tuple_from_json(&body)?;
    let schema = svc.schema(&tenant)?;
    writable(&schema, &t)?;
    let seq = svc.store().write(tenant.project_id(), &[(true, t.clone())], now()).await.map_err(ServiceError::from)?;
    svc.catch_up(tenant.project_id()).await?;
    let location = format!("{}/relation-tuples?{}", tenant.base_path(), location_query(&t));
    Ok(with_token(HttpResponse::Created(), &tenant, seq)
        .insert_header((header::LOCATION, location))
        .json(Relationship::from(&t)))
}

/// The relationship as a list query, keys in alphabetical order (as Keto encodes it).
fn location_query(t: &RelationTuple) -> String {
    let mut pairs =
        vec![("namespace", t.namespace.as_str()), ("object", t.object.as_str()), ("relation", t.relation.as_str())];
    match &t.subject {
        Subject::Id(id) => pairs.push(("subject_id", id)),
        Subject::Set(s) => pairs.extend([
            ("subject_set.namespace", s.namespace.as_str()),
            ("subject_set.object", s.object.as_str()),
            ("subject_set.relation", s.relation.as_str()),
        ]),
    }
    pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn now() -> time::OffsetDateTime {
    tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock)
}

async fn delete(
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    const KEYS: &[&str] = &[
        "namespace",
        "object",
        "relation",
        "subject_id",
        "subject_set.namespace",
        "subject_set.object",
        "subject_set.relation",
    ];
    if let Some(extra) = p.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("Unknown query parameter `{extra}`.")));
    }
    if !body.is_empty() {
        return Err(ApiError::bad_request(
            "This endpoint takes no body; the relationships to delete are given in the query.",
        ));
    }
    let query = query_from(&p)?;
    let ns =
        query.namespace.clone().ok_or_else(|| ApiError::bad_request("The namespace query parameter is required."))?;
    let schema = svc.schema(&tenant)?;
    known_namespace(&schema, &ns)?;
    let (seq, _) = svc.store().delete_matching(tenant.project_id(), &query, now()).await.map_err(ServiceError::from)?;
    svc.catch_up(tenant.project_id()).await?;
    Ok(with_token(HttpResponse::NoContent(), &tenant, seq).finish())
}

async fn patch(
    tenant: TenantContext,
    svc: Data<PermissionService>,
    body: Json<Vec<PatchDelta>>,
) -> Result<HttpResponse, ApiError> {
    if body.len() > MAX_PATCH {
        return Err(ApiError::bad_request(format!("A patch may have at most {MAX_PATCH} deltas.")));
    }
    let schema = svc.schema(&tenant)?;
    let mut deltas = Vec::with_capacity(body.len());
    for (i, d) in body.iter().enumerate() {
        let t = d
            .relation_tuple
            .as_ref()
            .ok_or_else(|| ApiError::bad_request(format!("Delta {i}: relation_tuple is missing.")))?;
        let t = tuple_from_json(t)?;
        let insert = match d.action.as_deref() {
            Some("insert") => true,
            Some("delete") => false,
            other => {
                return Err(ApiError::bad_request(format!(
                    "Delta {i}: unknown action {:?}; use insert or delete.",
                    other.unwrap_or("")
                )));
            }
        };
        writable(&schema, &t)?;
        deltas.push((insert, t));
    }
    let seq = svc.store().write(tenant.project_id(), &deltas, now()).await.map_err(ServiceError::from)?;
    svc.catch_up(tenant.project_id()).await?;
    Ok(with_token(HttpResponse::NoContent(), &tenant, seq).finish())
}

async fn run_check(
    req: &HttpRequest,
    tenant: &TenantContext,
    svc: &PermissionService,
    p: &Params,
    t: RelationTuple,
    extra_depth: Option<i64>,
) -> Result<bool, ApiError> {
    let depth = depth(p, extra_depth, tenant)?;
    let width = tenant.config().permission.limit.max_read_width.0 as usize;
    let token = token(req, p, tenant)?;
    let result = svc.check(tenant, &t, depth, width, token).await?;
    Ok(result.map_err(check_error)? == Membership::Member)
}

/// `/check` mirrors the answer in the status (403 when denied); `/check/openapi` always answers 200.
fn answer(req: &HttpRequest, allowed: bool) -> HttpResponse {
    let mirrored = !req.path().ends_with("/openapi");
    if allowed || !mirrored {
        HttpResponse::Ok().json(CheckResult { allowed })
    } else {
        HttpResponse::Forbidden().json(CheckResult { allowed })
    }
}

/// `GET /relation-tuples/check` and `GET /relation-tuples/check/openapi`.
async fn check_get(
    req: HttpRequest,
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    let t = tuple_from_query(&p)?;
    let allowed = run_check(&req, &tenant, &svc, &p, t, None).await?;
    Ok(answer(&req, allowed))
}

/// A check's body: a relationship, optionally with `max-depth`.
#[derive(Debug, serde::Deserialize)]
struct CheckBody {
    #[serde(flatten)]
    tuple: RelationshipJson,
    #[serde(rename = "max-depth", default)]
    max_depth: Option<i64>,
}

/// `POST /relation-tuples/check` and `POST /relation-tuples/check/openapi`.
async fn check_post(
    req: HttpRequest,
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
    body: Json<CheckBody>,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    let t = tuple_from_json(&body.tuple)?;
    let allowed = run_check(&req, &tenant, &svc, &p, t, body.max_depth).await?;
    Ok(answer(&req, allowed))
}

async fn batch_check(
    req: HttpRequest,
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
    body: Json<BatchCheckBody>,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    let max = tenant.config().permission.limit.max_batch_check_size.0 as usize;
    if body.tuples.len() > max {
        return Err(ApiError::bad_request(format!(
            "A batch may check at most {max} relationships; this one has {}.",
            body.tuples.len()
        )));
    }
    let schema = svc.schema(&tenant)?;
    let mut results = Vec::with_capacity(body.tuples.len());
    for j in &body.tuples {
        let item = match tuple_from_json(j) {
            Err(e) => {
                BatchCheckItem { allowed: false, error: Some(e.reason().unwrap_or("invalid relationship").to_owned()) }
            }
            // Unlike a single check, Keto reports an unknown namespace in a batch as an error.
            Ok(t) if schema.namespace(&t.namespace).is_none() => {
                BatchCheckItem { allowed: false, error: Some("The requested resource could not be found".to_owned()) }
            }
            Ok(t) => match run_check(&req, &tenant, &svc, &p, t, None).await {
                Ok(allowed) => BatchCheckItem { allowed, error: None },
                Err(e) => {
                    BatchCheckItem { allowed: false, error: Some(e.reason().unwrap_or("the check failed").to_owned()) }
                }
            },
        };
        results.push(item);
    }
    Ok(HttpResponse::Ok().json(BatchCheckResult { results }))
}

async fn expand(
    req: HttpRequest,
    tenant: TenantContext,
    svc: Data<PermissionService>,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let p = params(q);
    let (Some(namespace), Some(object), Some(relation)) = (p.get("namespace"), p.get("object"), p.get("relation"))
    else {
        return Err(ApiError::bad_request("namespace, object and relation are required."));
    };
    let schema = svc.schema(&tenant)?;
    known_namespace(&schema, namespace)?;
    let depth = depth(&p, None, &tenant)?;
    let set = SubjectSet { namespace: namespace.clone(), object: object.clone(), relation: relation.clone() };
    let tree = svc.expand(&tenant, &set, depth, token(&req, &p, &tenant)?).await?;
    Ok(HttpResponse::Ok().json(Tree::from(&tree)))
}

async fn namespaces(tenant: TenantContext, svc: Data<PermissionService>) -> Result<HttpResponse, ApiError> {
    let schema = svc.schema(&tenant)?;
    Ok(HttpResponse::Ok().json(Namespaces {
        namespaces: schema.namespaces.iter().map(|n| NamespaceName { name: n.name.clone() }).collect(),
    }))
}

async fn opl_syntax_check(body: Bytes) -> Result<HttpResponse, ApiError> {
    let source =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The OPL document must be UTF-8 text."))?;
    let errors = tessera_opl::check_syntax(source)
        .into_iter()
        .map(|e| OplError {
            message: e.message,
            start: SourcePosition { line: e.start.line, column: e.start.column },
            end: SourcePosition { line: e.end.line, column: e.end.column },
        })
        .collect();
    Ok(HttpResponse::Ok().json(OplCheckResult { errors }))
}
