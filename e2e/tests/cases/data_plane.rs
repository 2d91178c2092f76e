//! Regions: routing by host and path prefix, forwarding to the home region, admin authentication against
//! replicated key hashes, halting, per-project limits, custom domains, and static stability.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tessera_e2e::stack::{REGIONS, RegionalStack};
use tessera_platform::db::testing::backends;

use super::api::{Answer, expect, expect_error};

const CONVERGE: Duration = Duration::from_secs(10);

/// Talks to the regional stack.
struct Client {
    http: reqwest::Client,
    cp: String,
    op: String,
}

impl Client {
    fn new(stack: &RegionalStack) -> Self {
        Self { http: reqwest::Client::new(), cp: stack.cp_url.clone(), op: stack.operator_key.clone() }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        host: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    async fn cp(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Answer {
        self.send(method, &format!("{}{path}", self.cp), Some(key), None, body).await
    }

    /// A workspace, its key, and a project in `region` with a project key: (workspace key, project, project key).
    async fn project_in(&self, region: &str) -> (String, Value, String) {
        let ws = self.cp(Method::POST, "/workspaces", &self.op.clone(), Some(json!({"name": "W"}))).await;
        let ws_id = expect(&ws, 201)["id"].as_str().unwrap().to_owned();
        let wk = self
            .cp(Method::POST, &format!("/workspaces/{ws_id}/tokens"), &self.op.clone(), Some(json!({"name": "k"})))
            .await;
        let wk = expect(&wk, 201)["value"].as_str().unwrap().to_owned();
        let p = self
            .cp(
                Method::POST,
                "/projects",
                &wk,
                Some(json!({"name": "App", "environment": "prod", "home_region": region})),
            )
            .await;
        let p = expect(&p, 201).clone();
        let pk = self
            .cp(
                Method::POST,
                &format!("/projects/{}/tokens", p["id"].as_str().unwrap()),
                &wk,
                Some(json!({"name": "k"})),
            )
            .await;
        let pk = expect(&pk, 201)["value"].as_str().unwrap().to_owned();
        (wk, p, pk)
    }

    /// `/admin/tenant` of a project through `region`, by path prefix or by host.
    async fn tenant(
        &self,
        stack: &RegionalStack,
        region: &str,
        slug: &str,
        by_host: bool,
        key: Option<&str>,
    ) -> Answer {
        let base = stack.region_url(region);
        if by_host {
            let host = format!("{slug}.projects.localhost");
            self.send(Method::GET, &format!("{base}/admin/tenant"), key, Some(&host), None).await
        } else {
            self.send(Method::GET, &format!("{base}/p/{slug}/admin/tenant"), key, None, None).await
        }
    }
}

#[tokio::test]
async fn projects_are_served_at_home_and_forwarded_from_every_other_region() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client::new(&stack);
        for home in REGIONS {
            let (_, p, pk) = c.project_in(home).await;
            assert!(stack.converged(CONVERGE).await);
            let slug = p["slug"].as_str().unwrap();
            for region in REGIONS {
                for by_host in [false, true] {
                    let a = c.tenant(&stack, region, slug, by_host, Some(&pk)).await;
                    let body = expect(&a, 200);
                    assert_eq!(body["served_by"], home, "via {region}, by_host={by_host}");
                    assert_eq!(body["project_id"], p["id"]);
                    assert_eq!(body["revision_id"], p["revision_id"]);
                }
                let health = c
                    .send(Method::GET, &format!("{}/p/{slug}/health/alive", stack.region_url(region)), None, None, None)
                    .await;
                assert_eq!(expect(&health, 200), &json!({"status": "ok"}));
            }
        }
        // What names no project: 404 in Ory's shape; the worker's own routes still answer.
        let base = stack.region_url("eu-central");
        expect_error(
            &c.send(Method::GET, &format!("{base}/p/no-such-project/admin/tenant"), None, None, None).await,
            404,
        );
        expect_error(
            &c.send(Method::GET, &format!("{base}/x"), None, Some("nope.projects.localhost"), None).await,
            404,
        );
        expect(&c.send(Method::GET, &format!("{base}/health/ready"), None, None, None).await, 200);
        let status = c.send(Method::GET, &format!("{base}/status"), None, None, None).await;
        assert_eq!(expect(&status, 200)["directory"]["lag_entries"], 0);
        let metrics = c.send(Method::GET, &format!("{}/metrics", stack.region_url("us-east")), None, None, None).await;
        let text = metrics.body.as_str().unwrap();
        assert!(
            text.contains(r#"tessera_forwarded_requests_total{region="us-east",to_region="eu-central"}"#),
            "{text}"
        );
        assert!(text.contains("tessera_directory_seq{region=\"us-east\"}"), "{text}");
        assert!(text.contains("outcome=\"forwarded\""), "{text}");
        stack.stop().await;
    }
}

#[tokio::test]
async fn changes_reach_every_region_and_halted_or_purged_projects_are_refused() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client::new(&stack);
        let (wk, p, pk) = c.project_in("eu-central").await;
        let id = p["id"].as_str().unwrap();
        let slug = p["slug"].as_str().unwrap();

        let patched = c
            .cp(
                Method::PATCH,
                &format!("/projects/{id}"),
                &wk,
                Some(json!([{"op": "replace", "path": "/services/identity/config/session/lifespan", "value": "2h"}])),
            )
            .await;
        let revision = expect(&patched, 200)["project"]["revision_id"].clone();
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            assert_eq!(expect(&c.tenant(&stack, region, slug, false, Some(&pk)).await, 200)["revision_id"], revision);
        }

        expect(
            &c.cp(Method::PUT, &format!("/projects/{id}/state"), &c.op, Some(json!({"state": "halted"}))).await,
            200,
        );
        expect_error(
            &c.cp(Method::PUT, &format!("/projects/{id}/state"), &wk, Some(json!({"state": "running"}))).await,
            403,
        );
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            let a = c.tenant(&stack, region, slug, true, Some(&pk)).await;
            expect_error(&a, 403);
            assert_eq!(a.body["error"]["id"], "project_halted");
        }
        expect(
            &c.cp(Method::PUT, &format!("/projects/{id}/state"), &c.op, Some(json!({"state": "running"}))).await,
            200,
        );
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            expect(&c.tenant(&stack, region, slug, true, Some(&pk)).await, 200);
        }

        expect(&c.cp(Method::DELETE, &format!("/projects/{id}"), &wk, None).await, 204);
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            expect_error(&c.tenant(&stack, region, slug, false, Some(&pk)).await, 404);
            expect_error(&c.tenant(&stack, region, slug, true, Some(&pk)).await, 404);
        }
        stack.stop().await;
    }
}

#[tokio::test]
async fn admin_routes_accept_only_that_projects_keys() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client::new(&stack);
        let (wk_a, a, key_a) = c.project_in("eu-central").await;
        let (wk_b, b, key_b) = c.project_in("us-east").await;
        assert!(stack.converged(CONVERGE).await);
        let (slug_a, slug_b) = (a["slug"].as_str().unwrap(), b["slug"].as_str().unwrap());
        for region in REGIONS {
            for by_host in [false, true] {
                // Another project's key, a workspace key, the operator key, a made-up key and no key: all 401.
                for key in
                    [Some(key_a.as_str()), Some(wk_b.as_str()), Some(c.op.as_str()), Some("ory_pat_forged"), None]
                {
                    let answer = c.tenant(&stack, region, slug_b, by_host, key).await;
                    assert_eq!(
                        answer.status, 401,
                        "{key:?} against B via {region} (by_host={by_host}): {}",
                        answer.body
                    );
                }
                expect(&c.tenant(&stack, region, slug_b, by_host, Some(&key_b)).await, 200);
                expect(&c.tenant(&stack, region, slug_a, by_host, Some(&key_a)).await, 200);
                assert_eq!(c.tenant(&stack, region, slug_a, by_host, Some(&key_b)).await.status, 401);
            }
        }
        // A deleted key stops working everywhere once the change has propagated; a new one starts working.
        let keys = c.cp(Method::GET, &format!("/projects/{}/tokens", a["id"].as_str().unwrap()), &wk_a, None).await;
        let key_id = expect(&keys, 200)[0]["id"].as_str().unwrap().to_owned();
        expect(
            &c.cp(Method::DELETE, &format!("/projects/{}/tokens/{key_id}", a["id"].as_str().unwrap()), &wk_a, None)
                .await,
            204,
        );
        let fresh = c
            .cp(
                Method::POST,
                &format!("/projects/{}/tokens", a["id"].as_str().unwrap()),
                &wk_a,
                Some(json!({"name": "n"})),
            )
            .await;
        let fresh = expect(&fresh, 201)["value"].as_str().unwrap().to_owned();
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            assert_eq!(c.tenant(&stack, region, slug_a, false, Some(&key_a)).await.status, 401);
            expect(&c.tenant(&stack, region, slug_a, false, Some(&fresh)).await, 200);
        }
        // Public routes need no key.
        expect(
            &c.send(Method::GET, &format!("{}/p/{slug_a}/health/alive", stack.region_url("us-east")), None, None, None)
                .await,
            200,
        );
        stack.stop().await;
    }
}

#[tokio::test]
async fn one_projects_flood_does_not_spend_anothers_budget() {
    let backend = backends()[0];
    let stack = RegionalStack::start(backend, |c| c.data_plane.rate_limit_scale = 0.1).await;
    let c = Client::new(&stack);
    let (_, a, key_a) = c.project_in("eu-central").await;
    let (_, b, key_b) = c.project_in("eu-central").await;
    assert!(stack.converged(CONVERGE).await);
    let (slug_a, slug_b) = (a["slug"].as_str().unwrap(), b["slug"].as_str().unwrap());
    let mut limited = None;
    for _ in 0..50 {
        let answer = c.tenant(&stack, "eu-central", slug_a, false, Some(&key_a)).await;
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("A's flood is limited");
    expect_error(&limited, 429);
    assert!(limited.headers.get("retry-after").unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
    expect(&c.tenant(&stack, "eu-central", slug_b, false, Some(&key_b)).await, 200);
    stack.stop().await;
}

#[tokio::test]
async fn workers_serve_while_the_control_plane_is_down_and_catch_up_after() {
    for backend in backends() {
        let mut stack = RegionalStack::start(backend, |_| {}).await;
        let c = Client::new(&stack);
        let (wk, p, pk) = c.project_in("eu-central").await;
        let (id, slug) = (p["id"].as_str().unwrap().to_owned(), p["slug"].as_str().unwrap().to_owned());
        assert!(stack.converged(CONVERGE).await);

        stack.stop_control_plane().await;
        for region in REGIONS {
            expect(&c.tenant(&stack, region, &slug, false, Some(&pk)).await, 200);
        }
        // A worker restarted while the control plane is away serves from its persisted copy at once.
        stack.restart_worker("eu-central").await;
        stack.restart_worker("us-east").await;
        for region in REGIONS {
            assert_eq!(
                expect(&c.tenant(&stack, region, &slug, true, Some(&pk)).await, 200)["revision_id"],
                p["revision_id"]
            );
        }
        let status = c.send(Method::GET, &format!("{}/status", stack.region_url("us-east")), None, None, None).await;
        assert!(expect(&status, 200)["directory"]["projects"].as_u64().unwrap() >= 1);

        stack.start_control_plane().await;
        let patched = c
            .cp(
                Method::PATCH,
                &format!("/projects/{id}"),
                &wk,
                Some(json!([{"op": "replace", "path": "/name", "value": "Renamed"}])),
            )
            .await;
        let revision = expect(&patched, 200)["project"]["revision_id"].clone();
        assert!(stack.converged(Duration::from_secs(20)).await, "workers catch up after the control plane returns");
        for region in REGIONS {
            assert_eq!(expect(&c.tenant(&stack, region, &slug, false, Some(&pk)).await, 200)["revision_id"], revision);
        }
        stack.stop().await;
    }
}

#[tokio::test]
async fn forwarding_loops_are_cut_and_requests_are_relayed_intact() {
    // An echo server stands in for eu-central in us-east's registry: what us-east forwards, it sends back.
    let echo = actix_web::HttpServer::new(|| {
        actix_web::App::new().default_service(actix_web::web::to(|req: actix_web::HttpRequest, body: actix_web::web::Bytes| async move {
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v.to_str().unwrap_or_default())))
                .collect();
            actix_web::HttpResponse::Created()
                .insert_header(("x-echo", "yes"))
                .json(json!({"method": req.method().as_str(), "path": req.uri().to_string(), "headers": headers, "body": String::from_utf8_lossy(&body)}))
        }))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let echo_url = format!("http://{}", echo.addrs()[0]);
    let echo = echo.run();
    let echo_handle = echo.handle();
    tokio::spawn(echo);

    let backend = backends()[0];
    let stack = RegionalStack::start_custom(
        backend,
        |_| {},
        |region, wc| {
            if region == "us-east" {
                wc.regions.get_mut("eu-central").unwrap().url = echo_url.parse().unwrap();
            }
        },
    )
    .await;
    let c = Client::new(&stack);
    let (_, p, pk) = c.project_in("eu-central").await;
    assert!(stack.converged(CONVERGE).await);
    let slug = p["slug"].as_str().unwrap();
    let url = format!("{}/p/{slug}/admin/anything?x=1", stack.region_url("us-east"));
    let answer = c
        .http
        .post(&url)
        .bearer_auth(&pk)
        .header("x-custom", "kept")
        .header("x-tessera-hops", "7")
        .header("traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")
        .body("the body")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.headers()["x-echo"], "yes");
    let echoed: Value = answer.json().await.unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], format!("/p/{slug}/admin/anything?x=1"));
    assert_eq!(echoed["body"], "the body");
    let h = &echoed["headers"];
    assert_eq!(h["x-custom"], "kept");
    assert_eq!(h["host"], stack.region_url("us-east").trim_start_matches("http://"));
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-tessera-hops"], "1", "a client's own hop header is not trusted");
    assert_eq!(h["authorization"], format!("Bearer {pk}"));
    assert!(
        h["traceparent"].as_str().unwrap().starts_with("00-0123456789abcdef0123456789abcdef-"),
        "the trace continues"
    );
    assert!(h["x-tessera-forward-secret"].is_string());

    // A worker whose registry points the home region back at itself: the loop is cut after max_hops.
    let looping = RegionalStack::start_custom(
        backend,
        |_| {},
        |region, wc| {
            if region == "us-east" {
                let own = wc.regions["us-east"].url.clone();
                wc.regions.get_mut("eu-central").unwrap().url = own;
            }
        },
    )
    .await;
    let c2 = Client::new(&looping);
    let (_, p2, pk2) = c2.project_in("eu-central").await;
    assert!(looping.converged(CONVERGE).await);
    let a = c2.tenant(&looping, "us-east", p2["slug"].as_str().unwrap(), false, Some(&pk2)).await;
    expect_error(&a, 508);
    looping.stop().await;
    stack.stop().await;
    echo_handle.stop(true).await;
}

#[tokio::test]
async fn the_directory_api_needs_a_region_token() {
    let backend = backends()[0];
    let stack = RegionalStack::start(backend, |_| {}).await;
    let c = Client::new(&stack);
    let url = format!("{}/internal/v1/directory/entries?after=0", stack.cp_url);
    expect_error(&c.send(Method::GET, &url, None, None, None).await, 401);
    expect_error(&c.send(Method::GET, &url, Some(&c.op), None, None).await, 401);
    let snapshot = format!("{}/internal/v1/directory/snapshot", stack.cp_url);
    expect_error(&c.send(Method::GET, &snapshot, Some("not.a.jwt"), None, None).await, 401);

    // A valid key of eu-central cannot speak for us-east.
    let text = stack.control_plane().region_key_issue("eu-central", false).await.unwrap();
    let key = tessera_directory::RegionKey::decode(&text).unwrap();
    let now = tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock).unix_timestamp();
    let wrong = tessera_directory::region_token(&key, "us-east", now, Duration::from_secs(60));
    expect_error(&c.send(Method::GET, &url, Some(&wrong), None, None).await, 401);
    let right = tessera_directory::region_token(&key, "eu-central", now, Duration::from_secs(60));
    let page = c.send(Method::GET, &url, Some(&right), None, None).await;
    assert!(expect(&page, 200)["head"].is_i64());
    // Rotation: once the region's keys are rotated with revocation, the old key stops working.
    let _new = stack.control_plane().region_key_issue("eu-central", true).await.unwrap();
    expect_error(&c.send(Method::GET, &url, Some(&right), None, None).await, 401);
    // A cursor beyond the head asks for a resync.
    let fresh = tessera_directory::RegionKey::decode(&_new).unwrap();
    let token = tessera_directory::region_token(&fresh, "eu-central", now, Duration::from_secs(60));
    let ahead = c
        .send(
            Method::GET,
            &format!("{}/internal/v1/directory/entries?after=999999", stack.cp_url),
            Some(&token),
            None,
            None,
        )
        .await;
    expect_error(&ahead, 409);
    assert_eq!(ahead.body["error"]["id"], tessera_directory::RESYNC_ERROR_ID);
    stack.stop().await;
}

#[tokio::test]
async fn custom_domains_route_only_once_verified() {
    // The owner's web server, which publishes whatever token the test puts here.
    let published = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = published.clone();
    let owner = actix_web::HttpServer::new(move || {
        let served = served.clone();
        actix_web::App::new().route(
            "/.well-known/tessera-domain-verification",
            actix_web::web::get().to(move || {
                let body = served.lock().unwrap().clone();
                async move { actix_web::HttpResponse::Ok().body(body) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let owner_port = owner.addrs()[0].port();
    let owner = owner.run();
    let owner_handle = owner.handle();
    tokio::spawn(owner);

    for backend in backends() {
        let stack = RegionalStack::start(backend, |c| {
            c.control_plane.domain_verification.port = owner_port;
            c.control_plane.domain_verification.allow_private_addresses = true;
            c.control_plane.domain_verification.resolve.insert("login.acme.test".into(), "127.0.0.1".parse().unwrap());
        })
        .await;
        let c = Client::new(&stack);
        let (wk, p, pk) = c.project_in("eu-central").await;
        let (_, other, _) = c.project_in("us-east").await;
        let base = format!("/projects/{}/custom-domains", p["id"].as_str().unwrap());

        for bad in ["10.0.0.1", "x.projects.localhost", "localhost", "no_underscores.com", "single", "-bad.example.com"]
        {
            expect_error(&c.cp(Method::POST, &base, &wk, Some(json!({"hostname": bad}))).await, 400);
        }
        let added = c.cp(Method::POST, &base, &wk, Some(json!({"hostname": "Login.Acme.Test."}))).await;
        let added = expect(&added, 201).clone();
        assert_eq!(added["hostname"], "login.acme.test");
        assert_eq!(added["verified"], false);
        assert_eq!(added["verification"]["url"], "http://login.acme.test/.well-known/tessera-domain-verification");
        let token = added["verification"]["token"].as_str().unwrap().to_owned();
        let id = added["id"].as_str().unwrap();
        // The same hostname cannot be claimed by another project.
        let taken = c
            .cp(
                Method::POST,
                &format!("/projects/{}/custom-domains", other["id"].as_str().unwrap()),
                &c.op,
                Some(json!({"hostname": "login.acme.test"})),
            )
            .await;
        expect_error(&taken, 409);

        // Unverified: not routed. Verification fails until the token is published.
        assert!(stack.converged(CONVERGE).await);
        let via_domain = |region: &'static str| {
            let url = format!("{}/admin/tenant", stack.region_url(region));
            let c = &c;
            let pk = pk.clone();
            async move { c.send(Method::GET, &url, Some(&pk), Some("login.acme.test"), None).await }
        };
        expect_error(&via_domain("eu-central").await, 404);
        *published.lock().unwrap() = "wrong-token".into();
        expect_error(&c.cp(Method::POST, &format!("{base}/{id}/verify"), &wk, None).await, 400);
        *published.lock().unwrap() = format!("{token}\n");
        let verified = c.cp(Method::POST, &format!("{base}/{id}/verify"), &wk, None).await;
        assert_eq!(expect(&verified, 200)["verified"], true);
        assert!(stack.converged(CONVERGE).await);
        let (_, _, other_key) = c.project_in("eu-central").await;
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            let a = via_domain(region).await;
            assert_eq!(expect(&a, 200)["served_by"], "eu-central", "via {region}");
            assert!(a.body["hosts"].as_array().unwrap().contains(&json!("login.acme.test")));
            // Through the custom domain too, another project's key is refused.
            let url = format!("{}/admin/tenant", stack.region_url(region));
            expect_error(&c.send(Method::GET, &url, Some(&other_key), Some("login.acme.test"), None).await, 401);
        }
        let listed = c.cp(Method::GET, &base, &wk, None).await;
        assert_eq!(expect(&listed, 200).as_array().unwrap().len(), 1);

        expect(&c.cp(Method::DELETE, &format!("{base}/{id}"), &wk, None).await, 204);
        assert!(stack.converged(CONVERGE).await);
        for region in REGIONS {
            expect_error(&via_domain(region).await, 404);
        }
        stack.stop().await;
    }

    // Without the operator's permission, a hostname resolving to a private address is never fetched.
    let stack = RegionalStack::start(backends()[0], |c| {
        c.control_plane.domain_verification.port = owner_port;
        c.control_plane.domain_verification.resolve.insert("login.acme.test".into(), "127.0.0.1".parse().unwrap());
    })
    .await;
    let c = Client::new(&stack);
    let (wk, p, _) = c.project_in("eu-central").await;
    let base = format!("/projects/{}/custom-domains", p["id"].as_str().unwrap());
    let added = c.cp(Method::POST, &base, &wk, Some(json!({"hostname": "login.acme.test"}))).await;
    let id = expect(&added, 201)["id"].as_str().unwrap().to_owned();
    let refused = c.cp(Method::POST, &format!("{base}/{id}/verify"), &wk, None).await;
    expect_error(&refused, 400);
    assert!(refused.body["error"]["reason"].as_str().unwrap().contains("not a public address"));
    stack.stop().await;
    owner_handle.stop(true).await;
}
