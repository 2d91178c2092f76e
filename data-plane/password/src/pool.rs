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
