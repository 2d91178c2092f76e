//! One HTTP attempt through async-stripe, the retry loop around attempts, pagination and idempotency keys.
//!
//! Every public operation is a closure of attempts run by [`Transport::retry`]. An attempt re-reads Stripe's state
//! before it writes, and every write carries an idempotency key derived only from the operation's inputs, so
//! the same key goes out on every attempt (and on a caller's retry of the whole operation). Real Stripe
//! deduplicates on the key; localstripe ignores keys, and there the read-before-write finds what an earlier,
//! seemingly failed attempt created.

use serde::de::DeserializeOwned;
use stripe::{ApiErrors, IdempotencyKey, RequestStrategy, StripeError};
use stripe_client_core::{RequestBuilder, StripeMethod};

use crate::config::RetryPolicy;
use crate::error::{AttemptError, StripeSyncError};
use crate::wire::{Listed, Page};

/// Largest page Stripe serves.
const PAGE_LIMIT: i64 = 100;
/// Pages read from one list before giving up, so a server ignoring `starting_after` cannot loop us forever.
const MAX_PAGES: usize = 10_000;
/// The message async-stripe gives a non-2xx answer whose body is not a Stripe error: a proxy or load balancer
/// answered, so the status is unknown and the failure is treated as transient.
const NON_STRIPE_ERROR_BODY: &str = "error deserializing Stripe error";

/// The async-stripe client plus the retry policy.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: stripe::Client,
    retry: RetryPolicy,
}

impl Transport {
    pub(crate) fn new(client: stripe::Client, retry: RetryPolicy) -> Transport {
        Transport { client, retry }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy's attempts are spent.
    pub(crate) async fn retry<T, Fut>(
        &self,
        operation: &str,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, StripeSyncError>
    where
        Fut: std::future::Future<Output = Result<T, AttemptError>>,
    {
        let max = self.retry.max_attempts.max(1);
        let mut made = 0;
        loop {
            made += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(AttemptError::Fatal(error)) => return Err(error),
                Err(AttemptError::Transient(reason)) if made >= max => {
                    return Err(StripeSyncError::Unavailable {
                        operation: operation.to_owned(),
                        attempts: made,
                        last: reason,
                    });
                }
                Err(AttemptError::Transient(reason)) => {
                    let delay = self.retry.backoff(made);
                    tracing::warn!(operation, attempt = made, ?delay, %reason, "transient Stripe failure; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One request; `key` becomes the `Idempotency-Key` header (writes only).
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        key: Option<&str>,
    ) -> Result<T, AttemptError> {
        let operation = describe(&request);
        let strategy = match key {
            Some(key) => RequestStrategy::Idempotent(
                IdempotencyKey::new(key)
                    .map_err(|e| StripeSyncError::InvalidInput(format!("idempotency key for {operation}: {e}")))?,
            ),
            None => RequestStrategy::Once,
        };
        tracing::debug!(%operation, key, "Stripe request");
        let value = request
            .customize::<miniserde::json::Value>()
            .request_strategy(strategy)
            .send(&self.client)
            .await
            .map_err(|e| classify(&operation, e))?;
        // async-stripe parses with miniserde; re-read the value with serde into the lenient wire types.
        let text = miniserde::json::to_string(&value);
        serde_json::from_str(&text).map_err(|e| StripeSyncError::Decode { operation, reason: e.to_string() }.into())
    }

    /// Every object of a list endpoint; `page` builds the request for the page after a cursor.
    pub(crate) async fn list_all<T: DeserializeOwned + Listed>(
        &self,
        page: impl Fn(i64, Option<&str>) -> RequestBuilder,
    ) -> Result<Vec<T>, AttemptError> {
        let mut all: Vec<T> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let batch: Page<T> = self.send(page(PAGE_LIMIT, cursor.as_deref()), None).await?;
            let next = batch.data.last().and_then(|o| o.cursor()).map(str::to_owned);
            let more = batch.has_more;
            all.extend(batch.data);
            match next {
                Some(next) if more && cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => return Ok(all),
            }
        }
        Err(AttemptError::Transient(format!("list did not end after {MAX_PAGES} pages")))
    }
}

/// `POST /customers` and the like, for logs and errors.
fn describe(request: &RequestBuilder) -> String {
    let method = match request.method {
        StripeMethod::Get => "GET",
        StripeMethod::Post => "POST",
        StripeMethod::Delete => "DELETE",
    };
    format!("{method} /v1{}", request.path)
}

/// Sorts an async-stripe error into retry-worthy or final.
fn classify(operation: &str, error: StripeError) -> AttemptError {
    match error {
        StripeError::Stripe(api, status) => classify_status(operation, status, &api),
        StripeError::Timeout => AttemptError::Transient(format!("{operation}: timed out")),
        StripeError::ClientError(reason) => AttemptError::Transient(format!("{operation}: {reason}")),
        StripeError::JSONDeserialize(reason) if reason == NON_STRIPE_ERROR_BODY => {
            AttemptError::Transient(format!("{operation}: error status without a Stripe error body"))
        }
        StripeError::JSONDeserialize(reason) => {
            AttemptError::Fatal(StripeSyncError::Decode { operation: operation.to_owned(), reason })
        }
        StripeError::ConfigError(reason) => AttemptError::Fatal(StripeSyncError::Config(reason)),
    }
}

/// 5xx, 429 (rate limited) and 409 (idempotency key in use, or localstripe's "id exists") are retried;
/// so is `resource_already_exists`, because the next attempt's read finds the object. Other 4xx are final.
fn classify_status(operation: &str, status: u16, api: &ApiErrors) -> AttemptError {
    let code = api.code.as_ref().map(|c| c.as_str().to_owned());
    let message = api.message.clone().unwrap_or_else(|| format!("{:?}", api.type_));
    let transient =
        status >= 500 || status == 409 || status == 429 || code.as_deref() == Some("resource_already_exists");
    if transient {
        AttemptError::Transient(format!("{operation}: {status} {message}"))
    } else {
        AttemptError::Fatal(StripeSyncError::Rejected { operation: operation.to_owned(), status, code, message })
    }
}

/// A deterministic idempotency key for a write: a readable kind plus a hash of every input that defines the
/// request, so attempts and caller retries share it while different requests never do.
pub(crate) fn idempotency_key(kind: &str, parts: &[&str]) -> String {
    format!("tessera-{kind}-{:016x}", fnv1a(parts))
}

/// FNV-1a over the parts with a separator byte, so `["ab", "c"]` and `["a", "bc"]` differ.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_separate_parts() {
        let a = idempotency_key("customer", &["ws_1", "Acme"]);
        assert_eq!(a, idempotency_key("customer", &["ws_1", "Acme"]));
        assert_ne!(a, idempotency_key("customer", &["ws_1A", "cme"]));
        assert_ne!(a, idempotency_key("customer", &["ws_1", "Acme", ""]));
        assert!(a.starts_with("tessera-customer-") && a.len() == "tessera-customer-".len() + 16);
    }

    #[test]
    fn status_classification() {
        let api = |code: Option<&str>| {
            let mut e = ApiErrors {
                advice_code: None,
                charge: None,
                code: None,
                decline_code: None,
                doc_url: None,
                message: Some("boom".to_owned()),
                network_advice_code: None,
                network_decline_code: None,
                param: None,
                payment_intent: None,
                payment_method: None,
                payment_method_type: None,
                request_log_url: None,
                setup_intent: None,
                source: None,
                type_: stripe::ApiErrorsType::InvalidRequestError,
            };
            e.code = code.map(|c| c.parse().unwrap());
            e
        };
        for status in [409, 429, 500, 502, 503, 504] {
            assert!(matches!(classify_status("op", status, &api(None)), AttemptError::Transient(_)), "{status}");
        }
        assert!(matches!(
            classify_status("op", 400, &api(Some("resource_already_exists"))),
            AttemptError::Transient(_)
        ));
        for status in [400, 401, 402, 403, 404] {
            match classify_status("POST /v1/x", status, &api(Some("resource_missing"))) {
                AttemptError::Fatal(StripeSyncError::Rejected { status: s, code, message, operation }) => {
                    assert_eq!(
                        (s, code.as_deref(), message.as_str(), operation.as_str()),
                        (status, Some("resource_missing"), "boom", "POST /v1/x")
                    );
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }
}
