//! The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636): a code is good once, for the client
//! it was issued to, with the redirect URI it was issued for; a second use revokes everything the first
//! issued (RFC 6749 §4.1.2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tessera_platform::secrets::constant_time_eq;
use tessera_platform::tenant::TenantContext;

use super::{TokenSet, issue_token_set};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;
use crate::token::TokenKind;

/// Exchanges a code for tokens.
pub async fn authorization_code(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    stored: &StoredClient,
    form: &[(String, String)],
) -> Result<Value, OAuth2Error> {
    let client = &stored.client;
    if !client.allows_grant("authorization_code") {
        return Err(OAuth2Error::UnauthorizedClient(
            "The client is not allowed to use authorization grant 'authorization_code'.".into(),
        ));
    }
    let code =
        single(form, "code")?.ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `code` is missing.".into()))?;
    let invalid = || {
        OAuth2Error::InvalidGrant("The authorization code is invalid, expired, or was issued to another client.".into())
    };
    let signature = svc.keys(tenant.project_id()).verify(TokenKind::AuthorizeCode, code).ok_or_else(invalid)?;
    let row = svc.store(tenant).token(&signature).await?.ok_or_else(invalid)?;
    if row.client_id != client.client_id {
        return Err(invalid());
    }
    let consumed = svc.store(tenant).consume_token(&signature).await?;
    svc.tokens_revoked();
    if !consumed {
        // A replay: whatever the first exchange issued is revoked.
        svc.store(tenant).revoke_request(row.request_id).await?;
        svc.tokens_revoked();
        return Err(OAuth2Error::InvalidGrant(
            "The authorization code has already been used; the tokens issued for it have been revoked.".into(),
        ));
    }
    if row.expires_at <= svc.now() {
        return Err(invalid());
    }
    let extra = row.extra();
    let text = |k: &str| extra.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let sent_redirect = single(form, "redirect_uri")?;
    let issued_for = text("redirect_uri");
    let redirect_sent_at_auth = extra.get("redirect_uri_sent").and_then(Value::as_bool).unwrap_or(true);
    match sent_redirect {
        Some(r) if r != issued_for => {
            return Err(OAuth2Error::InvalidGrant(
                "The `redirect_uri` differs from the one the code was issued for.".into(),
            ));
        }
        None if redirect_sent_at_auth => {
            return Err(OAuth2Error::InvalidGrant(
                "The `redirect_uri` is required because the authorization request sent one.".into(),
            ));
        }
        _ => {}
    }
    let challenge = text("code_challenge");
    let verifier = single(form, "code_verifier")?;
    match (challenge.is_empty(), verifier) {
        (true, None) => {}
        (true, Some(_)) => {
            return Err(OAuth2Error::InvalidGrant(
                "A code_verifier was sent but the authorization request had no code_challenge.".into(),
            ));
        }
        (false, None) => {
            return Err(OAuth2Error::InvalidGrant(
                "The code_verifier is missing (the authorization request used PKCE).".into(),
            ));
        }
        (false, Some(v)) => {
            if v.len() < 43 || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
                return Err(OAuth2Error::InvalidGrant(
                    "The code_verifier must be 43 to 128 unreserved characters.".into(),
                ));
            }
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            if !constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(OAuth2Error::InvalidGrant(
                    "The PKCE code_verifier does not match the code_challenge.".into(),
                ));
            }
        }
    }
    let set = TokenSet {
        issuer,
        client,
        subject: &row.subject,
        scopes: row.scope.split_whitespace().map(str::to_owned).collect(),
        granted: row.scope.split_whitespace().map(str::to_owned).collect(),
        audience: row.audience(),
        request_id: row.request_id,
        session: &extra,
        grant: "authorization_code",
    };
    issue_token_set(svc, tenant, &set).await
}
