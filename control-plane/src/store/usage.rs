use sqlx::FromRow;
use tessera_platform::ids::{ProjectId, WorkspaceId};
use tessera_platform::usage::UsageDelta;
use tessera_platform::{on_db, on_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Store, StoreError};

/// Whose usage a read covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageScope {
    /// One project.
    Project(ProjectId),
    /// Every project a workspace ever had (deleted ones too: their usage before the purge is still billed).
    Workspace(WorkspaceId),
}

impl UsageScope {
    fn filter(self) -> &'static str {
        match self {
            UsageScope::Project(_) => "project_id = $1",
            UsageScope::Workspace(_) => "project_id IN (SELECT id FROM projects WHERE workspace_id = $1)",
        }
    }

    fn id(self) -> uuid::Uuid {
        match self {
            UsageScope::Project(p) => p.0,
            UsageScope::Workspace(w) => w.0,
        }
    }
}

/// What applying a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Applied now; the projects it touched.
    Applied { projects: Vec<ProjectId> },
    /// The batch id was applied before; nothing changed.
    Duplicate,
}

/// One row of a workspace's daily usage.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DailyUsageRow {
    pub project_id: ProjectId,
    pub day: Date,
    pub meter: String,
    pub quantity: i64,
}

/// One raw aggregate of a day, for exports.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RegionalUsageRow {
    pub project_id: ProjectId,
    pub meter: String,
    pub region: Option<String>,
    pub quantity: i64,
}

/// A quota event: a project reached 80 % or 100 % of a hard limit in a period.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UsageEventRow {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub period: String,
    pub meter: String,
    pub threshold: i32,
    pub used: i64,
    pub quota: i64,
    pub created_at: OffsetDateTime,
}

/// A frozen invoice.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InvoiceRow {
    pub period: String,
    pub body: String,
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Applies a region's usage batch exactly once: the batch id row and the aggregates commit together, and a
    /// batch id seen before changes nothing.
    pub async fn usage_apply_batch(
        &self,
        id: Uuid,
        region: &str,
        usage: &UsageDelta,
        at: OffsetDateTime,
    ) -> Result<BatchOutcome, StoreError> {
        let mut tx = self.begin().await?;
        let fresh = on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO usage_batches (batch_id, region, events, applied_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (batch_id) DO NOTHING",
            )
            .bind(id)
            .bind(region)
            .bind(clamp(usage.events()))
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
                == 1
        });
        if !fresh {
            return Ok(BatchOutcome::Duplicate);
        }
        on_tx!(&mut tx, conn => {
            for c in &usage.counts {
                sqlx::query(
                    "INSERT INTO usage_daily (project_id, day, meter, region, quantity) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (project_id, day, meter, region) DO UPDATE SET quantity = usage_daily.quantity + excluded.quantity",
                )
                .bind(c.project_id)
                .bind(c.day)
                .bind(&c.meter)
                .bind(region)
                .bind(clamp(c.quantity))
                .execute(&mut *conn)
                .await?;
            }
            for set in &usage.identities {
                for identity in &set.identities {
                    sqlx::query(
                        "INSERT INTO usage_identities (project_id, day, identity) VALUES ($1, $2, $3) \
                         ON CONFLICT (project_id, day, identity) DO NOTHING",
                    )
                    .bind(set.project_id)
                    .bind(set.day)
                    .bind(identity)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        });
        tx.commit().await?;
        let mut projects: Vec<ProjectId> =
            usage.counts.iter().map(|c| c.project_id).chain(usage.identities.iter().map(|i| i.project_id)).collect();
        projects.sort_unstable();
        projects.dedup();
        Ok(BatchOutcome::Applied { projects })
    }

    /// Summed meters for days in `from..=to`, all regions together, plus the `daily_active_identities` meter
    /// counted from the identity sets; one query whatever the scope; ordered by project, day, meter.
    pub async fn usage_daily(&self, scope: UsageScope, from: Date, to: Date) -> Result<Vec<DailyUsageRow>, StoreError> {
        let filter = scope.filter();
        let sql = format!(
            "SELECT project_id, day, meter, CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_daily \
             WHERE {filter} AND day >= $2 AND day <= $3 GROUP BY project_id, day, meter \
             UNION ALL \
             SELECT project_id, day, 'daily_active_identities' AS meter, COUNT(*) AS quantity FROM usage_identities \
             WHERE {filter} AND day >= $2 AND day <= $3 GROUP BY project_id, day \
             ORDER BY project_id, day, meter"
        );
        let rows: Vec<DailyUsageRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(scope.id()).bind(from).bind(to).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Every project a workspace ever had (deleted ones too: their usage before the purge is still billed),
    /// as `(id, slug)` in id order.
    pub async fn usage_projects(&self, workspace: WorkspaceId) -> Result<Vec<(ProjectId, String)>, StoreError> {
        let rows: Vec<(ProjectId, String)> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, slug FROM projects WHERE workspace_id = $1 ORDER BY id")
                .bind(workspace)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// A project's workspace and that workspace's effective plan; `None` for a project this control plane
    /// does not know.
    pub async fn usage_project_plan(&self, project: ProjectId) -> Result<Option<(WorkspaceId, String)>, StoreError> {
        let row: Option<(WorkspaceId, String)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT w.id, w.subscription_plan FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = $1",
            )
            .bind(project)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// A workspace's projects that are not deleted, for republishing after a plan change.
    pub async fn usage_live_projects(&self, workspace: WorkspaceId) -> Result<Vec<ProjectId>, StoreError> {
        let ids: Vec<ProjectId> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM projects WHERE workspace_id = $1 AND state <> 'deleted' ORDER BY id")
                .bind(workspace)
                .fetch_all(pool)
                .await?
        });
        Ok(ids)
    }

    /// The raw aggregates of one day: summed meters per region, and the distinct identity count (region `None`:
    /// the set is merged across regions); ordered by project, meter, region.
    pub async fn usage_day_by_region(&self, scope: UsageScope, day: Date) -> Result<Vec<RegionalUsageRow>, StoreError> {
        let filter = scope.filter();
        let sql = format!(
            "SELECT project_id, meter, region, quantity FROM usage_daily WHERE {filter} AND day = $2 \
             UNION ALL \
             SELECT project_id, 'daily_active_identities' AS meter, NULL AS region, COUNT(*) AS quantity \
             FROM usage_identities WHERE {filter} AND day = $2 GROUP BY project_id \
             ORDER BY project_id, meter, region"
        );
        let rows: Vec<RegionalUsageRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(scope.id()).bind(day).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Batches applied and the events they held, for metrics and tests.
    pub async fn usage_batches_applied(&self) -> Result<(i64, i64), StoreError> {
        let (n, events): (i64, Option<i64>) = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT COUNT(*), CAST(SUM(events) AS BIGINT) FROM usage_batches").fetch_one(pool).await?
        });
        Ok((n, events.unwrap_or(0)))
    }

    /// Records a quota event once per project, period, meter and threshold; true when it is new.
    #[allow(clippy::too_many_arguments)]
    pub async fn usage_event_record(
        &self,
        workspace: WorkspaceId,
        project: ProjectId,
        period: &str,
        meter: &str,
        threshold: u8,
        used: u64,
        quota: u64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO usage_events (id, workspace_id, project_id, period, meter, threshold, used, quota, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (project_id, period, meter, threshold) DO NOTHING",
            )
            .bind(Uuid::now_v7())
            .bind(workspace)
            .bind(project)
            .bind(period)
            .bind(meter)
            .bind(i32::from(threshold))
            .bind(clamp(used))
            .bind(clamp(quota))
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// A workspace's quota events, newest first.
    pub async fn usage_events(&self, workspace: WorkspaceId, limit: i64) -> Result<Vec<UsageEventRow>, StoreError> {
        let rows: Vec<UsageEventRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, project_id, period, meter, threshold, used, quota, created_at FROM usage_events \
                 WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(workspace)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Blocks `meter` for `project` for the rest of `period`; true when the block is new.
    pub async fn quota_block_in_tx(
        &self,
        tx: &mut tessera_platform::db::Transaction,
        project: ProjectId,
        period: &str,
        meter: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO quota_blocks (project_id, period, meter, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (project_id, period, meter) DO NOTHING",
            )
            .bind(project)
            .bind(period)
            .bind(meter)
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Projects with blocks from periods before `period` (they must be lifted and republished).
    pub async fn quota_blocks_stale(&self, period: &str) -> Result<Vec<ProjectId>, StoreError> {
        let ids: Vec<ProjectId> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT DISTINCT project_id FROM quota_blocks WHERE period < $1 ORDER BY project_id")
                .bind(period)
                .fetch_all(pool)
                .await?
        });
        Ok(ids)
    }

    /// Drops a project's blocks of periods before `period`, inside the transaction that republishes it.
    pub async fn quota_blocks_lift_in_tx(
        &self,
        tx: &mut tessera_platform::db::Transaction,
        project: ProjectId,
        period: &str,
    ) -> Result<(), StoreError> {
        on_tx!(tx, conn => {
            sqlx::query("DELETE FROM quota_blocks WHERE project_id = $1 AND period < $2")
                .bind(project)
                .bind(period)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// The plan history of a workspace, oldest first.
    pub async fn plan_changes(&self, workspace: WorkspaceId) -> Result<Vec<(OffsetDateTime, String)>, StoreError> {
        let rows: Vec<(OffsetDateTime, String)> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT requested_at, plan FROM plan_changes WHERE workspace_id = $1 ORDER BY requested_at")
                .bind(workspace)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Records a plan request and sets the workspace's effective plan, in `tx`.
    pub async fn plan_change_in_tx(
        &self,
        tx: &mut tessera_platform::db::Transaction,
        workspace: WorkspaceId,
        plan: &str,
        effective_plan: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_tx!(tx, conn => {
            sqlx::query("INSERT INTO plan_changes (workspace_id, requested_at, plan) VALUES ($1, $2, $3)")
                .bind(workspace)
                .bind(at)
                .bind(plan)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE workspaces SET subscription_plan = $2, updated_at = $3 WHERE id = $1")
                .bind(workspace)
                .bind(effective_plan)
                .bind(at)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// Sets a workspace's effective plan (a downgrade that reached its period), in `tx`.
    pub async fn workspace_set_plan_in_tx(
        &self,
        tx: &mut tessera_platform::db::Transaction,
        workspace: WorkspaceId,
        plan: &str,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(tx, conn => {
            sqlx::query("UPDATE workspaces SET subscription_plan = $2 WHERE id = $1 AND subscription_plan <> $2")
                .bind(workspace)
                .bind(plan)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Every workspace id, for the billing housekeeping pass.
    pub async fn workspace_ids(&self) -> Result<Vec<WorkspaceId>, StoreError> {
        let ids: Vec<WorkspaceId> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM workspaces ORDER BY id").fetch_all(pool).await?
        });
        Ok(ids)
    }

    /// Freezes a final invoice; an invoice already frozen for the period is kept (first writer wins).
    pub async fn invoice_store(
        &self,
        workspace: WorkspaceId,
        period: &str,
        currency: &str,
        total_minor: i64,
        body: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO invoices (workspace_id, period, currency, total_minor, body, finalized_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, period) DO NOTHING",
            )
            .bind(workspace)
            .bind(period)
            .bind(currency)
            .bind(total_minor)
            .bind(body)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A workspace's frozen invoices, newest period first.
    pub async fn invoices(&self, workspace: WorkspaceId) -> Result<Vec<InvoiceRow>, StoreError> {
        let rows: Vec<InvoiceRow> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT period, body FROM invoices WHERE workspace_id = $1 ORDER BY period DESC")
                .bind(workspace)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}
