//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3, OIDC Core §9).
//!
//! The method a client uses must be the one it registered; a mismatch is `invalid_client`, exactly as a wrong
//! secret is, so the answer never says which part was wrong. Unknown clients cost the same digest as known ones.
//! A `client_assertion` (`private_key_jwt`) is handed to [`super::client_assertion`].

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tessera_platform::secrets::constant_time_eq;
use tessera_platform::tenant::TenantContext;

use crate::api::single;
use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::StoredClient;

/// The credentials a request presented.
#[derive(Debug, PartialEq, Eq)]
enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    None { id: String },
}

fn form_decode(s: &str) -> Option<String> {
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(format!("v={s}").as_bytes()).into_owned().collect();
    pairs.into_iter().next().map(|(_, v)| v)
}

fn presented(req: &HttpRequest, form: &[(String, String)]) -> Result<Presented, OAuth2Error> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    let form_id = single(form, "client_id")?;
    let form_secret = single(form, "client_secret")?;
    if let Some(encoded) = basic {
        if form_secret.is_some() {
            return Err(OAuth2Error::InvalidRequest(
                "Client authentication used more than one method (HTTP Basic and client_secret in the body).".into(),
            ));
        }
        let raw = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuth2Error::InvalidClient("The HTTP Basic credentials are not valid base64.".into()))?;
        let (id, secret) = raw
            .split_once(':')
            .ok_or_else(|| OAuth2Error::InvalidClient("The HTTP Basic credentials have no `:`.".into()))?;
        let (id, secret) = (form_decode(id), form_decode(secret));
        let (Some(id), Some(secret)) = (id, secret) else {
            return Err(OAuth2Error::InvalidClient("The HTTP Basic credentials are not form-encoded.".into()));
        };
        if form_id.is_some_and(|f| f != id) {
            return Err(OAuth2Error::InvalidRequest(
                "The client_id in the body differs from the HTTP Basic one.".into(),
            ));
        }
        return Ok(Presented::Basic { id, secret });
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => Ok(Presented::Post { id: id.to_owned(), secret: secret.to_owned() }),
        (Some(id), None) => Ok(Presented::None { id: id.to_owned() }),
        (None, _) => Err(OAuth2Error::InvalidClient("No client credentials were sent.".into())),
    }
}

/// Authenticates the client of a request; the stored client when its credentials and method are right.
pub async fn authenticate(
    req: &HttpRequest,
    tenant: &TenantContext,
    svc: &OAuth2Service,
    form: &[(String, String)],
) -> Result<StoredClient, OAuth2Error> {
    if single(form, "client_assertion_type")?.is_some() || single(form, "client_assertion")?.is_some() {
        return super::client_assertion::authenticate(req, tenant, svc, form).await;
    }
    let presented = presented(req, form)?;
    let (id, secret, method) = match &presented {
        Presented::Basic { id, secret } => (id, Some(secret), "client_secret_basic"),
        Presented::Post { id, secret } => (id, Some(secret), "client_secret_post"),
        Presented::None { id } => (id, None, "none"),
    };
    let keys = svc.keys(tenant.project_id());
    let digest = secret.map(|s| keys.client_secret_digest(id, s));
    let refused = || {
        OAuth2Error::InvalidClient("The client does not exist, its credentials are wrong, or it used another authentication method than the one it registered.".into())
    };
    let Some(stored) = svc.cached_client(tenant, id).await? else {
        return Err(refused());
    };
    if stored.client.token_endpoint_auth_method != method {
        return Err(refused());
    }
    if let Some(digest) = digest {
        let current = stored.secret_digest.iter();
        let matches = current
            .chain(stored.rotated_secret_digests.iter())
            .fold(false, |found, known| constant_time_eq(known.as_bytes(), digest.as_bytes()) | found);
        if !matches {
            return Err(refused());
        }
    }
    Ok((*stored).clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        let encoded = STANDARD.encode("my%20client:p%40ss%3Aword");
        let req = TestRequest::default().insert_header(("authorization", format!("Basic {encoded}"))).to_http_request();
        assert_eq!(
            presented(&req, &[]).unwrap(),
            Presented::Basic { id: "my client".into(), secret: "p@ss:word".into() }
        );
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let encoded = STANDARD.encode("a:b");
        let req = TestRequest::default().insert_header(("authorization", format!("Basic {encoded}"))).to_http_request();
        assert!(matches!(presented(&req, &pairs(&[("client_secret", "x")])), Err(OAuth2Error::InvalidRequest(_))));
        let plain = TestRequest::default().to_http_request();
        assert_eq!(
            presented(&plain, &pairs(&[("client_id", "a"), ("client_secret", "b")])).unwrap(),
            Presented::Post { id: "a".into(), secret: "b".into() }
        );
        assert_eq!(presented(&plain, &pairs(&[("client_id", "a")])).unwrap(), Presented::None { id: "a".into() });
        assert!(matches!(presented(&plain, &[]), Err(OAuth2Error::InvalidClient(_))));
        assert!(matches!(
            presented(&plain, &pairs(&[("client_id", "a"), ("client_id", "b")])),
            Err(OAuth2Error::InvalidRequest(_))
        ));
    }
}
