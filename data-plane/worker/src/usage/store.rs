//! All SQL of the usage outbox (`migrations/data-plane/*/0008_usage.sql`).

use sqlx::FromRow;
use tessera_platform::clock::db_time;
use tessera_platform::db::{Database, DbError};
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// The region's outbox of usage batches.
#[derive(Debug, Clone)]
pub struct OutboxStore {
    db: Database,
}

/// A batch waiting for the control plane's acknowledgement.
#[derive(Debug, Clone, FromRow)]
pub struct PendingBatch {
    pub id: Uuid,
    pub body: String,
}

/// What the outbox holds, for `/status`, metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxTotals {
    pub pending_batches: i64,
    pub pending_events: i64,
    pub acked_batches: i64,
    pub acked_events: i64,
}

impl OutboxStore {
    /// Wraps the region's migrated database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Writes one batch (one statement, so it is there entirely or not at all).
    pub async fn append(&self, id: Uuid, at: OffsetDateTime, events: u64, body: &str) -> Result<(), DbError> {
        let events = i64::try_from(events).unwrap_or(i64::MAX);
        on_db!(&self.db, pool => {
            sqlx::query("INSERT INTO usage_outbox (id, created_at, events, body) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(db_time(at))
                .bind(events)
                .bind(body)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Up to `limit` unacknowledged batches, oldest first (ids are UUIDv7, so id order is creation order).
    pub async fn pending(&self, limit: i64) -> Result<Vec<PendingBatch>, DbError> {
        let rows: Vec<PendingBatch> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, body FROM usage_outbox WHERE acked_at IS NULL ORDER BY id LIMIT $1")
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Marks batches acknowledged; acknowledging twice changes nothing.
    pub async fn acknowledge(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), DbError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        on_tx!(&mut tx, conn => {
            for id in ids {
                sqlx::query("UPDATE usage_outbox SET acked_at = $1 WHERE id = $2 AND acked_at IS NULL")
                    .bind(db_time(at))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        });
        tx.commit().await?;
        Ok(())
    }

    /// Forgets batches acknowledged before `before`; returns how many.
    pub async fn prune(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        let n = on_db!(&self.db, pool => {
            sqlx::query("DELETE FROM usage_outbox WHERE acked_at IS NOT NULL AND acked_at < $1")
                .bind(db_time(before))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Counts of pending and acknowledged batches and events.
    pub async fn totals(&self) -> Result<OutboxTotals, DbError> {
        let (pb, pe, ab, ae): (i64, Option<i64>, i64, Option<i64>) = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT \
                   COUNT(CASE WHEN acked_at IS NULL THEN 1 END), \
                   CAST(SUM(CASE WHEN acked_at IS NULL THEN events END) AS BIGINT), \
                   COUNT(acked_at), \
                   CAST(SUM(CASE WHEN acked_at IS NOT NULL THEN events END) AS BIGINT) \
                 FROM usage_outbox",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(OutboxTotals {
            pending_batches: pb,
            pending_events: pe.unwrap_or(0),
            acked_batches: ab,
            acked_events: ae.unwrap_or(0),
        })
    }

    /// Every batch body ever written and still kept (pending and acknowledged), oldest first; the region's
    /// ledger, for audits and tests.
    pub async fn all_bodies(&self) -> Result<Vec<String>, DbError> {
        let rows: Vec<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT body FROM usage_outbox ORDER BY id").fetch_all(pool).await?
        });
        Ok(rows)
    }
}
