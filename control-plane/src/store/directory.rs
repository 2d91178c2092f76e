use sqlx::FromRow;
use tessera_platform::db::Transaction;
use tessera_platform::ids::{ApiKeyId, ProjectId};
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use super::{Store, StoreError, corrupt};
use crate::model::Project;

/// What a project's directory record is built from, read inside the transaction that changed it.
#[derive(Debug, Clone)]
pub struct RecordSources {
    pub project: Project,
    pub plan: String,
    /// The current revision's rendered configuration (JSON text); absent once purged.
    pub rendered: Option<String>,
    pub verified_domains: Vec<String>,
    pub keys: Vec<(ApiKeyId, String, Option<OffsetDateTime>)>,
    /// Meters blocked for the current billing period.
    pub quota_blocks: Vec<String>,
}

#[derive(FromRow)]
struct KeySourceRow {
    id: ApiKeyId,
    secret_hash: String,
    expires_at: Option<OffsetDateTime>,
}

#[derive(FromRow)]
struct EntryRow {
    seq: i64,
    record: String,
}

impl Store {
    /// Reads, inside `tx`, everything a project's directory record holds.
    pub async fn directory_sources_in_tx(
        &self,
        tx: &mut Transaction,
        id: ProjectId,
        period: &str,
    ) -> Result<RecordSources, StoreError> {
        let project = self
            .project_any_state_in_tx(tx, id)
            .await?
            .ok_or_else(|| corrupt("projects", format!("{id} vanished inside its own transaction")))?;
        let (plan, rendered, domains, keys, blocks) = on_tx!(tx, conn => {
            let plan: String = sqlx::query_scalar("SELECT subscription_plan FROM workspaces WHERE id = $1")
                .bind(project.workspace_id)
                .fetch_one(&mut *conn)
                .await?;
            let rendered: Option<String> = sqlx::query_scalar("SELECT rendered FROM project_revisions WHERE project_id = $1 AND id = $2")
                .bind(id)
                .bind(project.revision_id)
                .fetch_optional(&mut *conn)
                .await?;
            let domains: Vec<String> = sqlx::query_scalar(
                "SELECT hostname FROM custom_domains WHERE project_id = $1 AND verified_at IS NOT NULL ORDER BY hostname",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            let keys: Vec<KeySourceRow> = sqlx::query_as("SELECT id, secret_hash, expires_at FROM api_keys WHERE project_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            let blocks: Vec<String> = sqlx::query_scalar("SELECT meter FROM quota_blocks WHERE project_id = $1 AND period = $2 ORDER BY meter")
                .bind(id)
                .bind(period)
                .fetch_all(&mut *conn)
                .await?;
            (plan, rendered, domains, keys, blocks)
        });
        Ok(RecordSources {
            project,
            plan,
            rendered,
            verified_domains: domains,
            keys: keys.into_iter().map(|k| (k.id, k.secret_hash, k.expires_at)).collect(),
            quota_blocks: blocks,
        })
    }

    /// Appends a record to the log and makes it the project's current record; returns its sequence number.
    /// Takes the head row's lock, so concurrent appenders commit in sequence order.
    pub async fn directory_append_in_tx(
        &self,
        tx: &mut Transaction,
        project: ProjectId,
        record: &str,
        at: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let seq = on_tx!(tx, conn => {
            let seq: i64 = sqlx::query_scalar("UPDATE directory_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO directory_log (seq, project_id, record, created_at) VALUES ($1, $2, $3, $4)")
                .bind(seq)
                .bind(project)
                .bind(record)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO directory_records (project_id, seq, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, record = excluded.record",
            )
            .bind(project)
            .bind(seq)
            .bind(record)
            .execute(&mut *conn)
            .await?;
            seq
        });
        Ok(seq)
    }

    /// The newest sequence number.
    pub async fn directory_head(&self) -> Result<i64, StoreError> {
        let seq: i64 = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT seq FROM directory_head WHERE id = 1").fetch_one(pool).await?
        });
        Ok(seq)
    }

    /// Up to `limit` entries after `after`, in order, as `(seq, record JSON)`.
    pub async fn directory_entries(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows: Vec<EntryRow> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT seq, record FROM directory_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|r| (r.seq, r.record)).collect())
    }

    /// The oldest sequence number still in the log (the log is never compacted today, so 1 once non-empty).
    pub async fn directory_oldest(&self) -> Result<Option<i64>, StoreError> {
        let seq: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT MIN(seq) FROM directory_log").fetch_one(pool).await?
        });
        Ok(seq)
    }

    /// Every project's current record and the sequence number they are current at, read in one transaction.
    pub async fn directory_snapshot(&self) -> Result<(i64, Vec<String>), StoreError> {
        let mut tx = self.begin().await?;
        let out = on_tx!(&mut tx, conn => {
            // On Postgres, make the two reads see one snapshot.
            if matches!(self.db.backend(), tessera_platform::db::Backend::Postgres) {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *conn).await?;
            }
            let head: i64 = sqlx::query_scalar("SELECT seq FROM directory_head WHERE id = 1").fetch_one(&mut *conn).await?;
            let records: Vec<String> = sqlx::query_scalar("SELECT record FROM directory_records ORDER BY project_id")
                .fetch_all(&mut *conn)
                .await?;
            (head, records)
        });
        drop(tx);
        Ok(out)
    }

    /// Projects that have no directory record yet (created before the directory existed).
    pub async fn directory_unpublished(&self) -> Result<Vec<ProjectId>, StoreError> {
        let ids: Vec<ProjectId> = on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT p.id FROM projects p LEFT JOIN directory_records d ON d.project_id = p.id WHERE d.project_id IS NULL ORDER BY p.id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(ids)
    }
}
