//! `/admin/keys` (Hydra's JSON Web Key sets) and `/.well-known/jwks.json`.
//!
//! The admin API shows private keys, as Hydra's does: it is how operators back up and move their signing keys.
//! Only asymmetric keys exist here (RS256, ES256, EdDSA); Hydra's symmetric HS* sets are refused, since a
//! symmetric key could never be published on jwks.json anyway. Imported keys must be private: a set holds
//! signing keys, and verification-only keys would have nothing to sign with.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Bytes, Data, Path};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_jwk::{Algorithm, KeyPair, KeyUse};
use tessera_platform::tenant::TenantContext;

use super::{json, parse_body};
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;

type Svc = Data<OAuth2Service>;

/// The longest set name and kid accepted.
const MAX_NAME_LEN: usize = 255;
/// The most keys one set may be replaced with.
const MAX_SET_KEYS: usize = 64;

/// Registers the key routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/keys/{set}")
            .route(web::post().to(create))
            .route(web::get().to(get_set))
            .route(web::put().to(replace_set))
            .route(web::delete().to(delete_set)),
    )
    .service(
        web::resource("/admin/keys/{set}/{kid}")
            .route(web::get().to(get_key))
            .route(web::put().to(put_key))
            .route(web::delete().to(delete_key)),
    )
    .service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks)));
}

/// Hydra's `createJsonWebKeySet` body.
#[derive(Debug, Deserialize)]
struct CreateBody {
    #[serde(default)]
    alg: String,
    #[serde(default)]
    kid: String,
    #[serde(default, rename = "use")]
    key_use: String,
}

fn check_name(what: &str, value: &str) -> Result<(), OAuth2Error> {
    if value.is_empty() || value.len() > MAX_NAME_LEN || value.chars().any(char::is_control) {
        return Err(OAuth2Error::BadRequest(format!(
            "The {what} must be 1 to {MAX_NAME_LEN} bytes without control characters."
        )));
    }
    Ok(())
}

/// A JWK Set of keys in their private form.
fn private_set<'a>(keys: impl IntoIterator<Item = &'a KeyPair>) -> Result<Value, OAuth2Error> {
    let keys = keys
        .into_iter()
        .map(|k| k.private_jwk().map_err(|e| OAuth2Error::Internal(format!("cannot export key {:?}: {e}", k.kid()))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "keys": keys }))
}

/// A private JWK from a request body, validated (key material consistent, algorithm supported).
fn import(jwk: &Value, at: &str) -> Result<KeyPair, OAuth2Error> {
    KeyPair::from_jwk(jwk).map_err(|e| OAuth2Error::BadRequest(format!("The JSON Web Key{at} is invalid: {e}")))
}

async fn create(tenant: TenantContext, svc: Svc, set: Path<String>, body: Bytes) -> Result<HttpResponse, OAuth2Error> {
    check_name("key set name", &set)?;
    let body: CreateBody = parse_body(&body)?;
    let alg: Algorithm = match body.alg.as_str() {
        "" => return Err(OAuth2Error::BadRequest("The key algorithm `alg` is required.".into())),
        alg => alg.parse().map_err(|_| {
            OAuth2Error::BadRequest(format!(
                "Unsupported key algorithm `{alg}`: this server generates RS256, ES256 and EdDSA keys only."
            ))
        })?,
    };
    let key_use = match body.key_use.as_str() {
        "" => KeyUse::Sig,
        u => u.parse().map_err(|e| OAuth2Error::BadRequest(format!("The key use is invalid: {e}")))?,
    };
    let kid = Some(body.kid).filter(|k| !k.is_empty());
    if let Some(kid) = &kid {
        check_name("kid", kid)?;
    }
    let key = tokio::task::spawn_blocking(move || KeyPair::generate(alg, kid, key_use))
        .await
        .map_err(|e| OAuth2Error::Internal(format!("key generation panicked: {e}")))?
        .map_err(|e| OAuth2Error::Internal(format!("cannot generate a key: {e}")))?;
    svc.add_key(&tenant, &set, &key).await?;
    let location = format!("{}/admin/keys/{}", tenant.base_path(), path_escape(&set));
    let mut resp = json(StatusCode::CREATED, &private_set([&key])?);
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&location).map_err(|e| OAuth2Error::Internal(e.to_string()))?);
    Ok(resp)
}

fn path_escape(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

async fn get_set(tenant: TenantContext, svc: Svc, set: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    let keys = svc.stored_keys(&tenant, &set).await?;
    if keys.is_empty() {
        return Err(OAuth2Error::NotFound);
    }
    Ok(json(StatusCode::OK, &private_set(&keys)?))
}

/// Hydra's `jsonWebKeySet` body.
#[derive(Debug, Deserialize)]
struct SetBody {
    #[serde(default)]
    keys: Vec<Value>,
}

async fn replace_set(
    tenant: TenantContext,
    svc: Svc,
    set: Path<String>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    check_name("key set name", &set)?;
    let body: SetBody = parse_body(&body)?;
    if body.keys.len() > MAX_SET_KEYS {
        return Err(OAuth2Error::TooLarge(format!("A key set holds at most {MAX_SET_KEYS} keys.")));
    }
    let mut keys: Vec<KeyPair> = Vec::with_capacity(body.keys.len());
    for (i, jwk) in body.keys.iter().enumerate() {
        let key = import(jwk, &format!(" at keys[{i}]"))?;
        check_name("kid", key.kid())?;
        if keys.iter().any(|k| k.kid() == key.kid()) {
            return Err(OAuth2Error::BadRequest(format!("The kid `{}` appears twice in the set.", key.kid())));
        }
        keys.push(key);
    }
    svc.replace_key_set(&tenant, &set, &keys).await?;
    Ok(json(StatusCode::OK, &private_set(&keys)?))
}

async fn delete_set(tenant: TenantContext, svc: Svc, set: Path<String>) -> Result<HttpResponse, OAuth2Error> {
    if svc.delete_key_set(&tenant, &set).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(OAuth2Error::NotFound)
    }
}

async fn get_key(tenant: TenantContext, svc: Svc, path: Path<(String, String)>) -> Result<HttpResponse, OAuth2Error> {
    let (set, kid) = path.into_inner();
    let key = svc.stored_key(&tenant, &set, &kid).await?.ok_or(OAuth2Error::NotFound)?;
    Ok(json(StatusCode::OK, &private_set([&key])?))
}

/// Unlike Hydra, which ignores the path's kid, a body naming another kid is refused: a typo must not silently
/// create or overwrite a different key.
async fn put_key(
    tenant: TenantContext,
    svc: Svc,
    path: Path<(String, String)>,
    body: Bytes,
) -> Result<HttpResponse, OAuth2Error> {
    let (set, kid) = path.into_inner();
    check_name("key set name", &set)?;
    let jwk: Value = parse_body(&body)?;
    let key = import(&jwk, "")?;
    if key.kid() != kid {
        return Err(OAuth2Error::BadRequest(format!(
            "The kid in the body (`{}`) differs from the kid in the path (`{kid}`).",
            key.kid()
        )));
    }
    check_name("kid", key.kid())?;
    svc.put_key(&tenant, &set, &key).await?;
    let jwk = key.private_jwk().map_err(|e| OAuth2Error::Internal(format!("cannot export a key: {e}")))?;
    Ok(json(StatusCode::OK, &jwk))
}

async fn delete_key(
    tenant: TenantContext,
    svc: Svc,
    path: Path<(String, String)>,
) -> Result<HttpResponse, OAuth2Error> {
    let (set, kid) = path.into_inner();
    if svc.delete_key(&tenant, &set, &kid).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(OAuth2Error::NotFound)
    }
}

/// The public keys of the ID-token and access-token sets; generates them on first call so relying parties
/// always find a key.
async fn jwks(tenant: TenantContext, svc: Svc) -> Result<HttpResponse, OAuth2Error> {
    let keys = svc.public_keys(&tenant).await?;
    Ok(json(StatusCode::OK, &json!({ "keys": keys })))
}
