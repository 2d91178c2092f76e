//! JWT access tokens (`strategies.access_token = "jwt"`, or a client's `access_token_strategy`).
//!
//! A resource server verifies them offline against `/.well-known/jwks.json`, but they are stored like opaque
//! tokens all the same, under a digest of their text, so that revocation and introspection keep working: a
//! revoked JWT stays cryptographically valid until it expires, and only introspection can say it was revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tessera_jwk::{Algorithm, JwkError, MAX_TOKEN_LEN};
use tessera_platform::tenant::TenantContext;
use tessera_project_config::oauth2::ScopeClaim;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::OAuth2Error;
use crate::grant::AccessGrant;
use crate::keys::ACCESS_TOKEN_SET;
use crate::service::OAuth2Service;

/// The JOSE `typ` of our JWT access tokens, as Hydra sets it.
pub const ACCESS_TOKEN_TYP: &str = "JWT";

/// The signature a JWT access token is stored under: a digest of its whole text, prefixed so it can never
/// equal an opaque token's signature.
pub fn stored_signature(token: &str) -> String {
    format!("jwt_{}", URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())))
}

/// Whether `token` has the shape of a compact JWS (three segments), as opposed to an opaque `ory_` token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN && !token.starts_with("ory_") && token.bytes().filter(|b| *b == b'.').count() == 2
}

/// The claims of a JWT access token. `aud` is always an array; the scope goes in `scp` (a list), `scope` (a
/// space-separated string) or both, as `strategies.jwt.scope_claim` says.
pub fn access_token_claims(
    issuer: &str,
    grant: &AccessGrant<'_>,
    scope_claim: ScopeClaim,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    jti: Uuid,
) -> Value {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(grant.subject));
    claims.insert("aud".into(), json!(grant.audience));
    claims.insert("client_id".into(), json!(grant.client.client_id));
    claims.insert("exp".into(), json!(expires_at.unix_timestamp()));
    claims.insert("iat".into(), json!(issued_at.unix_timestamp()));
    claims.insert("nbf".into(), json!(issued_at.unix_timestamp()));
    claims.insert("jti".into(), json!(jti.to_string()));
    if matches!(scope_claim, ScopeClaim::List | ScopeClaim::Both) {
        claims.insert("scp".into(), json!(grant.scopes));
    }
    if matches!(scope_claim, ScopeClaim::String | ScopeClaim::Both) {
        claims.insert("scope".into(), json!(grant.scopes.join(" ")));
    }
    Value::Object(claims)
}

/// Signs a JWT access token with the project's newest `hydra.jwt.access-token` key.
pub async fn mint_access_token(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    issuer: &str,
    grant: &AccessGrant<'_>,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<String, OAuth2Error> {
    let key = svc.signing_key(tenant, ACCESS_TOKEN_SET).await?;
    let scope_claim = tenant.config().oauth2.strategies.jwt.scope_claim;
    let claims = access_token_claims(issuer, grant, scope_claim, issued_at, expires_at, Uuid::now_v7());
    key.sign_jwt_with_typ(&claims, ACCESS_TOKEN_TYP)
        .map_err(|e| OAuth2Error::Internal(format!("cannot sign a JWT access token: {e}")))
}

/// The stored signature of `token` if it is a JWT signed by one of the project's access-token keys; `None` for
/// anything else (garbage, a forgery, another project's token). A token naming a key this worker has not
/// loaded yet (created on another worker moments ago) triggers one re-read of the set.
pub async fn verify_access_token(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    token: &str,
) -> Result<Option<String>, OAuth2Error> {
    if !looks_like_jwt(token) {
        return Ok(None);
    }
    let mut set = svc.key_set(tenant, ACCESS_TOKEN_SET).await?;
    let mut verified = set.public().verify_jwt(token, &Algorithm::ALL);
    if matches!(verified, Err(JwkError::NoMatchingKey)) {
        set = svc.reload_key_set(tenant, ACCESS_TOKEN_SET).await?;
        verified = set.public().verify_jwt(token, &Algorithm::ALL);
    }
    Ok(verified.ok().map(|_| stored_signature(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_signatures_and_shapes() {
        assert!(stored_signature("a.b.c").starts_with("jwt_"));
        assert_ne!(stored_signature("a.b.c"), stored_signature("a.b.d"));
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("ory_at_x.y"));
        assert!(!looks_like_jwt("ory_at_a.b.c"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt(&"a.b.".repeat(10_000)));
    }
}
