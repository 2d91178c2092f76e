//! Every tenant-scoped route, called with another workspace's credentials, answers 404 (or 401 without a
//! valid key) and changes nothing. The walk is checked against the OpenAPI document, so a new route that
//! is not walked fails this test until it is added here or, with a reason, to `NOT_TENANT_SCOPED`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::api::{Api, Tenant, expect, on_each_backend, tenant};

/// Routes that name no tenant resource, each with the reason it needs no cross-tenant check.
const NOT_TENANT_SCOPED: &[(&str, &str, &str)] = &[
    ("get", "/workspaces", "lists only the caller's own workspaces (tested in workspaces.rs)"),
    ("post", "/workspaces", "operator only; keys get 403 (tested in workspaces.rs)"),
    ("get", "/projects", "lists only the caller's own projects (tested in projects.rs)"),
    ("get", "/regions", "the region registry is not tenant data"),
    (
        "put",
        "/projects/{project_id}/state",
        "operator only: every key gets the same 403 whatever the id (tested in data_plane.rs)",
    ),
];

fn routes_to_walk(
    a: &Tenant,
    b: &Tenant,
    b_revision: &str,
    b_member: &str,
    b_domain: &str,
) -> Vec<(Method, &'static str, String, Option<Value>)> {
    let (bw, bp) = (&b.workspace_id, &b.project_id);
    let patch = json!([{"op": "replace", "path": "/name", "value": "pwned"}]);
    vec![
        (Method::GET, "/workspaces/{workspace}", format!("/workspaces/{bw}"), None),
        (Method::PUT, "/workspaces/{workspace}", format!("/workspaces/{bw}"), Some(json!({"name": "pwned"}))),
        (Method::GET, "/workspaces/{workspace}/projects", format!("/workspaces/{bw}/projects"), None),
        (Method::GET, "/workspaces/{workspace}/tokens", format!("/workspaces/{bw}/tokens"), None),
        (Method::GET, "/workspaces/{workspace}/usage", format!("/workspaces/{bw}/usage"), None),
        (Method::GET, "/workspaces/{workspace}/invoices", format!("/workspaces/{bw}/invoices"), None),
        (
            Method::PUT,
            "/workspaces/{workspace}/subscription",
            format!("/workspaces/{bw}/subscription"),
            Some(json!({"plan": "growth", "interval": "monthly"})),
        ),
        (
            Method::POST,
            "/workspaces/{workspace}/tokens",
            format!("/workspaces/{bw}/tokens"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::DELETE,
            "/workspaces/{workspace}/tokens/{token_id}",
            format!("/workspaces/{bw}/tokens/{}", b.workspace_key_id),
            None,
        ),
        // B's key id through A's own workspace: the key is not in A's scope.
        (
            Method::DELETE,
            "/workspaces/{workspace}/tokens/{token_id}",
            format!("/workspaces/{}/tokens/{}", a.workspace_id, b.workspace_key_id),
            None,
        ),
        (
            Method::POST,
            "/projects",
            "/projects".to_owned(),
            Some(json!({"name": "x", "environment": "dev", "workspace_id": bw})),
        ),
        (Method::GET, "/projects/{project_id}", format!("/projects/{bp}"), None),
        (
            Method::PUT,
            "/projects/{project_id}",
            format!("/projects/{bp}"),
            Some(json!({"name": "pwned", "services": {}})),
        ),
        (Method::PATCH, "/projects/{project_id}", format!("/projects/{bp}"), Some(patch.clone())),
        (Method::DELETE, "/projects/{project_id}", format!("/projects/{bp}"), None),
        (
            Method::PATCH,
            "/projects/{project_id}/revision/{revision_id}",
            format!("/projects/{bp}/revision/{b_revision}"),
            Some(patch),
        ),
        (Method::GET, "/projects/{project_id}/revisions", format!("/projects/{bp}/revisions"), None),
        (Method::GET, "/projects/{project}/tokens", format!("/projects/{bp}/tokens"), None),
        (Method::POST, "/projects/{project}/tokens", format!("/projects/{bp}/tokens"), Some(json!({"name": "x"}))),
        (
            Method::DELETE,
            "/projects/{project}/tokens/{token_id}",
            format!("/projects/{bp}/tokens/{}", b.project_key_id),
            None,
        ),
        (
            Method::DELETE,
            "/projects/{project}/tokens/{token_id}",
            format!("/projects/{}/tokens/{}", a.project_id, b.project_key_id),
            None,
        ),
        (Method::GET, "/projects/{project}/members", format!("/projects/{bp}/members"), None),
        (
            Method::POST,
            "/projects/{project}/members",
            format!("/projects/{bp}/members"),
            Some(json!({"email": "m@example.com", "role": "owner"})),
        ),
        (Method::DELETE, "/projects/{project}/members/{member}", format!("/projects/{bp}/members/{b_member}"), None),
        (Method::GET, "/projects/{project_id}/custom-domains", format!("/projects/{bp}/custom-domains"), None),
        (
            Method::POST,
            "/projects/{project_id}/opl/validate",
            format!("/projects/{bp}/opl/validate"),
            Some(json!("class A implements Namespace {}")),
        ),
        (
            Method::POST,
            "/projects/{project_id}/custom-domains",
            format!("/projects/{bp}/custom-domains"),
            Some(json!({"hostname": "login.pwned.example"})),
        ),
        (
            Method::POST,
            "/projects/{project_id}/custom-domains/{domain_id}/verify",
            format!("/projects/{bp}/custom-domains/{b_domain}/verify"),
            None,
        ),
        (
            Method::DELETE,
            "/projects/{project_id}/custom-domains/{domain_id}",
            format!("/projects/{bp}/custom-domains/{b_domain}"),
            None,
        ),
        // B's domain through A's own project: the domain is not in A's scope.
        (
            Method::DELETE,
            "/projects/{project_id}/custom-domains/{domain_id}",
            format!("/projects/{}/custom-domains/{b_domain}", a.project_id),
            None,
        ),
    ]
}

#[tokio::test]
async fn every_route_hides_other_workspaces() {
    on_each_backend(|stack, _| async move {
        let api = Api::new(&stack);
        let a = tenant(&api, &stack.operator_key, "A").await;
        let b = tenant(&api, &stack.operator_key, "B").await;
        let member = api
            .post(
                &format!("/projects/{}/members", b.project_id),
                &b.workspace_key,
                json!({"email": "owner@b.example", "role": "owner"}),
            )
            .await;
        let b_member = expect(&member, 201)["id"].as_str().unwrap().to_owned();
        let b_before = expect(&api.get(&format!("/projects/{}", b.project_id), &b.workspace_key).await, 200).clone();
        let b_revision = b_before["revision_id"].as_str().unwrap().to_owned();
        let domain = api
            .post(
                &format!("/projects/{}/custom-domains", b.project_id),
                &b.workspace_key,
                json!({"hostname": "login.b.example"}),
            )
            .await;
        let b_domain = expect(&domain, 201)["id"].as_str().unwrap().to_owned();
        let walk = routes_to_walk(&a, &b, &b_revision, &b_member, &b_domain);

        for (method, template, path, body) in &walk {
            // A project key may not touch even its own workspace (403); everything of B's is absent (404).
            let own_workspace = path.starts_with(&format!("/workspaces/{}", a.workspace_id));
            for (who, key, status) in [
                ("A's workspace key", a.workspace_key.as_str(), 404),
                ("A's project key", a.project_key.as_str(), if own_workspace { 403 } else { 404 }),
            ] {
                let answer = api.call(method.clone(), path, Some(key), body.clone()).await;
                assert_eq!(
                    answer.status.as_u16(),
                    status,
                    "{who}: {method} {template} ({path}) answered {}: {}",
                    answer.status,
                    answer.body
                );
                assert_eq!(answer.body["error"]["code"], status);
            }
            for key in [None, Some("ory_wak_not-a-real-key"), Some(b.project_key_id.as_str())] {
                let answer = api.call(method.clone(), path, key, body.clone()).await;
                assert_eq!(answer.status.as_u16(), 401, "{key:?}: {method} {template} answered {}", answer.status);
            }
        }

        // Nothing of B's changed, and all of B's keys still work.
        let b_after = expect(&api.get(&format!("/projects/{}", b.project_id), &b.workspace_key).await, 200).clone();
        assert_eq!(b_after, b_before);
        assert_eq!(api.get(&format!("/projects/{}", b.project_id), &b.project_key).await.status, 200);
        assert_eq!(
            expect(&api.get(&format!("/projects/{}/members", b.project_id), &b.project_key).await, 200)
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let domains = api.get(&format!("/projects/{}/custom-domains", b.project_id), &b.workspace_key).await;
        assert_eq!(expect(&domains, 200).as_array().unwrap().len(), 1, "B's domain survived");
        let b_ws = api.get(&format!("/workspaces/{}", b.workspace_id), &b.workspace_key).await;
        assert_eq!(expect(&b_ws, 200)["name"], "B");

        // Coverage ratchet against the OpenAPI document.
        let walked: BTreeSet<(String, String)> =
            walk.iter().map(|(m, t, _, _)| (m.as_str().to_ascii_lowercase(), t.to_string())).collect();
        let exempt: BTreeSet<(String, String)> =
            NOT_TENANT_SCOPED.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
        let doc = serde_json::to_value(tessera_workspace_api::openapi::ApiDoc::openapi()).unwrap();
        let mut missing = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let route = (method.clone(), path.clone());
                if !walked.contains(&route) && !exempt.contains(&route) {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(missing.is_empty(), "routes without a cross-tenant check: {missing:?}");
        stack
    })
    .await;
}
