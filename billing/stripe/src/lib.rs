//! Billing sync to Stripe: the plan catalogue, one customer and one subscription per workspace, usage, and
//! invoice reconciliation against Tessera's own invoices ([`tessera_billing::Invoice`]).
//!
//! Kept out of `tessera-billing` because async-stripe is the slowest dependency of the workspace to compile.
//!
//! # How calls stay exactly-once
//!
//! Every operation is idempotent by construction and is retried on 5xx, 429, 409, connection errors and
//! timeouts with bounded exponential backoff ([`RetryPolicy`]); other 4xx surface at once as
//! [`StripeSyncError::Rejected`]. Each attempt first reads Stripe's state (by deterministic id or by
//! `tessera_*` metadata), then writes with an `Idempotency-Key` derived only from the operation's inputs, so
//! every attempt (and a caller's retry) sends the same key. The read makes retries safe even where keys are
//! ignored (localstripe) or expired (Stripe keeps them 24 hours).
//!
//! # Client
//!
//! async-stripe `=1.0.0-rc.10` (the split crates, Stripe API version 2026-09-30), default features off, rustls
//! on aws-lc-rs with webpki roots. Requests are built with its typed parameter builders, so parameter names
//! are those of Stripe's OpenAPI spec, and sent by its hyper client with a per-attempt timeout and
//! `RequestStrategy::Idempotent(key)`, i.e. one HTTP attempt. The retry loop is this crate's own: async-stripe's
//! retrying strategies resend the same bytes (this crate must re-read Stripe's state between attempts, since
//! localstripe ignores idempotency keys), sleep a fixed `2^n` seconds, and invent a random key (or none without
//! its `uuid` feature) instead of one derived from the operation. Responses are read into lenient structs
//! (module `wire`) because the generated types insist on fields localstripe omits.
//!
//! # Against localstripe 1.15.10
//!
//! The tests run against localstripe, which implements only part of the API. What it lacks and what this
//! crate does instead (the same code path runs against Stripe unless [`ApiFlavor`] says otherwise):
//!
//! - **No `/v1/prices`**: the catalogue uses Plans (`/v1/plans`), which Stripe still serves; a plan id works
//!   wherever a price id does. Metered plans carry `amount` per `tessera_per` units in metadata, since
//!   localstripe has neither `amount_decimal` nor `transform_usage`.
//! - **No usage records, no billing meters, one item per subscription**: usage is billed as invoice items on
//!   the subscription, one per increase of the period's cumulative total, with the increase computed from what
//!   Stripe already holds; see [`usage`]. [`SubscriptionRef::items`] maps meters to
//!   [`MeteredItem`]s instead of Stripe subscription items. On Stripe proper the faithful successor is a
//!   billing meter with `last` aggregation plus meter events keyed by `identifier`; the invoice-item scheme
//!   also works there and keeps Stripe's totals equal to Tessera's (per-project included usage and exact
//!   rounding cannot be expressed as Stripe tiers anyway).
//! - **Idempotency keys are ignored** and a duplicate custom id is a 409: covered by read-before-write.
//! - **No `proration_behavior`** (a 500), **no invoice item `period`** and **no `pending` list filter** (400 or
//!   500): not sent under [`ApiFlavor::Localstripe`]. localstripe credits the old plan's whole last invoice on
//!   any plan swap, its own simplification.
//! - **Updating an invoice item's amount stores it as a string** and breaks invoice totals, so usage items
//!   are never updated, only appended.
//! - **Subscription metadata updates are dropped**: which plan a subscription is on is always read from its
//!   base item's plan, never from metadata.
//! - **Paying needs a card**: creating a subscription on a paid plan charges at once; without a payment method
//!   localstripe creates the subscription and then answers 404, so the tests attach a test card first.
//!
//! # Known gap against api.stripe.com
//!
//! Since API version 2025-03-31 Stripe requires metered prices to reference a billing meter, which localstripe
//! can neither create nor check. Syncing the metered plans to real Stripe needs one meter per
//! [`tessera_billing::BillableMeter`] (async-stripe's `billing_meter` feature) passed as `meter` when creating
//! them; until then `ensure_catalogue` against api.stripe.com fails at the first metered plan. Usage billing
//! itself does not depend on those plans.
//!
//! # TLS
//!
//! rustls panics when both ring and aws-lc-rs are compiled in and no process default is set, which happens as
//! soon as the whole workspace is built together. [`StripeBilling::new`] installs aws-lc-rs as the process
//! default when none is installed yet.

mod catalogue;
mod config;
mod customer;
mod error;
mod invoices;
mod reconcile;
mod subscription;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
pub mod usage;
mod wire;

pub use catalogue::{META_COMPONENT, META_METER, META_PER, META_PLAN, MeteredPrice, StripeCatalogue, StripePlan};
pub use config::{ApiFlavor, RetryPolicy, StripeConfig};
pub use customer::{CustomerId, META_WORKSPACE};
pub use error::StripeSyncError;
pub use invoices::{InvoiceState, StripeInvoice};
pub use reconcile::{Reconciliation, reconcile};
pub use subscription::{MeteredItem, PlanMove, SubscriptionRef};
pub use usage::{UsageReport, usage_amount};

use transport::Transport;

/// The Stripe sync client: cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct StripeBilling {
    transport: Transport,
    flavor: ApiFlavor,
}

impl StripeBilling {
    /// Builds the client; fails on an unusable key or URL, never panics.
    pub fn new(config: StripeConfig) -> Result<StripeBilling, StripeSyncError> {
        if !config.base_url.ends_with('/') {
            return Err(StripeSyncError::Config(format!("base URL must end with '/': {:?}", config.base_url)));
        }
        if config.timeout.is_zero() {
            return Err(StripeSyncError::Config("timeout must be positive".to_owned()));
        }
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another thread installing a provider is fine: one is installed either way.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let client = stripe::ClientBuilder::new(config.api_key)
            .url(config.base_url)
            .timeout(config.timeout)
            .app_info("tessera", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(|e| StripeSyncError::Config(e.to_string()))?;
        Ok(StripeBilling { transport: Transport::new(client, config.retry), flavor: config.flavor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_builds_an_https_client_without_panicking() {
        assert!(StripeBilling::new(StripeConfig::stripe("sk_test_x")).is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some(), "a process provider is installed");
        let local = StripeBilling::new(StripeConfig::localstripe("http://127.0.0.1:8420/"));
        assert!(local.is_ok());
    }

    #[test]
    fn new_rejects_unusable_config() {
        let no_slash = StripeConfig::localstripe("http://127.0.0.1:8420");
        assert!(matches!(StripeBilling::new(no_slash), Err(StripeSyncError::Config(_))));
        let zero = StripeConfig { timeout: std::time::Duration::ZERO, ..StripeConfig::stripe("sk_test_x") };
        assert!(matches!(StripeBilling::new(zero), Err(StripeSyncError::Config(_))));
        let bad_url = StripeConfig { base_url: "not a url/".to_owned(), ..StripeConfig::stripe("sk_test_x") };
        assert!(matches!(StripeBilling::new(bad_url), Err(StripeSyncError::Config(_))));
        let bad_key = StripeConfig::stripe("sk_\n");
        assert!(matches!(StripeBilling::new(bad_key), Err(StripeSyncError::Config(_))));
    }
}
