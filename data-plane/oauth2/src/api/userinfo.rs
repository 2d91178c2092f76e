//! `/userinfo` (OIDC Core §5.3): the claims of an access token's subject, as the consent app granted them.

use actix_web::web::{self, Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};
use tessera_platform::http::bearer_token;
use tessera_platform::tenant::TenantContext;

use super::{form_pairs, no_store, single};
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::token::TokenKind;

type Svc = Data<OAuth2Service>;

/// Registers `/userinfo` (GET and POST).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/userinfo").route(web::get().to(userinfo)).route(web::post().to(userinfo)));
}

async fn userinfo(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    let form = form_pairs(&body);
    let token = match bearer_token(&req) {
        Some(t) => t.to_owned(),
        None => single(&form, "access_token")?
            .ok_or_else(|| OAuth2Error::InvalidToken("No access token was sent.".into()))?
            .to_owned(),
    };
    let invalid = || OAuth2Error::InvalidToken(String::new());
    let signature = svc.keys(tenant.project_id()).verify(TokenKind::AccessToken, &token).ok_or_else(invalid)?;
    let row = svc.store(&tenant).token(&signature).await?.ok_or_else(invalid)?;
    if !row.active || row.expires_at <= svc.now() {
        return Err(invalid());
    }
    if !row.scope.split_whitespace().any(|s| s == "openid") {
        return Err(OAuth2Error::Protocol(
            "insufficient_scope",
            "The access token was not granted the `openid` scope.".into(),
        ));
    }
    let mut claims = Map::new();
    // The ID-token claims of the consent session travel with the code and its tokens' rows.
    let grant = match svc.store(&tenant).grant_session(row.request_id).await? {
        Some(g) => Some(g),
        None => svc.store(&tenant).device_grant_session(row.request_id).await?,
    };
    if let Some(Value::Object(extra)) = grant.as_ref().and_then(|g| g.get("id_token_claims")) {
        claims.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    claims.insert("sub".into(), json!(row.subject));
    Ok(no_store(&Value::Object(claims)))
}
