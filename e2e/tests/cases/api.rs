//! A small HTTP client for the tests, and the seeding they share.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_e2e::stack::ControlPlaneStack;
use tessera_platform::db::Backend;
use tessera_platform::db::testing::backends;

/// The answer to one request.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// Talks to one stack.
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(stack: &ControlPlaneStack) -> Self {
        Self { base: stack.url.clone(), client: reqwest::Client::new() }
    }

    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Answer {
        self.call(Method::DELETE, path, Some(key), None).await
    }
}

/// Asserts a status, showing the body when it differs.
#[track_caller]
pub fn expect(answer: &Answer, status: u16) -> &Value {
    assert_eq!(answer.status.as_u16(), status, "unexpected status; body: {}", answer.body);
    &answer.body
}

/// Asserts an error in Ory's generic shape with this status.
#[track_caller]
pub fn expect_error(answer: &Answer, status: u16) {
    let body = expect(answer, status);
    assert_eq!(body["error"]["code"], status, "error shape: {body}");
    assert!(body["error"]["message"].is_string(), "error shape: {body}");
    assert!(body["error"]["status"].is_string(), "error shape: {body}");
}

/// A workspace with a workspace key and one project with a project key.
pub struct Tenant {
    pub workspace_id: String,
    pub workspace_key: String,
    pub project_id: String,
    pub project_key: String,
    pub workspace_key_id: String,
    pub project_key_id: String,
}

/// Seeds a tenant through the API with the operator key.
pub async fn tenant(api: &Api, operator: &str, name: &str) -> Tenant {
    let ws = api.post("/workspaces", operator, json!({"name": name})).await;
    let workspace_id = expect(&ws, 201)["id"].as_str().unwrap().to_owned();
    let wk = api.post(&format!("/workspaces/{workspace_id}/tokens"), operator, json!({"name": "ci"})).await;
    let wk = expect(&wk, 201).clone();
    let workspace_key = wk["value"].as_str().unwrap().to_owned();
    let p =
        api.post("/projects", &workspace_key, json!({"name": format!("{name} project"), "environment": "dev"})).await;
    let project_id = expect(&p, 201)["id"].as_str().unwrap().to_owned();
    let pk = api.post(&format!("/projects/{project_id}/tokens"), &workspace_key, json!({"name": "ci"})).await;
    let pk = expect(&pk, 201).clone();
    Tenant {
        workspace_id,
        workspace_key,
        project_id,
        project_key: pk["value"].as_str().unwrap().to_owned(),
        workspace_key_id: wk["id"].as_str().unwrap().to_owned(),
        project_key_id: pk["id"].as_str().unwrap().to_owned(),
    }
}

/// A tenant's project as its workspace key sees it: the tenant, the project's path and its JSON.
pub async fn project_of(api: &Api, operator: &str) -> (Tenant, String, Value) {
    let t = tenant(api, operator, "Acme").await;
    let path = format!("/projects/{}", t.project_id);
    let project = expect(&api.get(&path, &t.workspace_key).await, 200).clone();
    (t, path, project)
}

/// Runs `f` against a fresh stack on every backend under test.
pub async fn on_each_backend<F, Fut>(f: F)
where
    F: Fn(ControlPlaneStack, Backend) -> Fut,
    Fut: std::future::Future<Output = ControlPlaneStack>,
{
    for backend in backends() {
        let stack = ControlPlaneStack::start(backend).await;
        let stack = f(stack, backend).await;
        stack.stop().await;
    }
}
