//! Permission checks over HTTP with one million relationships: cold load from the database, and checks/s with
//! p50/p99 through a regional worker, measured with wrk (installed from Debian: `apt-get install wrk`).
//!
//! `cargo bench -p tessera-e2e --bench permissions` (release). The load generator, the worker and the control
//! plane share the machine's two cores.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_e2e::datasets::{DRIVE_OPL, drive_checks, drive_tuples};
use tessera_e2e::stack::RegionalStack;
use tessera_permission::service::{PermissionService, ServiceSettings};
use tessera_permission::store::PermissionStore;
use tessera_permission::tuple::Subject;
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::{Backend, Database};

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let stack = RegionalStack::start_custom(
        Backend::Sqlite,
        |c| c.data_plane.rate_limit_scale = 1e6,
        |_, wc| wc.http.workers = Some(2),
    )
    .await;
    let cp = stack.control_plane().clone();
    let op = Actor::Operator;
    let ws = tessera_e2e::bench::workspace(&stack).await;
    let (p, _) = cp
        .project_create(
            &op,
            CreateProject {
                name: "drive".into(),
                environment: Environment::Prod,
                home_region: Some("eu-central".into()),
                workspace_id: Some(ws),
            },
        )
        .await
        .unwrap();
    let location = format!("base64://{}", base64::engine::general_purpose::STANDARD.encode(DRIVE_OPL));
    let ops =
        json!([{"op": "replace", "path": "/services/permission/config/namespaces", "value": {"location": location}}]);
    cp.project_update(&op, p.project.id, ProjectUpdate::Patch(ops), None).await.unwrap();
    let key = cp.project_key_create(&op, p.project.id, "bench", None).await.unwrap().secret;
    assert!(stack.converged(Duration::from_secs(10)).await);

    // Load the relationships straight into the region's database, 10,000 per transaction.
    let db = Database::connect(&stack.worker_database_url("eu-central"), 2).await.unwrap();
    let store = PermissionStore::new(db.clone());
    let tuples = drive_tuples();
    let started = Instant::now();
    for chunk in tuples.chunks(10_000) {
        let deltas: Vec<(bool, _)> = chunk.iter().map(|t| (true, t.clone())).collect();
        store.write(p.project.id, &deltas, SystemClock.now()).await.unwrap();
    }
    println!(
        "permissions benchmark: {} relationships written in {:.1} s (setup, not a figure)",
        tuples.len(),
        started.elapsed().as_secs_f64()
    );
    drop(tuples);

    // Cold start: a fresh engine loads the project's index from the database.
    let registry = prometheus::Registry::new();
    let before = rss_bytes();
    let cold = Arc::new(PermissionService::new(db.clone(), &registry, ServiceSettings::default()).await.unwrap());
    let started = Instant::now();
    let index = cold.index(p.project.id).await.unwrap();
    let load = started.elapsed();
    let used = rss_bytes().saturating_sub(before);
    let count = index.read().unwrap().len();
    println!(
        "cold load of {count} relationships from SQLite: {:.2} s; {:.0} MB resident ({:.0} bytes per relationship)",
        load.as_secs_f64(),
        used as f64 / 1e6,
        used as f64 / count as f64
    );
    drop(index);
    drop(cold);

    // HTTP: warm the worker's index with one request, then wrk through 10,000 distinct checks.
    let base = format!("{}/p/{}", stack.region_url("eu-central"), p.project.slug);
    let paths: Vec<String> = drive_checks(10_000)
        .into_iter()
        .map(|q| {
            let Subject::Id(user) = q.subject else { unreachable!() };
            format!(
                "/p/{}/relation-tuples/check/openapi?namespace=Doc&object={}&relation=view&subject_id={}",
                p.project.slug,
                urlencode(&q.object),
                urlencode(&user)
            )
        })
        .collect();
    let warm = reqwest::Client::new()
        .get(format!("{}{}", stack.region_url("eu-central"), paths[0]))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200, "the warm-up check succeeds");
    let dir = std::env::temp_dir().join(format!("tessera-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("checks.lua");
    let lua_paths: String = paths.iter().map(|p| format!("  \"{p}\",\n")).collect();
    std::fs::write(
        &script,
        format!(
            "local paths = {{\n{lua_paths}}}\nlocal i = 0\nwrk.headers[\"Authorization\"] = \"Bearer {key}\"\n\
             request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n"
        ),
    )
    .unwrap();
    for connections in [16, 64] {
        let out = Command::new("wrk")
            .args(["-t", "1", "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--latency", "-s"])
            .arg(&script)
            .arg(&base)
            .output()
            .expect("wrk is installed (apt-get install wrk)");
        let text = String::from_utf8_lossy(&out.stdout);
        let pick = |prefix: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(prefix))
                .map(|l| l.split_whitespace().last().unwrap_or("").to_owned())
                .unwrap_or_default()
        };
        let rps = text
            .lines()
            .find(|l| l.starts_with("Requests/sec"))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or("?");
        let non2xx = text.lines().find(|l| l.contains("Non-2xx")).unwrap_or("").trim().to_owned();
        println!(
            "HTTP checks through the worker, {connections} connections, {seconds} s: {rps} checks/s, p50 {}, p99 {} {non2xx}",
            pick("50%"),
            pick("99%")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}
