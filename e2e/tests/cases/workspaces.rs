use serde_json::json;

use super::api::{Api, expect, expect_error, on_each_backend, tenant};

#[tokio::test]
async fn workspaces_create_get_update_list() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let op = stack.operator_key.as_str();

        let created = api.post("/workspaces", op, json!({"name": "Acme"})).await;
        let w = expect(&created, 201).clone();
        assert_eq!(w["name"], "Acme");
        assert_eq!(w["subscription_plan"], "developer");
        let id = w["id"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(
                w["created_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );

        assert_eq!(expect(&api.get(&format!("/workspaces/{id}"), op).await, 200), &w);

        let updated = api
            .put(
                &format!("/workspaces/{id}"),
                op,
                json!({"name": "Acme Inc", "access_policy": "CHECK_ACCESS_PERMISSION"}),
            )
            .await;
        let u = expect(&updated, 200);
        assert_eq!(u["name"], "Acme Inc");
        assert_eq!(u["access_policy"], "CHECK_ACCESS_PERMISSION");

        for bad in [json!({"name": ""}), json!({"name": "x", "access_policy": "OPEN"}), json!({"nom": "x"})] {
            expect_error(&api.put(&format!("/workspaces/{id}"), op, bad).await, 400);
        }
        expect_error(&api.post("/workspaces", op, json!({"name": "  "})).await, 400);
        expect_error(&api.post("/workspaces", op, json!({"name": "x".repeat(300)})).await, 400);

        // Paging: three workspaces, pages of two.
        expect(&api.post("/workspaces", op, json!({"name": "Beta"})).await, 201);
        expect(&api.post("/workspaces", op, json!({"name": "Gamma"})).await, 201);
        let first = api.get("/workspaces?page_size=2", op).await;
        let first = expect(&first, 200).clone();
        assert_eq!(first["workspaces"].as_array().unwrap().len(), 2);
        assert_eq!(first["has_next_page"], true);
        let token = first["next_page_token"].as_str().unwrap();
        let second = api.get(&format!("/workspaces?page_size=2&page_token={token}"), op).await;
        let second = expect(&second, 200);
        assert_eq!(second["workspaces"].as_array().unwrap().len(), 1);
        assert_eq!(second["has_next_page"], false);
        assert_eq!(second["next_page_token"], "");
        expect_error(&api.get("/workspaces?page_size=0", op).await, 400);
        expect_error(&api.get("/workspaces?page_size=abc", op).await, 400);
        expect_error(&api.get("/workspaces?page_token=%21%21", op).await, 400);
        stack
    })
    .await;
}

#[tokio::test]
async fn keys_see_only_their_workspace() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let op = stack.operator_key.as_str();
        let a = tenant(&api, op, "A").await;
        let _b = tenant(&api, op, "B").await;

        let listed = api.get("/workspaces", &a.workspace_key).await;
        let listed = expect(&listed, 200);
        let ids: Vec<_> = listed["workspaces"].as_array().unwrap().iter().map(|w| w["id"].clone()).collect();
        assert_eq!(ids, vec![json!(a.workspace_id)]);

        // Only the operator creates workspaces; a project key cannot see its workspace.
        expect_error(&api.post("/workspaces", &a.workspace_key, json!({"name": "mine"})).await, 403);
        expect_error(&api.get("/workspaces", &a.project_key).await, 403);
        expect_error(&api.get(&format!("/workspaces/{}", a.workspace_id), &a.project_key).await, 403);

        // Workspace projects, paged.
        for env in ["prod", "stage"] {
            expect(&api.post("/projects", &a.workspace_key, json!({"name": env, "environment": env})).await, 201);
        }
        let page = api.get(&format!("/workspaces/{}/projects?page_size=2", a.workspace_id), &a.workspace_key).await;
        let page = expect(&page, 200).clone();
        assert_eq!(page["projects"].as_array().unwrap().len(), 2);
        assert_eq!(page["has_next_page"], true);
        let rest = api
            .get(
                &format!(
                    "/workspaces/{}/projects?page_size=2&page_token={}",
                    a.workspace_id,
                    page["next_page"].as_str().unwrap()
                ),
                &a.workspace_key,
            )
            .await;
        let rest = expect(&rest, 200);
        assert_eq!(rest["projects"].as_array().unwrap().len(), 1);
        assert_eq!(rest["next_page"], "");
        stack
    })
    .await;
}
