use serde_json::{Value, json};

use super::api::{Api, expect, expect_error, on_each_backend, project_of, tenant};

#[tokio::test]
async fn projects_are_created_in_every_environment_and_region() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        for (env, region) in [("prod", "eu-central"), ("stage", "us-east"), ("dev", "us-east")] {
            let created = api
                .post(
                    "/projects",
                    &t.workspace_key,
                    json!({"name": format!("App {env}"), "environment": env, "home_region": region}),
                )
                .await;
            let p = expect(&created, 201);
            assert_eq!(p["environment"], env);
            assert_eq!(p["home_region"], region);
            assert_eq!(p["state"], "running");
            assert_eq!(p["workspace_id"], t.workspace_id.as_str());
            assert_eq!(p["organizations"], json!([]));
            let slug = p["slug"].as_str().unwrap();
            assert!(slug.starts_with(&format!("app-{env}-")), "{slug}");
            assert_eq!(p["hosts"], json!([format!("{slug}.projects.localhost")]));
            for service in ["identity", "permission", "oauth2"] {
                assert!(p["services"][service]["config"].is_object(), "{service} config present");
            }
        }
        // The operator must name the workspace; the default region applies when none is given.
        expect_error(
            &api.post("/projects", &stack.operator_key, json!({"name": "x", "environment": "dev"})).await,
            400,
        );
        let p = api
            .post(
                "/projects",
                &stack.operator_key,
                json!({"name": "x", "environment": "dev", "workspace_id": t.workspace_id}),
            )
            .await;
        assert_eq!(expect(&p, 201)["home_region"], "eu-central");

        let listed = api.get("/projects", &t.workspace_key).await;
        assert_eq!(expect(&listed, 200).as_array().unwrap().len(), 5);
        let listed = api.get("/projects?page_size=2", &t.workspace_key).await;
        assert_eq!(expect(&listed, 200).as_array().unwrap().len(), 2);
        assert!(listed.headers.get("link").unwrap().to_str().unwrap().contains("rel=\"next\""));
        stack
    })
    .await;
}

#[tokio::test]
async fn bad_project_requests_are_refused_with_reasons() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        let k = t.workspace_key.as_str();
        for (body, needle) in [
            (json!({"name": "x", "environment": "production"}), "environment"),
            (json!({"name": "x", "environment": "dev", "home_region": "us-west"}), "us-west"),
            (json!({"name": "x", "environment": "dev", "home_region": "mars"}), "mars"),
            (json!({"environment": "dev"}), "name"),
            (json!({"name": "", "environment": "dev"}), "name"),
            (json!("not an object"), "invalid"),
        ] {
            let a = api.post("/projects", k, body.clone()).await;
            expect_error(&a, 400);
            let reason = a.body["error"]["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(needle), "{body} gave {reason}");
        }
        // A workspace id that is not ours is not found, not forbidden.
        let other = api.post("/workspaces", &stack.operator_key, json!({"name": "Other"})).await;
        let other_id = expect(&other, 201)["id"].as_str().unwrap().to_owned();
        expect_error(
            &api.post("/projects", k, json!({"name": "x", "environment": "dev", "workspace_id": other_id})).await,
            404,
        );
        // Malformed JSON and wrong content type.
        let raw = reqwest::Client::new()
            .post(format!("{}/projects", api.base))
            .bearer_auth(k)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 400);
        let body: Value = raw.json().await.unwrap();
        assert_eq!(body["error"]["code"], 400);
        stack
    })
    .await;
}

#[tokio::test]
async fn set_and_patch_make_revisions_and_round_trip_exactly() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let (t, path, original) = project_of(&api, &stack.operator_key).await;
        let k = t.workspace_key.as_str();

        // PUT the GET body back unchanged (read-only fields included): a new revision, same settings.
        let put = api.put(&path, k, original.clone()).await;
        let put = expect(&put, 200).clone();
        assert_eq!(put["warnings"], json!([]));
        assert_ne!(put["project"]["revision_id"], original["revision_id"]);
        assert_eq!(put["project"]["services"], original["services"]);

        // A config with unicode, floats vs ints, nesting and an unknown key comes back byte for byte.
        let config_text = r#"{"session":{"lifespan":"24h","cookie":{"same_site":"Strict"}},"courier":{"smtp":{"from_name":"Ünïcödé ✓"}},"future_flag":{"a":[1,2.5,-0.0,1e3,true,null],"z":"last"}}"#;
        let config: Value = serde_json::from_str(config_text).unwrap();
        let mut doc = original.clone();
        doc["services"]["identity"]["config"] = config.clone();
        let put = api.put(&path, k, doc).await;
        let put = expect(&put, 200).clone();
        let warnings = put["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0]["code"], 1001);
        assert!(warnings[0]["message"].as_str().unwrap().starts_with("services.identity.config.future_flag "));
        let raw = reqwest::Client::new().get(format!("{}{path}", api.base)).bearer_auth(k).send().await.unwrap().text().await.unwrap();
        let expected_fragment = format!(r#""identity":{{"config":{}}}"#, serde_json::to_string(&config).unwrap());
        assert!(raw.contains(&expected_fragment), "stored config differs:\n{raw}\nexpected fragment:\n{expected_fragment}");

        // PATCH: add, replace, remove; each a new revision.
        let before = put["project"]["revision_id"].clone();
        let patched = api
            .patch(
                &path,
                k,
                json!([
                    {"op": "add", "path": "/services/identity/config/selfservice", "value": {"methods": {"totp": {"enabled": true}}}},
                    {"op": "replace", "path": "/services/identity/config/session/lifespan", "value": "48h"},
                    {"op": "remove", "path": "/services/identity/config/future_flag"},
                    {"op": "replace", "path": "/name", "value": "Renamed"}
                ]),
            )
            .await;
        let patched = expect(&patched, 200).clone();
        let cfg = &patched["project"]["services"]["identity"]["config"];
        assert_eq!(cfg["session"]["lifespan"], "48h");
        assert_eq!(cfg["selfservice"]["methods"]["totp"]["enabled"], true);
        assert!(cfg.get("future_flag").is_none());
        assert_eq!(patched["project"]["name"], "Renamed");
        assert_eq!(patched["warnings"], json!([]));
        assert_ne!(patched["project"]["revision_id"], before);

        // History is kept, newest first.
        let history = api.get(&format!("{path}/revisions"), k).await;
        let history = expect(&history, 200).as_array().unwrap().clone();
        assert_eq!(history.len(), 4);
        assert_eq!(history[0]["id"], patched["project"]["revision_id"]);
        assert_eq!(history[1]["warnings"].as_array().unwrap().len(), 1);

        // Optimistic concurrency: a patch against a stale revision is refused and writes nothing.
        let stale = api
            .patch(&format!("{path}/revision/{}", before.as_str().unwrap()), k, json!([{"op": "replace", "path": "/name", "value": "Stale"}]))
            .await;
        expect_error(&stale, 409);
        let current = patched["project"]["revision_id"].as_str().unwrap();
        let fresh = api.patch(&format!("{path}/revision/{current}"), k, json!([{"op": "replace", "path": "/name", "value": "Fresh"}])).await;
        assert_eq!(expect(&fresh, 200)["project"]["name"], "Fresh");
        stack
    })
    .await;
}

#[tokio::test]
async fn invalid_updates_are_refused_and_write_nothing() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let (t, path, original) = project_of(&api, &stack.operator_key).await;
        let k = t.workspace_key.as_str();

        let cases: Vec<(Value, &str)> = vec![
            (json!([{"op": "replace", "path": "/services/identity/config/session/lifespan", "value": "forever"}]), "services.identity.config.session.lifespan"),
            (json!([{"op": "replace", "path": "/services/identity/config/selfservice/methods/password/config/min_password_length", "value": 3}]), "min_password_length"),
            (json!([{"op": "remove", "path": "/services/identity/config/does/not/exist"}]), "cannot be applied"),
            (json!([{"op": "replace", "path": "/slug", "value": "mine"}]), "/slug"),
            (json!([{"op": "frobnicate", "path": "/name"}]), "malformed"),
            (json!({"op": "add"}), "array"),
            (json!([{"op": "add", "path": "/organizations/-", "value": {"id": "x"}}]), "Organizations"),
            (json!([{"op": "add", "path": "/services/permission/config/namespaces", "value": {"location": "file:///etc/passwd"}}]), "namespaces.location"),
            (json!([{"op": "add", "path": "/cors_public/extra", "value": 1}]), "cors_public"),
        ];
        for (ops, needle) in cases {
            let a = api.patch(&path, k, ops.clone()).await;
            expect_error(&a, 400);
            let reason = a.body["error"]["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(needle), "{ops} gave {reason}");
        }
        let mut doc = original.clone();
        doc["services"]["oauth2"]["config"] = json!({"ttl": {"access_token": "1 hour"}});
        let a = api.put(&path, k, doc).await;
        expect_error(&a, 400);
        assert!(a.body["error"]["reason"].as_str().unwrap().contains("services.oauth2.config.ttl.access_token"));
        expect_error(&api.put(&path, k, json!({"services": {}})).await, 400);

        let after = api.get(&path, k).await;
        assert_eq!(expect(&after, 200), &original, "refused writes leave the project as it was");
        stack
    })
    .await;
}

#[tokio::test]
async fn purge_removes_the_project_and_its_keys() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        let path = format!("/projects/{}", t.project_id);
        expect_error(&api.delete(&path, &t.project_key).await, 403);
        expect(&api.delete(&path, &t.workspace_key).await, 204);
        expect_error(&api.get(&path, &t.workspace_key).await, 404);
        expect_error(&api.delete(&path, &t.workspace_key).await, 404);
        expect_error(&api.get("/projects", &t.project_key).await, 401);
        let listed = api.get("/projects", &t.workspace_key).await;
        assert_eq!(expect(&listed, 200), &json!([]));
        stack
    })
    .await;
}

#[tokio::test]
async fn members_are_listed_added_and_removed() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        let base = format!("/projects/{}/members", t.project_id);
        let k = t.workspace_key.as_str();
        assert_eq!(expect(&api.get(&base, k).await, 200), &json!([]));
        let owner = api.post(&base, k, json!({"email": "Owner@Example.com", "name": "Olive", "role": "owner"})).await;
        let owner = expect(&owner, 201).clone();
        assert_eq!(owner["email"], "owner@example.com");
        assert_eq!(owner["role"], "owner");
        assert_eq!(owner["source"], "project");
        assert_eq!(owner["email_verified"], false);
        let dev = api.post(&base, k, json!({"email": "dev@example.com", "role": "developer"})).await;
        let dev = expect(&dev, 201).clone();
        assert_eq!(dev["name"], "dev@example.com");
        expect_error(&api.post(&base, k, json!({"email": "x@example.com", "role": "admin"})).await, 400);
        expect_error(&api.post(&base, k, json!({"email": "not-an-email", "role": "viewer"})).await, 400);
        expect_error(&api.post(&base, &t.project_key, json!({"email": "y@example.com", "role": "viewer"})).await, 403);
        assert_eq!(expect(&api.get(&base, &t.project_key).await, 200).as_array().unwrap().len(), 2);

        expect_error(&api.delete(&format!("{base}/{}", owner["id"].as_str().unwrap()), k).await, 406);
        expect(&api.delete(&format!("{base}/{}", dev["id"].as_str().unwrap()), k).await, 204);
        expect_error(&api.delete(&format!("{base}/{}", dev["id"].as_str().unwrap()), k).await, 404);
        stack
    })
    .await;
}
