//! The client credentials grant (RFC 6749 §4.4): a confidential client gets a token for itself.

use serde_json::Value;
use tessera_platform::tenant::TenantContext;
use tessera_platform::usage::meter;
use uuid::Uuid;

use super::scopes::{check_audience, check_scopes, split};
use super::{AccessGrant, issue_access_token, token_response};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;

/// Issues an M2M access token; counts it for metering. `issuer` is the request's (`crate::issuer`).
pub async fn client_credentials(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    stored: &StoredClient,
    form: &[(String, String)],
) -> Result<Value, OAuth2Error> {
    let client = &stored.client;
    if tenant.over_quota(meter::M2M_TOKENS) {
        return Err(OAuth2Error::QuotaExceeded(meter::M2M_TOKENS));
    }
    if client.is_public() {
        return Err(OAuth2Error::InvalidClient(
            "The client is public and thus not allowed to use grant type client_credentials.".into(),
        ));
    }
    if !client.allows_grant("client_credentials") {
        return Err(OAuth2Error::UnauthorizedClient(
            "The client is not allowed to use authorization grant 'client_credentials'.".into(),
        ));
    }
    let config = &tenant.config().oauth2;
    let requested_scope = single(form, "scope")?.map(|s| vec![s]).unwrap_or_default();
    let mut scopes = split(&requested_scope);
    check_scopes(client, config.strategies.scope, &scopes)?;
    if scopes.is_empty() && config.oauth2.client_credentials.default_grant_allowed_scope {
        scopes = client.scopes().map(str::to_owned).collect();
    }
    let audience_params: Vec<&str> = form.iter().filter(|(k, _)| k == "audience").map(|(_, v)| v.as_str()).collect();
    let audience = split(&audience_params);
    check_audience(client, &audience)?;
    let lifespan =
        client.lifespan("client_credentials_grant_access_token_lifespan").unwrap_or(config.ttl.access_token.0);
    let grant = AccessGrant {
        client,
        subject: &client.client_id,
        scopes,
        audience,
        lifespan,
        request_id: Uuid::now_v7(),
        extra: Value::Object(Default::default()),
    };
    let access = issue_access_token(svc, tenant, issuer, &grant).await?;
    svc.count_m2m_token(tenant);
    Ok(token_response(&access, &grant.scopes))
}
