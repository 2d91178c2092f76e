//! The OAuth2 engine through Hydra's API on a project's host, over the real regional stack: client
//! management, the token endpoint with every client authentication method, introspection, revocation and
//! discovery, and the attacks on each.

mod clients;
mod code;
mod device;
mod keys;
mod logout;
mod tokens;
mod trust;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use super::api::{Answer, expect};
use super::identity::{Body, Client, Project};

/// Creates a client with the project key; its JSON (with the secret).
pub async fn create_client(c: &mut Client, p: &Project, body: Value) -> Value {
    let created = c.admin(Method::POST, &format!("{}/admin/clients", p.base), &p.key, Some(body)).await;
    expect(&created, 201).clone()
}

/// A confidential client allowed the client credentials grant: `(id, secret)`.
pub async fn m2m_client(c: &mut Client, p: &Project, extra: Value) -> (String, String) {
    let mut body =
        json!({"grant_types": ["client_credentials"], "scope": "read write", "audience": ["https://api.example.com"]});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let created = create_client(c, p, body).await;
    (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap_or("").to_owned())
}

/// HTTP Basic credentials as RFC 6749 §2.3.1 wants them: each part form-encoded, then base64.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
}

/// POSTs a form to a project path with optional extra headers.
pub async fn form(c: &mut Client, url: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
    let pairs = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    c.send(Method::POST, url, Some(Body::Form(pairs)), headers, false).await
}

/// Asserts an RFC 6749 error answer: status and `error` code.
pub fn expect_oauth_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.body["error"], code, "{}", a.body);
    assert!(a.body["error_description"].is_string(), "{}", a.body);
}
