//! Data-plane benchmark: directory propagation latency, full sync time, and forwarding overhead.
//!
//! `cargo bench -p tessera-e2e --bench data_plane` (a release build). Prints its figures; asserts nothing.
//! Everything runs in one process on loopback with SQLite, one HTTP worker thread per server, so the numbers
//! are for this machine's two cores shared by the control plane, two regions and the load generator.

use std::time::{Duration, Instant};

use serde_json::json;
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_directory::{ProjectRecord, ReplicatedKey};
use tessera_e2e::stack::{REGIONS, RegionalStack};
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::Backend;
use tessera_platform::ids::{ApiKeyId, ProjectId, RevisionId, WorkspaceId};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; accept and ignore arguments.
    let changes: usize = std::env::var("BENCH_CHANGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let projects: usize = std::env::var("BENCH_PROJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    println!("tessera data-plane benchmark (SQLite, loopback, one process)\n");
    propagation(changes).await;
    full_sync(projects).await;
    forwarding(requests).await;
    noisy_neighbour(requests).await;
}

/// Latency of one project's requests while another project of the same region floods it.
async fn noisy_neighbour(requests: usize) {
    let (stack, projects) = stack_with_projects(|_| {}, &["quiet", "noisy"]).await;
    let slugs: Vec<String> = projects.into_iter().map(|(_, slug)| slug).collect();
    let base = stack.region_url("eu-central");
    let quiet = format!("{base}/p/{}/health/alive", slugs[0]);
    let noisy = format!("{base}/p/{}/health/alive", slugs[1]);
    let client = reqwest::Client::builder().tcp_nodelay(true).build().unwrap();
    let measure = |client: reqwest::Client, url: String| async move {
        let mut lat = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = Instant::now();
            let resp = client.get(&url).send().await.unwrap();
            let ok = resp.status() == 200;
            resp.bytes().await.unwrap();
            if ok {
                lat.push(t.elapsed());
            }
            // Stay inside the quiet project's own budget (a production project: 20 requests/s sustained here).
            tokio::time::sleep(Duration::from_millis(50)).await;
            if lat.len() >= 200 {
                break;
            }
        }
        lat.sort();
        lat
    };
    let alone = measure(client.clone(), quiet.clone()).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flooders = Vec::new();
    for _ in 0..16 {
        let (client, url, stop) = (client.clone(), noisy.clone(), stop.clone());
        flooders.push(tokio::spawn(async move {
            let (mut sent, mut refused) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let resp = client.get(&url).send().await.unwrap();
                refused += u64::from(resp.status() == 429);
                resp.bytes().await.unwrap();
                sent += 1;
            }
            (sent, refused)
        }));
    }
    let flooded = measure(client.clone(), quiet).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut sent, mut refused) = (0, 0);
    for f in flooders {
        let (s, r) = f.await.unwrap();
        sent += s;
        refused += r;
    }
    println!("\nnoisy neighbour (two projects in eu-central; 16 connections flood one):");
    println!(
        "  quiet project alone:        p50 {}   p99 {}",
        micros(percentile(&alone, 0.5)),
        micros(percentile(&alone, 0.99))
    );
    println!(
        "  quiet project during flood: p50 {}   p99 {}",
        micros(percentile(&flooded, 0.5)),
        micros(percentile(&flooded, 0.99))
    );
    println!(
        "  flood: {sent} requests, {refused} refused with 429 ({:.1} %)",
        100.0 * refused as f64 / sent.max(1) as f64
    );
    stack.stop().await;
}

/// A regional stack with projects homed in eu-central, converged; returns the stack and the projects' ids and slugs.
async fn stack_with_projects(
    adjust: impl Fn(&mut tessera_platform::config::Config),
    names: &[&str],
) -> (RegionalStack, Vec<(ProjectId, String)>) {
    let stack = RegionalStack::start(Backend::Sqlite, adjust).await;
    let cp = stack.control_plane().clone();
    let op = Actor::Operator;
    let ws = tessera_e2e::bench::workspace(&stack).await;
    let mut projects = Vec::new();
    for name in names {
        let (p, _) = cp
            .project_create(
                &op,
                CreateProject {
                    name: (*name).into(),
                    environment: Environment::Prod,
                    home_region: Some("eu-central".into()),
                    workspace_id: Some(ws),
                },
            )
            .await
            .unwrap();
        projects.push((p.project.id, p.project.slug));
    }
    assert!(stack.converged(Duration::from_secs(10)).await);
    (stack, projects)
}

/// Commit-to-applied latency in both regions over `changes` configuration changes.
async fn propagation(changes: usize) {
    let (stack, projects) = stack_with_projects(|c| c.data_plane.directory_wait_ms = 20_000, &["bench"]).await;
    let cp = stack.control_plane().clone();
    let op = Actor::Operator;
    let mut latencies = Vec::with_capacity(changes);
    for i in 0..changes {
        let ops = json!([{"op": "replace", "path": "/services/identity/config/session/lifespan", "value": format!("{}h", 1 + i % 48)}]);
        cp.project_update(&op, projects[0].0, ProjectUpdate::Patch(ops), None).await.unwrap();
        let committed = Instant::now();
        let head = cp.store().directory_head().await.unwrap();
        loop {
            if REGIONS.iter().all(|r| stack.workers[*r].directory.seq() >= head) {
                break;
            }
            tokio::task::yield_now().await;
        }
        latencies.push(committed.elapsed());
    }
    latencies.sort();
    println!("propagation, commit to applied in both regions, {changes} changes:");
    println!(
        "  p50 {}   p99 {}   max {}",
        millis(percentile(&latencies, 0.5)),
        millis(percentile(&latencies, 0.99)),
        millis(*latencies.last().unwrap())
    );
    stack.stop().await;
}

/// Time for a fresh region to load a directory of `projects` projects.
async fn full_sync(projects: usize) {
    let mut stack = RegionalStack::start(Backend::Sqlite, |_| {}).await;
    let cp = stack.control_plane().clone();
    let started = Instant::now();
    let now = SystemClock.now();
    let workspace = WorkspaceId::new();
    let mut tx = cp.store().begin().await.unwrap();
    for i in 0..projects {
        let slug = format!("project-{i:06}");
        let record = ProjectRecord {
            project_id: ProjectId::new(),
            workspace_id: workspace,
            slug: slug.clone(),
            state: "running".into(),
            environment: "prod".into(),
            home_region: REGIONS[i % 2].into(),
            plan: "production".into(),
            revision_id: Some(RevisionId::new()),
            project_url: format!("https://{slug}.projects.localhost"),
            hosts: vec![format!("{slug}.projects.localhost")],
            api_keys: vec![ReplicatedKey { id: ApiKeyId::new(), hash: format!("{:064x}", i), expires_at: None }],
            config: if i % 10 == 0 { json!({"identity": {"session": {"lifespan": "2h"}}}) } else { json!({}) },
            quota_exceeded: Vec::new(),
            plan_tier: None,
        };
        let text = serde_json::to_string(&record).unwrap();
        cp.store().directory_append_in_tx(&mut tx, record.project_id, &text, now).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (head, records) = cp.directory_snapshot().await.unwrap();
    let bytes: usize = records.iter().map(|r| r.len()).sum();
    println!(
        "\nfull sync of a fresh region ({projects} projects, snapshot {:.1} MB; seeding took {:.1} s):",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    drop(records);

    // Let the running regions catch up, then restart one with an empty database.
    assert!(stack.converged(Duration::from_secs(120)).await);
    let region = "us-east";
    stack.replace_worker_database(region).await;
    let started = Instant::now();
    stack.restart_worker(region).await;
    loop {
        if stack.workers[region].directory.seq() >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    println!("  boot to serving all {projects} projects: {:.2} s", elapsed.as_secs_f64());
    let restarted = Instant::now();
    stack.restart_worker(region).await;
    println!(
        "  restart from the persisted copy (control plane reachable or not): {:.2} s",
        restarted.elapsed().as_secs_f64()
    );
    stack.stop().await;
}

/// Latency and throughput of requests served directly by the home region versus forwarded by another.
async fn forwarding(requests: usize) {
    let (stack, projects) = stack_with_projects(|c| c.data_plane.rate_limit_scale = 1e6, &["fwd"]).await;
    let slug = projects[0].1.clone();
    let client = reqwest::Client::builder().tcp_nodelay(true).build().unwrap();
    println!("\nforwarding (GET /p/<slug>/health/alive, project homed in eu-central):");
    let mut p50s = Vec::new();
    for (label, region) in [("direct to eu-central ", "eu-central"), ("via us-east (forward)", "us-east")] {
        let url = format!("{}/p/{slug}/health/alive", stack.region_url(region));
        for _ in 0..200 {
            client.get(&url).send().await.unwrap().bytes().await.unwrap();
        }
        let mut lat = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = Instant::now();
            let resp = client.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.bytes().await.unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        let p50 = percentile(&lat, 0.5);
        p50s.push((p50, percentile(&lat, 0.99)));
        // Throughput with 32 requests in flight for three seconds.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let client = client.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let resp = client.get(&url).send().await.unwrap();
                    resp.bytes().await.unwrap();
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        println!(
            "  {label}: p50 {}   p99 {}   {:.0} requests/s at 32 in flight",
            micros(p50),
            micros(percentile(&lat, 0.99)),
            total as f64 / 3.0
        );
    }
    println!(
        "  added by forwarding: p50 {}   p99 {}",
        micros(p50s[1].0.saturating_sub(p50s[0].0)),
        micros(p50s[1].1.saturating_sub(p50s[0].1))
    );
    stack.stop().await;
}
