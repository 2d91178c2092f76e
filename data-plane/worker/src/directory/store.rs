//! All SQL of the worker: the persisted copy of the directory and its cursor.

use sqlx::QueryBuilder;
use tessera_directory::ProjectRecord;
use tessera_platform::db::{Backend, Database, DbError};
use tessera_platform::{on_db, on_tx};

/// Rows per multi-row INSERT when a snapshot replaces the copy.
const INSERT_BATCH: usize = 500;

/// The worker's database.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    db: Database,
}

/// A record as persisted: its JSON and the sequence number that produced it.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub seq: i64,
    pub json: String,
}

impl DirectoryStore {
    /// Wraps the worker's migrated database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The persisted cursor and records.
    pub async fn load(&self) -> Result<(i64, Vec<String>), DbError> {
        let out = on_db!(&self.db, pool => {
            let seq: i64 = sqlx::query_scalar("SELECT seq FROM directory_cursor WHERE id = 1").fetch_one(pool).await?;
            let records: Vec<String> = sqlx::query_scalar("SELECT record FROM directory_projects").fetch_all(pool).await?;
            (seq, records)
        });
        Ok(out)
    }

    /// Persists a batch of entries and the new cursor in one transaction.
    pub async fn apply(&self, seq: i64, records: &[(ProjectRecord, String)]) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE directory_cursor SET seq = $1 WHERE id = 1").bind(seq).execute(&mut *conn).await?;
            for (record, json) in records {
                if record.is_deleted() {
                    sqlx::query("DELETE FROM directory_projects WHERE project_id = $1").bind(record.project_id).execute(&mut *conn).await?;
                } else {
                    sqlx::query(
                        "INSERT INTO directory_projects (project_id, seq, record) VALUES ($1, $2, $3) \
                         ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, record = excluded.record",
                    )
                    .bind(record.project_id)
                    .bind(seq)
                    .bind(json)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        });
        tx.commit().await
    }

    /// Replaces the whole copy with a snapshot, in one transaction.
    pub async fn replace(&self, seq: i64, records: &[(ProjectRecord, String)]) -> Result<(), DbError> {
        let live: Vec<&(ProjectRecord, String)> = records.iter().filter(|(r, _)| !r.is_deleted()).collect();
        let mut tx = self.db.begin().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM directory_projects").execute(&mut *conn).await?;
            for chunk in live.chunks(INSERT_BATCH) {
                let mut qb = QueryBuilder::new("INSERT INTO directory_projects (project_id, seq, record) ");
                qb.push_values(chunk, |mut row, (record, json)| {
                    row.push_bind(record.project_id).push_bind(seq).push_bind(json.as_str());
                });
                qb.build().execute(&mut *conn).await?;
            }
            sqlx::query("UPDATE directory_cursor SET seq = $1 WHERE id = 1").bind(seq).execute(&mut *conn).await?;
        });
        tx.commit().await
    }

    /// Which backend the copy is on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}
