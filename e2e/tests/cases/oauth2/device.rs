//! The device authorization grant (RFC 8628) end to end: a device asks `/oauth2/device/auth` for codes and polls
//! the token endpoint; a browser brings the user code to `/oauth2/device/verify` (directly, or through the
//! project's verification UI and the device-accept admin call) and passes the login and consent apps. Then the
//! failure answers: pending, slow_down, access_denied, expired_token, another client, a replayed device code,
//! user codes that are unknown or belong to another project.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tessera_platform::db::testing::backends;

use super::super::api::{Answer, expect};
use super::super::identity::{Client, Project, patch_config, project, stack};
use super::code::{accept_login, browse, location, query_param};
use super::{basic, create_client, expect_oauth_error, form};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A client of the device grant (and refresh): `(id, secret)`; the secret is empty for a public client.
async fn device_client(c: &mut Client, p: &Project, public: bool) -> (String, String) {
    let mut body = json!({"grant_types": [GRANT, "refresh_token"], "scope": "openid offline_access profile"});
    if public {
        body["token_endpoint_auth_method"] = json!("none");
    }
    let created = create_client(c, p, body).await;
    (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap_or("").to_owned())
}

fn auth_headers(id: &str, secret: &str) -> Vec<(&'static str, String)> {
    if secret.is_empty() { vec![] } else { vec![("authorization", basic(id, secret))] }
}

async fn device_auth(c: &mut Client, p: &Project, id: &str, secret: &str, scope: &str) -> Answer {
    let h = auth_headers(id, secret);
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut pairs = vec![("scope", scope)];
    if secret.is_empty() {
        pairs.push(("client_id", id));
    }
    form(c, &format!("{}/oauth2/device/auth", p.base), &pairs, &headers).await
}

async fn poll(c: &mut Client, p: &Project, id: &str, secret: &str, device_code: &str) -> Answer {
    let h = auth_headers(id, secret);
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut pairs = vec![("grant_type", GRANT), ("device_code", device_code)];
    if secret.is_empty() {
        pairs.push(("client_id", id));
    }
    form(c, &format!("{}/oauth2/token", p.base), &pairs, &headers).await
}

/// The consent app grants `scopes` with claims; the `redirect_to`.
async fn accept_consent(admin: &mut Client, p: &Project, challenge: &str, scopes: &[&str]) -> (Value, String) {
    let url = format!("{}/admin/oauth2/auth/requests/consent?consent_challenge={challenge}", p.base);
    let request = expect(&admin.admin(Method::GET, &url, &p.key, None).await, 200).clone();
    let accept = format!("{}/admin/oauth2/auth/requests/consent/accept?consent_challenge={challenge}", p.base);
    let body = json!({"grant_scope": scopes, "session": {"id_token": {"email": "ada@example.com"}}});
    let answer = admin.admin(Method::PUT, &accept, &p.key, Some(body)).await;
    (request, expect(&answer, 200)["redirect_to"].as_str().unwrap().to_owned())
}

/// The error page a browser was sent to, and its `error`.
fn error_page(a: &Answer) -> String {
    let to = location(a);
    assert!(to.contains("/ui/error"), "{to}");
    query_param(&to, "error").unwrap_or_default()
}

#[tokio::test]
async fn device_flow_issues_tokens_once_after_the_browser_approved() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let other = project(&stack, "eu-central").await;
        let (mut device, mut browser, mut admin) = (Client::new(), Client::new(), Client::new());
        let (id, secret) = device_client(&mut admin, &p, false).await;

        let auth = device_auth(&mut device, &p, &id, &secret, "openid offline_access").await;
        let auth = expect(&auth, 200).clone();
        let device_code = auth["device_code"].as_str().unwrap().to_owned();
        let user_code = auth["user_code"].as_str().unwrap().to_owned();
        assert!(device_code.starts_with("ory_dc_"), "{auth}");
        assert_eq!(user_code.len(), 8);
        assert!(user_code.bytes().all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)), "{user_code}");
        assert_eq!(auth["verification_uri"], format!("{}/oauth2/device/verify", p.base));
        assert_eq!(auth["verification_uri_complete"], format!("{}/oauth2/device/verify?user_code={user_code}", p.base));
        assert_eq!(auth["interval"], 5);
        assert!(auth["expires_in"].as_i64().unwrap() > 60, "{auth}");

        // Scopes and grant types are checked like the code flow's; a public client authenticates with `none`.
        expect_oauth_error(&device_auth(&mut device, &p, &id, &secret, "openid admin").await, 400, "invalid_scope");
        let (m2m, m2m_secret) = super::m2m_client(&mut admin, &p, json!({})).await;
        expect_oauth_error(&device_auth(&mut device, &p, &m2m, &m2m_secret, "").await, 400, "unauthorized_client");
        expect_oauth_error(&device_auth(&mut device, &p, &id, "wrong", "openid").await, 401, "invalid_client");
        let (public, _) = device_client(&mut admin, &p, true).await;
        expect(&device_auth(&mut device, &p, &public, "", "openid").await, 200);

        // Before approval: pending, then slow_down when polled again at once.
        expect_oauth_error(&poll(&mut device, &p, &id, &secret, &device_code).await, 400, "authorization_pending");
        expect_oauth_error(&poll(&mut device, &p, &id, &secret, &device_code).await, 400, "slow_down");
        // Another client of the project cannot poll it; a forged code is not one.
        let (thief, thief_secret) = device_client(&mut admin, &p, false).await;
        expect_oauth_error(&poll(&mut device, &p, &thief, &thief_secret, &device_code).await, 400, "invalid_grant");
        expect_oauth_error(&poll(&mut device, &p, &id, &secret, "ory_dc_forged.x").await, 400, "invalid_grant");

        // The user code means nothing on another project, and an unknown one is refused.
        let foreign = format!("{}/oauth2/device/verify?user_code={user_code}", other.base);
        assert_eq!(error_page(&browse(&mut Client::new(), &foreign).await), "invalid_request");
        let unknown = format!("{}/oauth2/device/verify?user_code=BBBBBBBB", p.base);
        assert_eq!(error_page(&browse(&mut Client::new(), &unknown).await), "invalid_request");

        // The browser: user code (lower case, with a dash) → login → consent → approved.
        let typed = format!("{}-{}", &user_code[..4], &user_code[4..]).to_lowercase();
        let start = format!("{}/oauth2/device/verify?user_code={typed}", p.base);
        let to_login = location(&browse(&mut browser, &start).await);
        let login_challenge = query_param(&to_login, "login_challenge").expect("a login challenge");
        let (request, back) = accept_login(
            &mut admin,
            &p,
            &login_challenge,
            json!({"subject": "user-1", "remember": true, "remember_for": 3600, "amr": ["pwd"]}),
        )
        .await;
        assert_eq!(request["client"]["client_id"], id.as_str());
        assert_eq!(request["requested_scope"], json!(["openid", "offline_access"]));
        assert!(request["request_url"].as_str().unwrap().starts_with(&format!("{}/oauth2/device/verify", p.base)));
        assert!(back.starts_with(&format!("{}/oauth2/device/verify?", p.base)), "{back}");
        let to_consent = location(&browse(&mut browser, &back).await);
        let consent_challenge = query_param(&to_consent, "consent_challenge").expect("a consent challenge");
        let (consent, back) = accept_consent(&mut admin, &p, &consent_challenge, &["openid", "offline_access"]).await;
        assert_eq!(consent["subject"], "user-1");
        // The consent verifier cannot be taken to /oauth2/auth for a code.
        let stolen = browse(&mut browser, &back.replace("/oauth2/device/verify", "/oauth2/auth")).await;
        assert_eq!(error_page(&stolen), "invalid_request");
        let done = browse(&mut browser, &back).await;
        assert_eq!(done.status.as_u16(), 200, "{}", done.body);
        // The verifier is good once and the user code is spent.
        assert_eq!(error_page(&browse(&mut browser, &back).await), "invalid_request");
        assert_eq!(error_page(&browse(&mut Client::new(), &start).await), "invalid_request");

        // The device gets its tokens once the interval has passed.
        tokio::time::sleep(Duration::from_millis(5100)).await;
        let tokens = poll(&mut device, &p, &id, &secret, &device_code).await;
        let tokens = expect(&tokens, 200).clone();
        assert!(tokens["access_token"].as_str().unwrap().starts_with("ory_at_"), "{tokens}");
        assert!(tokens["refresh_token"].as_str().unwrap().starts_with("ory_rt_"), "{tokens}");
        assert!(tokens["id_token"].is_string(), "{tokens}");
        assert_eq!(tokens["scope"], "openid offline_access");
        let userinfo = device
            .get_json(
                &format!("{}/userinfo", p.base),
                &[("authorization", &format!("Bearer {}", tokens["access_token"].as_str().unwrap()))],
            )
            .await;
        let userinfo = expect(&userinfo, 200);
        assert_eq!(userinfo["sub"], "user-1");
        assert_eq!(userinfo["email"], "ada@example.com");

        // A second redemption is refused and revokes what the first one issued.
        expect_oauth_error(&poll(&mut device, &p, &id, &secret, &device_code).await, 400, "invalid_grant");
        let i = form(
            &mut admin,
            &format!("{}/admin/oauth2/introspect", p.base),
            &[("token", tokens["access_token"].as_str().unwrap())],
            &[("authorization", &format!("Bearer {}", p.key))],
        )
        .await;
        assert_eq!(expect(&i, 200)["active"], false);
        stack.stop().await;
    }
}

#[tokio::test]
async fn device_flow_through_the_verification_ui_denials_and_expiry() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        patch_config(
            &stack,
            &p,
            json!([
                {"op": "add", "path": "/services/oauth2/config/ttl/device_user_code", "value": "4s"},
                {"op": "add", "path": "/services/oauth2/config/urls/device",
                 "value": {"verification": "https://ui.example/device", "success": "https://ui.example/done"}},
            ]),
        )
        .await;
        let (mut device, mut browser, mut admin) = (Client::new(), Client::new(), Client::new());
        let (id, secret) = device_client(&mut admin, &p, false).await;

        // Without a user code the browser goes to the verification UI with a device challenge.
        let auth = device_auth(&mut device, &p, &id, &secret, "openid").await;
        let auth = expect(&auth, 200).clone();
        assert_eq!(auth["expires_in"], 4);
        let device_code = auth["device_code"].as_str().unwrap().to_owned();
        let to_ui = location(&browse(&mut browser, &format!("{}/oauth2/device/verify", p.base)).await);
        assert!(to_ui.starts_with("https://ui.example/device?"), "{to_ui}");
        let challenge = query_param(&to_ui, "device_challenge").expect("a device challenge");
        let accept_url = format!("{}/admin/oauth2/auth/requests/device/accept?device_challenge={challenge}", p.base);
        // An unknown user code is refused; the challenge stays usable.
        let wrong = admin.admin(Method::PUT, &accept_url, &p.key, Some(json!({"user_code": "BBBBBBBB"}))).await;
        expect_oauth_error(&wrong, 400, "invalid_request");
        let unknown_challenge = admin
            .admin(
                Method::PUT,
                &format!("{}/admin/oauth2/auth/requests/device/accept?device_challenge=nope", p.base),
                &p.key,
                Some(json!({"user_code": auth["user_code"]})),
            )
            .await;
        assert_eq!(unknown_challenge.status.as_u16(), 404, "{}", unknown_challenge.body);
        let accepted =
            admin.admin(Method::PUT, &accept_url, &p.key, Some(json!({"user_code": auth["user_code"]}))).await;
        let redirect_to = expect(&accepted, 200)["redirect_to"].as_str().unwrap().to_owned();
        assert!(redirect_to.starts_with(&format!("{}/oauth2/device/verify?", p.base)), "{redirect_to}");
        assert!(query_param(&redirect_to, "device_verifier").is_some());
        assert_eq!(query_param(&redirect_to, "client_id").as_deref(), Some(id.as_str()));
        let again = admin.admin(Method::PUT, &accept_url, &p.key, Some(json!({"user_code": auth["user_code"]}))).await;
        assert_eq!(again.status.as_u16(), 410, "{}", again.body);
        assert_eq!(again.body["redirect_to"], redirect_to.as_str());
        // The device verifier only works in the browser that got the challenge.
        assert_eq!(error_page(&browse(&mut Client::new(), &redirect_to).await), "request_forbidden");
        let to_login = location(&browse(&mut browser, &redirect_to).await);
        let login_challenge = query_param(&to_login, "login_challenge").expect("a login challenge");

        // The login app rejects: the browser sees the error page, the device access_denied.
        let reject = admin
            .admin(
                Method::PUT,
                &format!("{}/admin/oauth2/auth/requests/login/reject?login_challenge={login_challenge}", p.base),
                &p.key,
                Some(json!({"error": "access_denied", "error_description": "The user said no."})),
            )
            .await;
        let back = expect(&reject, 200)["redirect_to"].as_str().unwrap().to_owned();
        assert_eq!(error_page(&browse(&mut browser, &back).await), "access_denied");
        let denied = poll(&mut device, &p, &id, &secret, &device_code).await;
        expect_oauth_error(&denied, 400, "access_denied");
        assert!(denied.body["error_description"].as_str().unwrap().contains("The user said no."), "{}", denied.body);

        // Approved through the UI: the success page names the client.
        let auth = device_auth(&mut device, &p, &id, &secret, "openid").await;
        let auth = expect(&auth, 200).clone();
        let start = format!("{}/oauth2/device/verify?user_code={}", p.base, auth["user_code"].as_str().unwrap());
        let to_login = location(&browse(&mut browser, &start).await);
        let login_challenge = query_param(&to_login, "login_challenge").unwrap();
        let (_, back) = accept_login(&mut admin, &p, &login_challenge, json!({"subject": "user-2"})).await;
        let to_consent = location(&browse(&mut browser, &back).await);
        let consent_challenge = query_param(&to_consent, "consent_challenge").unwrap();
        let (_, back) = accept_consent(&mut admin, &p, &consent_challenge, &["openid"]).await;
        let to_success = location(&browse(&mut browser, &back).await);
        assert_eq!(to_success, format!("https://ui.example/done?client_id={id}"));
        let tokens = poll(&mut device, &p, &id, &secret, auth["device_code"].as_str().unwrap()).await;
        assert!(expect(&tokens, 200)["id_token"].is_string());

        // After its lifespan the device code is expired_token, and the user code is gone.
        let auth = device_auth(&mut device, &p, &id, &secret, "openid").await;
        let auth = expect(&auth, 200).clone();
        tokio::time::sleep(Duration::from_millis(4500)).await;
        let late = poll(&mut device, &p, &id, &secret, auth["device_code"].as_str().unwrap()).await;
        expect_oauth_error(&late, 400, "expired_token");
        let start = format!("{}/oauth2/device/verify?user_code={}", p.base, auth["user_code"].as_str().unwrap());
        assert_eq!(error_page(&browse(&mut browser, &start).await), "invalid_request");
        stack.stop().await;
    }
}
