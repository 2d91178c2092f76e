//! RP-initiated logout through the project's logout app: the challenge API, the registered
//! post-logout redirect, and the ended login session.

use reqwest::Method;
use serde_json::json;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::super::identity::{Client, project, stack};
use super::code::{
    CB, VERIFIER, accept_login, auth_url, browse, code_for, exchange, location, query_param, web_client,
};

const BYE: &str = "https://app.example/bye";

#[tokio::test]
async fn rp_initiated_logout_ends_the_login_session() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (mut browser, mut admin) = (Client::new(), Client::new());
        let (id, secret) = web_client(&mut admin, &p, json!({"post_logout_redirect_uris": [BYE]})).await;
        let code = code_for(&mut browser, &mut admin, &p, &id, &[]).await;
        let tokens = expect(&exchange(&mut admin, &p, &id, &secret, &code, VERIFIER).await, 200).clone();
        let hint = tokens["id_token"].as_str().unwrap().to_owned();
        let logout = |extra: &[(&str, &str)]| {
            let mut pairs =
                vec![("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", BYE), ("state", "bye-state-123")];
            pairs.extend_from_slice(extra);
            let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            format!("{}/oauth2/sessions/logout?{q}", p.base)
        };

        // An unregistered destination is refused outright.
        let evil = format!(
            "{}/oauth2/sessions/logout?id_token_hint={hint}&post_logout_redirect_uri=https://evil.example/",
            p.base
        );
        assert_eq!(browse(&mut browser, &evil).await.status, 400);
        // A hint that is not this project's ID token is refused.
        let forged = format!("{}/oauth2/sessions/logout?id_token_hint=e30.e30.sig", p.base);
        assert_eq!(browse(&mut browser, &forged).await.status, 400);

        let to_app = location(&browse(&mut browser, &logout(&[])).await);
        let challenge = query_param(&to_app, "logout_challenge").expect("a logout challenge");
        let get = format!("{}/admin/oauth2/auth/requests/logout?logout_challenge={challenge}", p.base);
        let request = expect(&admin.admin(Method::GET, &get, &p.key, None).await, 200).clone();
        assert_eq!(request["subject"], "user-1");
        assert_eq!(request["rp_initiated"], true);
        assert_eq!(request["client"]["client_id"], id.as_str());
        assert!(!request["sid"].as_str().unwrap().is_empty());
        let accept = format!("{}/admin/oauth2/auth/requests/logout/accept?logout_challenge={challenge}", p.base);
        let back = expect(&admin.admin(Method::PUT, &accept, &p.key, None).await, 200)["redirect_to"]
            .as_str()
            .unwrap()
            .to_owned();
        let twice = admin.admin(Method::PUT, &accept, &p.key, None).await;
        assert_eq!(twice.status, 410);
        let done = location(&browse(&mut browser, &back).await);
        assert!(done.starts_with(BYE), "{done}");
        assert_eq!(query_param(&done, "state").as_deref(), Some("bye-state-123"));
        let again = browse(&mut browser, &back).await;
        assert_eq!(again.status, 400, "the verifier is good once: {}", again.body);
        assert_eq!(again.body["error"], "invalid_request");

        // The next authorization asks for a login again.
        let to_login = location(&browse(&mut browser, &auth_url(&p, &id, &[])).await);
        let challenge = query_param(&to_login, "login_challenge").unwrap();
        let (request, _) = accept_login(
            &mut admin,
            &p,
            &challenge,
            json!({"subject": "user-1", "remember": true, "remember_for": 60}),
        )
        .await;
        assert_eq!(request["skip"], false);

        // Without a signed-in browser there is nothing to end: straight to the destination.
        let direct = location(&browse(&mut Client::new(), &logout(&[])).await);
        assert!(direct.starts_with(BYE), "{direct}");
        // A rejected logout answers 204 and leaves the session alone.
        let mut other = Client::new();
        let code = code_for(&mut other, &mut admin, &p, &id, &[]).await;
        let _ = code;
        let to_app = location(&browse(&mut other, &format!("{}/oauth2/sessions/logout", p.base)).await);
        let challenge = query_param(&to_app, "logout_challenge").unwrap();
        let reject = format!("{}/admin/oauth2/auth/requests/logout/reject?logout_challenge={challenge}", p.base);
        assert_eq!(admin.admin(Method::PUT, &reject, &p.key, Some(json!({}))).await.status, 204);
        let to_login = location(&browse(&mut other, &auth_url(&p, &id, &[])).await);
        let challenge = query_param(&to_login, "login_challenge").unwrap();
        let get = format!("{}/admin/oauth2/auth/requests/login?login_challenge={challenge}", p.base);
        assert_eq!(expect(&admin.admin(Method::GET, &get, &p.key, None).await, 200)["skip"], true);
        let unknown = admin
            .admin(
                Method::GET,
                &format!("{}/admin/oauth2/auth/requests/logout?logout_challenge=nope", p.base),
                &p.key,
                None,
            )
            .await;
        assert_eq!(unknown.status, 404);
        let _ = CB;
        stack.stop().await;
    }
}
