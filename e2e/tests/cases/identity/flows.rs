//! Self-service flows: registration, login, settings and logout in api and browser modes, with every
//! outcome the SDKs and UIs branch on.

use reqwest::Method;
use serde_json::json;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::{Body, Client, STRONG, csrf_value, login_api, messages, patch_config, project, register_api, stack};

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

/// A browser signs up, in, changes its password, and out: HTML navigations get 303s to the project's UI,
/// JSON requests get the flow, and the anti-CSRF cookie and token are required throughout.
#[tokio::test]
async fn browser_flows_with_cookies_csrf_and_redirects() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        let mut b = Client::new();

        // A navigation: 303 to the registration UI with ?flow=, and the CSRF cookie.
        let nav = b.send(Method::GET, &format!("{base}/self-service/registration/browser"), None, &[], true).await;
        assert_eq!(nav.status, 303);
        let location = nav.headers["location"].to_str().unwrap().to_owned();
        assert!(location.contains("/ui/registration?flow="), "{location}");
        let flow_id = location.rsplit("flow=").next().unwrap().to_owned();
        let csrf_cookie = b.jar.keys().find(|k| k.starts_with("csrf_token_")).cloned().expect("csrf cookie set");
        let set = nav.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert!(set.iter().any(|c| c.contains("HttpOnly")), "{set:?}");

        // The UI fetches the flow with the browser's cookies; without them it is refused.
        let flow = b
            .send(
                Method::GET,
                &format!("{base}/self-service/registration/flows?id={flow_id}"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        let flow = expect(&flow, 200).clone();
        assert_eq!(flow["type"], "browser");
        let token = csrf_value(&flow);
        assert_eq!(token.len(), 88, "a masked 64-byte token");
        let stranger = Client::new()
            .send(
                Method::GET,
                &format!("{base}/self-service/registration/flows?id={flow_id}"),
                None,
                &[("accept", "application/json")],
                false,
            )
            .await;
        assert_eq!(expect(&stranger, 403)["error"]["id"], "security_csrf_violation");

        // Submissions without the cookie, without the token, or with another token are refused.
        let form = |csrf: &str| {
            Body::Form(vec![
                ("method".into(), "password".into()),
                ("csrf_token".into(), csrf.into()),
                ("traits.email".into(), "bob@example.com".into()),
                ("password".into(), STRONG.into()),
            ])
        };
        let action = flow["ui"]["action"].as_str().unwrap().to_owned();
        let no_cookie =
            b.send(Method::POST, &action, Some(form(&token)), &[("accept", "application/json")], false).await;
        assert_eq!(
            expect(&no_cookie, 403)["error"]["details"]["reject_reason"],
            "The HTTP Cookie Header is empty or not set."
        );
        let no_token = b.send(Method::POST, &action, Some(form("")), &[("accept", "application/json")], true).await;
        assert_eq!(expect(&no_token, 403)["error"]["id"], "security_csrf_violation");
        let other = Client::new()
            .send(
                Method::GET,
                &format!("{base}/self-service/login/browser"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        let foreign_token = csrf_value(expect(&other, 200));
        let mismatch =
            b.send(Method::POST, &action, Some(form(&foreign_token)), &[("accept", "application/json")], true).await;
        assert!(expect(&mismatch, 403)["error"]["details"]["reject_reason"].as_str().unwrap().contains("do not match"));
        // As an HTML form post, a CSRF failure goes to the error page, which can read the error.
        let html = b.send(Method::POST, &action, Some(form("")), &[], true).await;
        assert_eq!(html.status, 303);
        let err_loc = html.headers["location"].to_str().unwrap().to_owned();
        assert!(err_loc.contains("/ui/error?id="), "{err_loc}");
        let err_id = err_loc.rsplit("id=").next().unwrap();
        let shown = b.get_json(&format!("{base}/self-service/errors?id={err_id}"), &[]).await;
        assert_eq!(expect(&shown, 200)["error"]["id"], "security_csrf_violation");

        // The real submission, as a form post from the page: 303 onwards with the session cookie, and a new
        // anti-CSRF secret (the one from before sign-in is worthless now).
        let before = b.jar[&csrf_cookie].clone();
        let done = b.send(Method::POST, &action, Some(form(&token)), &[], true).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_ne!(b.jar[&csrf_cookie], before, "the CSRF cookie is rotated at sign-in");
        let session_cookie = format!("ory_session_{}", p.slug.replace('-', ""));
        assert!(b.jar.contains_key(&session_cookie), "{:?}", b.jar.keys().collect::<Vec<_>>());
        let who = b
            .send(Method::GET, &format!("{base}/sessions/whoami"), None, &[("accept", "application/json")], true)
            .await;
        assert_eq!(expect(&who, 200)["identity"]["traits"]["email"], "bob@example.com");

        // Signed in: a login navigation goes straight on; a JSON login init says so.
        let nav = b.send(Method::GET, &format!("{base}/self-service/login/browser"), None, &[], true).await;
        assert_eq!(nav.status, 303);
        assert!(!nav.headers["location"].to_str().unwrap().contains("/ui/login"));
        let json_init = b
            .send(
                Method::GET,
                &format!("{base}/self-service/login/browser"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        assert_eq!(expect(&json_init, 400)["error"]["id"], "session_already_available");
        let reg_again = b
            .send(
                Method::GET,
                &format!("{base}/self-service/registration/api"),
                None,
                &[("x-session-token", "none")],
                false,
            )
            .await;
        assert_eq!(reg_again.status, 200, "an unknown token is no session");

        // Settings: change the password (the session is fresh, so privileged).
        let settings = b
            .send(
                Method::GET,
                &format!("{base}/self-service/settings/browser"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        let settings = expect(&settings, 200).clone();
        assert_eq!(settings["identity"]["traits"]["email"], "bob@example.com");
        let s_action = settings["ui"]["action"].as_str().unwrap().to_owned();
        let changed = b
            .send(
                Method::POST,
                &s_action,
                Some(Body::Json(json!({"method": "password", "password": "another-long-passphrase-77", "csrf_token": csrf_value(&settings)}))),
                &[("accept", "application/json")],
                true,
            )
            .await;
        let changed = expect(&changed, 200).clone();
        assert_eq!(changed["state"], "success");
        assert_eq!(changed["ui"]["messages"][0]["id"], 1050001);

        // Logout: a URL with a token, then a navigation to it.
        let out = b
            .send(
                Method::GET,
                &format!("{base}/self-service/logout/browser"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        let out = expect(&out, 200).clone();
        let logout_url = out["logout_url"].as_str().unwrap().to_owned();
        assert!(out["logout_token"].as_str().unwrap().starts_with("ory_lo_"));
        let bad = b
            .send(
                Method::GET,
                &format!("{base}/self-service/logout?token=ory_lo_wrong"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        assert_eq!(bad.status, 403);
        let gone = b.send(Method::GET, &logout_url, None, &[], true).await;
        assert_eq!(gone.status, 303);
        assert!(!b.jar.contains_key(&session_cookie), "the session cookie is removed");
        let who = b
            .send(Method::GET, &format!("{base}/sessions/whoami"), None, &[("accept", "application/json")], true)
            .await;
        assert_eq!(who.status, 401);

        // The new password works, the old does not.
        let mut n = Client::new();
        assert_eq!(login_api(&mut n, base, "bob@example.com", STRONG).await.status, 400);
        assert_eq!(login_api(&mut n, base, "bob@example.com", "another-long-passphrase-77").await.status, 200);
        let _ = csrf_cookie;
        stack.stop().await;
    }
}

/// What the form says when input is wrong, in both modes: the whole flow with Kratos's message ids.
#[tokio::test]
async fn validation_errors_come_back_in_the_flow() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        let mut c = Client::new();

        let cases: [(&str, &str, (u64, &str)); 6] = [
            ("", STRONG, (4000002, "traits.email")),
            ("not-an-email", STRONG, (4000040, "traits.email")),
            ("carol@example.com", "", (4000002, "password")),
            ("carol@example.com", "short", (4000032, "password")),
            ("carol@example.com", "password123", (4000034, "password")),
            ("carol@example.com", "carol@example.com1", (4000031, "password")),
        ];
        for (email, password, expected) in cases {
            let traits = if email.is_empty() { json!({}) } else { json!({"email": email}) };
            let flow = c.get_json(&format!("{base}/self-service/registration/api"), &[]).await;
            let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
            let answer = c
                .send(
                    Method::POST,
                    &action,
                    Some(Body::Json(json!({"method": "password", "password": password, "traits": traits}))),
                    &[],
                    false,
                )
                .await;
            let body = expect(&answer, 400);
            let got: Vec<(u64, String)> = messages(body);
            let want = vec![(expected.0, expected.1.to_owned())];
            assert_eq!(got, want, "email {email:?} password {password:?}: {body}");
            if !email.is_empty() {
                let node = body["ui"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|n| n["attributes"]["name"] == "traits.email")
                    .unwrap();
                assert_eq!(node["attributes"]["value"], email, "the value is echoed back");
            }
        }

        // Duplicate registration (letter case does not make a new account).
        expect(&register_api(&mut c, base, "dana@example.com", STRONG).await, 200);
        let dup = register_api(&mut c, base, "DANA@Example.com", STRONG).await;
        assert_eq!(messages(expect(&dup, 400)), [(4000007, String::new())]);

        // A missing method, and an unknown flow.
        let flow = c.get_json(&format!("{base}/self-service/login/api"), &[]).await;
        let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
        let none = c.send(Method::POST, &action, Some(Body::Json(json!({"identifier": "x"}))), &[], false).await;
        assert_eq!(messages(expect(&none, 400)), [(4010002, String::new())]);
        let unknown =
            c.get_json(&format!("{base}/self-service/login/flows?id=00000000-0000-0000-0000-000000000000"), &[]).await;
        assert_eq!(unknown.status, 404);
        let missing = c
            .send(
                Method::POST,
                &format!("{base}/self-service/login"),
                Some(Body::Json(json!({}))),
                &[("accept", "application/json")],
                false,
            )
            .await;
        assert_eq!(missing.status, 400);

        // An api flow driven by a browser (Origin or cookies) is refused inside the flow.
        let flow = c.get_json(&format!("{base}/self-service/login/api"), &[]).await;
        let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
        let body = json!({"method": "password", "identifier": "dana@example.com", "password": STRONG});
        let origin = c
            .send(Method::POST, &action, Some(Body::Json(body.clone())), &[("origin", "https://evil.test")], false)
            .await;
        assert_eq!(messages(expect(&origin, 400)), [(4000001, String::new())]);
        let cookie = c.send(Method::POST, &action, Some(Body::Json(body.clone())), &[("cookie", "sid=1")], false).await;
        assert_eq!(messages(expect(&cookie, 400)), [(4000001, String::new())]);
        let cf = c.send(Method::POST, &action, Some(Body::Json(body)), &[("cookie", "__cf_bm=1")], false).await;
        assert_eq!(expect(&cf, 200)["session"]["identity"]["traits"]["email"], "dana@example.com");
        stack.stop().await;
    }
}

/// Expired flows answer 410 with a new flow to continue with; completed flows cannot be replayed; a
/// disabled account cannot sign in, but only a caller who knows the password learns that.
#[tokio::test]
async fn expired_replayed_and_disabled() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        let mut c = Client::new();
        expect(&register_api(&mut c, base, "erin@example.com", STRONG).await, 200);

        // Replay: the same completed login flow submitted again.
        let flow = c.get_json(&format!("{base}/self-service/login/api"), &[]).await;
        let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
        let body = json!({"method": "password", "identifier": "erin@example.com", "password": STRONG});
        expect(&c.send(Method::POST, &action, Some(Body::Json(body.clone())), &[], false).await, 200);
        let replay = c.send(Method::POST, &action, Some(Body::Json(body.clone())), &[], false).await;
        let replay = expect(&replay, 400);
        assert_eq!(messages(replay), [(4000001, String::new())]);
        assert!(replay.get("session_token").is_none());

        // Disabled: the right password says "disabled", a wrong one the usual "invalid credentials".
        let listed = c
            .admin(
                Method::GET,
                &format!("{base}/admin/identities?credentials_identifier=erin@example.com"),
                &p.key,
                None,
            )
            .await;
        let id = expect(&listed, 200)[0]["id"].as_str().unwrap().to_owned();
        let off = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/identities/{id}"),
                &p.key,
                Some(json!([{"op": "replace", "path": "/state", "value": "inactive"}])),
            )
            .await;
        assert_eq!(expect(&off, 200)["state"], "inactive");
        let disabled = login_api(&mut c, base, "erin@example.com", STRONG).await;
        assert_eq!(messages(expect(&disabled, 400)), [(4010011, String::new())]);
        let wrong = login_api(&mut c, base, "erin@example.com", "wrong-password-123").await;
        assert_eq!(messages(expect(&wrong, 400)), [(4000006, String::new())]);

        // Expiry: flows that live one second.
        patch_config(
            &stack,
            &p,
            json!([{"op": "add", "path": "/services/identity/config/selfservice/flows/login/lifespan", "value": "1s"}]),
        )
        .await;
        let flow = c.get_json(&format!("{base}/self-service/login/api"), &[]).await;
        let flow = expect(&flow, 200).clone();
        let action = flow["ui"]["action"].as_str().unwrap().to_owned();
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let late = c.send(Method::POST, &action, Some(Body::Json(body.clone())), &[], false).await;
        let late = expect(&late, 410).clone();
        assert_eq!(late["error"]["id"], "self_service_flow_expired");
        let next = late["use_flow_id"].as_str().unwrap();
        assert_ne!(next, flow["id"].as_str().unwrap());
        let fresh = c.get_json(&format!("{base}/self-service/login/flows?id={next}"), &[]).await;
        assert_eq!(messages(expect(&fresh, 200)), [(4010001, String::new())]);
        let fetch_old =
            c.get_json(&format!("{base}/self-service/login/flows?id={}", flow["id"].as_str().unwrap()), &[]).await;
        let old = expect(&fetch_old, 410);
        assert_eq!(old["error"]["id"], "self_service_flow_expired");
        assert!(old["error"]["details"]["api"].as_str().unwrap().ends_with("/self-service/login/api"));
        stack.stop().await;
    }
}

/// `return_to` is checked against the project's allow-list as a parsed URL.
#[tokio::test]
async fn return_to_attacks_are_refused() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        patch_config(&stack, &p, json!([{"op": "add", "path": "/services/identity/config/selfservice/allowed_return_urls", "value": ["https://app.example.com/dashboard"]}])).await;
        let mut c = Client::new();
        for bad in [
            "https://evil.test/",
            "https://app.example.com.evil.test/dashboard",
            "https://app.example.com@evil.test/dashboard",
            "//evil.test/dashboard",
            "http://app.example.com/dashboard",
            "https://app.example.com/dashboardx",
            "javascript:alert(1)",
            "/\\evil.test",
            "https://app.example.com:444/dashboard",
        ] {
            let enc = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>();
            let api = c.get_json(&format!("{base}/self-service/login/api?return_to={enc}"), &[]).await;
            assert_eq!(expect(&api, 400)["error"]["id"], "self_service_flow_return_to_forbidden", "{bad}");
            let nav = c
                .send(Method::GET, &format!("{base}/self-service/login/browser?return_to={enc}"), None, &[], false)
                .await;
            assert_eq!(nav.status, 303, "{bad}");
            assert!(
                nav.headers["location"].to_str().unwrap().contains("/ui/error?id="),
                "{bad}: {:?}",
                nav.headers["location"]
            );
        }
        let good = "https://app.example.com/dashboard/settings?tab=1";
        let enc = url::form_urlencoded::byte_serialize(good.as_bytes()).collect::<String>();
        let ok = c.get_json(&format!("{base}/self-service/login/browser?return_to={enc}"), &[]).await;
        assert_eq!(expect(&ok, 200)["return_to"], good);
        // After signing in, the browser is sent there.
        let mut b = Client::new();
        expect(&register_api(&mut b, base, "finn@example.com", STRONG).await, 200);
        let flow = b
            .send(
                Method::GET,
                &format!("{base}/self-service/login/browser?return_to={enc}"),
                None,
                &[("accept", "application/json")],
                true,
            )
            .await;
        let flow = expect(&flow, 200).clone();
        let done = b
            .send(
                Method::POST,
                flow["ui"]["action"].as_str().unwrap(),
                Some(Body::Form(vec![
                    ("method".into(), "password".into()),
                    ("identifier".into(), "finn@example.com".into()),
                    ("password".into(), STRONG.into()),
                    ("csrf_token".into(), csrf_value(&flow)),
                ])),
                &[],
                true,
            )
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(done.headers["location"].to_str().unwrap(), good);
        stack.stop().await;
    }
}
