//! [`PasswordHasher`]: a bounded pool that keeps slow password hashing off the async runtime.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::import::{self, HashFormat};
use crate::params::MAX_PASSWORD_BYTES;
use crate::{HashParams, PasswordError, hasher};

/// Outcome of [`PasswordHasher::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password is the one the stored hash was made from.
    pub matches: bool,
    /// The password matched but the stored hash is not what the configured [`HashParams`] would produce today
    /// (another algorithm, an imported format, or other costs): the caller should store a fresh [`PasswordHasher::hash`].
    pub needs_rehash: bool,
}

impl Verified {
    /// A mismatch; never asks for a re-hash.
    const NO_MATCH: Verified = Verified { matches: false, needs_rehash: false };
}

/// A bounded pool that runs hashing off the async workers: at most `max_concurrent` hashes at once, each on tokio's
/// blocking threads, while further callers wait asynchronously (never blocking a runtime thread). Bounding matters
/// because every argon2id hash holds its memory cost (64 MiB by default) for its whole run; clones share one bound.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    max_concurrent: usize,
}

impl Default for PasswordHasher {
    /// One hash per available core.
    fn default() -> Self {
        Self::new(0)
    }
}

impl PasswordHasher {
    /// A pool running at most `max_concurrent` hashes at once; 0 means one per available core
    /// (`std::thread::available_parallelism`).
    pub fn new(max_concurrent: usize) -> Self {
        let max_concurrent = if max_concurrent == 0 {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        } else {
            max_concurrent
        };
        PasswordHasher { permits: Arc::new(Semaphore::new(max_concurrent)), max_concurrent }
    }

    /// How many hashes may run at once, for capacity logs and metrics.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// Runs `job` on a blocking thread once a permit is free. The permit moves into the job, so a caller that stops
    /// waiting (client gone) still cannot push the number of running hashes past the bound.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| PasswordError::WorkerFailed)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|_| PasswordError::WorkerFailed)
    }

    /// Hashes a new password with `params`: a PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash` for argon2id,
    /// `$2b$..` for bcrypt. Passwords bcrypt cannot take whole (over 72 bytes) and any over 4096 bytes are refused
    /// with [`PasswordError::PasswordTooLong`], never truncated.
    pub async fn hash(&self, params: &HashParams, password: &str) -> Result<String, PasswordError> {
        params.validate()?;
        params.check_password_len(password.as_bytes())?;
        let params = params.clone();
        let password = password.to_owned();
        let salt = hasher::new_salt(&params);
        self.run(move || hasher::hash(&params, password.as_bytes(), &salt)).await?
    }

    /// Verifies `password` against any stored or imported hash format. A wrong password, a password over 4096
    /// bytes, and an unknown, garbled or out-of-bounds stored hash all give `matches: false` (a login must not
    /// reveal which); the last case is logged with its format and reason only, never the hash. `needs_rehash` is set
    /// when the password matched but the stored hash is not what `params` would make.
    pub async fn verify(&self, params: &HashParams, password: &str, stored: &str) -> Result<Verified, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Verified::NO_MATCH);
        }
        let parsed = match import::parse(stored) {
            Ok(parsed) => parsed,
            Err(error) => {
                let format = import::detect(stored).map_or("unknown", HashFormat::as_str);
                tracing::warn!(format, reason = error.reason(), "stored password hash cannot be verified");
                self.verify_dummy(params, password).await;
                return Ok(Verified::NO_MATCH);
            }
        };
        let stale = !parsed.is_current(params);
        let password = password.to_owned();
        let matches = self.run(move || parsed.verify(password.as_bytes())).await?;
        Ok(Verified { matches, needs_rehash: matches && stale })
    }

    /// Spends the time a real verification with `params` would (for unknown accounts), so response time does not
    /// reveal whether the account exists. It goes through the same pool, so it also queues like a real one.
    pub async fn verify_dummy(&self, params: &HashParams, password: &str) {
        if params.validate().is_err() || params.check_password_len(password.as_bytes()).is_err() {
            // A real verification refuses these before hashing too.
            return;
        }
        let params = params.clone();
        let password = password.to_owned();
        let salt = hasher::new_salt(&params);
        // The only possible error is a failed worker, which a dummy has nobody to report to.
        let _ = self.run(move || hasher::dummy_verify(&params, password.as_bytes(), &salt)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Counts jobs running at once and remembers the highest count.
    #[derive(Default)]
    struct HighWater {
        running: AtomicUsize,
        max: AtomicUsize,
    }

    impl HighWater {
        /// Wraps `work` so it is counted while it runs.
        fn track<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(now, Ordering::SeqCst);
            let out = work();
            self.running.fetch_sub(1, Ordering::SeqCst);
            out
        }
    }

    /// Hashes with real argon2id work inside the pool, counted by `meter`.
    async fn tracked_hash(pool: &PasswordHasher, meter: &Arc<HighWater>, password: &str) -> String {
        let (meter, password) = (meter.clone(), password.to_owned());
        let params = HashParams::default();
        let salt = hasher::new_salt(&params);
        pool.run(move || meter.track(|| hasher::hash(&params, password.as_bytes(), &salt))).await.unwrap().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_permit_runs_hashes_one_after_the_other() {
        let pool = PasswordHasher::new(1);
        let meter = Arc::new(HighWater::default());
        let (a, b) = tokio::join!(tracked_hash(&pool, &meter, "first"), tracked_hash(&pool, &meter, "second"));
        assert!(a.starts_with("$argon2id$") && b.starts_with("$argon2id$"));
        assert_eq!(meter.max.load(Ordering::SeqCst), 1, "two hashes overlapped on a one-permit pool");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn permits_bound_but_do_not_serialise() {
        let pool = PasswordHasher::new(2);
        assert_eq!(pool.max_concurrent(), 2);
        let meter = Arc::new(HighWater::default());
        let job = || {
            let meter = meter.clone();
            pool.run(move || meter.track(|| std::thread::sleep(Duration::from_millis(150))))
        };
        let (a, b, c, d) = tokio::join!(job(), job(), job(), job());
        for r in [a, b, c, d] {
            r.unwrap();
        }
        assert_eq!(meter.max.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_callers_keep_their_permit_until_the_hash_ends() {
        let pool = PasswordHasher::new(1);
        let meter = Arc::new(HighWater::default());
        let slow = {
            let meter = meter.clone();
            pool.run(move || meter.track(|| std::thread::sleep(Duration::from_millis(300))))
        };
        // The caller gives up (e.g. the client disconnected) while the job is running.
        assert!(tokio::time::timeout(Duration::from_millis(50), slow).await.is_err());
        let meter2 = meter.clone();
        pool.run(move || meter2.track(|| ())).await.unwrap();
        assert_eq!(meter.max.load(Ordering::SeqCst), 1, "a new job started while the abandoned one still ran");
    }

    #[test]
    fn zero_means_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(PasswordHasher::new(0).max_concurrent(), cores);
        assert_eq!(PasswordHasher::default().max_concurrent(), cores);
    }
}
