//! The grants of the token endpoint. Each grant is a function from an authenticated client and the form to the
//! tokens it issues; the endpoint itself only dispatches on `grant_type`.

pub mod auth;
mod authorization_code;
pub mod client_assertion;
mod client_credentials;
mod device_code;
pub mod jwt_bearer;
mod refresh;
pub mod scopes;
mod token_set;

pub use authorization_code::authorization_code;
pub use client_credentials::client_credentials;
pub use device_code::device_code;
pub use refresh::refresh_token;
pub use token_set::{TokenSet, issue_token_set};

use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;
use tessera_project_config::oauth2::AccessTokenStrategy;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::client::Client;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::NewToken;
use crate::token::TokenKind;

/// What an access token is issued for.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    pub client: &'a Client,
    pub subject: &'a str,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub lifespan: std::time::Duration,
    /// Groups what one grant issued.
    pub request_id: Uuid,
    /// Claims the consent app set for access tokens (introspection's `ext`).
    pub extra: Value,
}

/// An issued access token and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    pub token: String,
    pub expires_in: i64,
}

/// Issues (and stores) an access token: opaque, or a JWT signed with the project's access-token key when the
/// client or the project asks for JWTs. `issuer` is the request's issuer (`crate::issuer`), the JWT's `iss`.
pub async fn issue_access_token(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    grant: &AccessGrant<'_>,
) -> Result<IssuedAccess, OAuth2Error> {
    let strategy = match grant.client.access_token_strategy.as_str() {
        "jwt" => AccessTokenStrategy::Jwt,
        "opaque" => AccessTokenStrategy::Opaque,
        _ => tenant.config().oauth2.strategies.access_token,
    };
    let now = svc.now();
    let expires_at = now + Duration::try_from(grant.lifespan).unwrap_or(Duration::HOUR);
    let (token, signature) = match strategy {
        AccessTokenStrategy::Jwt => {
            let jwt = crate::jwt::mint_access_token(svc, tenant, issuer, grant, now, expires_at).await?;
            let signature = crate::jwt::stored_signature(&jwt);
            (jwt, signature)
        }
        AccessTokenStrategy::Opaque => {
            let minted = svc.keys(tenant.project_id()).mint(TokenKind::AccessToken);
            (minted.token, minted.signature)
        }
    };
    let scope = grant.scopes.join(" ");
    svc.store_token(
        tenant,
        &NewToken {
            signature: &signature,
            kind: TokenKind::AccessToken.as_str(),
            request_id: grant.request_id,
            client_id: &grant.client.client_id,
            subject: grant.subject,
            scope: &scope,
            audience: &grant.audience,
            extra: &grant.extra,
            issued_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(IssuedAccess { token, expires_in: seconds_until(now, expires_at) })
}

fn seconds_until(now: OffsetDateTime, at: OffsetDateTime) -> i64 {
    (at - now).whole_seconds().max(0)
}

/// The token response of RFC 6749 §5.1 as Hydra sends it (`token_type` lower-case `bearer`).
pub fn token_response(access: &IssuedAccess, scopes: &[String]) -> Value {
    json!({
        "access_token": access.token,
        "expires_in": access.expires_in,
        "scope": scopes.join(" "),
        "token_type": "bearer",
    })
}
