//! `/admin/oauth2/introspect` (RFC 7662, on the admin API as Hydra serves it) and `/admin/oauth2/tokens`.

use actix_web::web::{self, Bytes, Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};
use tessera_platform::query::Params;
use tessera_platform::tenant::TenantContext;

use super::{form_pairs, no_store, single};
use crate::error::OAuth2Error;
use crate::grant::scopes::split;
use crate::service::OAuth2Service;
use crate::token::TokenKind;

type Svc = Data<OAuth2Service>;

/// Registers introspection and token deletion.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/oauth2/introspect").route(web::post().to(introspect)))
        .service(web::resource("/admin/oauth2/tokens").route(web::delete().to(delete_client_tokens)));
}

async fn introspect(
    tenant: TenantContext,
    req: HttpRequest,
    svc: Svc,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let form = form_pairs(&body);
    let token = single(&form, "token")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `token` is missing.".into()))?
        .to_owned();
    let required = split(&single(&form, "scope")?.map(|s| vec![s]).unwrap_or_default());
    let inactive = || no_store(&json!({"active": false}));
    let keys = svc.keys(tenant.project_id());
    let opaque = [TokenKind::AccessToken, TokenKind::RefreshToken]
        .into_iter()
        .find_map(|k| keys.verify(k, &token).map(|s| (k, s)));
    let found = match opaque {
        Some(found) => Some(found),
        // A JWT access token: its signature is checked against the project's keys before any token row is read.
        None => crate::jwt::verify_access_token(&svc, &tenant, &token).await?.map(|s| (TokenKind::AccessToken, s)),
    };
    let Some((kind, signature)) = found else {
        return Ok(inactive());
    };
    let Some(stored) = svc.cached_token(&tenant, &signature).await? else {
        return Ok(inactive());
    };
    let now = svc.now();
    if !stored.active || stored.expires_at <= now {
        return Ok(inactive());
    }
    let granted: Vec<&str> = stored.scope.split_whitespace().collect();
    if required.iter().any(|r| !granted.contains(&r.as_str())) {
        return Ok(inactive());
    }
    let issuer = crate::issuer(&tenant, &req);
    let mut o = Map::new();
    o.insert("active".into(), Value::Bool(true));
    o.insert("aud".into(), json!(stored.audience()));
    o.insert("client_id".into(), json!(stored.client_id));
    o.insert("exp".into(), json!(stored.expires_at.unix_timestamp()));
    let extra = stored.extra();
    if extra.as_object().is_some_and(|e| !e.is_empty()) {
        o.insert("ext".into(), extra);
    }
    o.insert("iat".into(), json!(stored.issued_at.unix_timestamp()));
    o.insert("iss".into(), json!(issuer));
    o.insert("nbf".into(), json!(stored.issued_at.unix_timestamp()));
    o.insert("scope".into(), json!(stored.scope));
    o.insert("sub".into(), json!(stored.subject));
    o.insert("token_type".into(), json!("Bearer"));
    o.insert("token_use".into(), json!(kind.as_str()));
    Ok(no_store(&Value::Object(o)))
}

async fn delete_client_tokens(
    tenant: TenantContext,
    svc: Svc,
    q: Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuth2Error> {
    let params = Params::from(q);
    let client_id = params
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuth2Error::BadRequest("The query parameter `client_id` is required.".into()))?;
    svc.store(&tenant).delete_client_tokens(client_id).await?;
    svc.tokens_revoked();
    Ok(HttpResponse::NoContent().finish())
}
