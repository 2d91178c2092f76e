//! The device code grant (RFC 8628 §3.4–3.5): the device polls with its device code until the user approved
//! it in a browser (`crate::flow::device`). `authorization_pending` until then, `slow_down` when polled faster
//! than the interval, `access_denied` when login or consent were rejected, `expired_token` after the code's
//! lifespan; on approval the usual token set, exactly once: a second redemption is `invalid_grant` and revokes
//! what the first one issued, as for a replayed authorization code.

use serde_json::Value;
use tessera_platform::tenant::TenantContext;
use time::Duration;

use super::{TokenSet, issue_token_set};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::flow::device::{DEVICE_CODE_GRANT, DeviceState, POLL_INTERVAL};
use crate::service::OAuth2Service;
use crate::store::StoredClient;
use crate::token::TokenKind;

/// Exchanges an approved device code for tokens.
pub async fn device_code(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    stored: &StoredClient,
    form: &[(String, String)],
) -> Result<Value, OAuth2Error> {
    let client = &stored.client;
    if !client.allows_grant(DEVICE_CODE_GRANT) {
        return Err(OAuth2Error::UnauthorizedClient(format!(
            "The client is not allowed to use authorization grant '{DEVICE_CODE_GRANT}'."
        )));
    }
    let code = single(form, "device_code")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `device_code` is missing.".into()))?;
    let invalid =
        || OAuth2Error::InvalidGrant("The device code is invalid, expired, or was issued to another client.".into());
    let signature = svc.keys(tenant.project_id()).verify(TokenKind::DeviceCode, code).ok_or_else(invalid)?;
    let device = svc.store(tenant).device_request_by_signature(&signature).await?.ok_or_else(invalid)?;
    if device.client_id != client.client_id {
        return Err(invalid());
    }
    if device.state == DeviceState::Redeemed {
        svc.store(tenant).revoke_request(device.id).await?;
        svc.tokens_revoked();
        return Err(OAuth2Error::InvalidGrant(
            "The device code has already been used; the tokens issued for it have been revoked.".into(),
        ));
    }
    let now = svc.now();
    if device.expires_at <= now {
        return Err(OAuth2Error::Protocol(
            "expired_token",
            "The device_code has expired, and the device authorization session has concluded.".into(),
        ));
    }
    let interval = Duration::seconds(POLL_INTERVAL);
    if !svc.store(tenant).poll_device_request(device.id, now, now - interval).await? {
        return Err(OAuth2Error::Protocol(
            "slow_down",
            format!(
                "The authorization request was rate-limited to prevent system overload. Poll the token endpoint at most every {POLL_INTERVAL} seconds."
            ),
        ));
    }
    match device.state {
        DeviceState::Pending => {
            return Err(OAuth2Error::Protocol(
                "authorization_pending",
                "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.".into(),
            ));
        }
        DeviceState::Denied => {
            let d = device.denial.clone().unwrap_or_default();
            let text = format!("{} {}", d.error_description, d.error_hint).trim().to_owned();
            return Err(OAuth2Error::Protocol(
                "access_denied",
                if text.is_empty() {
                    "The resource owner or authorization server denied the request.".into()
                } else {
                    text
                },
            ));
        }
        DeviceState::Approved | DeviceState::Redeemed => {}
    }
    let grant = device.grant.clone().ok_or_else(invalid)?;
    if !svc.store(tenant).redeem_device_request(device.id).await? {
        return Err(OAuth2Error::InvalidGrant("The device code has already been used.".into()));
    }
    let set = TokenSet {
        issuer,
        client,
        subject: &grant.subject,
        scopes: grant.scope.clone(),
        granted: grant.scope.clone(),
        audience: grant.audience.clone(),
        request_id: device.id,
        session: &grant.session,
        grant: "device_authorization",
    };
    issue_token_set(svc, tenant, &set).await
}
