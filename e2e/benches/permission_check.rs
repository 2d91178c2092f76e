//! In-process permission checks over one million relationships (criterion), plus the index's build time,
//! memory per relationship, and the p50/p99 of individually timed checks.
//!
//! `cargo bench -p tessera-e2e --bench permission_check`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_e2e::datasets::{DRIVE_OPL, drive_checks, drive_tuples};
use tessera_permission::engine::{Checker, Limits, Membership};
use tessera_permission::index::ProjectIndex;

/// Resident memory of this process, from /proc.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

fn bench(c: &mut Criterion) {
    let schema = tessera_opl::parse(DRIVE_OPL).expect("the benchmark's OPL compiles");
    let tuples = drive_tuples();
    let before = rss_bytes();
    let started = Instant::now();
    let mut index = ProjectIndex::new();
    for t in &tuples {
        index.insert(t);
    }
    let built = started.elapsed();
    let after = rss_bytes();
    drop(tuples);
    let checks = drive_checks(100_000);
    let limits = Limits::default();

    let mut latencies = Vec::with_capacity(checks.len());
    let mut allowed = 0;
    for q in &checks {
        let t = Instant::now();
        let m = Checker::check(&index, &schema, q, 5, limits).unwrap();
        latencies.push(t.elapsed());
        allowed += usize::from(m == Membership::Member);
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "\nindex of {} relationships: built in {:.2} s, {:.0} MB resident ({:.0} bytes per relationship)",
        index.len(),
        built.as_secs_f64(),
        (after.saturating_sub(before)) as f64 / 1e6,
        (after.saturating_sub(before)) as f64 / index.len() as f64
    );
    println!(
        "in-process checks ({} timed one by one, {:.0} % allowed): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs\n",
        checks.len(),
        100.0 * allowed as f64 / checks.len() as f64,
        us(pct(0.5)),
        us(pct(0.99)),
        us(*latencies.last().unwrap())
    );

    let mut i = 0;
    c.bench_function("check Doc#view (mixed)", |b| {
        b.iter(|| {
            let q = &checks[i % checks.len()];
            i += 1;
            black_box(Checker::check(&index, &schema, q, 5, limits).unwrap())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
