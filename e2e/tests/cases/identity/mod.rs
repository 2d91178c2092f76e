//! The identity engine through Kratos's API on a project's host, over the real regional stack: a real
//! control plane, real workers, real databases, HTTP on ephemeral ports.

mod admin;
mod flows;
mod sessions;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tessera_e2e::stack::RegionalStack;

use super::api::{Answer, expect};

const CONVERGE: Duration = Duration::from_secs(10);

/// A project homed in eu-central, reached through `/p/<slug>` on a region.
pub struct Project {
    pub base: String,
    pub key: String,
    pub id: String,
    pub slug: String,
    pub workspace_key: String,
}

/// An HTTP client that keeps cookies like a browser and never follows redirects (tests look at them).
pub struct Client {
    http: reqwest::Client,
    pub jar: BTreeMap<String, String>,
}

impl Client {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, jar: BTreeMap::new() }
    }

    /// Sends with the jar's cookies (if `cookies`), stores cookies the answer sets.
    pub async fn send(
        &mut self,
        method: Method,
        url: &str,
        body: Option<Body>,
        headers: &[(&str, &str)],
        cookies: bool,
    ) -> Answer {
        let mut req = self.http.request(method, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if cookies && !self.jar.is_empty() {
            let header: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", header.join("; "));
        }
        match body {
            Some(Body::Json(v)) => req = req.json(&v),
            Some(Body::Form(pairs)) => {
                let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
                req = req.header("content-type", "application/x-www-form-urlencoded").body(encoded);
            }
            None => {}
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        self.keep_cookies(&headers);
        let text = resp.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, headers }
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for h in headers.get_all("set-cookie") {
            let text = h.to_str().unwrap();
            let first = text.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let expired = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if expired {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// GET with JSON accepted.
    pub async fn get_json(&mut self, url: &str, headers: &[(&str, &str)]) -> Answer {
        let mut h = vec![("accept", "application/json")];
        h.extend_from_slice(headers);
        self.send(Method::GET, url, None, &h, false).await
    }

    /// An admin call with the project key.
    pub async fn admin(&mut self, method: Method, url: &str, key: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {key}");
        self.send(method, url, body.map(Body::Json), &[("authorization", &auth), ("accept", "application/json")], false)
            .await
    }
}

/// A request body.
pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

/// A project with default identity configuration (the email + password schema).
pub async fn project(stack: &RegionalStack, region: &str) -> Project {
    let mut c = Client::new();
    let op = stack.operator_key.clone();
    let cp = &stack.cp_url;
    let ws = c.admin(Method::POST, &format!("{cp}/workspaces"), &op, Some(json!({"name": "W"}))).await;
    let ws_id = expect(&ws, 201)["id"].as_str().unwrap().to_owned();
    let wk = c.admin(Method::POST, &format!("{cp}/workspaces/{ws_id}/tokens"), &op, Some(json!({"name": "k"}))).await;
    let wk = expect(&wk, 201)["value"].as_str().unwrap().to_owned();
    let p = c
        .admin(
            Method::POST,
            &format!("{cp}/projects"),
            &wk,
            Some(json!({"name": "P", "environment": "prod", "home_region": "eu-central"})),
        )
        .await;
    let p = expect(&p, 201).clone();
    let id = p["id"].as_str().unwrap().to_owned();
    let pk = c.admin(Method::POST, &format!("{cp}/projects/{id}/tokens"), &wk, Some(json!({"name": "k"}))).await;
    let key = expect(&pk, 201)["value"].as_str().unwrap().to_owned();
    assert!(stack.converged(CONVERGE).await);
    let slug = p["slug"].as_str().unwrap().to_owned();
    Project { base: format!("{}/p/{slug}", stack.region_url(region)), key, id, slug, workspace_key: wk }
}

/// A stack whose rate limits do not get in the way of tests that send many requests.
pub async fn stack(backend: tessera_platform::db::Backend) -> RegionalStack {
    RegionalStack::start(backend, |c| c.data_plane.rate_limit_scale = 1000.0).await
}

/// Registers through an api flow; the answer to the submission.
pub async fn register_api(c: &mut Client, base: &str, email: &str, password: &str) -> Answer {
    let flow = c.get_json(&format!("{base}/self-service/registration/api"), &[]).await;
    let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
    c.send(
        Method::POST,
        &action,
        Some(Body::Json(json!({"method": "password", "password": password, "traits": {"email": email}}))),
        &[("accept", "application/json")],
        false,
    )
    .await
}

/// Signs in through an api flow; the answer to the submission.
pub async fn login_api(c: &mut Client, base: &str, identifier: &str, password: &str) -> Answer {
    let flow = c.get_json(&format!("{base}/self-service/login/api"), &[]).await;
    let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
    c.send(
        Method::POST,
        &action,
        Some(Body::Json(json!({"method": "password", "identifier": identifier, "password": password}))),
        &[("accept", "application/json")],
        false,
    )
    .await
}

/// The messages of a flow (form-level and per node) as `(id, node name or "")`.
pub fn messages(flow: &Value) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = flow["ui"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["id"].as_u64().unwrap(), String::new()))
        .collect();
    for n in flow["ui"]["nodes"].as_array().into_iter().flatten() {
        for m in n["messages"].as_array().into_iter().flatten() {
            out.push((m["id"].as_u64().unwrap(), n["attributes"]["name"].as_str().unwrap().to_owned()));
        }
    }
    out
}

/// The value of the hidden CSRF node.
pub fn csrf_value(flow: &Value) -> String {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .and_then(|n| n["attributes"]["value"].as_str())
        .unwrap()
        .to_owned()
}

pub const STRONG: &str = "correct-horse-battery-staple-42";

/// Applies a JSON Patch to the project's settings through the control plane and waits for the regions.
pub async fn patch_config(stack: &RegionalStack, p: &Project, ops: Value) {
    let mut c = Client::new();
    let url = format!("{}/projects/{}", stack.cp_url, p.id);
    let patched = c.admin(Method::PATCH, &url, &p.workspace_key, Some(ops)).await;
    expect(&patched, 200);
    assert!(stack.converged(CONVERGE).await);
}
