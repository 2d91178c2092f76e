//! The permission engine through Keto's REST API on a project's host, over the real regional stack.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_e2e::stack::RegionalStack;
use tessera_platform::db::testing::backends;

use super::api::{Answer, expect, expect_error};

const CONVERGE: Duration = Duration::from_secs(10);

use tessera_e2e::datasets::DRIVE_OPL as OPL;

struct Project {
    base: String,
    key: String,
    id: String,
    workspace_key: String,
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn send(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.http.request(method, url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }
}

/// A project homed in eu-central with the OPL above, reached through `region`.
async fn project(stack: &RegionalStack, c: &Client, region: &str) -> Project {
    let op = stack.operator_key.clone();
    let cp = &stack.cp_url;
    let ws = c.send(Method::POST, &format!("{cp}/workspaces"), Some(&op), Some(json!({"name": "W"})), &[]).await;
    let ws_id = expect(&ws, 201)["id"].as_str().unwrap().to_owned();
    let wk = c
        .send(Method::POST, &format!("{cp}/workspaces/{ws_id}/tokens"), Some(&op), Some(json!({"name": "k"})), &[])
        .await;
    let wk = expect(&wk, 201)["value"].as_str().unwrap().to_owned();
    let p = c
        .send(
            Method::POST,
            &format!("{cp}/projects"),
            Some(&wk),
            Some(json!({"name": "P", "environment": "prod", "home_region": "eu-central"})),
            &[],
        )
        .await;
    let p = expect(&p, 201).clone();
    let id = p["id"].as_str().unwrap().to_owned();
    let location = format!("base64://{}", base64::engine::general_purpose::STANDARD.encode(OPL));
    let patched = c
        .send(Method::PATCH, &format!("{cp}/projects/{id}"), Some(&wk), Some(json!([{"op": "replace", "path": "/services/permission/config/namespaces", "value": {"location": location}}])), &[])
        .await;
    expect(&patched, 200);
    let pk =
        c.send(Method::POST, &format!("{cp}/projects/{id}/tokens"), Some(&wk), Some(json!({"name": "k"})), &[]).await;
    let key = expect(&pk, 201)["value"].as_str().unwrap().to_owned();
    assert!(stack.converged(CONVERGE).await);
    Project {
        base: format!("{}/p/{}", stack.region_url(region), p["slug"].as_str().unwrap()),
        key,
        id,
        workspace_key: wk,
    }
}

fn rel(ns: &str, obj: &str, r: &str, subject: &str) -> Value {
    if let Some((sns, rest)) = subject.split_once(':') {
        let (sobj, srel) = rest.split_once('#').unwrap_or((rest, ""));
        json!({"namespace": ns, "object": obj, "relation": r, "subject_set": {"namespace": sns, "object": sobj, "relation": srel}})
    } else {
        json!({"namespace": ns, "object": obj, "relation": r, "subject_id": subject})
    }
}

#[tokio::test]
async fn relationships_checks_and_expand_through_ketos_api() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client { http: reqwest::Client::new() };
        let p = project(&stack, &c, "us-east").await;
        let (base, key) = (p.base.as_str(), Some(p.key.as_str()));

        let ns = c.send(Method::GET, &format!("{base}/namespaces"), key, None, &[]).await;
        let names: Vec<&str> =
            expect(&ns, 200)["namespaces"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["User", "Group", "Folder", "Doc"]);

        // Writes.
        let created = c
            .send(
                Method::PUT,
                &format!("{base}/admin/relation-tuples"),
                key,
                Some(rel("Doc", "readme", "owners", "olga")),
                &[],
            )
            .await;
        assert_eq!(expect(&created, 201)["subject_id"], "olga");
        let slug = base.rsplit('/').next().unwrap();
        assert_eq!(
            created.headers["location"],
            format!("/p/{slug}/relation-tuples?namespace=Doc&object=readme&relation=owners&subject_id=olga").as_str()
        );
        assert!(created.headers["x-tessera-consistency-token"].to_str().unwrap().starts_with("ct1_"));
        let patch = json!([
            {"action": "insert", "relation_tuple": rel("Doc", "readme", "parents", "Folder:docs")},
            {"action": "insert", "relation_tuple": rel("Folder", "docs", "viewers", "Group:eng#members")},
            {"action": "insert", "relation_tuple": rel("Group", "eng", "members", "gina")},
            {"action": "insert", "relation_tuple": rel("Doc", "readme", "banned", "mallory")},
            {"action": "insert", "relation_tuple": rel("Group", "eng", "members", "mallory")},
        ]);
        let patched = c.send(Method::PATCH, &format!("{base}/admin/relation-tuples"), key, Some(patch), &[]).await;
        assert_eq!(patched.status, 204);
        let token = patched.headers["x-tessera-consistency-token"].to_str().unwrap().to_owned();

        // Checks: the mirror endpoint answers 403 when denied, /openapi always 200.
        let check = |q: &str| format!("{base}/relation-tuples/check?{q}");
        let allowed = c
            .send(
                Method::GET,
                &check("namespace=Doc&object=readme&relation=view&subject_id=gina"),
                key,
                None,
                &[("x-tessera-consistency-token", &token)],
            )
            .await;
        assert_eq!(expect(&allowed, 200), &json!({"allowed": true}));
        let denied = c
            .send(Method::GET, &check("namespace=Doc&object=readme&relation=view&subject_id=mallory"), key, None, &[])
            .await;
        assert_eq!(expect(&denied, 403), &json!({"allowed": false}));
        let open = c
            .send(
                Method::GET,
                &format!(
                    "{base}/relation-tuples/check/openapi?namespace=Doc&object=readme&relation=view&subject_id=mallory"
                ),
                key,
                None,
                &[],
            )
            .await;
        assert_eq!(expect(&open, 200), &json!({"allowed": false}));
        let posted = c
            .send(
                Method::POST,
                &format!("{base}/relation-tuples/check/openapi"),
                key,
                Some(rel("Doc", "readme", "edit", "olga")),
                &[],
            )
            .await;
        assert_eq!(expect(&posted, 200), &json!({"allowed": true}));
        let posted = c
            .send(
                Method::POST,
                &format!("{base}/relation-tuples/check"),
                key,
                Some(rel("Doc", "readme", "edit", "gina")),
                &[],
            )
            .await;
        assert_eq!(expect(&posted, 403), &json!({"allowed": false}));
        // max-depth cuts the search short.
        let shallow = c
            .send(
                Method::GET,
                &check("namespace=Doc&object=readme&relation=view&subject_id=gina&max-depth=1"),
                key,
                None,
                &[],
            )
            .await;
        assert_eq!(expect(&shallow, 403), &json!({"allowed": false}));
        // Unknown namespace: a check is just not allowed; an unknown relation of an OPL namespace is a 400.
        let unknown =
            c.send(Method::GET, &check("namespace=Nope&object=x&relation=y&subject_id=z"), key, None, &[]).await;
        assert_eq!(expect(&unknown, 403), &json!({"allowed": false}));
        expect_error(
            &c.send(Method::GET, &check("namespace=Doc&object=readme&relation=nonsense&subject_id=z"), key, None, &[])
                .await,
            400,
        );
        expect_error(&c.send(Method::GET, &check("namespace=Doc&object=readme&relation=view&subject_id=a&subject_set.namespace=Group&subject_set.object=eng&subject_set.relation=members"), key, None, &[]).await, 400);
        expect_error(
            &c.send(
                Method::GET,
                &check("namespace=Doc&object=readme&relation=view&subject_set.namespace=Group"),
                key,
                None,
                &[],
            )
            .await,
            400,
        );
        expect_error(
            &c.send(Method::GET, &check("namespace=Doc&object=readme&relation=view"), key, None, &[]).await,
            400,
        );

        // Batch.
        let batch = c
            .send(
                Method::POST,
                &format!("{base}/relation-tuples/batch/check"),
                key,
                Some(json!({"tuples": [rel("Doc", "readme", "view", "gina"), rel("Doc", "readme", "view", "mallory"), rel("Doc", "readme", "nonsense", "x"), {"namespace": "Doc"}, rel("Nope", "x", "y", "z")]})),
                &[],
            )
            .await;
        let results = expect(&batch, 200)["results"].as_array().unwrap().clone();
        assert_eq!(results[0], json!({"allowed": true}));
        assert_eq!(results[1], json!({"allowed": false}));
        assert_eq!(results[2]["allowed"], false);
        assert!(results[2]["error"].as_str().unwrap().contains("nonsense"));
        assert!(results[3]["error"].is_string());
        assert_eq!(results[4], json!({"allowed": false, "error": "The requested resource could not be found"}));
        let too_many: Vec<Value> = (0..11).map(|i| rel("Doc", "readme", "view", &format!("u{i}"))).collect();
        expect_error(
            &c.send(
                Method::POST,
                &format!("{base}/relation-tuples/batch/check"),
                key,
                Some(json!({"tuples": too_many})),
                &[],
            )
            .await,
            400,
        );

        // Lists, filters and pages.
        let list =
            c.send(Method::GET, &format!("{base}/relation-tuples?namespace=Group&object=eng"), key, None, &[]).await;
        let list = expect(&list, 200).clone();
        assert_eq!(list["relation_tuples"].as_array().unwrap().len(), 2);
        assert_eq!(list["next_page_token"], "");
        let page = c.send(Method::GET, &format!("{base}/relation-tuples?page_size=2"), key, None, &[]).await;
        let page = expect(&page, 200).clone();
        assert_eq!(page["relation_tuples"].as_array().unwrap().len(), 2);
        let next = page["next_page_token"].as_str().unwrap();
        assert!(!next.is_empty());
        let rest = c
            .send(Method::GET, &format!("{base}/relation-tuples?page_size=10&page_token={next}"), key, None, &[])
            .await;
        assert_eq!(expect(&rest, 200)["relation_tuples"].as_array().unwrap().len(), 4);
        let by_subject = c.send(Method::GET, &format!("{base}/relation-tuples?namespace=Folder&subject_set.namespace=Group&subject_set.object=eng&subject_set.relation=members"), key, None, &[]).await;
        assert_eq!(expect(&by_subject, 200)["relation_tuples"][0]["object"], "docs");
        expect_error(
            &c.send(Method::GET, &format!("{base}/relation-tuples?namespace=Nope"), key, None, &[]).await,
            404,
        );

        // Expand.
        let tree = c
            .send(
                Method::GET,
                &format!("{base}/relation-tuples/expand?namespace=Group&object=eng&relation=members&max-depth=3"),
                key,
                None,
                &[],
            )
            .await;
        let tree = expect(&tree, 200).clone();
        assert_eq!(tree["type"], "union");
        assert_eq!(tree["tuple"]["subject_set"], json!({"namespace": "Group", "object": "eng", "relation": "members"}));
        let leaves: Vec<&str> =
            tree["children"].as_array().unwrap().iter().map(|c| c["tuple"]["subject_id"].as_str().unwrap()).collect();
        assert_eq!(leaves, ["gina", "mallory"]);
        assert_eq!(tree["children"][0]["type"], "leaf");
        let view = c
            .send(
                Method::GET,
                &format!("{base}/relation-tuples/expand?namespace=Doc&object=readme&relation=view"),
                key,
                None,
                &[],
            )
            .await;
        let view = expect(&view, 200).clone();
        assert_eq!(view["type"], "intersection");
        assert!(view.to_string().contains("\"exclusion\""), "{view}");
        expect_error(
            &c.send(
                Method::GET,
                &format!("{base}/relation-tuples/expand?namespace=Nope&object=x&relation=y"),
                key,
                None,
                &[],
            )
            .await,
            404,
        );

        // A patch with one bad delta writes nothing.
        let bad = json!([{"action": "insert", "relation_tuple": rel("Group", "eng", "members", "eve")}, {"action": "upsert", "relation_tuple": rel("Group", "eng", "members", "x")}]);
        expect_error(&c.send(Method::PATCH, &format!("{base}/admin/relation-tuples"), key, Some(bad), &[]).await, 400);
        let eve = c
            .send(Method::GET, &check("namespace=Group&object=eng&relation=members&subject_id=eve"), key, None, &[])
            .await;
        assert_eq!(eve.status, 403);
        expect_error(
            &c.send(Method::PUT, &format!("{base}/admin/relation-tuples"), key, Some(rel("Nope", "x", "y", "z")), &[])
                .await,
            404,
        );
        expect_error(&c.send(Method::PUT, &format!("{base}/admin/relation-tuples"), key, Some(json!({"namespace": "Doc", "object": "x", "relation": "owners", "subject_id": "a", "subject_set": {"namespace": "Group", "object": "g", "relation": "members"}})), &[]).await, 400);
        expect_error(
            &c.send(
                Method::PUT,
                &format!("{base}/admin/relation-tuples"),
                key,
                Some(json!({"namespace": "Doc", "object": "x".repeat(2000), "relation": "owners", "subject_id": "a"})),
                &[],
            )
            .await,
            400,
        );

        // Delete by query.
        expect_error(
            &c.send(Method::DELETE, &format!("{base}/admin/relation-tuples?object=eng"), key, None, &[]).await,
            400,
        );
        expect_error(
            &c.send(Method::DELETE, &format!("{base}/admin/relation-tuples?namespace=Group&bogus=1"), key, None, &[])
                .await,
            400,
        );
        let deleted = c
            .send(
                Method::DELETE,
                &format!("{base}/admin/relation-tuples?namespace=Group&object=eng&relation=members&subject_id=gina"),
                key,
                None,
                &[],
            )
            .await;
        assert_eq!(deleted.status, 204);
        let gone = c
            .send(Method::GET, &check("namespace=Doc&object=readme&relation=view&subject_id=gina"), key, None, &[])
            .await;
        assert_eq!(gone.status, 403);

        // OPL syntax check, in Keto's error shape.
        let syntax = c
            .http
            .post(format!("{base}/opl/syntax/check"))
            .bearer_auth(&p.key)
            .body("class A implements Namespace { related: { x: Nope[] } }")
            .send()
            .await
            .unwrap();
        assert_eq!(syntax.status(), 200);
        let syntax: Value = syntax.json().await.unwrap();
        let first = &syntax["errors"][0];
        assert!(first["message"].is_string());
        assert!(first["start"]["Line"].is_u64() && first["start"]["column"].is_u64(), "{syntax}");
        let ok = c.http.post(format!("{base}/opl/syntax/check")).bearer_auth(&p.key).body(OPL).send().await.unwrap();
        assert_eq!(ok.json::<Value>().await.unwrap(), json!({}), "Keto omits the empty list");

        // The metering counter.
        let metrics =
            c.send(Method::GET, &format!("{}/metrics", stack.region_url("eu-central")), None, None, &[]).await;
        let text = metrics.body.as_str().unwrap();
        assert!(text.contains(&format!("tessera_permission_checks_total{{project=\"{}\"}}", p.id)), "{text}");
        stack.stop().await;
    }
}

#[tokio::test]
async fn another_projects_key_and_relationships_stay_out() {
    let stack = RegionalStack::start(backends()[0], |_| {}).await;
    let c = Client { http: reqwest::Client::new() };
    let a = project(&stack, &c, "eu-central").await;
    let b = project(&stack, &c, "eu-central").await;
    let put = |p: &Project| format!("{}/admin/relation-tuples", p.base);
    expect(&c.send(Method::PUT, &put(&a), Some(&a.key), Some(rel("Doc", "secret", "owners", "alice")), &[]).await, 201);
    for path in [
        "/relation-tuples?namespace=Doc",
        "/namespaces",
        "/relation-tuples/check?namespace=Doc&object=secret&relation=edit&subject_id=alice",
    ] {
        expect_error(&c.send(Method::GET, &format!("{}{path}", a.base), Some(&b.key), None, &[]).await, 401);
        expect_error(&c.send(Method::GET, &format!("{}{path}", a.base), None, None, &[]).await, 401);
        expect_error(&c.send(Method::GET, &format!("{}{path}", a.base), Some(&a.workspace_key), None, &[]).await, 401);
    }
    // The same names in B are B's own: A's relationship does not exist there.
    let in_b = c
        .send(
            Method::GET,
            &format!(
                "{}/relation-tuples/check/openapi?namespace=Doc&object=secret&relation=edit&subject_id=alice",
                b.base
            ),
            Some(&b.key),
            None,
            &[],
        )
        .await;
    assert_eq!(expect(&in_b, 200), &json!({"allowed": false}));
    let listed =
        c.send(Method::GET, &format!("{}/relation-tuples?namespace=Doc", b.base), Some(&b.key), None, &[]).await;
    assert_eq!(expect(&listed, 200)["relation_tuples"], json!([]));
    // A token of A means nothing to B.
    let created = c.send(Method::PUT, &put(&a), Some(&a.key), Some(rel("Doc", "x", "owners", "y")), &[]).await;
    let token = created.headers["x-tessera-consistency-token"].to_str().unwrap().to_owned();
    let misuse = c
        .send(
            Method::GET,
            &format!("{}/relation-tuples/check/openapi?namespace=Doc&object=x&relation=edit&subject_id=y", b.base),
            Some(&b.key),
            None,
            &[("x-tessera-consistency-token", &token)],
        )
        .await;
    expect_error(&misuse, 400);
    stack.stop().await;
}

#[tokio::test]
async fn workers_of_a_region_stay_coherent_and_tokens_read_their_writes() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client { http: reqwest::Client::new() };
        let p = project(&stack, &c, "eu-central").await;
        let other = stack.extra_worker("eu-central").await;
        // Warm the other worker's index, so it has to learn about the write rather than load it fresh.
        let slug = p.base.rsplit('/').next().unwrap().to_owned();
        let other_base = format!("{}/p/{slug}", other.url());
        let q = "/relation-tuples/check/openapi?namespace=Group&object=ops&relation=members&subject_id=oscar";
        assert_eq!(
            expect(&c.send(Method::GET, &format!("{other_base}{q}"), Some(&p.key), None, &[]).await, 200),
            &json!({"allowed": false})
        );

        let created = c
            .send(
                Method::PUT,
                &format!("{}/admin/relation-tuples", p.base),
                Some(&p.key),
                Some(rel("Group", "ops", "members", "oscar")),
                &[],
            )
            .await;
        let token = created.headers["x-tessera-consistency-token"].to_str().unwrap().to_owned();
        // With the token, the other worker sees the write at once.
        let seen = c
            .send(
                Method::GET,
                &format!("{other_base}{q}"),
                Some(&p.key),
                None,
                &[("x-tessera-consistency-token", &token)],
            )
            .await;
        assert_eq!(expect(&seen, 200), &json!({"allowed": true}));
        // Without it, the change feed brings it within about a feed interval; deletes too.
        let deleted = c
            .send(
                Method::DELETE,
                &format!("{}/admin/relation-tuples?namespace=Group&object=ops", p.base),
                Some(&p.key),
                None,
                &[],
            )
            .await;
        assert_eq!(deleted.status, 204);
        let mut converged = false;
        for _ in 0..100 {
            let a = c.send(Method::GET, &format!("{other_base}{q}"), Some(&p.key), None, &[]).await;
            if a.body == json!({"allowed": false}) {
                converged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(converged, "the other worker learns the delete from the feed");
        // A token from the future is refused rather than waited for.
        let bogus =
            tessera_permission::service::ConsistencyToken { project: p.id.parse().unwrap(), seq: 1 << 40 }.encode();
        expect_error(
            &c.send(
                Method::GET,
                &format!("{other_base}{q}"),
                Some(&p.key),
                None,
                &[("x-tessera-consistency-token", &bogus)],
            )
            .await,
            400,
        );
        other.stop().await;
        stack.stop().await;
    }
}

#[tokio::test]
async fn the_control_plane_refuses_opl_that_does_not_compile() {
    let stack = RegionalStack::start(backends()[0], |_| {}).await;
    let c = Client { http: reqwest::Client::new() };
    let p = project(&stack, &c, "eu-central").await;
    let broken = "class Doc implements Namespace {\n  related: { viewers: Nobody[] }\n}\n";
    let location = format!("base64://{}", base64::engine::general_purpose::STANDARD.encode(broken));
    let answer = c
        .send(Method::PATCH, &format!("{}/projects/{}", stack.cp_url, p.id), Some(&p.workspace_key), Some(json!([{"op": "replace", "path": "/services/permission/config/namespaces", "value": {"location": location}}])), &[])
        .await;
    expect_error(&answer, 400);
    let reason = answer.body["error"]["reason"].as_str().unwrap();
    assert!(reason.contains("services.permission.config.namespaces.location") && reason.contains("line 2"), "{reason}");
    stack.stop().await;
}
