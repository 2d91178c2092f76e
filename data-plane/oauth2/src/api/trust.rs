//! `/admin/trust/grants/jwt-bearer/issuers`: the issuers whose signed assertions the JWT-bearer grant accepts
//! (Hydra's trust relationships): create, list (by issuer, keyset pages with `Link`), get, delete.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_platform::query::{Params, link_header};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{json, parse_body};
use crate::client::rfc3339;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::{StoreError, TrustedIssuer};

type Svc = Data<OAuth2Service>;

/// Registers the trust relationship routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/trust/grants/jwt-bearer/issuers")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/admin/trust/grants/jwt-bearer/issuers/{id}")
            .route(web::get().to(get))
            .route(web::delete().to(delete)),
    );
}

/// Body of `POST …/issuers`.
#[derive(Debug, Deserialize)]
struct TrustBody {
    issuer: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    allow_any_subject: bool,
    #[serde(default)]
    scope: Vec<String>,
    jwk: Value,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn render(t: &TrustedIssuer) -> Value {
    json!({
        "allow_any_subject": t.allow_any_subject,
        "created_at": rfc3339(t.created_at),
        "expires_at": rfc3339(t.expires_at),
        "id": t.id,
        "issuer": t.issuer,
        "public_key": {"kid": t.kid, "set": t.issuer},
        "scope": t.scopes(),
        "subject": t.subject,
    })
}

async fn create(tenant: TenantContext, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let body: TrustBody = parse_body(&body)?;
    let bad = |m: &str| OAuth2Error::BadRequest(m.to_owned());
    if body.issuer.is_empty() || body.issuer.len() > 1024 {
        return Err(bad("Field `issuer` must be 1 to 1024 characters."));
    }
    match (body.allow_any_subject, body.subject.is_empty()) {
        (true, false) => return Err(bad("Fields `subject` and `allow_any_subject` cannot both be set.")),
        (false, true) => return Err(bad("Field `subject` is required unless `allow_any_subject` is true.")),
        _ => {}
    }
    if body.scope.len() > 100 || body.scope.iter().any(|s| s.is_empty() || s.contains(' ')) {
        return Err(bad("Field `scope` must list at most 100 scopes without spaces."));
    }
    let now = svc.now();
    if body.expires_at <= now {
        return Err(bad("Field `expires_at` must be in the future."));
    }
    let key = tessera_jwk::PublicKey::from_jwk(&body.jwk)
        .map_err(|e| OAuth2Error::BadRequest(format!("Field `jwk` is not a usable public signing key: {e}")))?;
    let kid = key.kid().filter(|k| !k.is_empty()).ok_or_else(|| bad("Field `jwk` must have a `kid`."))?.to_owned();
    let mut public = body.jwk.clone();
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        if public.get(private).is_some() {
            return Err(bad("Field `jwk` must be a public key; it carries private parts."));
        }
        public.as_object_mut().map(|o| o.remove(private));
    }
    let trust = TrustedIssuer {
        id: Uuid::now_v7(),
        issuer: body.issuer,
        subject: body.subject,
        allow_any_subject: body.allow_any_subject,
        scope: serde_json::to_string(&body.scope).expect("strings serialize"),
        kid,
        jwk: public.to_string(),
        created_at: now,
        expires_at: body.expires_at,
    };
    match svc.store(&tenant).insert_trust(&trust).await {
        Err(StoreError::Conflict) => {
            return Err(OAuth2Error::Conflict("This issuer, subject and key are trusted already.".into()));
        }
        other => other?,
    }
    Ok(json(StatusCode::CREATED, &render(&trust)))
}

fn trust_id(raw: &str) -> Result<Uuid, OAuth2Error> {
    Uuid::parse_str(raw).map_err(|_| OAuth2Error::NotFound)
}

async fn get(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    let t = svc.store(&tenant).trust(trust_id(&id)?).await?.ok_or(OAuth2Error::NotFound)?;
    Ok(json(StatusCode::OK, &render(&t)))
}

async fn delete(tenant: TenantContext, svc: Svc, id: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    if svc.store(&tenant).delete_trust(trust_id(&id)?).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(OAuth2Error::NotFound)
    }
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
        Some(t) => Some(URL_SAFE_NO_PAD.decode(t).ok().and_then(|b| Uuid::from_slice(&b).ok()).ok_or_else(|| {
            OAuth2Error::BadRequest("Unable to parse pagination parameters: the page token is invalid.".into())
        })?),
    };
    let issuer = params.get("issuer").filter(|i| !i.is_empty());
    let mut rows = svc.store(&tenant).trusts(issuer, after, size + 1).await?;
    let next = if rows.len() as i64 > size {
        rows.truncate(size as usize);
        rows.last().map(|t| URL_SAFE_NO_PAD.encode(t.id.as_bytes()))
    } else {
        None
    };
    let body: Vec<Value> = rows.iter().map(render).collect();
    let link = link_header(&req, tenant.base_path(), &params, size, "", next.as_deref());
    Ok(HttpResponse::Ok()
        .insert_header(("link", link))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .body(Value::Array(body).to_string()))
}
