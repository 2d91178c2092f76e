//! The Stripe sync: a customer per workspace, a subscription on the workspace's effective plan, the current
//! month's billable usage reported as running totals, and frozen invoices reconciled with Stripe's.
//!
//! Why usage can be neither lost nor double-reported: what is sent is the period's running total of billable
//! units per meter, computed from the aggregates (which are exactly-once themselves); `tessera-billing-stripe`
//! turns a total into at most one new charge for the difference from what Stripe already holds, reading
//! Stripe's state before every attempt, so a retry, a timeout after Stripe applied the call, or a repeated pass
//! adds nothing. A report is skipped when the total did not change since the last acknowledged one.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tessera_billing::{BillableMeter, Invoice, LineKind, Period};
use tessera_billing_stripe::{
    ApiFlavor, CustomerId, PlanMove, Reconciliation, RetryPolicy, StripeBilling, StripeCatalogue, StripeConfig,
    UsageReport, reconcile,
};
use tessera_control_plane::ControlPlane;
use tessera_control_plane::model::Workspace;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use crate::JobError;
use crate::store::JobStore;

/// `[billing.stripe]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    /// The secret key (`sk_...`); prefer `TESSERA_BILLING__STRIPE__API_KEY`.
    pub api_key: String,
    /// The API base URL, ending in `/` (default `https://api.stripe.com/`; a localstripe for tests).
    #[serde(default)]
    pub base_url: Option<String>,
    /// `stripe` (default) or `localstripe`, whose dialect differs in a few parameters.
    #[serde(default)]
    pub flavor: Option<String>,
    /// Per-attempt timeout in seconds (default 20).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

impl StripeSettings {
    /// The client configuration these settings describe.
    pub fn client_config(&self) -> Result<StripeConfig, JobError> {
        let flavor = match self.flavor.as_deref() {
            None | Some("stripe") => ApiFlavor::Stripe,
            Some("localstripe") => ApiFlavor::Localstripe,
            Some(other) => return Err(JobError::Invalid(format!("billing.stripe.flavor: unknown `{other}`"))),
        };
        let mut config = match flavor {
            ApiFlavor::Stripe => StripeConfig::stripe(self.api_key.clone()),
            ApiFlavor::Localstripe => {
                let mut c = StripeConfig::localstripe(self.base_url.clone().unwrap_or_default());
                c.api_key = self.api_key.clone();
                c
            }
        };
        if let Some(url) = &self.base_url {
            config.base_url = url.clone();
        }
        if let Some(secs) = self.timeout_secs {
            config.timeout = Duration::from_secs(secs.max(1));
        }
        config.retry = RetryPolicy { max_attempts: 5, ..config.retry };
        Ok(config)
    }
}

/// What one pass did with Stripe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StripeTick {
    /// Workspaces whose subscription changed plan.
    pub plan_changes: usize,
    /// Usage totals that added a charge.
    pub usage_reports: usize,
    /// Frozen invoices reconciled for the first time.
    pub reconciled: usize,
    /// Workspaces whose sync failed this pass, with the reason (retried at the next pass).
    pub failures: Vec<String>,
}

/// The Stripe half of the billing jobs.
#[derive(Debug)]
pub struct StripeSync {
    pub client: StripeBilling,
    catalogue: OnceCell<StripeCatalogue>,
}

impl StripeSync {
    /// A sync over `client`; the catalogue is pushed to Stripe on the first pass.
    pub fn new(client: StripeBilling) -> Self {
        Self { client, catalogue: OnceCell::new() }
    }

    /// One pass over every workspace.
    pub async fn tick(&self, cp: &ControlPlane, store: &JobStore, now: OffsetDateTime) -> Result<StripeTick, JobError> {
        let catalogue =
            self.catalogue.get_or_try_init(|| self.client.ensure_catalogue(&cp.settings().catalogue)).await?.clone();
        let mut out = StripeTick::default();
        for id in cp.store().workspace_ids().await? {
            let Some(ws) = cp.store().workspace_get(id).await? else { continue };
            // One workspace's failure (a card missing, a rejected call) must not stop the others.
            if let Err(e) = self.sync_workspace(cp, store, &catalogue, &ws, now, &mut out).await {
                tracing::warn!(workspace = %ws.id, error = %e, "Stripe sync of a workspace failed; retried next pass");
                out.failures.push(format!("{}: {e}", ws.id));
            }
        }
        Ok(out)
    }

    async fn sync_workspace(
        &self,
        cp: &ControlPlane,
        store: &JobStore,
        catalogue: &StripeCatalogue,
        ws: &Workspace,
        now: OffsetDateTime,
        out: &mut StripeTick,
    ) -> Result<(), JobError> {
        let customer = match store.stripe_customer(ws.id).await? {
            Some(c) => CustomerId::new(c),
            None => {
                let c = self.client.ensure_customer(&ws.id.to_string(), &ws.name).await?;
                store.stripe_customer_record(ws.id, c.as_str(), now).await?;
                c
            }
        };
        let mut sub = self.client.ensure_subscription(catalogue, &customer, &ws.subscription_plan).await?;
        if sub.plan_id != ws.subscription_plan {
            let settings = &cp.settings().catalogue;
            let upgrade = match (settings.get(&ws.subscription_plan), settings.get(&sub.plan_id)) {
                (Some(new), Some(old)) => new.is_upgrade_from(old),
                _ => true,
            };
            let way = if upgrade { PlanMove::Upgrade } else { PlanMove::Downgrade };
            sub = self.client.change_plan(catalogue, &sub, &ws.subscription_plan, way).await?;
            out.plan_changes += 1;
        }
        store.stripe_subscription_record(ws.id, &sub.subscription_id, &sub.plan_id, now).await?;

        let period = Period::containing(now).map_err(|e| JobError::Invalid(e.to_string()))?;
        let draft = cp.invoice_compute(ws.id, period, Some(now)).await?;
        for (meter, total) in billable_totals(&draft) {
            let Some(item) = sub.items.get(&meter) else { continue };
            let period_text = period.to_string();
            if store.stripe_reported(ws.id, &period_text, meter.as_str()).await? == Some(total) {
                continue;
            }
            let key = format!("usage-{}-{period_text}-{}-{total}", ws.id, meter.as_str());
            match self.client.report_usage(item, period, total, &key).await? {
                UsageReport::Reported { .. } => out.usage_reports += 1,
                UsageReport::Unchanged { .. } | UsageReport::Stale { .. } => {}
            }
            store.stripe_reported_record(ws.id, &period_text, meter.as_str(), total, now).await?;
        }

        let frozen = cp.store().invoices(ws.id).await?;
        let checked = store.stripe_reconciled_periods(ws.id).await?;
        let pending: Vec<_> = frozen.into_iter().filter(|r| !checked.contains(&r.period)).collect();
        if !pending.is_empty() {
            let theirs = self.client.invoices(&customer).await?;
            for row in pending {
                let frozen: FrozenInvoice = serde_json::from_str(&row.body)
                    .map_err(|e| JobError::Invalid(format!("frozen invoice {}: {e}", row.period)))?;
                let ours = frozen.into_invoice();
                let outcome = reconcile(&ours, &theirs);
                let (name, detail) = describe(&outcome);
                store.stripe_reconciliation_record(ws.id, &row.period, name, &detail, now).await?;
                if !matches!(outcome, Reconciliation::Matched { .. }) {
                    tracing::warn!(workspace = %ws.id, period = %row.period, outcome = name, %detail, "invoice differs from Stripe's");
                }
                out.reconciled += 1;
            }
        }
        Ok(())
    }
}

/// What reconciliation needs of a frozen invoice: the frozen amounts, not a recomputation (late usage after
/// freezing must not change what is compared).
#[derive(Deserialize)]
struct FrozenInvoice {
    workspace_id: String,
    period: Period,
    currency: String,
    subtotal_minor: u64,
    total_minor: u64,
}

impl FrozenInvoice {
    fn into_invoice(self) -> Invoice {
        Invoice {
            workspace_id: self.workspace_id,
            period: self.period,
            period_start: self.period.start(),
            period_end: self.period.end(),
            status: tessera_billing::InvoiceStatus::Final,
            currency: self.currency,
            lines: Vec::new(),
            subtotal_minor: self.subtotal_minor,
            total_minor: self.total_minor,
        }
    }
}

/// The period's billable units per priced meter: the sum of the usage lines' `billable` that carry a price.
pub fn billable_totals(invoice: &Invoice) -> BTreeMap<BillableMeter, u64> {
    let mut out = BTreeMap::new();
    for line in &invoice.lines {
        if line.kind != LineKind::Usage || line.unit_price.is_none() {
            continue;
        }
        let Some(meter) = line.meter.and_then(BillableMeter::of) else { continue };
        let slot = out.entry(meter).or_insert(0u64);
        *slot = slot.saturating_add(line.billable);
    }
    out
}

fn describe(outcome: &Reconciliation) -> (&'static str, String) {
    match outcome {
        Reconciliation::Matched { .. } => ("matched", format!("{outcome:?}")),
        Reconciliation::Missing => ("missing", "Stripe has no invoice for this period".to_owned()),
        other => ("differs", format!("{other:?}")),
    }
}
