//! Self-service flows: registration, login, settings and logout in api and browser modes, with every
//! outcome the SDKs and UIs branch on.

use reqwest::Method;
use serde_json::json;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::{Body, Client, STRONG, login_api, messages, project, register_api, stack};

#[tokio::test]
async fn native_app_registers_signs_in_checks_and_signs_out() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let base = &p.base;

        let registered = register_api(&mut c, base, "Alice@Example.com", STRONG).await;
        let body = expect(&registered, 200).clone();
        let token = body["session_token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("ory_st_") && token.len() >= 7 + 22, "{token}");
        assert_eq!(body["identity"]["traits"]["email"], "Alice@Example.com");
        assert_eq!(body["identity"]["verifiable_addresses"][0]["value"], "alice@example.com");
        assert_eq!(body["continue_with"][0]["action"], "set_ory_session_token");
        assert!(body["identity"].get("credentials").is_none() && body["identity"].get("metadata_admin").is_none());

        let who = c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &token)]).await;
        let session = expect(&who, 200).clone();
        assert_eq!(session["active"], true);
        assert_eq!(session["authenticator_assurance_level"], "aal1");
        assert_eq!(session["authentication_methods"][0]["method"], "password");
        assert_eq!(
            who.headers["x-kratos-authenticated-identity-id"].to_str().unwrap(),
            session["identity"]["id"].as_str().unwrap()
        );
        let bearer = format!("Bearer {token}");
        let again = c.get_json(&format!("{base}/sessions/whoami"), &[("authorization", &bearer)]).await;
        assert_eq!(expect(&again, 200)["id"], session["id"]);

        let wrong = login_api(&mut c, base, "alice@example.com", "not-the-password").await;
        assert_eq!(messages(expect(&wrong, 400)), [(4000006, String::new())]);
        let unknown = login_api(&mut c, base, "nobody@example.com", STRONG).await;
        assert_eq!(messages(expect(&unknown, 400)), [(4000006, String::new())]);
        assert_eq!(wrong.body["ui"]["messages"], unknown.body["ui"]["messages"], "same answer either way");

        let login = login_api(&mut c, base, "  ALICE@example.com ", STRONG).await;
        let login = expect(&login, 200).clone();
        let token2 = login["session_token"].as_str().unwrap().to_owned();
        assert_ne!(token, token2);
        assert_eq!(login["continue_with"], serde_json::Value::Null);

        let out = c
            .send(
                Method::DELETE,
                &format!("{base}/self-service/logout/api"),
                Some(Body::Json(json!({"session_token": token2}))),
                &[],
                false,
            )
            .await;
        assert_eq!(out.status, 204, "{}", out.body);
        let gone = c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &token2)]).await;
        let err = expect(&gone, 401);
        assert!(err["error"].get("id").is_none(), "whoami's 401 carries no id: {err}");
        let again = c
            .send(
                Method::DELETE,
                &format!("{base}/self-service/logout/api"),
                Some(Body::Json(json!({"session_token": token2}))),
                &[],
                false,
            )
            .await;
        assert_eq!(again.status, 403);
        // The first session is unaffected.
        assert_eq!(c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &token)]).await.status, 200);
        stack.stop().await;
    }
}
