//! `PasswordHasher` through its public API: round trips, re-hash decisions, bcrypt's 72-byte rule, dummy timing,
//! and the async runtime staying responsive while hashes run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tessera_password::{HashParams, PasswordError, PasswordHasher};

const CHEAP_BCRYPT: HashParams = HashParams::Bcrypt { cost: 4 };

#[tokio::test]
async fn argon2id_round_trip_and_rehash_decisions() {
    let hasher = PasswordHasher::new(2);
    let params = HashParams::default();
    let stored = hasher.hash(&params, "correct horse battery").await.unwrap();
    let parts: Vec<&str> = stored.split('$').collect();
    assert_eq!(parts[..4], ["", "argon2id", "v=19", "m=65536,t=2,p=1"]);
    assert_eq!((parts[4].len(), parts[5].len()), (22, 43), "16-byte salt and 32-byte key, unpadded base64");
    assert_ne!(stored, hasher.hash(&params, "correct horse battery").await.unwrap(), "salts must be random");

    let v = hasher.verify(&params, "correct horse battery", &stored).await.unwrap();
    assert!(v.matches && !v.needs_rehash);
    let v = hasher.verify(&params, "correct horse batterz", &stored).await.unwrap();
    assert!(!v.matches && !v.needs_rehash);

    let stronger =
        HashParams::Argon2id { memory_kib: 65_536, iterations: 3, parallelism: 1, salt_len: 16, key_len: 32 };
    let v = hasher.verify(&stronger, "correct horse battery", &stored).await.unwrap();
    assert!(v.matches && v.needs_rehash);
    let v = hasher.verify(&CHEAP_BCRYPT, "correct horse battery", &stored).await.unwrap();
    assert!(v.matches && v.needs_rehash, "argon2 stored, bcrypt configured");
}

#[tokio::test]
async fn bcrypt_round_trip_and_rehash_decisions() {
    let hasher = PasswordHasher::new(2);
    let stored = hasher.hash(&CHEAP_BCRYPT, "hunter2hunter2").await.unwrap();
    assert!(stored.starts_with("$2b$04$") && stored.len() == 60, "{stored}");
    let v = hasher.verify(&CHEAP_BCRYPT, "hunter2hunter2", &stored).await.unwrap();
    assert!(v.matches && !v.needs_rehash);
    let v = hasher.verify(&HashParams::Bcrypt { cost: 5 }, "hunter2hunter2", &stored).await.unwrap();
    assert!(v.matches && v.needs_rehash, "other cost");
    let v = hasher.verify(&HashParams::default(), "hunter2hunter2", &stored).await.unwrap();
    assert!(v.matches && v.needs_rehash, "bcrypt stored, argon2id configured");
    let v = hasher.verify(&HashParams::default(), "hunter2hunter3", &stored).await.unwrap();
    assert!(!v.matches && !v.needs_rehash);
}

#[tokio::test]
async fn bcrypt_never_truncates() {
    let hasher = PasswordHasher::new(2);
    let exactly_72 = "a".repeat(72);
    let longer = format!("{exactly_72}b");
    assert_eq!(
        hasher.hash(&CHEAP_BCRYPT, &longer).await.unwrap_err(),
        PasswordError::PasswordTooLong { len: 73, max: 72 }
    );
    let stored = hasher.hash(&CHEAP_BCRYPT, &exactly_72).await.unwrap();
    assert!(hasher.verify(&CHEAP_BCRYPT, &exactly_72, &stored).await.unwrap().matches);
    // bcrypt itself only reads 72 bytes, so without the explicit rule these would match.
    for extra in ["b", "bbbbbbbbbbbbbbbb"] {
        let v = hasher.verify(&CHEAP_BCRYPT, &format!("{exactly_72}{extra}"), &stored).await.unwrap();
        assert!(!v.matches, "{} bytes matched", 72 + extra.len());
    }
    // The same holds for a bcrypt hash imported from a system that did truncate.
    let truncated = bcrypt::hash(format!("{exactly_72}tail"), 4).unwrap();
    assert!(!hasher.verify(&CHEAP_BCRYPT, &format!("{exactly_72}tail"), &truncated).await.unwrap().matches);
    assert!(hasher.verify(&CHEAP_BCRYPT, &exactly_72, &truncated).await.unwrap().matches);
}

#[tokio::test]
async fn oversized_input_and_bad_params_are_refused() {
    let hasher = PasswordHasher::new(1);
    let huge = "x".repeat(4097);
    assert_eq!(
        hasher.hash(&HashParams::default(), &huge).await.unwrap_err(),
        PasswordError::PasswordTooLong { len: 4097, max: 4096 }
    );
    let stored = hasher.hash(&CHEAP_BCRYPT, "short").await.unwrap();
    assert!(!hasher.verify(&CHEAP_BCRYPT, &huge, &stored).await.unwrap().matches);
    assert!(matches!(
        hasher.hash(&HashParams::Bcrypt { cost: 16 }, "pw").await.unwrap_err(),
        PasswordError::InvalidParams(_)
    ));
    let bad = HashParams::Argon2id { memory_kib: 2_000_000, iterations: 1, parallelism: 1, salt_len: 16, key_len: 32 };
    assert!(matches!(hasher.hash(&bad, "pw").await.unwrap_err(), PasswordError::InvalidParams(_)));
}

/// Median duration of three runs of `f`.
async fn median<F: AsyncFn()>(f: F) -> Duration {
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[1]
}

#[tokio::test]
async fn dummy_verification_costs_like_a_real_one() {
    let hasher = PasswordHasher::new(1);
    for params in [HashParams::default(), HashParams::Bcrypt { cost: 8 }] {
        let stored = hasher.hash(&params, "the real password").await.unwrap();
        let real = median(async || {
            assert!(!hasher.verify(&params, "a wrong password", &stored).await.unwrap().matches);
        })
        .await;
        let dummy = median(async || hasher.verify_dummy(&params, "a wrong password").await).await;
        let ratio = dummy.as_secs_f64() / real.as_secs_f64();
        assert!((0.5..2.0).contains(&ratio), "{params:?}: real {real:?}, dummy {dummy:?}");
    }
    // A garbled stored hash also costs a dummy verification, so it looks like any wrong password.
    let garbled = median(async || {
        assert!(!hasher.verify(&HashParams::default(), "pw", "$argon2id$garbage").await.unwrap().matches);
    })
    .await;
    let dummy = median(async || hasher.verify_dummy(&HashParams::default(), "pw").await).await;
    assert!(garbled.as_secs_f64() > dummy.as_secs_f64() * 0.5, "garbled {garbled:?} vs dummy {dummy:?}");
}

/// Runs four default-cost hashes while a 10 ms interval ticks on the same runtime, and checks the interval kept
/// ticking: hashing on a runtime thread would starve it for the whole batch.
async fn ticks_during_four_hashes() -> (usize, Duration) {
    let hasher = PasswordHasher::new(2);
    let params = HashParams::default();
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(10));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    tokio::task::yield_now().await;
    let before = ticks.load(Ordering::SeqCst);
    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(
        hasher.hash(&params, "one"),
        hasher.hash(&params, "two"),
        hasher.hash(&params, "three"),
        hasher.hash(&params, "four"),
    );
    let elapsed = started.elapsed();
    let during = ticks.load(Ordering::SeqCst) - before;
    ticker.abort();
    for r in [a, b, c, d] {
        assert!(r.unwrap().starts_with("$argon2id$"));
    }
    (during, elapsed)
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_runtime_is_not_starved() {
    let (ticks, elapsed) = ticks_during_four_hashes().await;
    let expected = elapsed.as_millis() as usize / 10;
    assert!(ticks >= 5 && ticks * 3 >= expected, "{ticks} ticks in {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn single_worker_runtime_is_not_starved() {
    let (ticks, elapsed) = ticks_during_four_hashes().await;
    let expected = elapsed.as_millis() as usize / 10;
    assert!(ticks >= 5 && ticks * 3 >= expected, "{ticks} ticks in {elapsed:?}");
}
