//! The control plane's billing jobs, kept out of the control-plane crate so that the S3 and Stripe SDKs build
//! only here: daily usage exports to S3 ([`exports`]) and the Stripe sync ([`stripe`]).
//!
//! Each job is a pass that is safe to repeat: what was done is recorded in the control plane's database
//! (`migrations/control-plane/*/0004_billing_jobs.sql`), and every external write is idempotent (byte-identical
//! objects; Stripe quantities reported as period totals under idempotency keys).

pub mod exports;
pub mod store;
pub mod stripe;

use std::time::Duration;

use tessera_control_plane::ControlPlane;
use tessera_control_plane::store::StoreError;
use tessera_platform::clock::SharedClock;
use tessera_platform::config::Config;

use crate::exports::UsageExports;
use crate::store::JobStore;
use crate::stripe::{StripeSettings, StripeSync, StripeTick};

/// Why a job pass failed; the next pass retries.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("invalid billing job settings: {0}")]
    Invalid(String),
    #[error("a date is outside the calendar")]
    Calendar,
    #[error("the control plane's database failed: {0}")]
    Store(#[from] StoreError),
    #[error("the control plane's database failed: {0}")]
    Db(#[from] tessera_platform::db::DbError),
    #[error("the export failed: {0}")]
    Export(#[from] tessera_export::ExportError),
    #[error("Stripe failed: {0}")]
    Stripe(#[from] tessera_billing_stripe::StripeSyncError),
    #[error(transparent)]
    ControlPlane(#[from] tessera_control_plane::Error),
}

/// The configured jobs and what they share.
#[derive(Debug, Clone)]
pub struct BillingJobs {
    cp: ControlPlane,
    store: JobStore,
    clock: SharedClock,
    exports: Option<UsageExports>,
    stripe: Option<std::sync::Arc<StripeSync>>,
}

impl BillingJobs {
    /// The jobs `config` asks for (`[billing.export]`, `[billing.stripe]`); `None` when none is configured.
    pub fn from_config(config: &Config, cp: ControlPlane, clock: SharedClock) -> Result<Option<Self>, JobError> {
        let grace = time::Duration::hours(i64::from(config.billing.finalize_after_hours));
        let exports = match &config.billing.export {
            None => None,
            Some(table) => {
                let settings: tessera_export::S3Settings = serde_json::from_value(table.clone())
                    .map_err(|e| JobError::Invalid(format!("billing.export: {e}")))?;
                let sink = tessera_export::ExportSink::new(&settings)
                    .map_err(|e| JobError::Invalid(format!("billing.export: {e}")))?;
                Some(UsageExports { sink, grace })
            }
        };
        let stripe = match &config.billing.stripe {
            None => None,
            Some(table) => {
                let settings: StripeSettings = serde_json::from_value(table.clone())
                    .map_err(|e| JobError::Invalid(format!("billing.stripe: {e}")))?;
                let client = tessera_billing_stripe::StripeBilling::new(settings.client_config()?)
                    .map_err(|e| JobError::Invalid(format!("billing.stripe: {e}")))?;
                Some(std::sync::Arc::new(StripeSync::new(client)))
            }
        };
        if exports.is_none() && stripe.is_none() {
            return Ok(None);
        }
        let store = JobStore::new(cp.store().database().clone());
        Ok(Some(Self { cp, store, clock, exports, stripe }))
    }

    /// One pass of every configured job; returns what each did, for logs and tests.
    pub async fn tick(&self) -> Result<TickReport, JobError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        if let Some(exports) = &self.exports {
            report.days_exported = exports.tick(&self.cp, &self.store, now).await?;
        }
        if let Some(stripe) = &self.stripe {
            report.stripe = stripe.tick(&self.cp, &self.store, now).await?;
        }
        Ok(report)
    }

    /// Runs a pass every `every` until aborted; failures are logged and retried at the next pass.
    pub async fn run(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.tick().await {
                Ok(r) if r != TickReport::default() => tracing::info!(?r, "billing jobs"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "a billing job pass failed; retried at the next pass"),
            }
        }
    }

    /// The jobs' bookkeeping, for tests and operators.
    pub fn store(&self) -> &JobStore {
        &self.store
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Workspace-days written to S3.
    pub days_exported: usize,
    /// What the Stripe sync did.
    pub stripe: StripeTick,
}
