//! Usage reports, invoices and plan changes for a workspace, and the billing housekeeping pass.
//!
//! Invoices are computed by `tessera-billing` from the aggregates, deterministically; a closed period's
//! invoice is frozen once `finalize_after` has passed since the month ended (so usage still waiting in a
//! region's outbox arrives first) and served from the frozen copy from then on.

use serde_json::Value;
use tessera_billing::{Invoice, InvoiceRequest, Period, PlanChange, Schedule, UsageDay, invoice};
use tessera_platform::ids::{ProjectId, WorkspaceId};
use time::{Date, OffsetDateTime};

use super::ControlPlane;
use super::usage::measured;
use crate::auth::{Actor, not_found_workspace};
use crate::error::{Error, Result};
use crate::model::Workspace;
use crate::store::{StoreError, UsageEventRow, UsageScope};

/// The longest range one usage report covers.
pub const MAX_REPORT_DAYS: i64 = 366;
/// Most invoices one page lists.
pub const MAX_INVOICE_PAGE: usize = 100;

/// One meter's days for one project.
#[derive(Debug, Clone)]
pub struct MeterUsage {
    pub meter: String,
    pub total: u64,
    pub days: Vec<DayUsage>,
}

/// One day's quantity.
#[derive(Debug, Clone)]
pub struct DayUsage {
    pub day: String,
    pub quantity: u64,
}

/// One project's usage in a report.
#[derive(Debug, Clone)]
pub struct ProjectUsage {
    pub project_id: ProjectId,
    pub slug: String,
    /// Average daily active identities over the 30 days ending on the report's last day, rounded up.
    pub adau: u64,
    pub meters: Vec<MeterUsage>,
}

/// A workspace's usage between two days (inclusive), per project, meter and day.
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub workspace_id: WorkspaceId,
    pub from: String,
    pub to: String,
    pub projects: Vec<ProjectUsage>,
    /// Quota events of the workspace (80 % and 100 % of hard limits), newest first.
    pub events: Vec<UsageEventRow>,
}

/// Past invoices (newest first, a page at a time) and the current month's draft.
#[derive(Debug, Clone)]
pub struct InvoiceList {
    pub invoices: Vec<Value>,
    pub draft: Value,
    /// Pass as `page_token` for older invoices; absent on the last page.
    pub next_page_token: Option<String>,
}

fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn billing_error(e: tessera_billing::BillingError) -> Error {
    Error::Invalid(e.to_string())
}

impl ControlPlane {
    /// A workspace's usage per project, meter and day for `from..=to` (default: this month to today).
    pub async fn usage_report(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<UsageReport> {
        self.workspace_checked(actor, workspace).await?;
        let today = self.clock.now().date();
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| to.replace_day(1).unwrap_or(to));
        if from > to {
            return Err(Error::Invalid("`from` must not be after `to`.".into()));
        }
        if (to - from).whole_days() >= MAX_REPORT_DAYS {
            return Err(Error::Invalid(format!("A report covers at most {MAX_REPORT_DAYS} days.")));
        }
        let projects = self.store.usage_projects(workspace).await?;
        let window = (to - time::Duration::days(tessera_billing::ADAU_WINDOW_DAYS - 1)).min(from);
        let rows = self.store.usage_daily(UsageScope::Workspace(workspace), window, to).await?;
        let period = Period::containing(to.midnight().assume_utc()).map_err(billing_error)?;
        let mut out = Vec::new();
        for (id, slug) in projects {
            let mine: Vec<_> = rows.iter().filter(|r| r.project_id == id).cloned().collect();
            let adau = measured(&mine, tessera_billing::BillableMeter::ActiveIdentities, period, to);
            let mut meters: Vec<MeterUsage> = Vec::new();
            for r in mine.iter().filter(|r| r.day >= from) {
                let quantity = u64::try_from(r.quantity).unwrap_or(0);
                let slot = match meters.iter_mut().position(|m| m.meter == r.meter) {
                    Some(i) => &mut meters[i],
                    None => {
                        meters.push(MeterUsage { meter: r.meter.clone(), total: 0, days: Vec::new() });
                        meters.last_mut().expect("just pushed")
                    }
                };
                slot.total = slot.total.saturating_add(quantity);
                slot.days.push(DayUsage { day: day_text(r.day), quantity });
            }
            meters.sort_by(|a, b| a.meter.cmp(&b.meter));
            if meters.is_empty() && adau == 0 {
                continue;
            }
            out.push(ProjectUsage { project_id: id, slug, adau, meters });
        }
        let events = self.store.usage_events(workspace, 100).await?;
        Ok(UsageReport { workspace_id: workspace, from: day_text(from), to: day_text(to), projects: out, events })
    }

    /// Frozen invoices, newest first, `page_size` at a time before `page_token` (a period), and this month's
    /// draft.
    pub async fn invoice_list(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        page_size: Option<usize>,
        page_token: Option<&str>,
    ) -> Result<InvoiceList> {
        self.workspace_checked(actor, workspace).await?;
        let size = page_size.unwrap_or(12).clamp(1, MAX_INVOICE_PAGE);
        let before = page_token
            .map(|t| t.parse::<Period>().map_err(|_| Error::Invalid("`page_token` is not a period token.".into())))
            .transpose()?;
        let rows = self.store.invoices(workspace).await?;
        let mut page: Vec<_> =
            rows.into_iter().filter(|r| before.is_none_or(|b| r.period < b.to_string())).take(size + 1).collect();
        let next_page_token = (page.len() > size).then(|| page[size - 1].period.clone());
        page.truncate(size);
        let invoices = page
            .into_iter()
            .map(|r| serde_json::from_str(&r.body).map_err(|e| Error::Store(crate::store::corrupt("invoices.body", e))))
            .collect::<Result<Vec<Value>>>()?;
        let now = self.clock.now();
        let draft = self.invoice_compute(workspace, self.current_period()?, Some(now)).await?;
        let draft = serde_json::to_value(&draft).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(InvoiceList { invoices, draft, next_page_token })
    }

    /// Computes a workspace's invoice for `period` from the aggregates; a draft when `as_of` is inside it.
    pub async fn invoice_compute(
        &self,
        workspace: WorkspaceId,
        period: Period,
        as_of: Option<OffsetDateTime>,
    ) -> Result<Invoice> {
        let changes = self.plan_history(workspace).await?;
        let from = period.first_day() - time::Duration::days(tessera_billing::ADAU_WINDOW_DAYS);
        let rows = self.store.usage_daily(UsageScope::Workspace(workspace), from, period.last_day()).await?;
        let usage = rows
            .into_iter()
            .map(|r| UsageDay {
                project_id: r.project_id.to_string(),
                day: r.day,
                meter: r.meter,
                quantity: u64::try_from(r.quantity).unwrap_or(0),
            })
            .collect();
        invoice(&InvoiceRequest {
            workspace_id: workspace.to_string(),
            period,
            plan_changes: changes,
            usage,
            as_of,
            catalogue: &self.settings.catalogue,
        })
        .map_err(billing_error)
    }

    /// Asks for a plan: an upgrade applies at once (and lifts quota blocks), a downgrade at the next period.
    pub async fn subscription_set(&self, actor: &Actor, workspace: WorkspaceId, plan: &str) -> Result<Workspace> {
        let current = self.workspace_checked(actor, workspace).await?;
        let catalogue = &self.settings.catalogue;
        let wanted = catalogue.get(plan).ok_or_else(|| {
            let ids: Vec<&str> = catalogue.plans().iter().map(|p| p.id.as_str()).collect();
            Error::Invalid(format!("`{plan}` is not a plan; plans are: {}.", ids.join(", ")))
        })?;
        let now = self.clock.now();
        let effective = match catalogue.get(&current.subscription_plan) {
            Some(cur) if !wanted.is_upgrade_from(cur) => current.subscription_plan.clone(),
            _ => wanted.id.clone(),
        };
        let projects = self.store.usage_live_projects(workspace).await?;
        let next = self.current_period()?.next().map_err(billing_error)?.to_string();
        let mut tx = self.store.begin().await?;
        match self.store.plan_change_in_tx(&mut tx, workspace, &wanted.id, &effective, now).await {
            Err(StoreError::Duplicate) => {
                return Err(Error::Conflict(
                    "Another plan change of this workspace was made at the same instant; retry.".into(),
                ));
            }
            other => other?,
        }
        let mut seqs = Vec::new();
        if effective != current.subscription_plan {
            for p in &projects {
                self.store.quota_blocks_lift_in_tx(&mut tx, *p, &next).await?;
                seqs.push(self.publish_in_tx(&mut tx, *p).await?);
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        if let Some(seq) = seqs.into_iter().max() {
            self.announce(seq);
        }
        tracing::info!(workspace = %workspace, requested = %wanted.id, effective = %effective, "plan change");
        for p in projects {
            if let Err(e) = self.quota_evaluate(p).await {
                tracing::warn!(project = %p, error = %e, "quota evaluation after a plan change failed");
            }
        }
        self.store.workspace_get(workspace).await?.ok_or_else(|| not_found_workspace(workspace))
    }

    /// Periodic billing work, idempotent: downgrades whose period came take effect, blocks of ended periods are
    /// lifted, and closed periods' invoices are frozen. Returns how many changes it made.
    pub async fn billing_tick(&self) -> Result<usize> {
        let now = self.clock.now();
        let period = self.current_period()?;
        let mut changed = 0;
        for project in self.store.quota_blocks_stale(&period.to_string()).await? {
            let mut tx = self.store.begin().await?;
            self.store.quota_blocks_lift_in_tx(&mut tx, project, &period.to_string()).await?;
            let seq = self.publish_in_tx(&mut tx, project).await?;
            tx.commit().await.map_err(StoreError::from)?;
            self.announce(seq);
            changed += 1;
        }
        for workspace in self.store.workspace_ids().await? {
            changed += self.billing_tick_workspace(workspace, period, now).await?;
        }
        Ok(changed)
    }

    async fn billing_tick_workspace(
        &self,
        workspace: WorkspaceId,
        period: Period,
        now: OffsetDateTime,
    ) -> Result<usize> {
        let mut changed = 0;
        let history = self.plan_history(workspace).await?;
        if history.is_empty() {
            return Ok(0);
        }
        let schedule = Schedule::build(&history, &self.settings.catalogue).map_err(billing_error)?;
        if let Some(plan) = schedule.plan_at(now).map(str::to_owned) {
            let projects = self.store.usage_live_projects(workspace).await?;
            let mut tx = self.store.begin().await?;
            if self.store.workspace_set_plan_in_tx(&mut tx, workspace, &plan).await? {
                let mut last = 0;
                for p in projects {
                    last = self.publish_in_tx(&mut tx, p).await?;
                }
                tx.commit().await.map_err(StoreError::from)?;
                self.announce(last);
                tracing::info!(workspace = %workspace, plan = %plan, "scheduled plan change took effect");
                changed += 1;
            }
        }
        // Freeze every closed period since the workspace began that has no frozen invoice yet.
        let first = history.iter().map(|c| c.requested_at).min().unwrap_or(now);
        let mut p = Period::containing(first).map_err(billing_error)?;
        let frozen: Vec<String> = self.store.invoices(workspace).await?.into_iter().map(|r| r.period).collect();
        while p < period {
            if p.end() + self.settings.finalize_after <= now && !frozen.contains(&p.to_string()) {
                let inv = self.invoice_compute(workspace, p, None).await?;
                let body = serde_json::to_string(&inv).map_err(|e| Error::Invalid(e.to_string()))?;
                let total = i64::try_from(inv.total_minor).unwrap_or(i64::MAX);
                self.store.invoice_store(workspace, &p.to_string(), &inv.currency, total, &body, now).await?;
                changed += 1;
            }
            p = p.next().map_err(billing_error)?;
        }
        Ok(changed)
    }

    /// Every plan the workspace asked for, as billing reads it.
    async fn plan_history(&self, workspace: WorkspaceId) -> Result<Vec<PlanChange>> {
        let rows = self.store.plan_changes(workspace).await?;
        Ok(rows.into_iter().map(|(requested_at, plan)| PlanChange { requested_at, plan }).collect())
    }

    async fn workspace_checked(&self, actor: &Actor, workspace: WorkspaceId) -> Result<Workspace> {
        actor.require_workspace(workspace)?;
        self.store.workspace_get(workspace).await?.ok_or_else(|| not_found_workspace(workspace))
    }
}
