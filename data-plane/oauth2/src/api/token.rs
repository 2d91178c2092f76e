//! `/oauth2/token` and `/oauth2/revoke`: form-encoded protocol endpoints (RFC 6749 §3.2, RFC 7009).

use actix_web::web::{self, Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use tessera_platform::tenant::TenantContext;

use super::{form_pairs, no_store, single};
use crate::error::OAuth2Error;
use crate::grant::{auth::authenticate, authorization_code, client_credentials, refresh_token};
use crate::service::OAuth2Service;
use crate::token::TokenKind;

type Svc = Data<OAuth2Service>;

/// Registers the protocol endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth2/token").route(web::post().to(token)))
        .service(web::resource("/oauth2/revoke").route(web::post().to(revoke)));
}

fn require_form(req: &HttpRequest) -> Result<(), OAuth2Error> {
    let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
        Ok(())
    } else {
        Err(OAuth2Error::InvalidRequest("The request must be form-encoded (application/x-www-form-urlencoded).".into()))
    }
}

async fn token(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    require_form(&req)?;
    let form = form_pairs(&body);
    let grant_type = single(&form, "grant_type")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `grant_type` is missing.".into()))?
        .to_owned();
    let client = authenticate(&req, &tenant, &svc, &form).await?;
    let answer = match grant_type.as_str() {
        "client_credentials" => {
            client_credentials(&svc, &tenant, &crate::issuer(&tenant, &req), &client, &form).await?
        }
        "authorization_code" => {
            authorization_code(&svc, &tenant, &crate::issuer(&tenant, &req), &client, &form).await?
        }
        crate::flow::device::DEVICE_CODE_GRANT => {
            crate::grant::device_code(&svc, &tenant, &crate::issuer(&tenant, &req), &client, &form).await?
        }
        "refresh_token" => refresh_token(&svc, &tenant, &crate::issuer(&tenant, &req), &client, &form).await?,
        crate::grant::jwt_bearer::JWT_BEARER_GRANT => {
            crate::grant::jwt_bearer::jwt_bearer(&svc, &tenant, &req, &crate::issuer(&tenant, &req), &client, &form)
                .await?
        }
        other => {
            return Err(OAuth2Error::UnsupportedGrantType(format!("The grant type `{other}` is not served.")));
        }
    };
    Ok(no_store(&answer))
}

/// RFC 7009: revoking an unknown or already revoked token is success; a token of another client is refused.
async fn revoke(tenant: TenantContext, req: HttpRequest, svc: Svc, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    require_form(&req)?;
    let form = form_pairs(&body);
    let token = single(&form, "token")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `token` is missing.".into()))?
        .to_owned();
    let client = authenticate(&req, &tenant, &svc, &form).await?;
    let keys = svc.keys(tenant.project_id());
    let signature =
        match [TokenKind::AccessToken, TokenKind::RefreshToken].into_iter().find_map(|k| keys.verify(k, &token)) {
            Some(signature) => Some(signature),
            None => crate::jwt::verify_access_token(&svc, &tenant, &token).await?,
        };
    if let Some(signature) = signature
        && let Some(stored) = svc.store(&tenant).token(&signature).await?
    {
        if stored.client_id != client.client.client_id {
            return Err(OAuth2Error::UnauthorizedClient(
                "The token was not issued to the client making the revocation request.".into(),
            ));
        }
        svc.store(&tenant).revoke_request(stored.request_id).await?;
        svc.tokens_revoked();
    }
    Ok(HttpResponse::Ok().finish())
}
