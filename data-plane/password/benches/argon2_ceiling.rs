//! The raw argon2id ceiling: how many new hashes (= logins or registrations) per second one node can do with the
//! default parameters when `PasswordHasher` uses every core. Capacity planning starts from this number.
//!
//! Run in release: `cargo bench -p tessera-password --bench argon2_ceiling`
//! (`ARGON2_CEILING_ROUNDS=N` sets how many hashes per core are timed, default 16).

use std::time::{Duration, Instant};

use tessera_password::{HashParams, PasswordHasher};

fn main() {
    let rounds: usize = std::env::var("ARGON2_CEILING_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let hasher = PasswordHasher::default();
    let threads = hasher.max_concurrent();
    let params = HashParams::default();
    let HashParams::Argon2id { memory_kib, iterations, parallelism, .. } = params else {
        unreachable!("the default hasher is argon2id")
    };

    runtime.block_on(async {
        // Warm up: page in the allocator's memory and the blocking threads.
        for _ in 0..threads {
            hasher.hash(&params, "warm-up password").await.expect("hash");
        }

        let mut latencies = Vec::new();
        for i in 0..5 {
            let started = Instant::now();
            hasher.hash(&params, &format!("single {i}")).await.expect("hash");
            latencies.push(started.elapsed());
        }
        latencies.sort();
        let single = latencies[latencies.len() / 2];

        let total = rounds * threads;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..total {
            let (hasher, params) = (hasher.clone(), params.clone());
            tasks.spawn(async move { hasher.hash(&params, &format!("password number {i}")).await });
        }
        while let Some(result) = tasks.join_next().await {
            result.expect("task").expect("hash");
        }
        let elapsed = started.elapsed();
        let rate = total as f64 / elapsed.as_secs_f64();
        println!(
            "argon2id m={memory_kib} t={iterations} p={parallelism}: {rate:.1} hashes/s on {threads} threads \
             ({total} hashes in {:.2} s; single hash median {:.1} ms)",
            elapsed.as_secs_f64(),
            ms(single)
        );
    });
}

/// Milliseconds as a float for printing.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
