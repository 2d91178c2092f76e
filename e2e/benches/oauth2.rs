//! OAuth2 engine over HTTP through a regional worker (release build, SQLite, loopback; the load generator
//! shares the machine's cores): client-credentials tokens/s with opaque and with ES256 JWT access tokens, and
//! introspection of hot opaque tokens. Prints Hydra's published figures (2 CPUs) next to ours. Asserts nothing.
//!
//! `cargo bench -p tessera-e2e --bench oauth2`. Knobs: `BENCH_SECONDS` (each wrk run, default 15),
//! `BENCH_TOKENS` (distinct tokens introspected, default 1000), `BENCH_CONNECTIONS` (default 16).

use std::time::Duration;

use serde_json::{Value, json};
use tessera_control_plane::auth::Actor;
use tessera_e2e::bench::{self, Wrk, env_or, load_average};
use tessera_e2e::stack::RegionalStack;
use tessera_platform::db::Backend;
use tessera_platform::ids::ProjectId;

const HYDRA_TOKENS_PER_SECOND: u32 = 513;
const HYDRA_INTROSPECTIONS_PER_SECOND: u32 = 5109;

#[tokio::main]
async fn main() {
    let seconds: u64 = env_or("BENCH_SECONDS", 15);
    let tokens: usize = env_or("BENCH_TOKENS", 1000);
    let connections: usize = env_or("BENCH_CONNECTIONS", 16);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "tessera OAuth2 benchmark (SQLite, loopback, {cores} cores shared by the stack and wrk; {} before starting)\n",
        load_average()
    );
    let stack = RegionalStack::start_custom(
        Backend::Sqlite,
        |c| c.data_plane.rate_limit_scale = 1e6,
        |_, wc| wc.http.workers = Some(cores),
    )
    .await;
    let cp = stack.control_plane().clone();
    let ws = tessera_e2e::bench::workspace(&stack).await;
    let (opaque, opaque_id) = bench::project(&stack, ws, "opaque", None).await;
    let jwt_ops =
        json!([{"op": "replace", "path": "/services/oauth2/config/strategies", "value": {"access_token": "jwt"}}]);
    let (jwt, jwt_id) = bench::project(&stack, ws, "jwt", Some(jwt_ops)).await;
    let keys = [project_key(&cp, opaque_id).await, project_key(&cp, jwt_id).await];
    assert!(stack.converged(Duration::from_secs(10)).await);
    let region = stack.region_url("eu-central");
    let http = reqwest::Client::new();
    let dir = std::env::temp_dir().join(format!("tessera-oauth2-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let opaque_key = keys[0].clone();
    for (label, slug, key) in [("opaque", &opaque, &keys[0]), ("ES256 JWT", &jwt, &keys[1])] {
        let (id, secret) = m2m_client(&http, &format!("{region}/p/{slug}"), key).await;
        let path = format!("/p/{slug}/oauth2/token");
        // One request first: it also creates the project's signing key for JWTs.
        let first = token(&http, &format!("{region}{path}"), &id, &secret).await;
        assert!(first.starts_with(if label == "opaque" { "ory_at_" } else { "ey" }), "{label}: {first}");
        let script = dir.join(format!("token-{}.lua", slug));
        std::fs::write(&script, token_script(&path, &id, &secret)).unwrap();
        let out = Wrk::run(&script, &region, connections, seconds);
        println!(
            "client credentials, {label} access tokens, {connections} connections, {seconds} s: {} tokens/s, p50 {}, \
             p99 {}{}  (Hydra publishes {HYDRA_TOKENS_PER_SECOND}/s on 2 CPUs)",
            out.rps,
            out.p50,
            out.p99,
            out.errors()
        );
    }

    // Introspection of hot opaque tokens, rotating through `tokens` of them.
    let base = format!("{region}/p/{opaque}");
    let (id, secret) = m2m_client(&http, &base, &opaque_key).await;
    let mut issued = Vec::with_capacity(tokens);
    for _ in 0..tokens {
        issued.push(token(&http, &format!("{base}/oauth2/token"), &id, &secret).await);
    }
    let script = dir.join("introspect.lua");
    std::fs::write(&script, introspect_script(&format!("/p/{opaque}/admin/oauth2/introspect"), &opaque_key, &issued))
        .unwrap();
    let out = Wrk::run(&script, &region, connections, seconds);
    println!(
        "introspection, {} hot opaque tokens rotated, {connections} connections, {seconds} s: {} requests/s, p50 {}, \
         p99 {}{}  (Hydra publishes {HYDRA_INTROSPECTIONS_PER_SECOND}/s on 2 CPUs)",
        issued.len(),
        out.rps,
        out.p50,
        out.p99,
        out.errors()
    );
    println!("\n({} after the runs)", load_average());
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}

/// A new API key of `project`.
async fn project_key(cp: &tessera_control_plane::app::ControlPlane, project: ProjectId) -> String {
    cp.project_key_create(&Actor::Operator, project, "bench", None).await.expect("a project key").secret
}

/// A confidential client allowed the client credentials grant: `(id, secret)`.
async fn m2m_client(http: &reqwest::Client, base: &str, key: &str) -> (String, String) {
    let body = json!({"grant_types": ["client_credentials"], "scope": "read"});
    let created: Value = http
        .post(format!("{base}/admin/clients"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = |k: &str| created[k].as_str().unwrap_or_else(|| panic!("no {k} in {created}")).to_owned();
    (text("client_id"), text("client_secret"))
}

async fn token(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> String {
    let answer: Value = http
        .post(url)
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=read")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap_or_else(|| panic!("no token: {answer}")).to_owned()
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// A wrk script posting the client credentials grant.
fn token_script(path: &str, id: &str, secret: &str) -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.path = \"{path}\"\nwrk.body = \"grant_type=client_credentials&scope=read\"\n\
         wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
         wrk.headers[\"Authorization\"] = \"Basic {}\"\n",
        basic(id, secret)
    )
}

/// A wrk script introspecting the tokens in turn with the project key.
fn introspect_script(path: &str, key: &str, tokens: &[String]) -> String {
    let list: String = tokens.iter().map(|t| format!("  \"token={t}\",\n")).collect();
    format!(
        "local bodies = {{\n{list}}}\nlocal i = 0\n\
         wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n\
         request = function()\n  i = i + 1\n  return wrk.format(\"POST\", \"{path}\", nil, bodies[(i % #bodies) + 1])\nend\n"
    )
}
