//! `/admin/clients`: Hydra's client management, its validation, paging, secret rotation and isolation.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::super::identity::{Client, project, stack};
use super::{basic, create_client, expect_oauth_error, form};

#[tokio::test]
async fn clients_are_created_read_replaced_patched_and_deleted() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();

        let created = c
            .admin(
                Method::POST,
                &format!("{base}/admin/clients"),
                key,
                Some(json!({"client_name": "Shop", "redirect_uris": ["https://shop.example/cb"], "owner": "team-a",
                            "metadata": {"tier": "gold"}, "unknown_key": "ignored like Hydra does"})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.body["client_id"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a generated id is a UUID: {id}");
        let location = created.headers["location"].to_str().unwrap();
        assert_eq!(location, format!("/p/{}/admin/clients/{id}", p.slug));
        let secret = created.body["client_secret"].as_str().unwrap().to_owned();
        assert!(secret.len() >= 26, "a generated secret is long: {secret}");
        let body = &created.body;
        assert_eq!(body["scope"], "offline_access offline openid");
        assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(body["subject_type"], "public");
        assert_eq!(body["grant_types"], json!([]));
        assert_eq!(body["jwks"], json!({}));
        assert_eq!(body["metadata"], json!({"tier": "gold"}));
        assert_eq!(body["skip_logout_consent"], Value::Null);
        assert_eq!(body["client_credentials_grant_access_token_lifespan"], Value::Null);
        assert!(body.get("unknown_key").is_none());

        let got = c.admin(Method::GET, &format!("{base}/admin/clients/{id}"), key, None).await;
        let got = expect(&got, 200);
        assert!(got.get("client_secret").is_none(), "the secret is shown once");
        assert_eq!(got["client_name"], "Shop");

        // PUT replaces the document; the secret stays unless the body sets one.
        let put = c
            .admin(
                Method::PUT,
                &format!("{base}/admin/clients/{id}"),
                key,
                Some(json!({"client_name": "Shop 2", "grant_types": ["client_credentials"], "scope": "read"})),
            )
            .await;
        let put = expect(&put, 200);
        assert_eq!(put["client_name"], "Shop 2");
        assert_eq!(put["owner"], "", "omitted fields are cleared");
        assert!(put.get("client_secret").is_none());
        let token = form(
            &mut c,
            &format!("{base}/oauth2/token"),
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect(&token, 200);

        // JSON Patch; the id cannot be patched.
        let patched = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/clients/{id}"),
                key,
                Some(json!([{"op": "replace", "path": "/client_name", "value": "Shop 3"},
                            {"op": "add", "path": "/audience/-", "value": "https://api.example"}])),
            )
            .await;
        let patched = expect(&patched, 200);
        assert_eq!(patched["client_name"], "Shop 3");
        assert_eq!(patched["audience"], json!(["https://api.example"]));
        let bad = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/clients/{id}"),
                key,
                Some(json!([{"op": "replace", "path": "/client_id", "value": "x"}])),
            )
            .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        let failed_test = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/clients/{id}"),
                key,
                Some(json!([{"op": "test", "path": "/client_name", "value": "nope"}])),
            )
            .await;
        assert_eq!(failed_test.status, 400, "{}", failed_test.body);

        // A new secret through PATCH replaces the old one.
        let new_secret = "a-brand-new-secret";
        let patched = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/clients/{id}"),
                key,
                Some(json!([{"op": "add", "path": "/client_secret", "value": new_secret}])),
            )
            .await;
        assert_eq!(expect(&patched, 200)["client_secret"], new_secret);
        let old = form(
            &mut c,
            &format!("{base}/oauth2/token"),
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect_oauth_error(&old, 401, "invalid_client");

        // Lifespans.
        let lifespans = c
            .admin(
                Method::PUT,
                &format!("{base}/admin/clients/{id}/lifespans"),
                key,
                Some(json!({"client_credentials_grant_access_token_lifespan": "90m"})),
            )
            .await;
        assert_eq!(expect(&lifespans, 200)["client_credentials_grant_access_token_lifespan"], "1h30m");
        let token = form(
            &mut c,
            &format!("{base}/oauth2/token"),
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, new_secret))],
        )
        .await;
        assert_eq!(expect(&token, 200)["expires_in"], 5400);
        let bad = c
            .admin(
                Method::PUT,
                &format!("{base}/admin/clients/{id}/lifespans"),
                key,
                Some(json!({"client_credentials_grant_access_token_lifespan": "soon"})),
            )
            .await;
        assert_eq!(bad.status, 400);

        let deleted = c.admin(Method::DELETE, &format!("{base}/admin/clients/{id}"), key, None).await;
        assert_eq!(deleted.status, 204);
        for method in [Method::GET, Method::DELETE, Method::PUT] {
            let gone = c.admin(method.clone(), &format!("{base}/admin/clients/{id}"), key, Some(json!({}))).await;
            assert_eq!(gone.status, 404, "{method} {}", gone.body);
            assert_eq!(gone.body["error"], "Unable to locate the resource");
        }
        stack.stop().await;
    }
}

#[tokio::test]
async fn registrations_are_validated_and_ids_are_unique() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();
        let url = format!("{base}/admin/clients");
        let refused = [
            json!({"client_secret": "short"}),
            json!({"redirect_uris": ["https://a.example/cb#fragment"]}),
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            json!({"allowed_cors_origins": ["https://a.example/path"]}),
            json!({"subject_type": "pairwise"}),
            json!({"grant_types": ["password"]}),
            json!({"client_uri": "javascript:alert(1)"}),
        ];
        for body in refused {
            let answer = c.admin(Method::POST, &url, key, Some(body.clone())).await;
            assert_eq!(answer.status, 400, "{body}: {}", answer.body);
            assert!(
                matches!(answer.body["error"].as_str(), Some("invalid_client_metadata") | Some("invalid_redirect_uri")),
                "{body}: {}",
                answer.body
            );
        }
        let malformed = c
            .send(
                Method::POST,
                &url,
                Some(super::super::identity::Body::Form(vec![])),
                &[("authorization", &format!("Bearer {key}"))],
                false,
            )
            .await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);
        let listed = c.admin(Method::GET, &url, key, None).await;
        assert_eq!(expect(&listed, 200), &json!([]), "nothing refused was written");

        let first =
            create_client(&mut c, &p, json!({"client_id": "my-app", "client_secret": "a-secret-of-mine"})).await;
        assert_eq!(first["client_id"], "my-app");
        assert_eq!(first["client_secret"], "a-secret-of-mine");
        let again = c.admin(Method::POST, &url, key, Some(json!({"client_id": "my-app"}))).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let public = create_client(&mut c, &p, json!({"client_id": "spa", "token_endpoint_auth_method": "none"})).await;
        assert!(public.get("client_secret").is_none(), "public clients have no secret");
        stack.stop().await;
    }
}

#[tokio::test]
async fn lists_page_with_link_headers_and_filter() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();
        for (i, owner) in ["a", "b", "a", "a", "b"].iter().enumerate() {
            create_client(
                &mut c,
                &p,
                json!({"client_id": format!("c{i}"), "client_name": format!("n{}", i % 2), "owner": owner}),
            )
            .await;
        }
        let mut seen = Vec::new();
        let mut url = format!("{base}/admin/clients?page_size=2");
        loop {
            let page = c.admin(Method::GET, &url, key, None).await;
            let items = expect(&page, 200).as_array().unwrap().clone();
            assert!(items.len() <= 2);
            seen.extend(items.iter().map(|c| c["client_id"].as_str().unwrap().to_owned()));
            let link = page.headers["link"].to_str().unwrap().to_owned();
            assert!(link.contains("rel=\"first\""), "{link}");
            let Some(next) = link.split(',').find(|l| l.contains("rel=\"next\"")) else { break };
            let path = next.trim().trim_start_matches('<').split('>').next().unwrap();
            assert!(path.starts_with(&format!("/p/{}/admin/clients?", p.slug)), "{path}");
            url = format!("{}{}", stack.region_url("eu-central"), path);
        }
        assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4"]);
        let owned = c.admin(Method::GET, &format!("{base}/admin/clients?owner=b"), key, None).await;
        let ids: Vec<&str> =
            expect(&owned, 200).as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c1", "c4"]);
        let named = c.admin(Method::GET, &format!("{base}/admin/clients?client_name=n0&owner=a"), key, None).await;
        let ids: Vec<&str> =
            expect(&named, 200).as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c0", "c2"]);
        for bad in ["page_token=%%%", "page_size=abc"] {
            let answer = c.admin(Method::GET, &format!("{base}/admin/clients?{bad}"), key, None).await;
            assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        }
        stack.stop().await;
    }
}

#[tokio::test]
async fn rotated_secrets_work_until_deleted() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = p.base.as_str();
        let mut c = Client::new();
        let (id, old) = super::m2m_client(&mut c, &p, json!({})).await;
        let rotated = c.admin(Method::POST, &format!("{base}/admin/clients/{id}/secrets/rotate"), &p.key, None).await;
        let new = expect(&rotated, 200)["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        let token_url = format!("{base}/oauth2/token");
        for secret in [&old, &new] {
            let t = form(
                &mut c,
                &token_url,
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&id, secret))],
            )
            .await;
            expect(&t, 200);
        }
        let dropped = c.admin(Method::DELETE, &format!("{base}/admin/clients/{id}/secrets/rotate"), &p.key, None).await;
        assert!(expect(&dropped, 200).get("client_secret").is_none());
        let t =
            form(&mut c, &token_url, &[("grant_type", "client_credentials")], &[("authorization", &basic(&id, &old))])
                .await;
        expect_oauth_error(&t, 401, "invalid_client");
        let t =
            form(&mut c, &token_url, &[("grant_type", "client_credentials")], &[("authorization", &basic(&id, &new))])
                .await;
        expect(&t, 200);

        // A supplied secret is the new one (a client replicated from elsewhere keeps its secret); too short is 400.
        let rotate_url = format!("{base}/admin/clients/{id}/secrets/rotate");
        let chosen = c.admin(Method::POST, &rotate_url, &p.key, Some(json!({"client_secret": "replicated-42"}))).await;
        assert_eq!(expect(&chosen, 200)["client_secret"], "replicated-42");
        for secret in ["replicated-42", new.as_str()] {
            let t = form(
                &mut c,
                &token_url,
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&id, secret))],
            )
            .await;
            expect(&t, 200);
        }
        let short = c.admin(Method::POST, &rotate_url, &p.key, Some(json!({"client_secret": "short"}))).await;
        expect_oauth_error(&short, 400, "invalid_client_metadata");
        let t = form(
            &mut c,
            &token_url,
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, "replicated-42"))],
        )
        .await;
        expect(&t, 200);
        stack.stop().await;
    }
}

#[tokio::test]
async fn clients_of_one_project_are_invisible_to_another() {
    for backend in backends() {
        let stack = stack(backend).await;
        let a = project(&stack, "eu-central").await;
        let b = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let (id, secret) = super::m2m_client(&mut c, &a, json!({"client_id": "shared-name"})).await;
        for (method, path) in
            [(Method::GET, format!("/admin/clients/{id}")), (Method::DELETE, format!("/admin/clients/{id}"))]
        {
            let answer = c.admin(method, &format!("{}{path}", b.base), &b.key, None).await;
            assert_eq!(answer.status, 404, "{}", answer.body);
        }
        let listed = c.admin(Method::GET, &format!("{}/admin/clients", b.base), &b.key, None).await;
        assert_eq!(expect(&listed, 200), &json!([]));
        // The same id may exist in both projects, each with its own secret.
        let (_, other_secret) = super::m2m_client(&mut c, &b, json!({"client_id": "shared-name"})).await;
        let t = form(
            &mut c,
            &format!("{}/oauth2/token", b.base),
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
        expect_oauth_error(&t, 401, "invalid_client");
        let t = form(
            &mut c,
            &format!("{}/oauth2/token", b.base),
            &[("grant_type", "client_credentials")],
            &[("authorization", &basic(&id, &other_secret))],
        )
        .await;
        expect(&t, 200);
        for key in [b.key.as_str(), b.workspace_key.as_str(), "ory_pat_not-a-key"] {
            let answer = c.admin(Method::GET, &format!("{}/admin/clients", a.base), key, None).await;
            assert_eq!(answer.status, 401, "{}", answer.body);
        }
        stack.stop().await;
    }
}
