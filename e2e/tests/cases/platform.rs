//! Health, metrics, the OpenAPI document, unknown routes, body limits and rate limits.

use serde_json::{Value, json};
use tessera_e2e::stack::ControlPlaneStack;
use tessera_platform::db::Backend;

use super::api::{Api, expect, expect_error, on_each_backend, tenant};

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        assert_eq!(expect(&api.call(reqwest::Method::GET, "/health/alive", None, None).await, 200), &json!({"status": "ok"}));
        assert_eq!(expect(&api.call(reqwest::Method::GET, "/health/ready", None, None).await, 200), &json!({"status": "ok"}));

        let _ = api.get("/workspaces", &stack.operator_key).await;
        let _ = api.call(reqwest::Method::GET, "/workspaces", None, None).await;
        let metrics = api.call(reqwest::Method::GET, "/metrics", None, None).await;
        let text = metrics.body.as_str().unwrap().to_owned();
        assert!(text.contains(r#"tessera_http_requests_total{component="control_plane",method="GET",route="/workspaces",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"route="/workspaces",status="401"} 1"#), "{text}");
        assert!(text.contains("tessera_http_request_duration_seconds_bucket"), "{text}");

        let served = reqwest::get(format!("{}/openapi.json", api.base)).await.unwrap().text().await.unwrap();
        assert_eq!(served, tessera_workspace_api::openapi::document());
        let doc: Value = serde_json::from_str(&served).unwrap();
        assert!(doc["paths"]["/projects/{project_id}"]["patch"].is_object());

        let unknown = api.call(reqwest::Method::GET, "/no/such/route", None, None).await;
        expect_error(&unknown, 404);
        expect_error(&api.get("/projects/not-a-uuid", &stack.operator_key).await, 404);
        stack
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let stack = ControlPlaneStack::start_with(Backend::Sqlite, |c| c.http.max_body_bytes = 4096).await;
    let api = Api::new(&stack);
    let t = tenant(&api, &stack.operator_key, "Acme").await;
    let big = json!({"name": "x".repeat(10_000), "services": {}});
    let a = api.put(&format!("/projects/{}", t.project_id), &t.workspace_key, big).await;
    expect_error(&a, 413);
    stack.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let stack = ControlPlaneStack::start_with(Backend::Sqlite, |c| {
        c.control_plane.rate_limit.requests_per_second = 1;
        c.control_plane.rate_limit.burst = 8;
    })
    .await;
    let api = Api::new(&stack);
    let op = stack.operator_key.clone();
    let mut limited = None;
    for _ in 0..20 {
        let a = api.get("/workspaces", &op).await;
        if a.status == 429 {
            limited = Some(a);
            break;
        }
    }
    let limited = limited.expect("the operator key is limited after its burst");
    expect_error(&limited, 429);
    let retry: u64 = limited.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");

    // Requests without a valid key are charged to the client address, with a smaller budget.
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(api.get("/workspaces", "ory_wak_guessing").await.status.as_u16());
    }
    assert!(statuses.starts_with(&[401, 401]), "{statuses:?}");
    assert!(statuses.contains(&429), "key guessing is throttled: {statuses:?}");
    stack.stop().await;
}

#[tokio::test]
async fn works_on_every_backend() {
    // Guards against a backend silently dropping out of the matrix.
    on_each_backend(|stack, backend| async move {
        let expected = if std::env::var("DATABASE_URL").map(|u| !u.is_empty()).unwrap_or(false) { 2 } else { 1 };
        assert_eq!(tessera_platform::db::testing::backends().len(), expected);
        assert!(stack.config.database.url.expose().starts_with(match backend {
            Backend::Sqlite => "sqlite:",
            Backend::Postgres => "postgres",
        }));
        stack
    })
    .await;
}
