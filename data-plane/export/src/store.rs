//! All SQL of the export jobs (`migrations/data-plane/*/0009_project_exports.sql`). Every query binds the
//! project: the store is built from the tenant's [`TenantDb`] and nothing else.
//!
//! State changes are compare-and-set from `running`, so a job marked failed while its worker was away can
//! never be turned back into a success by that worker.

use sqlx::FromRow;
use tessera_export::ProjectManifest;
use tessera_platform::clock::db_time;
use tessera_platform::db::{Database, DbError, is_unique_violation};
use tessera_platform::ids::ProjectId;
use tessera_platform::on_db;
use tessera_platform::tenant::TenantDb;
use time::OffsetDateTime;

use crate::error::Error;
use crate::job::{Counts, ExportId, ExportJob, ExportState};

/// One project's export jobs.
#[derive(Debug, Clone, Copy)]
pub struct ExportStore<'a> {
    db: &'a Database,
    project: ProjectId,
}

#[derive(FromRow)]
struct JobRow {
    id: ExportId,
    state: String,
    identities: i64,
    relationships: i64,
    clients: i64,
    manifest: Option<String>,
    error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

const COLUMNS: &str =
    "id, state, identities, relationships, clients, manifest, error, created_at, updated_at, finished_at";

impl JobRow {
    fn into_job(self, project_id: ProjectId) -> ExportJob {
        let manifest = self.manifest.as_deref().and_then(|text| match serde_json::from_str::<ProjectManifest>(text) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(export = %self.id, error = %e, "a stored export manifest does not parse");
                None
            }
        });
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        ExportJob {
            id: self.id,
            project_id,
            state: ExportState::parse(&self.state),
            counts: Counts {
                identities: count(self.identities),
                relationships: count(self.relationships),
                clients: count(self.clients),
            },
            manifest,
            error: self.error,
            created_at: self.created_at,
            updated_at: self.updated_at,
            finished_at: self.finished_at,
        }
    }
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<'a> ExportStore<'a> {
    /// Scoped to the tenant.
    pub fn new(db: TenantDb<'a>) -> Self {
        Self { db: db.database(), project: db.project_id() }
    }

    /// Records a new running job. The partial unique index admits one running job per project, so a second
    /// one is [`Error::AlreadyRunning`], however many workers race.
    pub async fn insert_running(&self, id: ExportId, at: OffsetDateTime) -> Result<ExportJob, Error> {
        let at = db_time(at);
        let inserted = on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO project_exports (project_id, id, state, created_at, updated_at) \
                 VALUES ($1, $2, 'running', $3, $3)",
            )
            .bind(self.project)
            .bind(id)
            .bind(at)
            .execute(pool)
            .await
            .map(drop)
        });
        match inserted {
            Ok(_) => Ok(ExportJob {
                id,
                project_id: self.project,
                state: ExportState::Running,
                counts: Counts::default(),
                manifest: None,
                error: None,
                created_at: at,
                updated_at: at,
                finished_at: None,
            }),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::AlreadyRunning { running: self.running().await.ok().flatten().map(|j| j.id) })
            }
            Err(e) => Err(Error::Db(DbError::Query(e))),
        }
    }

    /// The project's running job, if any.
    pub async fn running(&self) -> Result<Option<ExportJob>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM project_exports WHERE project_id = $1 AND state = 'running'");
        let row: Option<JobRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.into_job(self.project)))
    }

    /// Records progress (and is the heartbeat); `false` when the job is no longer running.
    pub async fn progress(&self, id: ExportId, counts: &Counts, at: OffsetDateTime) -> Result<bool, DbError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE project_exports SET identities = $3, relationships = $4, clients = $5, updated_at = $6 \
                 WHERE project_id = $1 AND id = $2 AND state = 'running'",
            )
            .bind(self.project)
            .bind(id)
            .bind(signed(counts.identities))
            .bind(signed(counts.relationships))
            .bind(signed(counts.clients))
            .bind(db_time(at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The heartbeat alone, while a page is being uploaded; `false` when the job is no longer running.
    pub async fn beat(&self, id: ExportId, at: OffsetDateTime) -> Result<bool, DbError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE project_exports SET updated_at = $3 WHERE project_id = $1 AND id = $2 AND state = 'running'",
            )
            .bind(self.project)
            .bind(id)
            .bind(db_time(at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks the job succeeded with its manifest; `false` when it was no longer running.
    pub async fn succeed(
        &self,
        id: ExportId,
        counts: &Counts,
        manifest: &ProjectManifest,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let manifest = serde_json::to_string(manifest).map_err(Error::Json)?;
        self.finish(id, ExportState::Succeeded, counts, Some(&manifest), None, at).await.map_err(Error::Db)
    }

    /// Marks the job failed with the message its project sees; `false` when it was no longer running.
    pub async fn fail(&self, id: ExportId, counts: &Counts, error: &str, at: OffsetDateTime) -> Result<bool, DbError> {
        self.finish(id, ExportState::Failed, counts, None, Some(error), at).await
    }

    async fn finish(
        &self,
        id: ExportId,
        state: ExportState,
        counts: &Counts,
        manifest: Option<&str>,
        error: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let at = db_time(at);
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE project_exports SET state = $3, identities = $4, relationships = $5, clients = $6, \
                 manifest = $7, error = $8, updated_at = $9, finished_at = $9 \
                 WHERE project_id = $1 AND id = $2 AND state = 'running'",
            )
            .bind(self.project)
            .bind(id)
            .bind(state.as_str())
            .bind(signed(counts.identities))
            .bind(signed(counts.relationships))
            .bind(signed(counts.clients))
            .bind(manifest)
            .bind(error)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Fails the project's running job if its last heartbeat is older than `beat_before`: its worker is
    /// gone, and without this the project could never export again. Returns how many were failed.
    pub async fn fail_stale(
        &self,
        beat_before: OffsetDateTime,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE project_exports SET state = 'failed', error = $3, finished_at = $4, updated_at = $4 \
                 WHERE project_id = $1 AND state = 'running' AND updated_at < $2",
            )
            .bind(self.project)
            .bind(db_time(beat_before))
            .bind(error)
            .bind(db_time(at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// One job of the project.
    pub async fn get(&self, id: ExportId) -> Result<Option<ExportJob>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM project_exports WHERE project_id = $1 AND id = $2");
        let row: Option<JobRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.into_job(self.project)))
    }

    /// Up to `limit` jobs, newest first (ids are UUIDv7), older than `before` when given.
    pub async fn list(&self, before: Option<ExportId>, limit: i64) -> Result<Vec<ExportJob>, DbError> {
        let rows: Vec<JobRow> = match before {
            Some(before) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM project_exports WHERE project_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
                );
                on_db!(self.db, pool => {
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(before).bind(limit).fetch_all(pool).await?
                })
            }
            None => {
                let sql =
                    format!("SELECT {COLUMNS} FROM project_exports WHERE project_id = $1 ORDER BY id DESC LIMIT $2");
                on_db!(self.db, pool => {
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(limit).fetch_all(pool).await?
                })
            }
        };
        Ok(rows.into_iter().map(|r| r.into_job(self.project)).collect())
    }
}

#[cfg(test)]
mod tests {
    use tessera_platform::db::data_plane_migrations;
    use tessera_platform::db::testing::{TestDatabase, backends};

    use super::*;

    fn store(db: &Database, project: ProjectId) -> ExportStore<'_> {
        ExportStore { db, project }
    }

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000 + secs)
    }

    fn manifest(project: ProjectId, id: ExportId) -> ProjectManifest {
        ProjectManifest { project_id: project.to_string(), export_id: id.to_string(), files: Vec::new() }
    }

    /// Workers racing to start a project's export: exactly one wins; other projects are not affected.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_running_export_per_project() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let project = ProjectId::new();
            let tasks: Vec<_> = (0..6)
                .map(|_| {
                    let db = t.db.clone();
                    tokio::spawn(async move { store(&db, project).insert_running(ExportId::new(), at(0)).await })
                })
                .collect();
            let mut won = Vec::new();
            for task in tasks {
                match task.await.unwrap() {
                    Ok(job) => won.push(job.id),
                    Err(Error::AlreadyRunning { .. }) => {}
                    Err(e) => panic!("{backend:?}: {e:?}"),
                }
            }
            assert_eq!(won.len(), 1, "{backend:?}");
            let s = store(&t.db, project);
            match s.insert_running(ExportId::new(), at(1)).await {
                Err(Error::AlreadyRunning { running }) => assert_eq!(running, Some(won[0])),
                other => panic!("{backend:?}: {other:?}"),
            }
            store(&t.db, ProjectId::new()).insert_running(ExportId::new(), at(1)).await.unwrap();

            // Once finished, the next export may start; finishing twice or after a failure changes nothing.
            let counts = Counts { identities: 2, relationships: 1, clients: 0 };
            assert!(s.succeed(won[0], &counts, &manifest(project, won[0]), at(2)).await.unwrap());
            assert!(!s.fail(won[0], &counts, "late", at(3)).await.unwrap());
            let done = s.get(won[0]).await.unwrap().unwrap();
            assert_eq!((done.state, done.counts, done.error), (ExportState::Succeeded, counts, None));
            assert_eq!(done.manifest, Some(manifest(project, won[0])));
            assert_eq!(done.finished_at, Some(db_time(at(2))));
            let next = s.insert_running(ExportId::new(), at(4)).await.unwrap();
            assert!(s.progress(next.id, &counts, at(5)).await.unwrap());
            assert!(s.fail(next.id, &counts, "broken", at(6)).await.unwrap());
            assert!(!s.progress(next.id, &counts, at(7)).await.unwrap(), "a failed job takes no more progress");
            assert!(!s.beat(next.id, at(7)).await.unwrap());
        }
    }

    /// A job that stopped beating is failed when its project next looks; a beating one is left alone.
    #[tokio::test]
    async fn stale_jobs_are_failed() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let project = ProjectId::new();
            let s = store(&t.db, project);
            let job = s.insert_running(ExportId::new(), at(0)).await.unwrap();
            assert!(s.beat(job.id, at(100)).await.unwrap());
            assert_eq!(s.fail_stale(at(100), "gone", at(200)).await.unwrap(), 0, "{backend:?}");
            assert_eq!(s.fail_stale(at(101), "gone", at(200)).await.unwrap(), 1, "{backend:?}");
            let failed = s.get(job.id).await.unwrap().unwrap();
            assert_eq!((failed.state, failed.error.as_deref()), (ExportState::Failed, Some("gone")));
            assert!(s.running().await.unwrap().is_none());
        }
    }

    /// Lists are newest first, page by keyset, and never show another project's jobs.
    #[tokio::test]
    async fn lists_newest_first_and_scoped() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let project = ProjectId::new();
            let s = store(&t.db, project);
            let mut ids = Vec::new();
            for i in 0..5 {
                let job = s.insert_running(ExportId::new(), at(i)).await.unwrap();
                assert!(s.fail(job.id, &Counts::default(), "x", at(i)).await.unwrap());
                ids.push(job.id);
            }
            let other = store(&t.db, ProjectId::new());
            let foreign = other.insert_running(ExportId::new(), at(9)).await.unwrap();
            ids.reverse();
            let first = s.list(None, 3).await.unwrap();
            assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), ids[..3], "{backend:?}");
            let rest = s.list(Some(ids[2]), 3).await.unwrap();
            assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), ids[3..], "{backend:?}");
            assert!(s.get(foreign.id).await.unwrap().is_none(), "another project's job is not found");
            assert_eq!(other.list(None, 10).await.unwrap().len(), 1);
        }
    }
}
