//! Identity engine over HTTP through a regional worker: whoami throughput with a warm cache (wrk rotating 1,000
//! session tokens), and native password logins per second with argon2id while a whoami load runs, next to the raw
//! argon2id ceiling of this machine. wrk is installed from Debian (`apt-get install wrk`).
//!
//! `cargo bench -p tessera-e2e --bench identity` (release). Prints its figures; asserts nothing. The load
//! generators, the worker, the control plane and their SQLite databases share the machine's cores.
//!
//! Knobs: `BENCH_SECONDS` (wrk whoami runs, default 15), `BENCH_SESSIONS` (default 1000), `BENCH_LOGIN_SECONDS`
//! (default 20), `BENCH_LOGIN_CONCURRENCY` (logins in flight, default 8), `BENCH_WHOAMI_RATE` (background whoami
//! requests/s during the logins, default 1000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_e2e::bench::{self, Wrk, env_or, load_average};
use tessera_e2e::stack::RegionalStack;
use tessera_password::{HashParams, PasswordHasher};
use tessera_platform::db::Backend;

const PASSWORD: &str = "correct-horse-battery-staple-42";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; arguments are ignored.
    let seconds: u64 = env_or("BENCH_SECONDS", 15);
    let sessions: usize = env_or("BENCH_SESSIONS", 1000);
    let login_seconds: u64 = env_or("BENCH_LOGIN_SECONDS", 20);
    let login_concurrency: usize = env_or("BENCH_LOGIN_CONCURRENCY", 8);
    let whoami_rate: u64 = env_or("BENCH_WHOAMI_RATE", 1000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "tessera identity benchmark (SQLite, loopback, {cores} cores shared by the stack and the load generators; \
         {} before starting)\n",
        load_average()
    );

    let stack = RegionalStack::start_custom(
        Backend::Sqlite,
        |c| c.data_plane.rate_limit_scale = 1e6,
        |_, wc| wc.http.workers = Some(cores),
    )
    .await;
    let ws = tessera_e2e::bench::workspace(&stack).await;
    // Sessions for the whoami runs come from a project hashing with tiny argon2 costs, so that creating 1,000 of
    // them takes seconds; whoami never hashes. Logins are measured on a project with the default costs.
    let cheap = json!({"memory": "64KB", "iterations": 1, "parallelism": 1, "salt_length": 16, "key_length": 32});
    let fast = bench::project(
        &stack,
        ws,
        "whoami",
        Some(json!([{"op": "replace", "path": "/services/identity/config/hashers/argon2", "value": cheap}])),
    )
    .await
    .0;
    let logins = bench::project(&stack, ws, "logins", None).await.0;
    assert!(stack.converged(Duration::from_secs(10)).await);
    let client = reqwest::Client::builder().tcp_nodelay(true).build().unwrap();
    let region = stack.region_url("eu-central");
    let dir = std::env::temp_dir().join(format!("tessera-identity-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // 1. whoami with a warm cache.
    let started = Instant::now();
    let tokens = register_many(&client, &format!("{region}/p/{fast}"), "whoami", sessions, 8).await;
    println!(
        "setup: {} sessions registered in {:.1} s (argon2id m=64 KiB t=1 on this project; not a figure)",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    let whoami_path = format!("/p/{fast}/sessions/whoami");
    for token in &tokens {
        let resp = client.get(format!("{region}{whoami_path}")).header("x-session-token", token).send().await.unwrap();
        assert_eq!(resp.status(), 200, "every session answers whoami");
    }
    let script = dir.join("whoami.lua");
    std::fs::write(&script, whoami_script(&whoami_path, &tokens, None)).unwrap();
    for connections in [8, 16, 64] {
        let out = Wrk::run(&script, &region, connections, seconds);
        println!(
            "whoami, warm cache, {} sessions rotated, {connections} connections, {seconds} s: {} requests/s, p50 {}, \
             p99 {}{}",
            tokens.len(),
            out.rps,
            out.p50,
            out.p99,
            out.errors()
        );
    }

    // 2. logins with argon2id while whoami runs.
    println!();
    let params = HashParams::default();
    let HashParams::Argon2id { memory_kib, iterations, parallelism, .. } = params else { unreachable!() };
    let pool = PasswordHasher::default().max_concurrent();
    let login_base = format!("{region}/p/{logins}");
    let users: Vec<String> = (0..16).map(|i| format!("login-{i}@bench.example")).collect();
    let started = Instant::now();
    for chunk in users.chunks(pool.max(1)) {
        let regs = chunk.iter().map(|email| register(&client, &login_base, email));
        for token in futures_util::future::join_all(regs).await {
            token.expect("registration succeeds");
        }
    }
    println!(
        "setup: {} identities registered with the default argon2id costs in {:.1} s (not a figure)",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    let users = Arc::new(users);
    // The ceiling is measured right before and after the logins (other work on the machine moves it); logins are
    // compared with the higher of the two.
    let before = argon2_ceiling(&params).await;
    println!(
        "argon2id m={memory_kib} KiB t={iterations} p={parallelism}, raw ceiling in-process before the logins: \
         {before:.1} hashes/s on {pool} threads ({})",
        load_average()
    );

    let half = (login_seconds / 2).max(1);
    let alone = run_logins(&client, &login_base, &users, login_concurrency, half).await;
    println!(
        "logins alone, {login_concurrency} in flight, {half} s: {:.1} logins/s, p50 {}, p99 {}{}",
        alone.rate,
        millis(alone.p50),
        millis(alone.p99),
        alone.errors()
    );

    // A fixed-rate whoami load: each of `bg_connections` waits `delay` ms after every answer.
    let bg_connections = 10u64;
    let delay = (bg_connections * 1000 / whoami_rate.max(1)).max(1);
    let paced = dir.join("whoami-paced.lua");
    std::fs::write(&paced, whoami_script(&whoami_path, &tokens, Some(delay))).unwrap();
    let quiet = Wrk::run(&paced, &region, bg_connections as usize, half);
    println!(
        "whoami alone at ~{whoami_rate}/s ({bg_connections} connections, {delay} ms pause each), {half} s: {} \
         requests/s, p50 {}, p99 {}{}",
        quiet.rps,
        quiet.p50,
        quiet.p99,
        quiet.errors()
    );
    let background = Wrk::spawn(&paced, &region, bg_connections as usize, login_seconds);
    let busy = run_logins(&client, &login_base, &users, login_concurrency, login_seconds).await;
    let during = background.finish();
    println!(
        "logins with whoami at ~{whoami_rate}/s, {login_concurrency} in flight, {login_seconds} s: {:.1} logins/s, \
         p50 {}, p99 {}{}",
        busy.rate,
        millis(busy.p50),
        millis(busy.p99),
        busy.errors()
    );
    println!(
        "whoami during those logins, {bg_connections} connections, {delay} ms pause each, {login_seconds} s: {} \
         requests/s, p50 {}, p99 {}{}",
        during.rps,
        during.p50,
        during.p99,
        during.errors()
    );

    let after = argon2_ceiling(&params).await;
    println!(
        "argon2id m={memory_kib} KiB t={iterations} p={parallelism}, raw ceiling in-process after the logins: \
         {after:.1} hashes/s on {pool} threads ({})",
        load_average()
    );
    let ceiling = before.max(after);
    for (label, run) in [("alone", &alone), ("with whoami", &busy)] {
        println!(
            "logins {label}: {:.1} logins/s = {:.0} % of the best raw ceiling ({ceiling:.1} hashes/s)",
            run.rate,
            100.0 * run.rate / ceiling
        );
    }

    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}

/// A native registration (api flow); the session token, or the failing status and body.
async fn register(client: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let flow: Value = client
        .get(format!("{base}/self-service/registration/api"))
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let action = flow["ui"]["action"].as_str().ok_or_else(|| format!("no action in {flow}"))?;
    let body = json!({"method": "password", "password": PASSWORD, "traits": {"email": email}});
    let resp = client.post(action).json(&body).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer: Value = resp.json().await.map_err(|e| e.to_string())?;
    match answer["session_token"].as_str() {
        Some(token) if status == 200 => Ok(token.to_owned()),
        _ => Err(format!("{status}: {answer}")),
    }
}

/// Registers `count` identities, `in_flight` at a time; their session tokens.
async fn register_many(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    count: usize,
    in_flight: usize,
) -> Vec<String> {
    let mut tokens = Vec::with_capacity(count);
    let mut tasks: tokio::task::JoinSet<Result<String, String>> = tokio::task::JoinSet::new();
    for i in 0..count {
        if tasks.len() >= in_flight
            && let Some(done) = tasks.join_next().await
        {
            tokens.push(done.unwrap().expect("registration succeeds"));
        }
        let (client, base, email) = (client.clone(), base.to_owned(), format!("{prefix}-{i}@bench.example"));
        tasks.spawn(async move { register(&client, &base, &email).await });
    }
    while let Some(done) = tasks.join_next().await {
        tokens.push(done.unwrap().expect("registration succeeds"));
    }
    tokens
}

/// What a timed run of logins gave.
struct Logins {
    rate: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
}

impl Logins {
    fn errors(&self) -> String {
        if self.failed == 0 { String::new() } else { format!(" ({} failed)", self.failed) }
    }
}

/// `concurrency` loops of native logins (flow init + password submission) for `seconds`.
async fn run_logins(
    client: &reqwest::Client,
    base: &str,
    users: &Arc<Vec<String>>,
    concurrency: usize,
    seconds: u64,
) -> Logins {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (client, base, users) = (client.clone(), base.to_owned(), users.clone());
        tasks.spawn(async move {
            let (mut latencies, mut failed, mut n) = (Vec::new(), 0usize, worker);
            while Instant::now() < deadline {
                let t = Instant::now();
                match login(&client, &base, &users[n % users.len()]).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("login failed: {e}");
                        }
                        failed += 1;
                    }
                }
                n += concurrency;
            }
            (latencies, failed)
        });
    }
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (l, f) = done.unwrap();
        latencies.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Logins {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        failed,
    }
}

/// One native login; an error names the failing status.
async fn login(client: &reqwest::Client, base: &str, email: &str) -> Result<(), String> {
    let flow: Value = client
        .get(format!("{base}/self-service/login/api"))
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let action = flow["ui"]["action"].as_str().ok_or_else(|| format!("no action in {flow}"))?;
    let body = json!({"method": "password", "identifier": email, "password": PASSWORD});
    let resp = client.post(action).json(&body).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer: Value = resp.json().await.map_err(|e| e.to_string())?;
    if status == 200 && answer["session_token"].is_string() { Ok(()) } else { Err(format!("{status}: {answer}")) }
}

/// Hashes/s of `PasswordHasher` using every core with `params`: what a node's logins cannot exceed.
async fn argon2_ceiling(params: &HashParams) -> f64 {
    let hasher = PasswordHasher::default();
    let threads = hasher.max_concurrent();
    for _ in 0..threads {
        hasher.hash(params, "warm-up password").await.expect("hash");
    }
    let total = 16 * threads;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let (hasher, params) = (hasher.clone(), params.clone());
        tasks.spawn(async move { hasher.hash(&params, &format!("password number {i}")).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().expect("hash");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// A wrk script asking whoami with the tokens in turn, pausing `delay` ms after each answer when given.
fn whoami_script(path: &str, tokens: &[String], delay: Option<u64>) -> String {
    let list: String = tokens.iter().map(|t| format!("  \"{t}\",\n")).collect();
    let pause = delay.map(|ms| format!("delay = function()\n  return {ms}\nend\n")).unwrap_or_default();
    format!(
        "local tokens = {{\n{list}}}\nlocal i = 0\n\
         request = function()\n  i = i + 1\n  \
         return wrk.format(\"GET\", \"{path}\", {{[\"X-Session-Token\"] = tokens[(i % #tokens) + 1]}})\nend\n{pause}"
    )
}
