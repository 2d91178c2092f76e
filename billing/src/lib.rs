//! Billing core: the plan catalogue, plan schedules, invoices from daily usage, and quotas.
//!
//! Everything here is pure and deterministic: no clock, no I/O, no floating point.
//! Callers (the control plane's billing reconciler, the workspace API, the data plane's quota checks) fetch
//! plan changes and usage aggregates, call in, and store or show the result; Stripe sync and S3 exports will
//! consume [`Invoice`]s.
//! The data plane also reads a plan's [`Tier`] to pick rate-limit buckets.
//!
//! # Money
//!
//! Amounts are integer minor units (cents for `usd`) in `u64`, never above `i64::MAX` so they fit a signed
//! 64-bit column; products use 128-bit intermediates, and an amount that would not fit is an error, never
//! wrapped or saturated.
//! Usage counts saturate at `u64::MAX` when summed.
//!
//! # Invoice rules
//!
//! - **Periods** are calendar months in UTC ([`Period`]); every proration is by whole seconds over the period's
//!   length in seconds.
//! - **Schedule.** The first plan change (chronologically) is the plan the workspace was created with.
//!   An upgrade (a plan with a base price at least that of the plan in effect) takes effect when requested; a
//!   downgrade at the start of the next period; a later request replaces a pending downgrade.
//!   Times are normalised to UTC and truncated to whole seconds. See [`schedule`].
//! - **Base fee**, per segment of the period on one plan: `base_price_minor * segment_seconds / period_seconds`,
//!   rounded half up. A workspace created mid-period pays from its creation.
//! - **Summed meters** (M2M tokens, permission checks, API requests of all groups): each UTC day is billed under
//!   the plan in effect at the end of that day, so the day of an upgrade is on the new plan.
//!   Per project and segment: `included = plan included * segment_seconds / period_seconds` rounded down,
//!   `billable = usage - included` (not below 0), `amount = ceil(billable * amount_minor / per)`.
//! - **Active identities (aDAU)** are measured once per period per project: the ceiling of the average of the
//!   daily distinct counts over the 30 UTC days ending on the period's last day (missing days count as 0; the
//!   window reaches into the previous month when the period is shorter than 30 days).
//!   Billed under the plan in effect at the end of the period, with the full included amount.
//! - **Uncharged overage.** A meter with a hard limit and no overage price (the developer plan) charges nothing:
//!   quotas block usage instead. Its line still shows the quantities.
//! - **Lines** exist for each segment's base fee and for each project, meter and segment with usage above 0.
//!   Order: base lines by segment, then usage by project id, meter (aDAU, M2M tokens, permission checks, API
//!   requests) and segment.
//! - **Drafts.** With `as_of` before the period end the invoice is a draft: a preview assuming nothing else
//!   changes. Only plan changes requested by `as_of` are known; base fees cover the whole period's schedule as
//!   known; usage counts only days up to `as_of`'s UTC day; aDAU uses the 30 days ending on that day and the
//!   plan in effect at `as_of`.
//!   Otherwise (no `as_of`, or one at or after the period end) the invoice is final.
//! - **Ignored input**: unknown meter names (so meters can ship before prices), usage outside the period (or
//!   outside the aDAU window). Summed-meter usage on days before the workspace's creation is billed on its first
//!   segment rather than dropped. Repeated aDAU rows for the same project and day keep the largest count.
//! - **Errors**: an unknown plan, no plan at all during the period, plans in different currencies within the
//!   period, an `as_of` before the period, or an amount above `i64::MAX`.

mod catalogue;
mod error;
mod invoice;
mod meter;
mod money;
mod period;
mod quota;
pub mod schedule;

use std::sync::LazyLock;

pub use catalogue::{Catalogue, MeterTerms, Plan, PlanSpec, Price, Tier};
pub use error::BillingError;
pub use invoice::{ADAU_WINDOW_DAYS, Invoice, InvoiceRequest, InvoiceStatus, Line, LineKind, UsageDay, invoice};
pub use meter::BillableMeter;
pub use money::{charge, daily_average};
pub use period::Period;
pub use quota::{EXCEEDED_PERCENT, QuotaLevel, WARNING_PERCENT, quota_level};
pub use schedule::{PlanChange, Schedule, Segment};

/// The built-in catalogue, built once: a constant table, not configuration, so callers without a configured
/// catalogue (the rate limiter, new workspaces) share it.
static BUILTIN: LazyLock<Catalogue> = LazyLock::new(Catalogue::builtin);

/// Every built-in plan, cheapest first.
pub fn plans() -> &'static [Plan] {
    BUILTIN.plans()
}

/// The built-in plan a new workspace starts on.
pub fn default_plan() -> &'static Plan {
    BUILTIN.default_plan()
}

/// A built-in plan by id, for callers that only need its tier.
pub fn plan(id: &str) -> Option<&'static Plan> {
    BUILTIN.get(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lookup_keeps_the_old_api() {
        assert_eq!(default_plan().tier, Tier::Developer);
        assert_eq!(default_plan().id.to_owned(), "developer");
        assert_eq!(plan("growth").map(|p| p.tier), Some(Tier::Growth));
        assert!(plan("platinum").is_none());
        let ids: Vec<_> = plans().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["developer", "production", "growth", "enterprise"]);
    }
}
