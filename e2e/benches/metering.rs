//! What usage metering costs on the hot path, and how fast the control plane applies usage.
//!
//! `cargo bench -p tessera-e2e --bench metering` (release; needs `wrk`, `apt-get install wrk`). Prints:
//! - permission checks/s over HTTP through a worker with metering on and off, alternating rounds so drift on
//!   the shared 2-core machine hits both alike, and the difference of the medians (goal: under 5 %);
//! - the recorder's cost per counted event in process;
//! - the pipeline: usage batches, rows and events per second applied by the control plane.
//!
//! Knobs: `BENCH_SECONDS` (per wrk run, default 8), `BENCH_ROUNDS` (default 3), `BENCH_BATCHES` (default 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;
use tessera_control_plane::auth::Actor;
use tessera_directory::{UsageBatch, UsageUpload};
use tessera_e2e::bench::{Wrk, env_or, load_average, project};
use tessera_e2e::datasets::DRIVE_OPL;
use tessera_e2e::stack::RegionalStack;
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::Backend;
use tessera_platform::ids::ProjectId;
use tessera_platform::usage::{ActiveIdentities, MeterCount, UsageDelta, UsageRecorder, meter};
use uuid::Uuid;

/// Checks/s through one worker with metering `on` or off.
async fn checks_per_second(metering: bool, seconds: u64) -> (f64, String) {
    let stack = RegionalStack::start_custom(
        Backend::Sqlite,
        |c| c.data_plane.rate_limit_scale = 1e6,
        move |_, wc| {
            wc.http.workers = Some(2);
            wc.data_plane.metering = metering;
        },
    )
    .await;
    let cp = stack.control_plane().clone();
    let ws = tessera_e2e::bench::workspace(&stack).await;
    let location = format!("base64://{}", base64::engine::general_purpose::STANDARD.encode(DRIVE_OPL));
    let patch =
        json!([{"op": "replace", "path": "/services/permission/config/namespaces", "value": {"location": location}}]);
    let (slug, id) = project(&stack, ws, "metered", Some(patch)).await;
    let key = cp.project_key_create(&Actor::Operator, id, "bench", None).await.unwrap().secret;
    assert!(stack.converged(Duration::from_secs(10)).await);
    let base = format!("{}/p/{slug}", stack.region_url("eu-central"));
    let tuple = json!({"namespace": "Group", "object": "staff", "relation": "members", "subject_id": "alice"});
    let put = reqwest::Client::new().put(format!("{base}/admin/relation-tuples")).bearer_auth(&key).json(&tuple);
    assert_eq!(put.send().await.unwrap().status().as_u16(), 201);

    let dir = std::env::temp_dir().join(format!("tessera-metering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("check.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {key}\"\nrequest = function()\n  return wrk.format(\"GET\", \
             \"/p/{slug}/relation-tuples/check/openapi?namespace=Group&object=staff&relation=members&subject_id=alice\")\nend\n"
        ),
    )
    .unwrap();
    let wrk = Wrk::run(&script, &stack.region_url("eu-central"), 16, seconds);
    let rps: f64 = wrk.rps.parse().unwrap_or(0.0);
    let detail = format!("p50 {} p99 {}{}", wrk.p50, wrk.p99, wrk.errors());
    stack.stop().await;
    (rps, detail)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Nanoseconds per counted event, two threads counting into one recorder.
fn recorder_cost() -> f64 {
    let recorder = UsageRecorder::new(Arc::new(SystemClock), true);
    let projects: Vec<ProjectId> = (0..100).map(|_| ProjectId::new()).collect();
    let per_thread = 2_000_000;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2 {
            let (r, ps) = (&recorder, &projects);
            s.spawn(move || {
                for i in 0..per_thread {
                    r.count(ps[(i + t) % ps.len()], meter::PERMISSION_CHECKS, 1);
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let drained = recorder.drain();
    assert_eq!(drained.events(), 2 * per_thread as u64, "every event counted");
    elapsed.as_nanos() as f64 / (2 * per_thread) as f64
}

/// A batch the size one busy worker flushes in a second: 50 projects, 4 meters each, 20 identities.
fn busy_batch(projects: &[ProjectId], n: usize) -> UsageBatch {
    let day = SystemClock.now().date();
    let mut counts = Vec::new();
    let mut identities = Vec::new();
    for (i, p) in projects.iter().enumerate() {
        for (j, m) in
            ["permission_checks", "m2m_tokens", "api_requests.identity", "api_requests.permission"].iter().enumerate()
        {
            counts.push(MeterCount {
                project_id: *p,
                day,
                meter: (*m).into(),
                quantity: 100 + (i * 7 + j * 13 + n) as u64 % 900,
            });
        }
        if i < 20 {
            identities.push(ActiveIdentities { project_id: *p, day, identities: vec![format!("identity-{n}-{i}")] });
        }
    }
    UsageBatch { id: Uuid::now_v7(), usage: UsageDelta { counts, identities } }
}

#[tokio::main]
async fn main() {
    let seconds: u64 = env_or("BENCH_SECONDS", 8);
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    let batches: usize = env_or("BENCH_BATCHES", 2000);
    println!("metering cost on the hot path: permission checks over HTTP, wrk 16 connections, {seconds}s per run");
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        for metering in [true, false] {
            let (rps, detail) = checks_per_second(metering, seconds).await;
            println!(
                "  round {round} metering {:<3} {rps:>10.0} checks/s  {detail}",
                if metering { "on" } else { "off" }
            );
            if metering { on.push(rps) } else { off.push(rps) }
        }
    }
    let (m_on, m_off) = (median(on), median(off));
    println!(
        "  median: on {m_on:.0}/s, off {m_off:.0}/s, metering costs {:.1} % ({})",
        (m_off - m_on) / m_off * 100.0,
        load_average()
    );
    println!("recorder, in process: {:.0} ns per counted event (2 threads)", recorder_cost());

    let stack = RegionalStack::start(Backend::Sqlite, |_| {}).await;
    let cp = stack.control_plane().clone();
    let projects: Vec<ProjectId> = (0..50).map(|_| ProjectId::new()).collect();
    let all: Vec<UsageBatch> = (0..batches).map(|n| busy_batch(&projects, n)).collect();
    let events: u64 = all.iter().map(|b| b.usage.events()).sum();
    let rows: usize = all.iter().map(|b| b.usage.counts.len() + b.usage.identities.len()).sum();
    let start = Instant::now();
    for chunk in all.chunks(64) {
        cp.usage_ingest("eu-central", UsageUpload { batches: chunk.to_vec() }).await.unwrap();
    }
    let took = start.elapsed().as_secs_f64();
    println!(
        "pipeline (control plane on SQLite, uploads of 64 batches): {batches} batches in {took:.2}s: {:.0} batches/s, {:.0} rows/s, {:.0} events/s",
        batches as f64 / took,
        rows as f64 / took,
        events as f64 / took
    );
    let replay = Instant::now();
    for chunk in all.chunks(64) {
        let ack = cp.usage_ingest("eu-central", UsageUpload { batches: chunk.to_vec() }).await.unwrap();
        assert!(ack.applied.is_empty(), "replays are duplicates");
    }
    println!(
        "  replaying all of them (all duplicates): {:.0} batches/s",
        batches as f64 / replay.elapsed().as_secs_f64()
    );
    stack.stop().await;
}
