//! The JWT-bearer authorization grant (RFC 7523 §2.1): a client exchanges an assertion signed by an issuer the
//! project trusts (`/admin/trust/grants/jwt-bearer/issuers`) for an access token about the assertion's subject.
//!
//! The assertion's `iss`, `sub` and `kid` only select candidate trust relationships; nothing is believed until
//! the signature verifies with the key registered for that issuer (asymmetric algorithms only). Then `aud` must
//! name our token endpoint, `exp` must be in the future and no further than `grant.jwt.max_ttl`, `iat` and `jti`
//! are required unless configured optional, and a `jti` is accepted once. Requested scopes must be allowed by the
//! trust relationship and the client.

use actix_web::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_jwk::{Algorithm, MAX_TOKEN_LEN, PublicKey, PublicKeySet};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;
use uuid::Uuid;

use super::client_assertion::{jti_digest, token_endpoints};
use super::scopes::{check_scopes, split};
use super::{AccessGrant, issue_access_token, token_response};
use crate::api::single;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;

/// The grant type's name.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A segment of a compact JWS, decoded as JSON (before verification: only to pick the key).
fn segment(token: &str, index: usize) -> Option<Value> {
    let part = token.split('.').nth(index)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

fn number(claims: &Value, name: &str) -> Option<i64> {
    claims.get(name).and_then(Value::as_i64)
}

/// Issues an access token for a trusted assertion.
pub async fn jwt_bearer(
    svc: &OAuth2Service,
    tenant: &TenantContext,
    req: &HttpRequest,
    issuer: &str,
    stored: &StoredClient,
    form: &[(String, String)],
) -> Result<Value, OAuth2Error> {
    let client = &stored.client;
    if !client.allows_grant(JWT_BEARER_GRANT) {
        return Err(OAuth2Error::UnauthorizedClient(format!(
            "The client is not allowed to use authorization grant '{JWT_BEARER_GRANT}'."
        )));
    }
    let assertion = single(form, "assertion")?
        .ok_or_else(|| OAuth2Error::InvalidRequest("The parameter `assertion` is missing.".into()))?;
    let invalid = |why: &str| OAuth2Error::InvalidGrant(why.to_owned());
    if assertion.len() > MAX_TOKEN_LEN {
        return Err(invalid("The assertion is too long."));
    }
    let header = segment(assertion, 0).ok_or_else(|| invalid("The assertion is not a signed JWT."))?;
    let unverified = segment(assertion, 1).ok_or_else(|| invalid("The assertion is not a signed JWT."))?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let (iss, sub, kid) = (text(&unverified, "iss"), text(&unverified, "sub"), text(&header, "kid"));
    if iss.is_empty() || sub.is_empty() {
        return Err(invalid("The assertion must carry `iss` and `sub`."));
    }
    let now = svc.now();
    let candidates = svc.store(tenant).trusts_for(&iss, &sub, &kid, now).await?;
    let mut verified = None;
    for trust in &candidates {
        let Ok(jwk) = serde_json::from_str::<Value>(&trust.jwk) else { continue };
        let Ok(key) = PublicKey::from_jwk(&jwk) else { continue };
        if let Ok(claims) = PublicKeySet::new(vec![key]).verify_jwt(assertion, &Algorithm::ALL) {
            verified = Some((trust, claims));
            break;
        }
    }
    let (trust, claims) = verified.ok_or_else(|| {
        invalid("The assertion's issuer, subject or key is not trusted, the trust expired, or the signature does not verify.")
    })?;
    if claims["iss"].as_str() != Some(iss.as_str()) || claims["sub"].as_str() != Some(sub.as_str()) {
        return Err(invalid("The assertion's claims changed between selection and verification."));
    }
    let endpoints = token_endpoints(tenant, req);
    let aud_ok = match &claims["aud"] {
        Value::String(a) => endpoints.contains(a) || a == issuer,
        Value::Array(a) => a.iter().filter_map(Value::as_str).any(|a| endpoints.iter().any(|e| e == a) || a == issuer),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid("The assertion's `aud` must name this token endpoint."));
    }
    let config = &tenant.config().oauth2.oauth2.grant.jwt;
    let exp = number(&claims, "exp").ok_or_else(|| invalid("The assertion must carry `exp`."))?;
    let max_ttl = config.max_ttl.0.as_secs() as i64;
    let now_s = now.unix_timestamp();
    if exp <= now_s {
        return Err(invalid("The assertion has expired."));
    }
    if exp - now_s > max_ttl {
        return Err(invalid(
            "The assertion's `exp` is further in the future than the configured maximum (grant.jwt.max_ttl).",
        ));
    }
    match number(&claims, "iat") {
        Some(iat) if iat > now_s + 60 => return Err(invalid("The assertion's `iat` is in the future.")),
        Some(_) => {}
        None if config.iat_optional => {}
        None => return Err(invalid("The assertion must carry `iat`.")),
    }
    if number(&claims, "nbf").is_some_and(|nbf| nbf > now_s + 60) {
        return Err(invalid("The assertion is not valid yet (`nbf`)."));
    }
    match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if !jti.is_empty() && jti.len() <= 512 => {
            let expires = OffsetDateTime::from_unix_timestamp(exp).unwrap_or(now);
            let digest = jti_digest(&format!("jwt-bearer\0{iss}"), jti);
            if !svc.store(tenant).use_jti(&digest, expires, now).await? {
                return Err(invalid("The assertion's `jti` was used already."));
            }
        }
        _ if config.jti_optional => {}
        _ => return Err(invalid("The assertion must carry `jti`.")),
    }
    let scopes = split(&single(form, "scope")?.into_iter().collect::<Vec<_>>());
    let allowed = trust.scopes();
    if let Some(s) = scopes.iter().find(|s| !allowed.contains(s)) {
        return Err(OAuth2Error::InvalidScope(format!(
            "The trust relationship of this issuer does not allow scope '{s}'."
        )));
    }
    check_scopes(client, tenant.config().oauth2.strategies.scope, &scopes)?;
    let lifespan =
        client.lifespan("jwt_bearer_grant_access_token_lifespan").unwrap_or(tenant.config().oauth2.ttl.access_token.0);
    let grant = AccessGrant {
        client,
        subject: &sub,
        scopes,
        audience: Vec::new(),
        lifespan,
        request_id: Uuid::now_v7(),
        extra: Value::Object(Default::default()),
    };
    let access = issue_access_token(svc, tenant, issuer, &grant).await?;
    tenant.usage().active_identity(grant.subject);
    Ok(token_response(&access, &grant.scopes))
}
