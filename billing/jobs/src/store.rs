//! All SQL of the billing jobs (`migrations/control-plane/*/0004_billing_jobs.sql`), on the control plane's
//! database.

use tessera_platform::db::{Database, DbError};
use tessera_platform::ids::WorkspaceId;
use tessera_platform::on_db;
use time::{Date, OffsetDateTime};

/// The jobs' bookkeeping.
#[derive(Debug, Clone)]
pub struct JobStore {
    db: Database,
}

impl JobStore {
    /// Wraps the control plane's migrated database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Days of a workspace already exported, from `from` on.
    pub async fn exported_days(&self, workspace: WorkspaceId, from: Date) -> Result<Vec<Date>, DbError> {
        let days: Vec<Date> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT day FROM usage_exports WHERE workspace_id = $1 AND day >= $2 ORDER BY day")
                .bind(workspace)
                .bind(from)
                .fetch_all(pool)
                .await?
        });
        Ok(days)
    }

    /// Records an export (after its manifest was written); a second record of the same day is ignored.
    pub async fn export_record(
        &self,
        workspace: WorkspaceId,
        day: Date,
        manifest: &str,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO usage_exports (workspace_id, day, manifest, exported_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workspace_id, day) DO NOTHING",
            )
            .bind(workspace)
            .bind(day)
            .bind(manifest)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The manifest written for a workspace's day, if exported.
    pub async fn export_manifest(&self, workspace: WorkspaceId, day: Date) -> Result<Option<String>, DbError> {
        let m: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT manifest FROM usage_exports WHERE workspace_id = $1 AND day = $2")
                .bind(workspace)
                .bind(day)
                .fetch_optional(pool)
                .await?
        });
        Ok(m)
    }

    /// A workspace's Stripe customer id, once created.
    pub async fn stripe_customer(&self, workspace: WorkspaceId) -> Result<Option<String>, DbError> {
        let c: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT customer_id FROM stripe_accounts WHERE workspace_id = $1")
                .bind(workspace)
                .fetch_optional(pool)
                .await?
        });
        Ok(c)
    }

    /// Remembers a workspace's customer (the first writer wins; the customer is found by metadata anyway).
    pub async fn stripe_customer_record(
        &self,
        workspace: WorkspaceId,
        customer: &str,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO stripe_accounts (workspace_id, customer_id, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (workspace_id) DO NOTHING",
            )
            .bind(workspace)
            .bind(customer)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Remembers the subscription and the plan it is on.
    pub async fn stripe_subscription_record(
        &self,
        workspace: WorkspaceId,
        subscription: &str,
        plan: &str,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_db!(&self.db, pool => {
            sqlx::query("UPDATE stripe_accounts SET subscription = $2, plan = $3, updated_at = $4 WHERE workspace_id = $1")
                .bind(workspace)
                .bind(subscription)
                .bind(plan)
                .bind(at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The running total last acknowledged by Stripe for a workspace, period and meter.
    pub async fn stripe_reported(
        &self,
        workspace: WorkspaceId,
        period: &str,
        meter: &str,
    ) -> Result<Option<u64>, DbError> {
        let q: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT quantity FROM stripe_usage_reports WHERE workspace_id = $1 AND period = $2 AND meter = $3")
                .bind(workspace)
                .bind(period)
                .bind(meter)
                .fetch_optional(pool)
                .await?
        });
        Ok(q.map(|q| u64::try_from(q).unwrap_or(0)))
    }

    /// Records a running total Stripe acknowledged.
    pub async fn stripe_reported_record(
        &self,
        workspace: WorkspaceId,
        period: &str,
        meter: &str,
        quantity: u64,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO stripe_usage_reports (workspace_id, period, meter, quantity, reported_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (workspace_id, period, meter) DO UPDATE SET quantity = excluded.quantity, reported_at = excluded.reported_at",
            )
            .bind(workspace)
            .bind(period)
            .bind(meter)
            .bind(i64::try_from(quantity).unwrap_or(i64::MAX))
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Periods of a workspace already reconciled.
    pub async fn stripe_reconciled_periods(&self, workspace: WorkspaceId) -> Result<Vec<String>, DbError> {
        let p: Vec<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT period FROM stripe_reconciliations WHERE workspace_id = $1 ORDER BY period")
                .bind(workspace)
                .fetch_all(pool)
                .await?
        });
        Ok(p)
    }

    /// Records a reconciliation outcome.
    pub async fn stripe_reconciliation_record(
        &self,
        workspace: WorkspaceId,
        period: &str,
        outcome: &str,
        detail: &str,
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO stripe_reconciliations (workspace_id, period, outcome, detail, checked_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (workspace_id, period) DO NOTHING",
            )
            .bind(workspace)
            .bind(period)
            .bind(outcome)
            .bind(detail)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A reconciliation outcome, for tests and operators.
    pub async fn stripe_reconciliation(&self, workspace: WorkspaceId, period: &str) -> Result<Option<String>, DbError> {
        let o: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT outcome FROM stripe_reconciliations WHERE workspace_id = $1 AND period = $2")
                .bind(workspace)
                .bind(period)
                .fetch_optional(pool)
                .await?
        });
        Ok(o)
    }
}
