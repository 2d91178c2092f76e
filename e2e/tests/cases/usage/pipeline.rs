//! The pipeline: counted in the engines, flushed, shipped, applied exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_directory::{USAGE_BATCHES_PATH, region_token};
use tessera_e2e::stack::RegionalStack;
use tessera_platform::db::testing::backends;
use tessera_platform::ids::ProjectId;
use tessera_platform::usage::{ActiveIdentities, MeterCount, UsageDelta};
use uuid::Uuid;

use super::super::api::expect;
use super::super::identity::{Client, STRONG, login_api, project, register_api, stack};
use super::super::oauth2::{basic, form, m2m_client};
use super::{aggregates, api_requests, check, discovery, drained, regional_ledger, workspace_of};

#[tokio::test]
async fn every_engine_counts_once_and_the_workspace_api_reports_it() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let mut sent = 0u64;
        // Served at home, and forwarded from the other region: counted once, by the home region.
        discovery(&mut c, &p.base, 7).await;
        let via_us = format!("{}/p/{}", stack.region_url("us-east"), p.slug);
        discovery(&mut c, &via_us, 5).await;
        sent += 12;
        for _ in 0..4 {
            assert_eq!(check(&mut c, &p).await, 200);
        }
        sent += 4;
        let (id, secret) = m2m_client(&mut c, &p, json!({})).await;
        sent += 1;
        for _ in 0..3 {
            let auth = basic(&id, &secret);
            let t = form(
                &mut c,
                &format!("{}/oauth2/token", p.base),
                &[("grant_type", "client_credentials")],
                &[("authorization", &auth)],
            )
            .await;
            expect(&t, 200);
        }
        sent += 3;
        // Two people sign up and in, one of them three times: two active identities today.
        for (email, logins) in [("alice@example.com", 2), ("bob@example.com", 0)] {
            let r = register_api(&mut c, &p.base, email, STRONG).await;
            expect(&r, 200);
            sent += 2;
            for _ in 0..logins {
                let l = login_api(&mut c, &p.base, email, STRONG).await;
                expect(&l, 200);
                sent += 2;
            }
        }
        drained(&stack).await;

        let project_id: ProjectId = p.id.parse().unwrap();
        let agg = aggregates(&stack, project_id).await;
        assert_eq!(api_requests(&agg), sent, "every request counted once: {agg:?}");
        assert_eq!(agg.get("permission_checks"), Some(&4), "{agg:?}");
        assert_eq!(agg.get("m2m_tokens"), Some(&3), "{agg:?}");
        assert_eq!(agg.get("daily_active_identities"), Some(&2), "{agg:?}");
        // The control plane applied exactly what the regions wrote to their outboxes.
        let ledger = regional_ledger(&stack).await;
        for (meter, n) in &agg {
            if meter != "daily_active_identities" {
                assert_eq!(ledger.get(&(project_id, meter.clone())), Some(n), "{meter}");
            }
        }

        // The home region reports its metering progress in /status and /metrics.
        let status = c.get_json(&format!("{}/status", stack.region_url("eu-central")), &[]).await;
        let usage = &expect(&status, 200)["usage"];
        assert!(usage["flushed_batches"].as_u64().unwrap() >= 1, "{usage}");
        assert_eq!(usage["flushed_batches"], usage["acknowledged_batches"], "{usage}");
        let metrics =
            reqwest::get(format!("{}/metrics", stack.region_url("eu-central"))).await.unwrap().text().await.unwrap();
        assert!(
            metrics.lines().any(|l| l.contains("usage_progress") && l.contains("acknowledged_batches")),
            "{metrics}"
        );

        // The workspace API shows it, per meter and day, with the trailing-30-day aDAU.
        let ws = workspace_of(&stack, &p).await;
        let report =
            c.admin(Method::GET, &format!("{}/workspaces/{ws}/usage", stack.cp_url), &p.workspace_key, None).await;
        let report = expect(&report, 200);
        let projects = report["projects"].as_array().unwrap();
        assert_eq!(projects.len(), 1, "{report}");
        assert_eq!(projects[0]["slug"], p.slug);
        assert_eq!(projects[0]["adau"], 1, "2 identities on one day over 30 days, rounded up");
        let meter = |name: &str| projects[0]["meters"].as_array().unwrap().iter().find(|m| m["meter"] == name).cloned();
        assert_eq!(meter("permission_checks").unwrap()["total"], 4);
        assert_eq!(meter("m2m_tokens").unwrap()["days"].as_array().unwrap().len(), 1);
        // Another workspace's key sees nothing of it.
        let other = c.admin(Method::GET, &format!("{}/workspaces/{ws}/usage", stack.cp_url), &p.key, None).await;
        assert!(matches!(other.status.as_u16(), 401 | 403 | 404), "{}", other.status);
        let bad = c
            .admin(
                Method::GET,
                &format!("{}/workspaces/{ws}/usage?from=2026-13-01", stack.cp_url),
                &p.workspace_key,
                None,
            )
            .await;
        assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);
        let wide = c
            .admin(
                Method::GET,
                &format!("{}/workspaces/{ws}/usage?from=2020-01-01&to=2026-01-01", stack.cp_url),
                &p.workspace_key,
                None,
            )
            .await;
        assert_eq!(wide.status.as_u16(), 400, "{}", wide.body);
        stack.stop().await;
    }
}

fn batch(project: ProjectId, checks: u64, identities: &[&str]) -> (Uuid, UsageDelta) {
    let day = tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock).date();
    let delta = UsageDelta {
        counts: vec![MeterCount { project_id: project, day, meter: "permission_checks".into(), quantity: checks }],
        identities: vec![ActiveIdentities {
            project_id: project,
            day,
            identities: identities.iter().map(|s| s.to_string()).collect(),
        }],
    };
    (Uuid::now_v7(), delta)
}

async fn upload(stack: &RegionalStack, region: &str, batches: &[&(Uuid, UsageDelta)]) -> (u16, Value) {
    let token = region_token(
        &stack.region_key(region),
        region,
        tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock).unix_timestamp(),
        Duration::from_secs(60),
    );
    let body =
        json!({"batches": batches.iter().map(|(id, usage)| json!({"id": id, "usage": usage})).collect::<Vec<_>>()});
    let resp = reqwest::Client::new()
        .post(format!("{}{USAGE_BATCHES_PATH}", stack.cp_url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn duplicated_reordered_and_replayed_batches_apply_once() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, |_| {}).await;
        let project = ProjectId::new();
        let a = batch(project, 5, &["x", "y"]);
        let b = batch(project, 7, &[]);
        let c = batch(project, 11, &["y", "z"]);

        let (s, ack) = upload(&stack, "eu-central", &[&a, &b]).await;
        assert_eq!(s, 200, "{ack}");
        assert_eq!(ack["applied"].as_array().unwrap().len(), 2);
        let (_, ack) = upload(&stack, "eu-central", &[&a]).await;
        assert_eq!(ack["duplicates"], json!([a.0]), "a retried batch is a duplicate");
        // Another region ships c; then everything again in another order.
        let (_, ack) = upload(&stack, "us-east", &[&c, &b, &a]).await;
        assert_eq!(ack["applied"], json!([c.0]));
        assert_eq!(ack["duplicates"], json!([b.0, a.0]));
        let (_, ack) = upload(&stack, "us-east", &[&c]).await;
        assert_eq!(ack["duplicates"], json!([c.0]));

        let agg = super::aggregates(&stack, project).await;
        assert_eq!(agg.get("permission_checks"), Some(&23), "5 + 7 + 11, each once");
        assert_eq!(
            agg.get("daily_active_identities"),
            Some(&3),
            "x, y, z: y seen in two batches and regions counts once"
        );
        let (batches, _) = stack.control_plane().store().usage_batches_applied().await.unwrap();
        assert_eq!(batches, 3);

        // Refusals change nothing: no token, a foreign signature, too many batches, an invalid batch among good ones.
        let anonymous = reqwest::Client::new()
            .post(format!("{}{USAGE_BATCHES_PATH}", stack.cp_url))
            .json(&json!({"batches": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
        let many: Vec<(Uuid, UsageDelta)> = (0..65).map(|_| batch(project, 1, &[])).collect();
        let (s, _) = upload(&stack, "eu-central", &many.iter().collect::<Vec<_>>()).await;
        assert_eq!(s, 400);
        let good = batch(project, 100, &[]);
        let mut bad = batch(project, 100, &[]);
        bad.1.counts[0].meter = "m".repeat(65);
        let (s, body) = upload(&stack, "eu-central", &[&good, &bad]).await;
        assert_eq!(s, 400, "{body}");
        let garbage = reqwest::Client::new()
            .post(format!("{}{USAGE_BATCHES_PATH}", stack.cp_url))
            .bearer_auth(region_token(
                &stack.region_key("eu-central"),
                "eu-central",
                tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock).unix_timestamp(),
                Duration::from_secs(60),
            ))
            .body("{\"batches\": [{\"id\": 1}]}")
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(garbage.status().as_u16(), 400);
        assert_eq!(
            super::aggregates(&stack, project).await.get("permission_checks"),
            Some(&23),
            "nothing half-applied"
        );
        stack.stop().await;
    }
}

/// A proxy in front of the control plane that applies every usage upload but loses the answer to every other
/// one (the region sees a failure after the control plane committed), and passes everything else through.
struct LossyProxy {
    url: String,
    target: Arc<std::sync::Mutex<String>>,
    lost: Arc<AtomicUsize>,
    server: actix_web::dev::ServerHandle,
}

/// The proxy's target, how many uploads it relayed, and how many answers it lost.
type ProxyState = (Arc<std::sync::Mutex<String>>, Arc<AtomicUsize>, Arc<AtomicUsize>);

async fn relay(req: HttpRequest, body: web::Bytes, state: web::Data<ProxyState>) -> HttpResponse {
    let target = state.0.lock().unwrap().clone();
    if target.is_empty() {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let url = format!("{target}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = reqwest::Client::new().request(method, url).body(body.to_vec());
    for name in ["authorization", "content-type"] {
        if let Some(v) = req.headers().get(name) {
            out = out.header(name, v.to_str().unwrap_or_default());
        }
    }
    let Ok(resp) = out.timeout(Duration::from_secs(30)).send().await else {
        return HttpResponse::BadGateway().finish();
    };
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    if req.path() == USAGE_BATCHES_PATH && state.1.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
        state.2.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::BadGateway().body("the acknowledgement was lost");
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(bytes)
}

impl LossyProxy {
    fn start() -> Self {
        let target = Arc::new(std::sync::Mutex::new(String::new()));
        let lost = Arc::new(AtomicUsize::new(0));
        let data = web::Data::new((target.clone(), Arc::new(AtomicUsize::new(0)), lost.clone()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(relay)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, target, lost, server: handle }
    }
}

#[tokio::test]
async fn lost_acknowledgements_outages_and_crashes_never_double_count() {
    for backend in backends() {
        let proxy = LossyProxy::start();
        let proxy_url = proxy.url.clone();
        let mut stack = RegionalStack::start_custom(
            backend,
            |c| c.data_plane.rate_limit_scale = 1000.0,
            move |_, wc| {
                wc.data_plane.control_plane_url = proxy_url.parse().unwrap();
                wc.data_plane.directory_wait_ms = 1_000;
            },
        )
        .await;
        *proxy.target.lock().unwrap() = stack.cp_url.clone();
        let p = project(&stack, "eu-central").await;
        let project_id: ProjectId = p.id.parse().unwrap();
        let mut c = Client::new();
        let mut counted = 0u64;

        // Rounds of traffic, each flushed into its own batch; every other acknowledgement is lost.
        for round in 1..=6 {
            discovery(&mut c, &p.base, round).await;
            counted += round as u64;
            drained(&stack).await;
        }
        assert!(proxy.lost.load(Ordering::SeqCst) >= 3, "acknowledgements were lost and the batches retried");
        assert_eq!(api_requests(&aggregates(&stack, project_id).await), counted);

        // The control plane goes away: batches wait in the outbox, and all arrive once it is back.
        stack.stop_control_plane().await;
        discovery(&mut c, &p.base, 9).await;
        counted += 9;
        stack.workers["eu-central"].flush_usage().await;
        let pending = super::outbox(&stack, "eu-central").await.totals().await.unwrap();
        assert!(pending.pending_batches >= 1, "{pending:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        stack.start_control_plane().await;
        drained(&stack).await;
        assert_eq!(api_requests(&aggregates(&stack, project_id).await), counted);

        // A worker crash loses what it counted since its last flush, and nothing else; a graceful stop loses nothing.
        discovery(&mut c, &p.base, 4).await;
        stack.workers["eu-central"].flush_usage().await;
        counted += 4;
        discovery(&mut c, &p.base, 3).await; // counted in memory only: lost with the crash
        stack.crash_worker("eu-central").await;
        stack.start_worker("eu-central").await;
        assert!(stack.converged(Duration::from_secs(10)).await);
        discovery(&mut c, &p.base, 2).await;
        counted += 2;
        stack.restart_worker("eu-central").await; // graceful: flushes at shutdown
        drained(&stack).await;
        let agg = aggregates(&stack, project_id).await;
        assert_eq!(api_requests(&agg), counted, "{agg:?}");
        let ledger = regional_ledger(&stack).await;
        let in_outboxes: u64 = ledger
            .iter()
            .filter(|((p, m), _)| *p == project_id && m.starts_with("api_requests."))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(in_outboxes, counted, "the control plane holds exactly what the regions wrote");
        stack.stop().await;
        proxy.server.stop(false).await;
    }
}
