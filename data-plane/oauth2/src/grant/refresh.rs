//! The refresh token grant (RFC 6749 §6) with rotation: each refresh token is good once and is replaced by a
//! new one; presenting a used one is taken as theft and revokes the whole chain (OAuth 2.0 Security BCP §4.14).

use serde_json::Value;
use tessera_platform::tenant::TenantContext;

use super::scopes::split;
use super::{TokenSet, issue_token_set};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;
use crate::token::TokenKind;

/// Exchanges a refresh token for a new access token and refresh token.
pub async fn refresh_token(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    stored: &StoredClient,
    form: &[(String, String)],
) -> Result<Value, OAuth2Error> {
    let client = &stored.client;
    if !client.allows_grant("refresh_token") {
        return Err(OAuth2Error::UnauthorizedClient(
            "The client is not allowed to use authorization grant 'refresh_token'.".into(),
        ));
    }
    let token = single(form, "refresh_token")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `refresh_token` is missing.".into()))?;
    let invalid = || {
        OAuth2Error::InvalidGrant(
            "The refresh token is invalid, expired, revoked, or was issued to another client.".into(),
        )
    };
    let signature = svc.keys(tenant.project_id()).verify(TokenKind::RefreshToken, token).ok_or_else(invalid)?;
    let row = svc.store(tenant).token(&signature).await?.ok_or_else(invalid)?;
    if row.client_id != client.client_id {
        return Err(invalid());
    }
    let consumed = svc.store(tenant).consume_token(&signature).await?;
    svc.tokens_revoked();
    if !consumed {
        svc.store(tenant).revoke_request(row.request_id).await?;
        svc.tokens_revoked();
        return Err(OAuth2Error::InvalidGrant(
            "The refresh token was already used; as it may have been stolen, every token of its chain has been revoked.".into(),
        ));
    }
    if row.expires_at <= svc.now() {
        return Err(invalid());
    }
    // The access tokens the old refresh token came with end with it.
    svc.store(tenant).revoke_request_access_tokens(row.request_id).await?;
    svc.tokens_revoked();
    let granted: Vec<String> = row.scope.split_whitespace().map(str::to_owned).collect();
    let requested = split(&single(form, "scope")?.into_iter().collect::<Vec<_>>());
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(OAuth2Error::InvalidScope(format!("The scope `{extra}` was not granted to the refresh token.")));
    }
    let scopes = if requested.is_empty() { granted } else { requested };
    let extra = row.extra();
    let set = TokenSet {
        issuer,
        client,
        subject: &row.subject,
        scopes,
        granted: row.scope.split_whitespace().map(str::to_owned).collect(),
        audience: row.audience(),
        request_id: row.request_id,
        session: &extra,
        grant: "refresh_token",
    };
    issue_token_set(svc, tenant, &set).await
}
