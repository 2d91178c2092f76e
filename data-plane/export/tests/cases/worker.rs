//! A project's export through a real worker: 2,500 identities, 3,000 relationships and 3 OAuth2 clients created
//! through the project's admin API, exported to moto_server, downloaded and checked line by line; then the
//! refusals (409 while running, 404 across projects, 401 without the key, 400 where exports are not
//! configured) and a failing bucket (the job fails, nothing of it is left in S3).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_e2e::stack::RegionalStack;
use tessera_export::ProjectManifest;
use tessera_platform::db::testing::backends;
use tessera_platform::ids::WorkspaceId;

use super::moto::{Moto, sha256_hex};

const IDENTITIES: usize = 2_500;
const RELATIONSHIPS: usize = 3_000;
const CLIENTS: usize = 3;
/// bcrypt of `hunter2` (cost 4): imported as is, so the export must not show it.
const BCRYPT_HUNTER2: &str = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";

struct Project {
    /// `<region>/p/<slug>`.
    base: String,
    key: String,
    id: String,
}

struct Answer {
    status: StatusCode,
    body: Value,
    headers: HeaderMap,
}

struct Http(reqwest::Client);

impl Http {
    async fn call(&self, method: Method, url: &str, key: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.0.request(method, url).header("accept", "application/json");
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the worker answers");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, headers }
    }

    async fn expect(&self, method: Method, url: &str, key: &str, body: Option<Value>, status: u16) -> Answer {
        let answer = self.call(method.clone(), url, Some(key), body).await;
        assert_eq!(answer.status.as_u16(), status, "{method} {url}: {}", answer.body);
        answer
    }
}

/// A project homed in `region` with the namespaces the relationships use, and an API key.
async fn project(stack: &RegionalStack, ws: WorkspaceId, name: &str, region: &str) -> Project {
    let cp = stack.control_plane();
    let create = CreateProject {
        name: name.into(),
        environment: Environment::Prod,
        home_region: Some(region.into()),
        workspace_id: Some(ws),
    };
    let (p, _) = cp.project_create(&Actor::Operator, create).await.expect("project created");
    let namespaces = json!([{"op": "replace", "path": "/services/permission/config/namespaces",
                             "value": [{"id": 0, "name": "Doc"}, {"id": 1, "name": "Team"}]}]);
    cp.project_update(&Actor::Operator, p.project.id, ProjectUpdate::Patch(namespaces), None).await.expect("patched");
    let key = cp.project_key_create(&Actor::Operator, p.project.id, "export", None).await.expect("key").secret;
    Project { base: format!("{}/p/{}", stack.region_url(region), p.project.slug), key, id: p.project.id.to_string() }
}

/// What was created, to compare the export with.
struct Seeded {
    identities: BTreeSet<String>,
    relationships: BTreeSet<String>,
    clients: Vec<(String, String)>,
}

async fn seed(http: &Http, p: &Project) -> Seeded {
    let mut identities = BTreeSet::new();
    for batch in 0..IDENTITIES / 500 {
        let items: Vec<Value> = (batch * 500..(batch + 1) * 500)
            .map(|i| {
                json!({"create": {"schema_id": "preset://email", "traits": {"email": format!("user{i}@example.com")},
                       "metadata_admin": {"n": i}, "metadata_public": {"line": "one\ntwo"},
                       "credentials": {"password": {"config": {"hashed_password": BCRYPT_HUNTER2}}}}})
            })
            .collect();
        let url = format!("{}/admin/identities", p.base);
        let done = http.expect(Method::PATCH, &url, &p.key, Some(json!({"identities": items})), 200).await;
        for result in done.body["identities"].as_array().unwrap() {
            assert_eq!(result["action"], "create", "{result}");
            identities.insert(result["identity"].as_str().unwrap().to_owned());
        }
    }
    let mut relationships = BTreeSet::new();
    let tuples: Vec<Value> = (0..RELATIONSHIPS)
        .map(|i| {
            if i % 10 == 0 {
                json!({"namespace": "Doc", "object": format!("doc-{i}"), "relation": "viewers",
                       "subject_set": {"namespace": "Team", "object": format!("team-{i}"), "relation": "members"}})
            } else {
                json!({"namespace": "Doc", "object": format!("doc-{i}"), "relation": "owners",
                       "subject_id": format!("user-{i}")})
            }
        })
        .collect();
    for chunk in tuples.chunks(1000) {
        let deltas: Vec<Value> = chunk.iter().map(|t| json!({"action": "insert", "relation_tuple": t})).collect();
        let url = format!("{}/admin/relation-tuples", p.base);
        http.expect(Method::PATCH, &url, &p.key, Some(Value::Array(deltas)), 204).await;
        relationships.extend(chunk.iter().map(Value::to_string));
    }
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let body = json!({"client_name": format!("Client {i}"), "grant_types": ["client_credentials"],
                          "metadata": {"i": i}});
        let created = http.expect(Method::POST, &format!("{}/admin/clients", p.base), &p.key, Some(body), 201).await;
        let id = created.body["client_id"].as_str().unwrap().to_owned();
        clients.push((id, created.body["client_secret"].as_str().unwrap().to_owned()));
    }
    Seeded { identities, relationships, clients }
}

/// Polls a job until it leaves `running`; its counts never go down meanwhile.
async fn finished(http: &Http, p: &Project, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = 0;
    loop {
        let job = http.expect(Method::GET, &format!("{}/admin/exports/{id}", p.base), &p.key, None, 200).await.body;
        let total: u64 =
            ["identities", "relationships", "clients"].iter().map(|k| job["counts"][k].as_u64().unwrap()).sum();
        assert!(total >= last, "progress never goes back: {job}");
        last = total;
        if job["state"] != "running" {
            return job;
        }
        assert!(Instant::now() < deadline, "the export did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Downloads every file of a manifest, checks it against the manifest, and returns the files' text.
async fn download(moto: &Moto, manifest: &ProjectManifest) -> Vec<String> {
    let mut texts = Vec::new();
    for file in &manifest.files {
        let bytes = moto.get(&file.key).await;
        assert_eq!((bytes.len() as u64, sha256_hex(&bytes)), (file.size, file.sha256.clone()), "{}", file.key);
        let verified = moto.sink.verify(&file.key).await.expect("the stored checksum verifies");
        assert_eq!(verified.sha256_hex, file.sha256);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count() as u64, file.lines, "{}", file.key);
        texts.push(text);
    }
    texts
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).expect("each line is one JSON value")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_exports_to_s3_through_its_region() {
    for backend in backends() {
        let moto = Moto::start().await;
        let config = moto.worker_config(&moto.bucket);
        // eu-central exports into the bucket; us-east has no export configured.
        let stack = RegionalStack::start_custom(
            backend,
            |c| c.data_plane.rate_limit_scale = 1000.0,
            |region, wc| {
                if region == "eu-central" {
                    wc.data_plane.export = Some(config.clone());
                }
            },
        )
        .await;
        let ws = stack.control_plane().workspace_create(&Actor::Operator, "Exports").await.unwrap().id;
        let a = project(&stack, ws, "Exported", "eu-central").await;
        let b = project(&stack, ws, "Other", "eu-central").await;
        let c = project(&stack, ws, "Elsewhere", "us-east").await;
        assert!(stack.converged(Duration::from_secs(10)).await);
        let http = Http(reqwest::Client::new());
        let seeded = seed(&http, &a).await;
        assert_eq!(seeded.identities.len(), IDENTITIES);

        // Start: 202 with the job; a second start while it runs is 409.
        let exports = format!("{}/admin/exports", a.base);
        let started = http.expect(Method::POST, &exports, &a.key, None, 202).await;
        let job = started.body.clone();
        let id = job["id"].as_str().unwrap().to_owned();
        assert_eq!(job["state"], "running", "{job}");
        assert_eq!(job["counts"], json!({"identities": 0, "relationships": 0, "clients": 0}));
        assert!(job["created_at"].is_string() && job.get("manifest").is_none(), "{job}");
        let location = started.headers["location"].to_str().unwrap();
        assert!(location.starts_with("/p/") && location.ends_with(&format!("/admin/exports/{id}")), "{location}");
        let second = http.expect(Method::POST, &exports, &a.key, None, 409).await;
        assert!(second.body["error"]["reason"].as_str().unwrap().contains(&id), "{}", second.body);

        // Other callers: no key or another project's key is 401 at the gate; another project's view is 404.
        assert_eq!(http.call(Method::POST, &exports, None, None).await.status, 401);
        assert_eq!(http.call(Method::GET, &format!("{exports}/{id}"), Some(&b.key), None).await.status, 401);
        http.expect(Method::GET, &format!("{}/admin/exports/{id}", b.base), &b.key, None, 404).await;
        let b_list = http.expect(Method::GET, &format!("{}/admin/exports", b.base), &b.key, None, 200).await;
        assert_eq!(b_list.body, json!({"exports": [], "next_page_token": null}));
        for bad in ["not-an-id", "0195a3b3-0001-7000-8000-000000000001"] {
            http.expect(Method::GET, &format!("{exports}/{bad}"), &a.key, None, 404).await;
        }
        // A region without an export bucket says so, in the platform's error shape.
        for method in [Method::POST, Method::GET] {
            let refused = http.expect(method, &format!("{}/admin/exports", c.base), &c.key, None, 400).await;
            assert_eq!(refused.body["error"]["id"], "feature_not_available", "{}", refused.body);
        }

        // The job succeeds with exactly what was created.
        let done = finished(&http, &a, &id).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        assert_eq!(
            done["counts"],
            json!({"identities": IDENTITIES, "relationships": RELATIONSHIPS, "clients": CLIENTS})
        );
        assert!(done["finished_at"].is_string() && done.get("error").is_none(), "{done}");
        let manifest: ProjectManifest = serde_json::from_value(done["manifest"].clone()).unwrap();
        assert_eq!((manifest.project_id.as_str(), manifest.export_id.as_str()), (a.id.as_str(), id.as_str()));
        let line_counts: Vec<u64> = manifest.files.iter().map(|f| f.lines).collect();
        assert_eq!(line_counts, [IDENTITIES as u64, RELATIONSHIPS as u64, CLIENTS as u64]);
        let dir = format!("exports/projects/{}/{id}", a.id);
        let stored: ProjectManifest = serde_json::from_slice(&moto.get(&format!("{dir}/manifest.json")).await).unwrap();
        assert_eq!(stored, manifest, "the job shows the manifest that is in S3");
        let texts = download(&moto, &manifest).await;
        for (text, name) in texts.iter().zip(["identities", "relationships", "clients"]) {
            // Keys, not values: `token_endpoint_auth_method` is `client_secret_basic`.
            for secret in ["hashed_password", "$2b$", "\"client_secret\":", "\"config\":"] {
                assert!(!text.contains(secret), "{name} carry {secret}");
            }
            for (_, client_secret) in &seeded.clients {
                assert!(!text.contains(client_secret.as_str()), "{name} carry a client secret");
            }
        }

        // Identities: each exactly once, as `GET /admin/identities/{id}` shows it.
        let identities = lines(&texts[0]);
        let ids: Vec<String> = identities.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), seeded.identities);
        assert_eq!(ids.len(), seeded.identities.len(), "no identity twice");
        for i in [0, IDENTITIES / 2, IDENTITIES - 1] {
            let url = format!("{}/admin/identities/{}", a.base, ids[i]);
            let api = http.expect(Method::GET, &url, &a.key, None, 200).await.body;
            assert_eq!(identities[i], api, "line {i} is the admin API's JSON");
            assert_eq!(api["credentials"]["password"]["identifiers"].as_array().unwrap().len(), 1);
        }
        // Relationships: the relationships API's JSON, each once.
        let relationships: BTreeSet<String> = lines(&texts[1]).iter().map(Value::to_string).collect();
        assert_eq!(relationships, seeded.relationships);
        // Clients: `GET /admin/clients/{id}`, without secrets.
        let clients = lines(&texts[2]);
        for (client_id, _) in &seeded.clients {
            let line = clients.iter().find(|c| c["client_id"] == client_id.as_str()).expect("every client");
            let url = format!("{}/admin/clients/{client_id}", a.base);
            assert_eq!(line, &http.expect(Method::GET, &url, &a.key, None, 200).await.body);
        }

        // A bucket that disappears mid-export: the job fails with a clear error and leaves nothing in S3.
        let started = http.expect(Method::POST, &exports, &a.key, None, 202).await;
        let failing = started.body["id"].as_str().unwrap().to_owned();
        moto.delete_bucket().await;
        let failed = finished(&http, &a, &failing).await;
        assert_eq!(failed["state"], "failed", "{failed}");
        let error = failed["error"].as_str().unwrap();
        assert!(
            error.contains("could not be written to storage") && error.contains("bucket does not exist"),
            "{error}"
        );
        assert!(!error.contains(&moto.bucket) && !error.contains(&moto.endpoint), "no region internals: {error}");
        assert!(failed.get("manifest").is_none() && failed["finished_at"].is_string(), "{failed}");
        moto.create_bucket().await;
        assert_eq!(moto.keys(&format!("exports/projects/{}/{failing}", a.id)).await, Vec::<String>::new());
        assert!(moto.open_uploads().await.is_empty());

        // A failed export does not block the next one.
        let retried =
            http.expect(Method::POST, &exports, &a.key, None, 202).await.body["id"].as_str().unwrap().to_owned();
        assert_eq!(finished(&http, &a, &retried).await["state"], "succeeded");
        assert!(moto.keys(&format!("exports/projects/{}/{retried}/manifest.json", a.id)).await.len() == 1);

        // The list: newest first, page by page.
        let page = http.expect(Method::GET, &format!("{exports}?page_size=2"), &a.key, None, 200).await.body;
        let listed: Vec<&str> = page["exports"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
        assert_eq!(listed, [retried.as_str(), failing.as_str()]);
        assert!(page["exports"][0]["manifest"].is_object() && page["exports"][1]["error"].is_string());
        let token = page["next_page_token"].as_str().unwrap();
        let rest =
            http.expect(Method::GET, &format!("{exports}?page_size=2&page_token={token}"), &a.key, None, 200).await;
        assert_eq!(rest.body["exports"].as_array().unwrap().len(), 1);
        assert_eq!(rest.body["exports"][0]["id"], id.as_str());
        assert_eq!(rest.body["next_page_token"], Value::Null);
        for bad in ["page_size=0", "page_token=%21%21"] {
            http.expect(Method::GET, &format!("{exports}?{bad}"), &a.key, None, 400).await;
        }
        stack.stop().await;
    }
}
