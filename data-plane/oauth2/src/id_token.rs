//! OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6): the standard claims, `at_hash`, `sid`, `amr`, `acr`,
//! `nonce` and whatever the consent app put in `session.id_token`, signed with the project's ID-token key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tessera_platform::tenant::TenantContext;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::OAuth2Error;
use crate::keys::ID_TOKEN_SET;
use crate::service::OAuth2Service;

/// Claims the consent app may not override.
const RESERVED: &[&str] =
    &["iss", "sub", "aud", "exp", "iat", "auth_time", "rat", "nonce", "at_hash", "c_hash", "sid", "jti", "azp"];

/// What an ID token states.
#[derive(Debug, Clone)]
pub struct IdTokenClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub auth_time: i64,
    pub requested_at: i64,
    pub sid: &'a str,
    pub acr: &'a str,
    pub amr: &'a [String],
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// Claims from the consent session (`session.id_token`).
    pub extra: &'a Value,
    pub lifespan: std::time::Duration,
}

/// `at_hash` / `c_hash`: the left half of the SHA-256 of the token, base64url (RS256 and ES256 both hash with SHA-256).
pub fn left_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The claims object, before signing.
pub fn claims(c: &IdTokenClaims<'_>, now: OffsetDateTime) -> Value {
    let mut o = Map::new();
    if let Some(extra) = c.extra.as_object() {
        for (k, v) in extra {
            if !RESERVED.contains(&k.as_str()) {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    let exp = now + Duration::try_from(c.lifespan).unwrap_or(Duration::HOUR);
    o.insert("iss".into(), json!(c.issuer));
    o.insert("sub".into(), json!(c.subject));
    o.insert("aud".into(), json!([c.client_id]));
    o.insert("exp".into(), json!(exp.unix_timestamp()));
    o.insert("iat".into(), json!(now.unix_timestamp()));
    o.insert("auth_time".into(), json!(c.auth_time));
    o.insert("rat".into(), json!(c.requested_at));
    o.insert("jti".into(), json!(Uuid::now_v7().to_string()));
    if !c.nonce.is_empty() {
        o.insert("nonce".into(), json!(c.nonce));
    }
    if let Some(at) = c.access_token {
        o.insert("at_hash".into(), json!(left_hash(at)));
    }
    if !c.sid.is_empty() {
        o.insert("sid".into(), json!(c.sid));
    }
    if !c.acr.is_empty() {
        o.insert("acr".into(), json!(c.acr));
    }
    if !c.amr.is_empty() {
        o.insert("amr".into(), json!(c.amr));
    }
    Value::Object(o)
}

/// A signed ID token.
pub async fn issue(svc: &OAuth2Service, tenant: &TenantContext, c: &IdTokenClaims<'_>) -> Result<String, OAuth2Error> {
    let key = svc.signing_key(tenant, ID_TOKEN_SET).await?;
    key.sign_jwt(&claims(c, svc.now())).map_err(|e| OAuth2Error::Internal(format!("cannot sign an ID token: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(left_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn consent_claims_cannot_override_standard_ones() {
        let extra = json!({"sub": "forged", "email": "a@example.com", "nonce": "x"});
        let amr = vec!["pwd".to_owned()];
        let c = IdTokenClaims {
            issuer: "https://p.example",
            subject: "user-1",
            client_id: "app",
            nonce: "n-0123456",
            auth_time: 10,
            requested_at: 9,
            sid: "s",
            acr: "",
            amr: &amr,
            access_token: Some("tok"),
            extra: &extra,
            lifespan: std::time::Duration::from_secs(60),
        };
        let v = claims(&c, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(v["sub"], "user-1");
        assert_eq!(v["nonce"], "n-0123456");
        assert_eq!(v["email"], "a@example.com");
        assert_eq!(v["aud"], json!(["app"]));
        assert_eq!(v["exp"], 60);
        assert!(v.get("acr").is_none());
        assert_eq!(v["amr"], json!(["pwd"]));
    }
}
