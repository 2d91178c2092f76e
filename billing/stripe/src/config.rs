//! Client configuration: where Stripe is, how long to wait, how often to retry.

use std::time::Duration;

/// Which server the client talks to, for the few parameters where real Stripe and localstripe disagree.
///
/// Everything else is sent identically; see the crate documentation for the list of differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFlavor {
    /// api.stripe.com (or anything that implements the current API faithfully).
    Stripe,
    /// localstripe 1.15.10, the fake used by the tests: it rejects `proration_behavior`, invoice item `period`
    /// and the `pending` list filter, so those are left out.
    Localstripe,
}

/// Bounded exponential backoff for transient failures (5xx, 429, 409, connection errors, timeouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per logical operation, the first included; at least 1.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub initial_backoff: Duration,
    /// Upper bound of a single delay, so a long outage does not grow the wait without limit.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The delay after failed attempt number `attempt` (1-based): `initial * 2^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// Five attempts over about three seconds: enough to ride out a Stripe blip without stalling a reconciler.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// Everything [`crate::StripeBilling::new`] needs; a value, so tests and deployments configure it the same way.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// Secret API key (`sk_...`); localstripe accepts any key starting with `sk_`.
    pub api_key: String,
    /// API base URL ending in `/`, e.g. `https://api.stripe.com/` or `http://127.0.0.1:8420/`.
    pub base_url: String,
    /// Which server dialect to speak.
    pub flavor: ApiFlavor,
    /// Per-attempt timeout, covering connect, request and the whole response body.
    pub timeout: Duration,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
}

impl StripeConfig {
    /// Production defaults against api.stripe.com: 20 s per attempt and the default retry policy.
    pub fn stripe(api_key: impl Into<String>) -> StripeConfig {
        StripeConfig {
            api_key: api_key.into(),
            base_url: "https://api.stripe.com/".to_owned(),
            flavor: ApiFlavor::Stripe,
            timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }

    /// A localstripe at `base_url` with a short timeout and quick retries, as the tests use it.
    pub fn localstripe(base_url: impl Into<String>) -> StripeConfig {
        StripeConfig {
            api_key: "sk_test_tessera".to_owned(),
            base_url: base_url.into(),
            flavor: ApiFlavor::Localstripe,
            timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 4,
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
        };
        let delays: Vec<u128> = (1..=6).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 700, 700, 700]);
        assert_eq!(policy.backoff(0).as_millis(), 100);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(700));
    }
}
