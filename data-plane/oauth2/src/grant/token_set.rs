//! What the code and refresh grants hand out: an access token, a refresh token when `offline` or
//! `offline_access` was granted (and the client may refresh), and an ID token when `openid` was granted.
//! Every token of one authorization shares its request id, so a replay or reuse revokes them all.

use serde_json::{Map, Value, json};
use tessera_platform::tenant::TenantContext;
use tessera_platform::usage::meter;
use time::Duration;
use uuid::Uuid;

use super::{AccessGrant, issue_access_token};
use crate::client::Client;
use crate::error::OAuth2Error;
use crate::id_token::{self, IdTokenClaims};
use crate::service::OAuth2Service;
use crate::store::NewToken;
use crate::token::TokenKind;

/// The tokens to issue for one grant.
#[derive(Debug, Clone)]
pub struct TokenSet<'a> {
    pub issuer: &'a str,
    pub client: &'a Client,
    pub subject: &'a str,
    /// Scopes of this access token.
    pub scopes: Vec<String>,
    /// Scopes of the authorization (kept by the next refresh token even when this request narrowed them).
    pub granted: Vec<String>,
    pub audience: Vec<String>,
    pub request_id: Uuid,
    /// The login and consent facts stored with the code (auth_time, sid, nonce, claims …).
    pub session: &'a Value,
    /// `authorization_code` or `refresh_token`: which lifespan overrides apply.
    pub grant: &'static str,
}

fn session_text<'a>(session: &'a Value, key: &str) -> &'a str {
    session.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Issues and stores the tokens; the token response.
pub async fn issue_token_set(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    set: &TokenSet<'_>,
) -> Result<Value, OAuth2Error> {
    if tenant.over_quota(meter::ACTIVE_IDENTITIES) {
        return Err(OAuth2Error::QuotaExceeded(meter::ACTIVE_IDENTITIES));
    }
    let ttl = &tenant.config().oauth2.ttl;
    let lifespan = |kind: &str, default: std::time::Duration| {
        set.client.lifespan(&format!("{}_grant_{kind}_lifespan", set.grant)).unwrap_or(default)
    };
    let empty = Value::Object(Map::new());
    let access = issue_access_token(
        svc,
        tenant,
        set.issuer,
        &AccessGrant {
            client: set.client,
            subject: set.subject,
            scopes: set.scopes.clone(),
            audience: set.audience.clone(),
            lifespan: lifespan("access_token", ttl.access_token.0),
            request_id: set.request_id,
            extra: set.session.get("access_token_claims").cloned().unwrap_or(empty),
        },
    )
    .await?;
    let mut body = json!({
        "access_token": access.token,
        "expires_in": access.expires_in,
        "scope": set.scopes.join(" "),
        "token_type": "bearer",
    });
    let offline = set.granted.iter().any(|s| s == "offline" || s == "offline_access");
    if offline && set.client.allows_grant("refresh_token") {
        let now = svc.now();
        let minted = svc.keys(tenant.project_id()).mint(TokenKind::RefreshToken);
        let expires =
            now + Duration::try_from(lifespan("refresh_token", ttl.refresh_token.0)).unwrap_or(Duration::days(30));
        let scope = set.granted.join(" ");
        svc.store_token(
            tenant,
            &NewToken {
                signature: &minted.signature,
                kind: TokenKind::RefreshToken.as_str(),
                request_id: set.request_id,
                client_id: &set.client.client_id,
                subject: set.subject,
                scope: &scope,
                audience: &set.audience,
                extra: set.session,
                issued_at: now,
                expires_at: expires,
            },
        )
        .await?;
        body["refresh_token"] = json!(minted.token);
    }
    if set.scopes.iter().any(|s| s == "openid") {
        let amr: Vec<String> = set
            .session
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let extra = set.session.get("id_token_claims").cloned().unwrap_or(Value::Object(Map::new()));
        let claims = IdTokenClaims {
            issuer: set.issuer,
            subject: set.subject,
            client_id: &set.client.client_id,
            nonce: session_text(set.session, "nonce"),
            auth_time: set.session.get("auth_time").and_then(Value::as_i64).unwrap_or(0),
            requested_at: set.session.get("requested_at").and_then(Value::as_i64).unwrap_or(0),
            sid: session_text(set.session, "sid"),
            acr: session_text(set.session, "acr"),
            amr: &amr,
            access_token: body["access_token"].as_str(),
            extra: &extra,
            lifespan: lifespan("id_token", ttl.id_token.0),
        };
        body["id_token"] = json!(id_token::issue(svc, tenant, &claims).await?);
    }
    tenant.usage().active_identity(set.subject);
    Ok(body)
}
