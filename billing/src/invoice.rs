//! Invoice computation: a period's plan segments and daily usage turned into priced lines.
//!
//! The rules are in the crate documentation; this module applies them in one pass over the usage.
//! Everything is a pure function of the request, so the same request always gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

use crate::money::{add, charge, daily_average, prorate_floor, prorate_half_up};
use crate::period::{midnight_utc, to_utc};
use crate::{BillableMeter, BillingError, Catalogue, Period, Plan, PlanChange, Price, Schedule, Segment};

/// Days averaged for active identities (aDAU).
pub const ADAU_WINDOW_DAYS: i64 = 30;

/// Everything needed to price one workspace's period.
#[derive(Debug, Clone)]
pub struct InvoiceRequest<'a> {
    /// The workspace billed.
    pub workspace_id: String,
    /// The month billed.
    pub period: Period,
    /// The workspace's whole plan history, in any order.
    pub plan_changes: Vec<PlanChange>,
    /// Daily aggregates; days outside what the period needs (such as the aDAU window before it) are ignored.
    pub usage: Vec<UsageDay>,
    /// For a draft: the time the preview is as of. `None`, or a time at or after the period end, means final.
    pub as_of: Option<OffsetDateTime>,
    /// The plans to price with.
    pub catalogue: &'a Catalogue,
}

/// One project's total of one pipeline meter on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDay {
    /// The project.
    pub project_id: String,
    /// The UTC day.
    pub day: Date,
    /// The pipeline meter name (`m2m_tokens`, `api_requests.oauth2`, ...); unknown names are ignored.
    pub meter: String,
    /// The day's count; for `daily_active_identities`, distinct identities.
    pub quantity: u64,
}

/// Whether an invoice can still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// A preview of a period in progress, assuming nothing else changes.
    Draft,
    /// The period is over; this is what is charged.
    Final,
}

/// The kind of an invoice line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    /// A plan's base fee for a segment.
    Base,
    /// One project's usage of one meter in a segment (or the aDAU window).
    Usage,
}

/// One priced line.
///
/// Base lines count seconds: `quantity` (and `billable`) is the segment's length, `unit_price` the monthly base
/// price per period seconds, and `amount_minor` is rounded half up.
/// Usage lines count meter units, with `amount_minor` rounded up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Base fee or usage.
    pub kind: LineKind,
    /// The plan the line is priced on.
    pub plan: String,
    /// The project, for usage lines.
    pub project_id: Option<String>,
    /// The billable meter, for usage lines.
    pub meter: Option<&'static str>,
    /// Start of what the line covers: the segment, or for aDAU the first day of the window.
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// End (exclusive) of what the line covers.
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Units measured (seconds for base lines).
    pub quantity: u64,
    /// Units covered by the base price.
    pub included: u64,
    /// Units beyond `included`.
    pub billable: u64,
    /// The price of billable units; `None` when they are not charged (hard-limited or unmetered meters).
    pub unit_price: Option<Price>,
    /// The line's charge in minor units.
    pub amount_minor: u64,
    /// The line for people.
    pub description: String,
}

/// A workspace's invoice for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// The workspace billed.
    pub workspace_id: String,
    /// The month billed, `YYYY-MM`.
    pub period: Period,
    /// First instant of the period.
    #[serde(with = "time::serde::rfc3339")]
    pub period_start: OffsetDateTime,
    /// First instant after the period.
    #[serde(with = "time::serde::rfc3339")]
    pub period_end: OffsetDateTime,
    /// Draft or final.
    pub status: InvoiceStatus,
    /// Lowercase ISO 4217 code of every amount.
    pub currency: String,
    /// Base lines in segment order, then usage lines by project, meter and segment.
    pub lines: Vec<Line>,
    /// Sum of the lines.
    pub subtotal_minor: u64,
    /// What is charged; equal to the subtotal until taxes or credits exist.
    pub total_minor: u64,
}

/// Computes a workspace's invoice for a period; see the crate documentation for the rules.
pub fn invoice(req: &InvoiceRequest<'_>) -> Result<Invoice, BillingError> {
    let period = req.period;
    let draft_as_of = match req.as_of {
        Some(as_of) => {
            let as_of = to_utc(as_of)?;
            if as_of < period.start() {
                return Err(BillingError::AsOfBeforePeriod { as_of: format!("{as_of}"), period: period.to_string() });
            }
            (as_of < period.end()).then_some(as_of)
        }
        None => None,
    };
    let no_plan =
        || BillingError::NoPlanInPeriod { workspace_id: req.workspace_id.clone(), period: period.to_string() };

    // A draft knows only the changes requested by its as-of time.
    let known: Vec<PlanChange> = match draft_as_of {
        Some(as_of) => req.plan_changes.iter().filter(|c| c.requested_at <= as_of).cloned().collect(),
        None => req.plan_changes.clone(),
    };
    if known.is_empty() && !req.plan_changes.is_empty() {
        return Err(no_plan());
    }
    let schedule = Schedule::build(&known, req.catalogue)?;
    let segments = schedule.segments(period);
    let plans = segments.iter().map(|s| req.catalogue.require(&s.plan_id)).collect::<Result<Vec<_>, _>>()?;
    let Some(&first_plan) = plans.first() else {
        return Err(no_plan());
    };
    if let Some(other) = plans.iter().find(|p| p.currency != first_plan.currency) {
        return Err(BillingError::MixedCurrency {
            first_plan: first_plan.id.clone(),
            first: first_plan.currency.clone(),
            second_plan: other.id.clone(),
            second: other.currency.clone(),
        });
    }

    let period_seconds = period.seconds();
    let mut lines = Vec::new();
    for (segment, plan) in segments.iter().zip(&plans) {
        lines.push(base_line(segment, plan, period_seconds));
    }

    // The last day usage counts from, and the instant whose plan prices aDAU.
    let (last_day, measured_at) = match draft_as_of {
        Some(as_of) => (as_of.date(), as_of),
        None => (period.last_day(), period.end() - Duration::SECOND),
    };
    let window_first = last_day
        .checked_sub(Duration::days(ADAU_WINDOW_DAYS - 1))
        .ok_or_else(|| BillingError::TimeOutOfRange { time: format!("{last_day} - 29 days") })?;
    let usage = Aggregates::collect(&req.usage, period, last_day, window_first, &segments);

    let adau_segment = segment_at(&segments, measured_at);
    let window = (midnight_utc(window_first), midnight_utc(last_day) + Duration::DAY);
    for project in usage.projects() {
        if let Some(days) = usage.active.get(project) {
            let sum: u128 = days.values().map(|q| u128::from(*q)).sum();
            let quantity = daily_average(sum, ADAU_WINDOW_DAYS as u64);
            if quantity > 0 {
                let plan = plans[adau_segment];
                let terms = plan.terms(BillableMeter::ActiveIdentities);
                lines.push(usage_line(
                    project,
                    BillableMeter::ActiveIdentities,
                    plan,
                    window,
                    quantity,
                    terms.included,
                )?);
            }
        }
        for meter in [BillableMeter::M2mTokens, BillableMeter::PermissionChecks, BillableMeter::ApiRequests] {
            for (index, (segment, plan)) in segments.iter().zip(&plans).enumerate() {
                let quantity = usage.summed.get(&(project.to_owned(), meter, index)).copied().unwrap_or(0);
                if quantity == 0 {
                    continue;
                }
                let included = prorate_floor(plan.terms(meter).included, segment.seconds(), period_seconds);
                lines.push(usage_line(project, meter, plan, (segment.from, segment.to), quantity, included)?);
            }
        }
    }

    let mut subtotal = 0;
    for line in &lines {
        subtotal = add(subtotal, line.amount_minor, "the invoice subtotal")?;
    }
    Ok(Invoice {
        workspace_id: req.workspace_id.clone(),
        period,
        period_start: period.start(),
        period_end: period.end(),
        status: if draft_as_of.is_some() { InvoiceStatus::Draft } else { InvoiceStatus::Final },
        currency: first_plan.currency.clone(),
        lines,
        subtotal_minor: subtotal,
        total_minor: subtotal,
    })
}

/// The usage the invoice needs, grouped.
struct Aggregates {
    /// Summed meters by (project, meter, segment index); saturating at `u64::MAX`.
    summed: BTreeMap<(String, BillableMeter, usize), u64>,
    /// Daily distinct identities in the aDAU window, by project and day.
    active: BTreeMap<String, BTreeMap<Date, u64>>,
}

impl Aggregates {
    /// Keeps the usage the invoice needs: summed meters on period days up to `last_day`, each under the segment
    /// in effect at the end of its day, and active identities in the window ending on `last_day`.
    ///
    /// Repeated rows add up for summed meters (the pipeline may split a day); for active identities the largest
    /// wins, since distinct counts cannot be added and a repeat can only be a redelivery.
    fn collect(usage: &[UsageDay], period: Period, last_day: Date, window_first: Date, segments: &[Segment]) -> Self {
        let mut summed: BTreeMap<(String, BillableMeter, usize), u64> = BTreeMap::new();
        let mut active: BTreeMap<String, BTreeMap<Date, u64>> = BTreeMap::new();
        for row in usage {
            let in_window = window_first <= row.day && row.day <= last_day;
            let in_period = period.contains_day(row.day) && row.day <= last_day;
            match BillableMeter::of(&row.meter) {
                Some(BillableMeter::ActiveIdentities) if in_window => {
                    let day = active.entry(row.project_id.clone()).or_default().entry(row.day).or_insert(0);
                    *day = (*day).max(row.quantity);
                }
                Some(meter) if meter != BillableMeter::ActiveIdentities && in_period => {
                    let end_of_day = midnight_utc(row.day) + (Duration::DAY - Duration::SECOND);
                    let key = (row.project_id.clone(), meter, segment_at(segments, end_of_day));
                    let total = summed.entry(key).or_insert(0);
                    *total = total.saturating_add(row.quantity);
                }
                _ => {}
            }
        }
        Aggregates { summed, active }
    }

    /// Every project with usage, in id order.
    fn projects(&self) -> BTreeSet<&str> {
        self.summed.keys().map(|(p, _, _)| p.as_str()).chain(self.active.keys().map(String::as_str)).collect()
    }
}

/// The index of the segment in effect at `at`: the first for times before the workspace existed (usage cannot
/// vanish), the last for times after the period.
fn segment_at(segments: &[Segment], at: OffsetDateTime) -> usize {
    segments.iter().rposition(|s| s.from <= at).unwrap_or(0)
}

fn base_line(segment: &Segment, plan: &Plan, period_seconds: i64) -> Line {
    let seconds = segment.seconds();
    let quantity = u64::try_from(seconds).unwrap_or(0);
    let amount = prorate_half_up(plan.base_price_minor, seconds, period_seconds);
    Line {
        kind: LineKind::Base,
        plan: plan.id.clone(),
        project_id: None,
        meter: None,
        from: segment.from,
        to: segment.to,
        quantity,
        included: 0,
        billable: quantity,
        unit_price: Some(Price {
            amount_minor: plan.base_price_minor,
            per: u64::try_from(period_seconds).unwrap_or(0),
        }),
        amount_minor: amount,
        description: if seconds == period_seconds {
            format!("{} plan base fee for the month", plan.display_name)
        } else {
            format!(
                "{} plan base fee of {} per month, prorated for {quantity} of {period_seconds} seconds",
                plan.display_name, plan.base_price_minor
            )
        },
    }
}

fn usage_line(
    project: &str,
    meter: BillableMeter,
    plan: &Plan,
    (from, to): (OffsetDateTime, OffsetDateTime),
    quantity: u64,
    included: u64,
) -> Result<Line, BillingError> {
    let billable = quantity.saturating_sub(included);
    let terms = plan.terms(meter);
    let what = format!("{project} {meter} on {}", plan.id);
    // aDAU is an average over a window of days, which the description names (inclusive).
    let window = if meter == BillableMeter::ActiveIdentities {
        format!(" over {} to {}", from.date(), (to - Duration::DAY).date())
    } else {
        String::new()
    };
    let amount = match terms.overage {
        Some(price) => charge(billable, price, &what)?,
        None => 0,
    };
    let pricing = match (terms.overage, terms.hard_limit) {
        (Some(p), _) => format!(" at {} per {}", p.amount_minor, p.per),
        (None, Some(limit)) => format!(", not charged (hard limit {limit})"),
        (None, None) => ", not charged".to_owned(),
    };
    Ok(Line {
        kind: LineKind::Usage,
        plan: plan.id.clone(),
        project_id: Some(project.to_owned()),
        meter: Some(meter.as_str()),
        from,
        to,
        quantity,
        included,
        billable,
        unit_price: terms.overage,
        amount_minor: amount,
        description: format!(
            "{project}: {quantity} {}{window}, {included} included, {billable} billable{pricing}",
            meter.label()
        ),
    })
}

#[cfg(test)]
mod tests;
