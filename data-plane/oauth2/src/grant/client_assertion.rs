//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): the client signs a short-lived
//! JWT about itself with a private key whose public part it registered in `jwks`.
//!
//! The assertion is verified with the client's keys only (never keys named by the token), with an asymmetric
//! algorithm only (`none` and HS* cannot be expressed by `tessera_jwk`, so a public key can never act as an
//! HMAC secret), and each `jti` is accepted once: the store records it until the assertion expires, in one
//! statement, so two racing requests cannot both pass. Every verification failure is `invalid_client`, like a
//! wrong secret; only a malformed request (unknown assertion type, two methods at once) is `invalid_request`.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tessera_jwk::{Algorithm, MAX_TOKEN_LEN, PublicKeySet};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use crate::api::single;
use crate::client::Client;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;

/// The only `client_assertion_type` (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The furthest in the future an assertion may expire: assertions are meant to be used at once, and their
/// jti must be remembered until they expire.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Clock skew tolerated for `iat` and `nbf` in the future.
const LEEWAY_SECS: i64 = 60;
/// The longest `jti` accepted.
const MAX_JTI_LEN: usize = 512;

fn refused(why: impl Into<String>) -> OAuth2Error {
    OAuth2Error::InvalidClient(why.into())
}

/// The claims of a compact JWS without verifying it: only to learn which client's keys to verify it with.
fn unverified_claims(token: &str) -> Option<Value> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The client's registered public keys.
fn client_keys(client: &Client) -> Result<PublicKeySet, OAuth2Error> {
    let has_keys = client.jwks.get("keys").and_then(Value::as_array).is_some_and(|k| !k.is_empty());
    if !has_keys {
        return Err(refused(if client.jwks_uri.is_empty() {
            "The OAuth 2.0 Client has no JSON Web Keys registered, but they are needed to verify the client_assertion."
        } else {
            "The OAuth 2.0 Client registered a jwks_uri, which this server does not fetch yet: \
             register the keys in `jwks` instead."
        }));
    }
    let keys = PublicKeySet::from_jwks(&client.jwks)
        .map_err(|e| refused(format!("The OAuth 2.0 Client's registered jwks cannot be used: {e}")))?;
    if keys.is_empty() {
        return Err(refused("None of the OAuth 2.0 Client's registered keys can verify signatures."));
    }
    Ok(keys)
}

/// The algorithms the client may sign with: the one it registered, else any we implement.
fn allowed_algorithms(client: &Client) -> Result<Vec<Algorithm>, OAuth2Error> {
    match client.token_endpoint_auth_signing_alg.as_str() {
        "" => Ok(Algorithm::ALL.to_vec()),
        alg => alg.parse().map(|a| vec![a]).map_err(|e| refused(format!("The client's signing algorithm: {e}"))),
    }
}

/// A numeric date claim (seconds; fractions dropped).
fn numeric_date(claims: &Value, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("Claim '{name}' of the client_assertion must be a number.")),
    }
}

/// Checks the claims of a verified assertion (RFC 7523 §3); its jti and expiry when they hold.
fn check_claims(claims: &Value, client_id: &str, audiences: &[String], now: i64) -> Result<(String, i64), String> {
    for name in ["iss", "sub"] {
        if claims.get(name).and_then(Value::as_str) != Some(client_id) {
            return Err(format!(
                "Claim '{name}' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client."
            ));
        }
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(format!(
            "Claim 'aud' from 'client_assertion' must contain the authorization server's token endpoint '{}'.",
            audiences.join("' or '")
        ));
    }
    let exp = numeric_date(claims, "exp")?.ok_or("Claim 'exp' from 'client_assertion' is required.")?;
    if exp <= now {
        return Err("The client_assertion has expired.".into());
    }
    if exp > now + MAX_LIFETIME_SECS {
        return Err(format!(
            "Claim 'exp' from 'client_assertion' is more than {MAX_LIFETIME_SECS} seconds in the future."
        ));
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY_SECS) {
        return Err("The client_assertion is not valid yet (nbf).".into());
    }
    if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err("Claim 'iat' from 'client_assertion' is in the future.".into());
    }
    let jti = match claims.get("jti") {
        Some(Value::String(j)) if !j.is_empty() && j.len() <= MAX_JTI_LEN => j.clone(),
        _ => return Err("Claim 'jti' from 'client_assertion' must be set (a string of at most 512 bytes).".into()),
    };
    Ok((jti, exp))
}

/// What the jti table stores for an assertion: a digest of the client id and the jti.
pub(crate) fn jti_digest(client_id: &str, jti: &str) -> String {
    let mut h = Sha256::new();
    h.update((client_id.len() as u64).to_be_bytes());
    h.update(client_id.as_bytes());
    h.update(jti.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The token endpoint URLs an assertion's `aud` may name: as this request reached the project, and under the
/// configured issuer when that differs.
pub(crate) fn token_endpoints(tenant: &TenantContext, req: &HttpRequest) -> Vec<String> {
    let mut urls = vec![format!("{}/oauth2/token", tenant.public_base_url(req))];
    let by_issuer = format!("{}/oauth2/token", crate::issuer(tenant, req));
    if !urls.contains(&by_issuer) {
        urls.push(by_issuer);
    }
    urls
}

/// Authenticates a client by its `client_assertion`.
pub async fn authenticate(
    req: &HttpRequest,
    tenant: &TenantContext,
    svc: &OAuth2Service,
    form: &[(String, String)],
) -> Result<StoredClient, OAuth2Error> {
    match single(form, "client_assertion_type")? {
        Some(JWT_BEARER) => {}
        Some(other) => {
            return Err(OAuth2Error::InvalidRequest(format!("Unknown client_assertion_type '{other}'.")));
        }
        None => {
            return Err(OAuth2Error::InvalidRequest(format!(
                "The client_assertion_type request parameter must be '{JWT_BEARER}' when client_assertion is sent."
            )));
        }
    }
    let assertion = single(form, "client_assertion")?.ok_or_else(|| {
        OAuth2Error::InvalidRequest(format!(
            "The client_assertion request parameter must be set when using client_assertion_type of '{JWT_BEARER}'."
        ))
    })?;
    if req.headers().contains_key(header::AUTHORIZATION) || single(form, "client_secret")?.is_some() {
        return Err(OAuth2Error::InvalidRequest(
            "Client authentication used more than one method (client_assertion and a client secret).".into(),
        ));
    }
    let client_id = match single(form, "client_id")? {
        Some(id) => id.to_owned(),
        None => unverified_claims(assertion)
            .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| refused("The claim 'sub' from the client_assertion JSON Web Token is undefined."))?,
    };
    let Some(stored) = svc.store(tenant).client(&client_id).await? else {
        return Err(refused("The OAuth 2.0 Client does not exist."));
    };
    let client = &stored.client;
    if client.token_endpoint_auth_method != "private_key_jwt" {
        return Err(refused(format!(
            "The OAuth 2.0 Client supports client authentication method '{}', but 'private_key_jwt' was used.",
            client.token_endpoint_auth_method
        )));
    }
    let keys = client_keys(client)?;
    let claims = keys
        .verify_jwt(assertion, &allowed_algorithms(client)?)
        .map_err(|e| refused(format!("Unable to verify the integrity of the 'client_assertion' value: {e}.")))?;
    let now = svc.now();
    let (jti, exp) = check_claims(&claims, &client.client_id, &token_endpoints(tenant, req), now.unix_timestamp())
        .map_err(refused)?;
    let expires_at = OffsetDateTime::from_unix_timestamp(exp).map_err(|_| refused("Claim 'exp' is out of range."))?;
    let store = svc.store(tenant);
    if !store.use_jti(&jti_digest(&client.client_id, &jti), expires_at, now).await? {
        return Err(refused("Claim 'jti' from 'client_assertion' MUST only be used once."));
    }
    if rand::random_ratio(1, 64) {
        store.delete_expired_jtis(now).await?;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn aud() -> Vec<String> {
        vec!["https://p.example/oauth2/token".into()]
    }

    fn good() -> Value {
        let aud = "https://p.example/oauth2/token";
        json!({"iss": "c", "sub": "c", "aud": aud, "exp": NOW + 60, "jti": "j1", "iat": NOW})
    }

    fn with(patch: Value) -> Value {
        let mut c = good();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    #[test]
    fn claims_rules() {
        assert_eq!(check_claims(&good(), "c", &aud(), NOW), Ok(("j1".into(), NOW + 60)));
        let list_aud = with(json!({"aud": ["x", "https://p.example/oauth2/token"], "exp": NOW as f64 + 60.5}));
        assert_eq!(check_claims(&list_aud, "c", &aud(), NOW), Ok(("j1".into(), NOW + 60)));
        for (label, claims) in [
            ("iss", with(json!({"iss": "d"}))),
            ("sub", with(json!({"sub": "d"}))),
            ("no sub", with(json!({"sub": null}))),
            ("aud", with(json!({"aud": "https://p.example/oauth2/auth"}))),
            ("aud list", with(json!({"aud": ["https://other.example/oauth2/token"]}))),
            ("no aud", with(json!({"aud": null}))),
            ("expired", with(json!({"exp": NOW}))),
            ("far future", with(json!({"exp": NOW + MAX_LIFETIME_SECS + 1}))),
            ("no exp", with(json!({"exp": null}))),
            ("exp text", with(json!({"exp": "soon"}))),
            ("nbf", with(json!({"nbf": NOW + 600}))),
            ("iat", with(json!({"iat": NOW + 600}))),
            ("no jti", with(json!({"jti": null}))),
            ("empty jti", with(json!({"jti": ""}))),
            ("long jti", with(json!({"jti": "x".repeat(513)}))),
        ] {
            assert!(check_claims(&claims, "c", &aud(), NOW).is_err(), "{label}");
        }
    }

    #[test]
    fn jti_digests_are_per_client() {
        assert_ne!(jti_digest("a", "j"), jti_digest("b", "j"));
        assert_ne!(jti_digest("a\0", "j"), jti_digest("a", "\0j"));
        assert_eq!(jti_digest("a", "j").len(), 64);
    }

    #[test]
    fn unverified_sub_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"client-1"}"#);
        assert_eq!(unverified_claims(&format!("e30.{payload}.sig")).unwrap()["sub"], "client-1");
        assert!(unverified_claims("garbage").is_none());
    }
}
