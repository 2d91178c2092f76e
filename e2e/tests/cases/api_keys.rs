use serde_json::json;

use super::api::{Api, expect, expect_error, on_each_backend, tenant};

#[tokio::test]
async fn keys_are_shown_once_listed_by_last_characters_and_revocable() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        for (base, key, prefix, owner_field) in [
            (format!("/workspaces/{}/tokens", t.workspace_id), t.workspace_key.clone(), "ory_wak_", "workspace_id"),
            (format!("/projects/{}/tokens", t.project_id), t.workspace_key.clone(), "ory_pat_", "project_id"),
        ] {
            let created = api.post(&base, &key, json!({"name": "deploy", "expires_at": "2099-01-01T00:00:00Z"})).await;
            let created = expect(&created, 201).clone();
            let value = created["value"].as_str().unwrap().to_owned();
            assert!(value.starts_with(prefix) && value.len() > 40, "{value}");
            assert_eq!(created["last_characters"], value[value.len() - 4..]);
            assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
            assert!(created[owner_field].is_string());
            assert!(created["owner_id"].is_string());

            let listed = api.get(&base, &key).await;
            let listed = expect(&listed, 200).as_array().unwrap().clone();
            let entry = listed.iter().find(|k| k["id"] == created["id"]).expect("new key is listed");
            assert!(entry.get("value").is_none(), "values are never listed");
            assert_eq!(entry["last_characters"], created["last_characters"]);

            // The new key works, then stops working once deleted.
            assert_eq!(api.get(&format!("/projects/{}", t.project_id), &value).await.status, 200);
            expect(&api.delete(&format!("{base}/{}", created["id"].as_str().unwrap()), &key).await, 204);
            expect_error(&api.get(&format!("/projects/{}", t.project_id), &value).await, 401);
            expect_error(&api.delete(&format!("{base}/{}", created["id"].as_str().unwrap()), &key).await, 404);

            expect_error(&api.post(&base, &key, json!({"name": ""})).await, 400);
            expect_error(
                &api.post(&base, &key, json!({"name": "old", "expires_at": "2001-01-01T00:00:00Z"})).await,
                400,
            );
            expect_error(&api.post(&base, &key, json!({"name": "x", "expires_at": "tomorrow"})).await, 400);
        }
        // A workspace's key list does not include its projects' keys.
        let ws_keys = api.get(&format!("/workspaces/{}/tokens", t.workspace_id), &t.workspace_key).await;
        let ids: Vec<_> = expect(&ws_keys, 200).as_array().unwrap().iter().map(|k| k["id"].clone()).collect();
        assert_eq!(ids, vec![json!(t.workspace_key_id)]);
        // A project key can manage its own project's keys but not the workspace's.
        assert_eq!(api.get(&format!("/projects/{}/tokens", t.project_id), &t.project_key).await.status, 200);
        expect_error(&api.get(&format!("/workspaces/{}/tokens", t.workspace_id), &t.project_key).await, 403);
        stack
    })
    .await;
}

#[tokio::test]
async fn expired_keys_do_not_authenticate() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        let soon = (tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock)
            + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
        let created = api
            .post(
                &format!("/workspaces/{}/tokens", t.workspace_id),
                &t.workspace_key,
                json!({"name": "short", "expires_at": soon}),
            )
            .await;
        let value = expect(&created, 201)["value"].as_str().unwrap().to_owned();
        assert_eq!(api.get(&format!("/workspaces/{}", t.workspace_id), &value).await.status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        expect_error(&api.get(&format!("/workspaces/{}", t.workspace_id), &value).await, 401);
        stack
    })
    .await;
}

#[tokio::test]
async fn project_routes_accept_the_slug() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let t = tenant(&api, &stack.operator_key, "Acme").await;
        let project = api.get(&format!("/projects/{}", t.project_id), &t.workspace_key).await;
        let slug = expect(&project, 200)["slug"].as_str().unwrap().to_owned();
        let by_slug = api.get(&format!("/projects/{slug}/tokens"), &t.workspace_key).await;
        let by_id = api.get(&format!("/projects/{}/tokens", t.project_id), &t.workspace_key).await;
        assert_eq!(expect(&by_slug, 200), expect(&by_id, 200));
        assert_eq!(api.get(&format!("/projects/{slug}/members"), &t.project_key).await.status, 200);
        // Another workspace's slug is as absent as an unknown one.
        let other = tenant(&api, &stack.operator_key, "Other").await;
        expect_error(&api.get(&format!("/projects/{slug}/tokens"), &other.workspace_key).await, 404);
        expect_error(&api.get("/projects/no-such-slug/tokens", &t.workspace_key).await, 404);
        expect_error(&api.get("/projects/NOT%20A%20SLUG/tokens", &t.workspace_key).await, 404);
        stack
    })
    .await;
}
