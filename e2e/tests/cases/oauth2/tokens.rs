//! `/oauth2/token` (client credentials), `/admin/oauth2/introspect`, `/oauth2/revoke`, token deletion and
//! discovery: every client authentication method and the attacks on each.

use reqwest::Method;
use serde_json::json;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::super::identity::{Client, project, stack};
use super::{basic, expect_oauth_error, form, m2m_client};

/// A token request case: form pairs, Authorization header, expected status and `error`.
type Case<'a> = (Vec<(&'a str, &'a str)>, Option<String>, u16, &'a str);

#[tokio::test]
async fn client_credentials_with_each_auth_method_and_its_failures() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = p.base.as_str();
        let token_url = format!("{base}/oauth2/token");
        let mut c = Client::new();
        // An id and secret with characters that must be form-encoded inside Basic credentials.
        let (id, secret) =
            m2m_client(&mut c, &p, json!({"client_id": "svc:a b@c", "client_secret": "p@ss:w rd+/="})).await;
        let auth = basic(&id, &secret);

        let t = form(
            &mut c,
            &token_url,
            &[("grant_type", "client_credentials"), ("scope", "read")],
            &[("authorization", &auth)],
        )
        .await;
        let body = expect(&t, 200);
        assert!(body["access_token"].as_str().unwrap().starts_with("ory_at_"));
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["scope"], "read");
        assert_eq!(body["expires_in"], 3600);
        assert!(body.get("refresh_token").is_none());
        assert_eq!(t.headers["cache-control"], "no-store");

        // client_secret_post is refused for a client registered for client_secret_basic, and vice versa.
        let post =
            [("grant_type", "client_credentials"), ("client_id", id.as_str()), ("client_secret", secret.as_str())];
        expect_oauth_error(&form(&mut c, &token_url, &post, &[]).await, 401, "invalid_client");
        let (pid, psecret) = m2m_client(&mut c, &p, json!({"token_endpoint_auth_method": "client_secret_post"})).await;
        let post =
            [("grant_type", "client_credentials"), ("client_id", pid.as_str()), ("client_secret", psecret.as_str())];
        expect(&form(&mut c, &token_url, &post, &[]).await, 200);
        expect_oauth_error(
            &form(
                &mut c,
                &token_url,
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&pid, &psecret))],
            )
            .await,
            401,
            "invalid_client",
        );

        let cases: Vec<Case> = vec![
            (vec![("grant_type", "client_credentials")], Some(basic(&id, "wrong-secret")), 401, "invalid_client"),
            (vec![("grant_type", "client_credentials")], Some(basic("nobody", "whatever")), 401, "invalid_client"),
            (vec![("grant_type", "client_credentials")], None, 401, "invalid_client"),
            (vec![("grant_type", "client_credentials")], Some("Basic !!!".into()), 401, "invalid_client"),
            (vec![], Some(auth.clone()), 400, "invalid_request"),
            (vec![("grant_type", "password")], Some(auth.clone()), 400, "unsupported_grant_type"),
            (vec![("grant_type", "client_credentials"), ("scope", "admin")], Some(auth.clone()), 400, "invalid_scope"),
            (
                vec![("grant_type", "client_credentials"), ("audience", "https://evil.example")],
                Some(auth.clone()),
                400,
                "invalid_request",
            ),
            (
                vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
                Some(auth.clone()),
                400,
                "invalid_request",
            ),
            (
                vec![("grant_type", "client_credentials"), ("client_secret", "x")],
                Some(auth.clone()),
                400,
                "invalid_request",
            ),
        ];
        for (pairs, authorization, status, code) in cases {
            let headers: Vec<(&str, &str)> = authorization.iter().map(|a| ("authorization", a.as_str())).collect();
            let answer = form(&mut c, &token_url, &pairs, &headers).await;
            assert_eq!(answer.status.as_u16(), status, "{pairs:?}: {}", answer.body);
            assert_eq!(answer.body["error"], code, "{pairs:?}: {}", answer.body);
        }
        let json_body = c
            .send(
                Method::POST,
                &token_url,
                Some(super::super::identity::Body::Json(json!({"grant_type": "client_credentials"}))),
                &[("authorization", &auth)],
                false,
            )
            .await;
        expect_oauth_error(&json_body, 400, "invalid_request");

        // A client without the grant, and a public client.
        let (nid, nsecret) = m2m_client(&mut c, &p, json!({"grant_types": ["authorization_code"]})).await;
        expect_oauth_error(
            &form(
                &mut c,
                &token_url,
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&nid, &nsecret))],
            )
            .await,
            400,
            "unauthorized_client",
        );
        let (spa, _) = m2m_client(&mut c, &p, json!({"token_endpoint_auth_method": "none"})).await;
        expect_oauth_error(
            &form(&mut c, &token_url, &[("grant_type", "client_credentials"), ("client_id", &spa)], &[]).await,
            401,
            "invalid_client",
        );

        // Audience and scopes granted as requested.
        let t = form(
            &mut c,
            &token_url,
            &[("grant_type", "client_credentials"), ("scope", "read write"), ("audience", "https://api.example.com")],
            &[("authorization", &auth)],
        )
        .await;
        let token = expect(&t, 200)["access_token"].as_str().unwrap().to_owned();
        let i = form(
            &mut c,
            &format!("{base}/admin/oauth2/introspect"),
            &[("token", &token)],
            &[("authorization", &format!("Bearer {}", p.key))],
        )
        .await;
        let i = expect(&i, 200);
        assert_eq!(i["active"], true);
        assert_eq!(i["client_id"], id);
        assert_eq!(i["sub"], id);
        assert_eq!(i["scope"], "read write");
        assert_eq!(i["aud"], json!(["https://api.example.com"]));
        assert_eq!(i["token_type"], "Bearer");
        assert_eq!(i["token_use"], "access_token");
        assert_eq!(i["iss"], p.base);
        assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());

        // The M2M counter saw every token issued above (the metering hook).
        let metrics =
            reqwest::get(format!("{}/metrics", stack.region_url("eu-central"))).await.unwrap().text().await.unwrap();
        let line = metrics
            .lines()
            .find(|l| l.starts_with("tessera_oauth2_m2m_tokens_issued_total") && l.contains(&p.id))
            .unwrap_or_else(|| panic!("no M2M counter for {} in\n{metrics}", p.id));
        assert!(line.ends_with(" 3"), "three tokens were issued above: {line}");
        stack.stop().await;
    }
}

#[tokio::test]
async fn introspection_revocation_and_deletion() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let other = project(&stack, "eu-central").await;
        let base = p.base.as_str();
        let mut c = Client::new();
        let (id, secret) = m2m_client(&mut c, &p, json!({})).await;
        let token = issue(&mut c, base, &id, &secret).await;
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &token, Some("read")).await, 200)["active"], true);
        for (label, t, scope) in [
            ("a scope it lacks", token.clone(), Some("write")),
            ("garbage", "not-a-token".to_owned(), None),
            ("a forged signature", format!("{}x", &token[..token.len() - 1]), None),
            ("a refresh-token prefix", token.replacen("ory_at_", "ory_rt_", 1), None),
        ] {
            let answer = introspect(&mut c, base, &p.key, &t, scope).await;
            assert_eq!(expect(&answer, 200), &json!({"active": false}), "{label}");
        }
        // Another project neither accepts nor reveals the token.
        let foreign = introspect(&mut c, &other.base, &other.key, &token, None).await;
        assert_eq!(expect(&foreign, 200), &json!({"active": false}));
        let no_key = form(&mut c, &format!("{base}/admin/oauth2/introspect"), &[("token", &token)], &[]).await;
        assert_eq!(no_key.status, 401);

        // Revocation needs the token's own client.
        let (oid, osecret) = m2m_client(&mut c, &p, json!({})).await;
        let revoke_url = format!("{base}/oauth2/revoke");
        let by_other =
            form(&mut c, &revoke_url, &[("token", &token)], &[("authorization", &basic(&oid, &osecret))]).await;
        expect_oauth_error(&by_other, 400, "unauthorized_client");
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &token, None).await, 200)["active"], true);
        let revoked = form(&mut c, &revoke_url, &[("token", &token)], &[("authorization", &basic(&id, &secret))]).await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &token, None).await, 200), &json!({"active": false}));
        let unknown =
            form(&mut c, &revoke_url, &[("token", "ory_at_unknown.sig")], &[("authorization", &basic(&id, &secret))])
                .await;
        assert_eq!(unknown.status, 200, "RFC 7009: an unknown token is not an error");
        let unauthenticated = form(&mut c, &revoke_url, &[("token", &token)], &[]).await;
        expect_oauth_error(&unauthenticated, 401, "invalid_client");

        // An expired token is inactive (a one-second lifespan, then a wait).
        let short = c
            .admin(
                Method::PUT,
                &format!("{base}/admin/clients/{oid}/lifespans"),
                &p.key,
                Some(json!({"client_credentials_grant_access_token_lifespan": "1s"})),
            )
            .await;
        expect(&short, 200);
        let brief = issue(&mut c, base, &oid, &osecret).await;
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &brief, None).await, 200)["active"], true);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &brief, None).await, 200), &json!({"active": false}));

        // Deleting a client's tokens, and deleting the client, end its tokens.
        let first = issue(&mut c, base, &id, &secret).await;
        let deleted =
            c.admin(Method::DELETE, &format!("{base}/admin/oauth2/tokens?client_id={id}"), &p.key, None).await;
        assert_eq!(deleted.status, 204);
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &first, None).await, 200)["active"], false);
        let missing = c.admin(Method::DELETE, &format!("{base}/admin/oauth2/tokens"), &p.key, None).await;
        assert_eq!(missing.status, 400);
        let second = issue(&mut c, base, &id, &secret).await;
        let gone = c.admin(Method::DELETE, &format!("{base}/admin/clients/{id}"), &p.key, None).await;
        assert_eq!(gone.status, 204);
        assert_eq!(expect(&introspect(&mut c, base, &p.key, &second, None).await, 200)["active"], false);
        stack.stop().await;
    }
}

#[tokio::test]
async fn discovery_lists_the_projects_endpoints() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let mut c = Client::new();
        for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
            let d = c.get_json(&format!("{}{path}", p.base), &[]).await;
            let d = expect(&d, 200);
            assert_eq!(d["issuer"], p.base);
            assert_eq!(d["token_endpoint"], format!("{}/oauth2/token", p.base));
            assert_eq!(d["jwks_uri"], format!("{}/.well-known/jwks.json", p.base));
            assert_eq!(d["subject_types_supported"], json!(["public"]));
            assert!(
                d["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("client_secret_basic"))
            );
        }
        stack.stop().await;
    }
}

/// Introspects `token` on a project with its key, optionally requiring `scope`.
async fn introspect(
    c: &mut Client,
    base: &str,
    key: &str,
    token: &str,
    scope: Option<&str>,
) -> super::super::api::Answer {
    let mut pairs = vec![("token", token)];
    if let Some(s) = scope {
        pairs.push(("scope", s));
    }
    form(c, &format!("{base}/admin/oauth2/introspect"), &pairs, &[("authorization", &format!("Bearer {key}"))]).await
}

/// A client-credentials access token with scope `read`.
async fn issue(c: &mut Client, base: &str, id: &str, secret: &str) -> String {
    let t = form(
        c,
        &format!("{base}/oauth2/token"),
        &[("grant_type", "client_credentials"), ("scope", "read")],
        &[("authorization", &basic(id, secret))],
    )
    .await;
    expect(&t, 200)["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn revocations_and_client_changes_reach_every_worker_within_a_second() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let second = stack.extra_worker("eu-central").await;
        let other = format!("{}/p/{}", second.url(), p.slug);
        let mut c = Client::new();
        let (id, secret) = m2m_client(&mut c, &p, json!({})).await;
        let token = issue(&mut c, &p.base, &id, &secret).await;
        // Both workers have read the token and the client.
        for base in [p.base.as_str(), other.as_str()] {
            assert_eq!(expect(&introspect(&mut c, base, &p.key, &token, None).await, 200)["active"], true);
            issue(&mut c, base, &id, &secret).await;
        }
        // Revoked through the first worker: it forgets at once, the second within a second.
        let revoked = form(
            &mut c,
            &format!("{}/oauth2/revoke", p.base),
            &[("token", &token)],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        assert_eq!(revoked.status, 200);
        assert_eq!(expect(&introspect(&mut c, &p.base, &p.key, &token, None).await, 200)["active"], false);
        let start = std::time::Instant::now();
        while expect(&introspect(&mut c, &other, &p.key, &token, None).await, 200)["active"] == true {
            assert!(
                start.elapsed() < std::time::Duration::from_millis(1500),
                "the other worker still trusts a revoked token"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // A deleted client stops getting tokens everywhere within a second.
        let deleted = c.admin(Method::DELETE, &format!("{}/admin/clients/{id}", p.base), &p.key, None).await;
        assert_eq!(deleted.status, 204);
        let start = std::time::Instant::now();
        loop {
            let t = form(
                &mut c,
                &format!("{other}/oauth2/token"),
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&id, &secret))],
            )
            .await;
            if t.status == 401 {
                break;
            }
            assert!(start.elapsed() < std::time::Duration::from_millis(1500), "a deleted client still gets tokens");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        second.stop().await;
        stack.stop().await;
    }
}
