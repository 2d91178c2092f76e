//! The authorization code flow end to end: a browser (cookie jar, no redirects followed), the project's login
//! and consent apps (the challenge API with the project key), and the client at the token endpoint. Then the
//! attacks: redirect-URI tricks, PKCE failures, replayed codes and challenges, verifiers from another browser,
//! refresh-token reuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_platform::db::testing::backends;

use super::super::api::{Answer, expect};
use super::super::identity::{Client, Project, project, stack};
use super::{basic, create_client, expect_oauth_error, form};

pub const CB: &str = "https://app.example/cb";
pub const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789-abcdefghijkl";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A query parameter of a URL.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url).ok()?.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

pub fn location(a: &Answer) -> String {
    assert_eq!(a.status.as_u16(), 302, "{}", a.body);
    a.headers["location"].to_str().unwrap().to_owned()
}

/// A confidential web client with the code and refresh grants: `(id, secret)`.
pub async fn web_client(c: &mut Client, p: &Project, extra: Value) -> (String, String) {
    let mut body = json!({
        "redirect_uris": [CB, "https://app.example/other"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid offline_access profile",
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let created = create_client(c, p, body).await;
    (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap_or("").to_owned())
}

/// The `/oauth2/auth` URL for `client` with PKCE, state and nonce, plus `extra` query pairs.
pub fn auth_url(p: &Project, client: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", client.into()),
        ("redirect_uri", CB.into()),
        ("scope", "openid offline_access".into()),
        ("state", "state-0123456789".into()),
        ("nonce", "nonce-0123456789".into()),
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        if !v.is_empty() {
            pairs.push((k, (*v).to_owned()));
        }
    }
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{}/oauth2/auth?{q}", p.base)
}

/// The browser follows one redirect that stays on the project (cookies sent and kept).
pub async fn browse(browser: &mut Client, url: &str) -> Answer {
    browser.send(Method::GET, url, None, &[], true).await
}

/// The login app: get the request, accept it for `subject`; the `redirect_to`.
pub async fn accept_login(admin: &mut Client, p: &Project, challenge: &str, body: Value) -> (Value, String) {
    let url = format!("{}/admin/oauth2/auth/requests/login?login_challenge={challenge}", p.base);
    let request = expect(&admin.admin(Method::GET, &url, &p.key, None).await, 200).clone();
    let accept = format!("{}/admin/oauth2/auth/requests/login/accept?login_challenge={challenge}", p.base);
    let answer = admin.admin(Method::PUT, &accept, &p.key, Some(body)).await;
    (request, expect(&answer, 200)["redirect_to"].as_str().unwrap().to_owned())
}

/// The consent app: get the request, grant `scopes` with an email claim; the `redirect_to`.
async fn accept_consent(
    admin: &mut Client,
    p: &Project,
    challenge: &str,
    scopes: &[&str],
    remember: bool,
) -> (Value, String) {
    let url = format!("{}/admin/oauth2/auth/requests/consent?consent_challenge={challenge}", p.base);
    let request = expect(&admin.admin(Method::GET, &url, &p.key, None).await, 200).clone();
    let accept = format!("{}/admin/oauth2/auth/requests/consent/accept?consent_challenge={challenge}", p.base);
    let body = json!({"grant_scope": scopes, "remember": remember, "remember_for": 3600,
                      "session": {"id_token": {"email": "ada@example.com"}, "access_token": {"tier": "gold"}}});
    let answer = admin.admin(Method::PUT, &accept, &p.key, Some(body)).await;
    (request, expect(&answer, 200)["redirect_to"].as_str().unwrap().to_owned())
}

/// Runs the whole browser flow; the code from the redirect to the client.
pub async fn code_for(
    browser: &mut Client,
    admin: &mut Client,
    p: &Project,
    client: &str,
    extra: &[(&str, &str)],
) -> String {
    let to_login = location(&browse(browser, &auth_url(p, client, extra)).await);
    let login_challenge = query_param(&to_login, "login_challenge").expect("a login challenge");
    let (_, back) = accept_login(
        admin,
        p,
        &login_challenge,
        json!({"subject": "user-1", "remember": true, "remember_for": 3600, "amr": ["pwd"]}),
    )
    .await;
    let to_consent = location(&browse(browser, &back).await);
    let consent_challenge = query_param(&to_consent, "consent_challenge").expect("a consent challenge");
    let (_, back) = accept_consent(admin, p, &consent_challenge, &["openid", "offline_access"], true).await;
    let to_client = location(&browse(browser, &back).await);
    assert!(to_client.starts_with(CB), "{to_client}");
    assert_eq!(query_param(&to_client, "state").as_deref(), Some("state-0123456789"));
    query_param(&to_client, "code").expect("a code")
}

pub async fn exchange(c: &mut Client, p: &Project, id: &str, secret: &str, code: &str, verifier: &str) -> Answer {
    form(
        c,
        &format!("{}/oauth2/token", p.base),
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)],
        &[("authorization", &basic(id, secret))],
    )
    .await
}

async fn active(c: &mut Client, p: &Project, token: &str) -> bool {
    let i = form(
        c,
        &format!("{}/admin/oauth2/introspect", p.base),
        &[("token", token)],
        &[("authorization", &format!("Bearer {}", p.key))],
    )
    .await;
    expect(&i, 200)["active"].as_bool().unwrap()
}

#[tokio::test]
async fn code_flow_with_pkce_issues_verifiable_tokens_and_refreshes_with_rotation() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (mut browser, mut admin) = (Client::new(), Client::new());
        let (id, secret) = web_client(&mut admin, &p, json!({})).await;

        // Login request as the login app sees it.
        let to_login = location(&browse(&mut browser, &auth_url(&p, &id, &[])).await);
        let login_challenge = query_param(&to_login, "login_challenge").unwrap();
        let (request, back) = accept_login(
            &mut admin,
            &p,
            &login_challenge,
            json!({"subject": "user-1", "remember": true, "remember_for": 3600, "acr": "1", "amr": ["pwd"]}),
        )
        .await;
        assert_eq!(request["challenge"], login_challenge.as_str());
        assert_eq!(request["client"]["client_id"], id.as_str());
        assert!(request["client"].get("client_secret").is_none());
        assert_eq!(request["requested_scope"], json!(["openid", "offline_access"]));
        assert_eq!(request["skip"], false);
        assert_eq!(request["subject"], "");
        assert!(request["request_url"].as_str().unwrap().starts_with(&format!("{}/oauth2/auth?", p.base)));
        // A handled challenge answers 410 with the same redirect.
        let again = admin
            .admin(
                Method::PUT,
                &format!("{}/admin/oauth2/auth/requests/login/accept?login_challenge={login_challenge}", p.base),
                &p.key,
                Some(json!({"subject": "mallory"})),
            )
            .await;
        assert_eq!(again.status, 410, "{}", again.body);
        assert_eq!(again.body["redirect_to"], back.as_str());
        // The verifier from another browser (no CSRF cookie) is refused.
        let stolen = browse(&mut Client::new(), &back).await;
        let stolen_to = location(&stolen);
        assert_eq!(query_param(&stolen_to, "error").as_deref(), Some("request_forbidden"), "{stolen_to}");
        let to_consent = location(&browse(&mut browser, &back).await);
        let consent_challenge = query_param(&to_consent, "consent_challenge").unwrap();
        let (consent, back) =
            accept_consent(&mut admin, &p, &consent_challenge, &["openid", "offline_access"], true).await;
        assert_eq!(consent["subject"], "user-1");
        assert_eq!(consent["skip"], false);
        assert_eq!(consent["amr"], json!(["pwd"]));
        assert_eq!(consent["login_challenge"], login_challenge.as_str());
        let to_client = location(&browse(&mut browser, &back).await);
        let code = query_param(&to_client, "code").unwrap();
        assert!(code.starts_with("ory_ac_"));
        // The consent verifier is good once.
        let replayed = location(&browse(&mut browser, &back).await);
        assert!(query_param(&replayed, "error").is_some(), "{replayed}");

        let tokens = exchange(&mut admin, &p, &id, &secret, &code, VERIFIER).await;
        let tokens = expect(&tokens, 200).clone();
        assert_eq!(tokens["token_type"], "bearer");
        assert_eq!(tokens["scope"], "openid offline_access");
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        assert!(refresh.starts_with("ory_rt_"));
        let id_token = tokens["id_token"].as_str().unwrap().to_owned();

        // The ID token verifies with jsonwebtoken against the published JWKS.
        let jwks = expect(&browser.get_json(&format!("{}/.well-known/jwks.json", p.base), &[]).await, 200).clone();
        let header = jsonwebtoken::decode_header(&id_token).unwrap();
        let kid = header.kid.clone().expect("ID tokens name their key");
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(
            jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone(),
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_audience(&[id.as_str()]);
        validation.set_issuer(&[p.base.as_str()]);
        let claims =
            jsonwebtoken::decode::<Value>(&id_token, &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(), &validation)
                .expect("the ID token verifies")
                .claims;
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(claims["nonce"], "nonce-0123456789");
        assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16]));
        assert_eq!(claims["email"], "ada@example.com");
        assert_eq!(claims["acr"], "1");
        assert_eq!(claims["amr"], json!(["pwd"]));
        assert_eq!(claims["sid"], request["session_id"]);

        // userinfo (GET with a bearer token, POST with a form).
        let info = browser
            .send(
                Method::GET,
                &format!("{}/userinfo", p.base),
                None,
                &[("authorization", &format!("Bearer {access}"))],
                false,
            )
            .await;
        assert_eq!(expect(&info, 200), &json!({"sub": "user-1", "email": "ada@example.com"}));
        let info = form(&mut browser, &format!("{}/userinfo", p.base), &[("access_token", &access)], &[]).await;
        assert_eq!(expect(&info, 200)["sub"], "user-1");
        let bad = browser
            .send(Method::GET, &format!("{}/userinfo", p.base), None, &[("authorization", "Bearer ory_at_x.y")], false)
            .await;
        assert_eq!(bad.status, 401);
        assert!(bad.headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
        let intro = form(
            &mut admin,
            &format!("{}/admin/oauth2/introspect", p.base),
            &[("token", &access)],
            &[("authorization", &format!("Bearer {}", p.key))],
        )
        .await;
        assert_eq!(expect(&intro, 200)["ext"], json!({"tier": "gold"}));

        // Refresh with rotation; reusing the old refresh token revokes the chain.
        let refreshed = form(
            &mut admin,
            &format!("{}/oauth2/token", p.base),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        let refreshed = expect(&refreshed, 200).clone();
        let new_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();
        let new_access = refreshed["access_token"].as_str().unwrap().to_owned();
        assert_ne!(new_refresh, refresh);
        assert!(refreshed["id_token"].is_string());
        assert!(active(&mut admin, &p, &new_access).await);
        assert!(!active(&mut admin, &p, &access).await, "a refresh ends the access token it replaces");
        let reuse = form(
            &mut admin,
            &format!("{}/oauth2/token", p.base),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect_oauth_error(&reuse, 400, "invalid_grant");
        for t in [&access, &new_access, &new_refresh] {
            assert!(!active(&mut admin, &p, t).await, "the whole chain is revoked");
        }

        // A second authorization in the same browser: the login and the consent are remembered (skip).
        let to_login = location(&browse(&mut browser, &auth_url(&p, &id, &[])).await);
        let challenge = query_param(&to_login, "login_challenge").unwrap();
        let url = format!("{}/admin/oauth2/auth/requests/login?login_challenge={challenge}", p.base);
        let request = expect(&admin.admin(Method::GET, &url, &p.key, None).await, 200).clone();
        assert_eq!(request["skip"], true);
        assert_eq!(request["subject"], "user-1");
        let wrong = admin
            .admin(
                Method::PUT,
                &format!("{}/admin/oauth2/auth/requests/login/accept?login_challenge={challenge}", p.base),
                &p.key,
                Some(json!({"subject": "someone-else"})),
            )
            .await;
        assert_eq!(wrong.status, 400, "a skipped login must keep its subject");
        let (_, back) = accept_login(&mut admin, &p, &challenge, json!({"subject": "user-1"})).await;
        let to_consent = location(&browse(&mut browser, &back).await);
        let challenge = query_param(&to_consent, "consent_challenge").unwrap();
        let (consent, _) = accept_consent(&mut admin, &p, &challenge, &["openid"], false).await;
        assert_eq!(consent["skip"], true);
        let sessions = admin
            .admin(Method::GET, &format!("{}/admin/oauth2/auth/sessions/consent?subject=user-1", p.base), &p.key, None)
            .await;
        assert!(!expect(&sessions, 200).as_array().unwrap().is_empty());
        stack.stop().await;
    }
}

#[tokio::test]
async fn authorization_requests_refuse_redirect_tricks_weak_pkce_and_replays() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (mut browser, mut admin) = (Client::new(), Client::new());
        let (id, secret) = web_client(&mut admin, &p, json!({})).await;

        // Redirect URIs that are not exactly registered never receive anything: the error page does.
        for uri in [
            "https://APP.example/cb",
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://app.example:8443/cb",
            "https://evil.example/cb",
            "http://app.example/cb",
        ] {
            let to = location(&browse(&mut browser, &auth_url(&p, &id, &[("redirect_uri", uri)])).await);
            assert!(!to.starts_with(uri), "{uri} must not be redirected to: {to}");
            assert_eq!(query_param(&to, "error").as_deref(), Some("invalid_request"), "{uri}: {to}");
        }
        let unknown = location(&browse(&mut browser, &auth_url(&p, "no-such-client", &[])).await);
        assert_eq!(query_param(&unknown, "error").as_deref(), Some("invalid_client"));

        // Errors after the redirect URI is known go to it, with the state.
        for (extra, code) in [
            (vec![("code_challenge_method", "plain")], "invalid_request"),
            (vec![("code_challenge", "too-short")], "invalid_request"),
            (vec![("state", "short")], "invalid_state"),
            (vec![("scope", "openid admin")], "invalid_scope"),
            (vec![("response_type", "token")], "unsupported_response_type"),
            (vec![("prompt", "none")], "login_required"),
            (vec![("prompt", "none login")], "invalid_request"),
        ] {
            let to = location(&browse(&mut Client::new(), &auth_url(&p, &id, &extra)).await);
            assert!(to.starts_with(CB), "{extra:?}: {to}");
            assert_eq!(query_param(&to, "error").as_deref(), Some(code), "{extra:?}: {to}");
        }
        // A public client must use PKCE.
        let (public, _) = web_client(&mut admin, &p, json!({"token_endpoint_auth_method": "none"})).await;
        let to = location(
            &browse(&mut browser, &auth_url(&p, &public, &[("code_challenge", ""), ("code_challenge_method", "")]))
                .await,
        );
        assert_eq!(query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");

        // PKCE at the token endpoint; a failed exchange still burns the code.
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let wrong =
            exchange(&mut admin, &p, &id, &secret, &code, "another-verifier-that-is-long-enough-0123456789-abcdefghi")
                .await;
        expect_oauth_error(&wrong, 400, "invalid_grant");
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let missing = form(
            &mut admin,
            &format!("{}/oauth2/token", p.base),
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect_oauth_error(&missing, 400, "invalid_grant");

        // The redirect URI at the token endpoint must be the one the code was issued for.
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let other = form(
            &mut admin,
            &format!("{}/oauth2/token", p.base),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example/other"),
                ("code_verifier", VERIFIER),
            ],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect_oauth_error(&other, 400, "invalid_grant");

        // A code is for its client only, and is good once: a replay revokes what the first use issued.
        let (other_id, other_secret) = web_client(&mut admin, &p, json!({})).await;
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let stolen = exchange(&mut admin, &p, &other_id, &other_secret, &code, VERIFIER).await;
        expect_oauth_error(&stolen, 400, "invalid_grant");
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let first = expect(&exchange(&mut admin, &p, &id, &secret, &code, VERIFIER).await, 200).clone();
        let replay = exchange(&mut admin, &p, &id, &secret, &code, VERIFIER).await;
        expect_oauth_error(&replay, 400, "invalid_grant");
        assert!(
            !active(&mut admin, &p, first["access_token"].as_str().unwrap()).await,
            "the replay revoked the first tokens"
        );
        assert!(!active(&mut admin, &p, first["refresh_token"].as_str().unwrap()).await);

        // A rejected consent reaches the client as access_denied with its state.
        let to_login = location(&browse(&mut browser, &auth_url(&p, &id, &[])).await);
        let challenge = query_param(&to_login, "login_challenge").unwrap();
        let (_, back) = accept_login(&mut admin, &p, &challenge, json!({"subject": "user-1"})).await;
        let to_consent = location(&browse(&mut browser, &back).await);
        let challenge = query_param(&to_consent, "consent_challenge").unwrap();
        let reject = admin
            .admin(
                Method::PUT,
                &format!("{}/admin/oauth2/auth/requests/consent/reject?consent_challenge={challenge}", p.base),
                &p.key,
                Some(json!({"error": "access_denied", "error_description": "The user said no."})),
            )
            .await;
        let back = expect(&reject, 200)["redirect_to"].as_str().unwrap().to_owned();
        let to_client = location(&browse(&mut browser, &back).await);
        assert!(to_client.starts_with(CB));
        assert_eq!(query_param(&to_client, "error").as_deref(), Some("access_denied"));
        assert_eq!(query_param(&to_client, "state").as_deref(), Some("state-0123456789"));

        // Challenges of one project are unknown to another; unknown challenges are 404.
        let q = project(&stack, "eu-central").await;
        let to_login = location(&browse(&mut browser, &auth_url(&p, &id, &[])).await);
        let challenge = query_param(&to_login, "login_challenge").unwrap();
        let foreign = admin
            .admin(
                Method::GET,
                &format!("{}/admin/oauth2/auth/requests/login?login_challenge={challenge}", q.base),
                &q.key,
                None,
            )
            .await;
        assert_eq!(foreign.status, 404);
        let unknown = admin
            .admin(
                Method::GET,
                &format!("{}/admin/oauth2/auth/requests/login?login_challenge=nope", p.base),
                &p.key,
                None,
            )
            .await;
        assert_eq!(unknown.status, 404);
        stack.stop().await;
    }
}
