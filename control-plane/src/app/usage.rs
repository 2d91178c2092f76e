//! Usage ingestion from regions, exactly once, and the quotas it drives.
//!
//! A region uploads batches it flushed; each batch id is applied at most once (the store inserts the id and
//! the aggregates in one transaction), and the answer lists every id that is now applied, so the region can
//! forget them. Quotas are evaluated from the aggregates after each upload: the evaluation is by level, not by
//! delta, so it is idempotent and a missed evaluation (a crash right after the commit) is made up by the next.

use std::collections::BTreeSet;

use tessera_billing::{ADAU_WINDOW_DAYS, BillableMeter, Plan, QuotaLevel, daily_average, quota_level};
use tessera_directory::{MAX_USAGE_BATCHES, UsageAck, UsageUpload};
use tessera_platform::ids::ProjectId;
use tessera_platform::usage::{MAX_IDENTITY_KEY, UsageDelta};

use super::ControlPlane;
use crate::error::{Error, Result};
use crate::store::{BatchOutcome, DailyUsageRow, UsageScope};

/// Longest meter name a batch may carry.
const MAX_METER_NAME: usize = 64;

fn validate(usage: &UsageDelta) -> Result<()> {
    if let Some(c) = usage.counts.iter().find(|c| c.meter.is_empty() || c.meter.len() > MAX_METER_NAME) {
        return Err(Error::Invalid(format!("The meter name `{}` is empty or longer than {MAX_METER_NAME}.", c.meter)));
    }
    let too_long = usage.identities.iter().flat_map(|s| &s.identities).any(|i| i.len() > MAX_IDENTITY_KEY);
    if too_long {
        return Err(Error::Invalid(format!("An identity key is longer than {MAX_IDENTITY_KEY} bytes.")));
    }
    Ok(())
}

/// Usage of one hard-limited meter as quotas measure it: the month to date for summed meters, the trailing
/// 30-day average (rounded up) for active identities, as billing measures aDAU.
pub(crate) fn measured(
    rows: &[DailyUsageRow],
    meter: BillableMeter,
    period: tessera_billing::Period,
    today: time::Date,
) -> u64 {
    let window_start = today - time::Duration::days(ADAU_WINDOW_DAYS - 1);
    let mut sum: u64 = 0;
    for r in rows {
        if BillableMeter::of(&r.meter) != Some(meter) {
            continue;
        }
        let counted = match meter {
            BillableMeter::ActiveIdentities => r.day >= window_start && r.day <= today,
            _ => period.contains_day(r.day),
        };
        if counted {
            sum = sum.saturating_add(u64::try_from(r.quantity).unwrap_or(0));
        }
    }
    match meter {
        BillableMeter::ActiveIdentities => daily_average(u128::from(sum), ADAU_WINDOW_DAYS as u64),
        _ => sum,
    }
}

impl ControlPlane {
    /// Applies an upload from `region`: each batch exactly once; the acknowledgement names every batch that is
    /// now applied (by this upload or an earlier one).
    pub async fn usage_ingest(&self, region: &str, upload: UsageUpload) -> Result<UsageAck> {
        if upload.batches.len() > MAX_USAGE_BATCHES {
            return Err(Error::Invalid(format!("An upload carries at most {MAX_USAGE_BATCHES} batches.")));
        }
        for b in &upload.batches {
            validate(&b.usage)?;
        }
        let mut ack = UsageAck { applied: Vec::new(), duplicates: Vec::new() };
        let mut touched = BTreeSet::new();
        for b in upload.batches {
            match self.store.usage_apply_batch(b.id, region, &b.usage, self.clock.now()).await? {
                BatchOutcome::Applied { projects } => {
                    ack.applied.push(b.id);
                    touched.extend(projects);
                }
                BatchOutcome::Duplicate => ack.duplicates.push(b.id),
            }
        }
        tracing::debug!(region, applied = ack.applied.len(), duplicates = ack.duplicates.len(), "usage batches");
        for project in touched {
            if let Err(e) = self.quota_evaluate(project).await {
                tracing::warn!(project = %project, error = %e, "quota evaluation failed; the next upload retries it");
            }
        }
        Ok(ack)
    }

    /// Records quota events and blocks for one project from its aggregates.
    pub(crate) async fn quota_evaluate(&self, project: ProjectId) -> Result<()> {
        let Some((workspace, plan_id)) = self.store.usage_project_plan(project).await? else { return Ok(()) };
        let Some(plan) = self.settings.catalogue.get(&plan_id) else { return Ok(()) };
        let limited: Vec<BillableMeter> =
            BillableMeter::ALL.into_iter().filter(|m| plan.terms(*m).hard_limit.is_some()).collect();
        if limited.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let today = now.date();
        let period = self.current_period()?;
        let from = period.first_day().min(today - time::Duration::days(ADAU_WINDOW_DAYS - 1));
        let rows = self.store.usage_daily(UsageScope::Project(project), from, today).await?;
        let period_text = period.to_string();
        for meter in limited {
            let used = measured(&rows, meter, period, today);
            self.quota_apply(workspace, project, plan, meter, used, &period_text).await?;
        }
        Ok(())
    }

    async fn quota_apply(
        &self,
        workspace: tessera_platform::ids::WorkspaceId,
        project: ProjectId,
        plan: &Plan,
        meter: BillableMeter,
        used: u64,
        period: &str,
    ) -> Result<()> {
        let limit = plan.terms(meter).hard_limit.unwrap_or(u64::MAX);
        let level = quota_level(plan, meter, used);
        let now = self.clock.now();
        for &t in level.thresholds() {
            if self.store.usage_event_record(workspace, project, period, meter.as_str(), t, used, limit, now).await? {
                tracing::info!(project = %project, meter = meter.as_str(), threshold = t, used, limit, "quota threshold reached");
            }
        }
        if level == QuotaLevel::Exceeded {
            let mut tx = self.store.begin().await?;
            if self.store.quota_block_in_tx(&mut tx, project, period, meter.as_str(), now).await? {
                let seq = self.publish_in_tx(&mut tx, project).await?;
                tx.commit().await.map_err(crate::store::StoreError::from)?;
                self.announce(seq);
                tracing::warn!(project = %project, meter = meter.as_str(), "hard limit reached; usage refused until the period ends or the plan changes");
            }
        }
        Ok(())
    }
}
