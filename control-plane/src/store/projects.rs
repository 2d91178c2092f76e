use sqlx::FromRow;
use tessera_platform::db::Transaction;
use tessera_platform::ids::{ProjectId, RevisionId, WorkspaceId};
use tessera_platform::pagination::PageRequest;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use super::{Store, StoreError, corrupt};
use crate::model::{Project, ProjectSettings, ProjectState, ProjectWithSettings, Revision};

#[derive(FromRow)]
struct ProjectRow {
    id: ProjectId,
    workspace_id: WorkspaceId,
    slug: String,
    name: String,
    environment: String,
    home_region: String,
    state: String,
    revision_id: RevisionId,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: r.id,
            workspace_id: r.workspace_id,
            slug: r.slug,
            name: r.name,
            environment: r.environment.parse().map_err(|e| corrupt("projects.environment", e))?,
            home_region: r.home_region,
            state: r.state.parse().map_err(|e| corrupt("projects.state", e))?,
            revision_id: r.revision_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(FromRow)]
struct ProjectWithSettingsRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    settings: String,
}

#[derive(FromRow)]
struct RevisionRow {
    project_id: ProjectId,
    id: RevisionId,
    settings: String,
    rendered: String,
    warnings: String,
    created_at: OffsetDateTime,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = StoreError;
    fn try_from(r: RevisionRow) -> Result<Self, StoreError> {
        Ok(Revision {
            project_id: r.project_id,
            id: r.id,
            settings: serde_json::from_str(&r.settings).map_err(|e| corrupt("project_revisions.settings", e))?,
            rendered: serde_json::from_str(&r.rendered).map_err(|e| corrupt("project_revisions.rendered", e))?,
            warnings: serde_json::from_str(&r.warnings).map_err(|e| corrupt("project_revisions.warnings", e))?,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "p.id, p.workspace_id, p.slug, p.name, p.environment, p.home_region, p.state, p.revision_id, p.created_at, p.updated_at";

/// Which projects a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum ProjectFilter {
    /// Every project (the operator).
    All,
    /// One workspace's projects.
    Workspace(WorkspaceId),
    /// A single project (a project key's view).
    Project(ProjectId),
}

impl Store {
    /// Inserts a project and its first revision; the caller commits.
    pub async fn project_create_in_tx(
        &self,
        tx: &mut Transaction,
        p: &Project,
        rev: &Revision,
    ) -> Result<(), StoreError> {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO projects (id, workspace_id, slug, name, environment, home_region, state, revision_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(p.id)
            .bind(p.workspace_id)
            .bind(&p.slug)
            .bind(&p.name)
            .bind(p.environment.as_str())
            .bind(&p.home_region)
            .bind(p.state.as_str())
            .bind(p.revision_id)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *conn)
            .await?;
        });
        self.revision_insert_in_tx(tx, rev).await
    }

    async fn revision_insert_in_tx(&self, tx: &mut Transaction, rev: &Revision) -> Result<(), StoreError> {
        let settings = serde_json::to_string(&rev.settings).map_err(|e| corrupt("revision settings", e))?;
        let rendered = serde_json::to_string(&rev.rendered).map_err(|e| corrupt("revision rendered", e))?;
        let warnings = serde_json::to_string(&rev.warnings).map_err(|e| corrupt("revision warnings", e))?;
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO project_revisions (project_id, id, settings, rendered, warnings, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(rev.project_id)
            .bind(rev.id)
            .bind(&settings)
            .bind(&rendered)
            .bind(&warnings)
            .bind(rev.created_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Makes `rev` the project's current revision if the current one is still `expected`.
    /// Returns false (and writes nothing) when another writer got there first or the project is gone.
    pub async fn project_advance_revision_in_tx(
        &self,
        tx: &mut Transaction,
        expected: RevisionId,
        rev: &Revision,
    ) -> Result<bool, StoreError> {
        let updated = on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE projects SET revision_id = $3, name = $4, updated_at = $5 \
                 WHERE id = $1 AND revision_id = $2 AND state <> 'deleted'",
            )
            .bind(rev.project_id)
            .bind(expected)
            .bind(rev.id)
            .bind(&rev.settings.name)
            .bind(rev.created_at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if updated != 1 {
            return Ok(false);
        }
        self.revision_insert_in_tx(tx, rev).await?;
        Ok(true)
    }

    /// A project that is not deleted, with the settings of its current revision.
    pub async fn project_get(&self, id: ProjectId) -> Result<Option<ProjectWithSettings>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, r.settings FROM projects p \
             JOIN project_revisions r ON r.project_id = p.id AND r.id = p.revision_id \
             WHERE p.id = $1 AND p.state <> 'deleted'"
        );
        let row: Option<ProjectWithSettingsRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        row.map(|r| {
            let settings: ProjectSettings =
                serde_json::from_str(&r.settings).map_err(|e| corrupt("project_revisions.settings", e))?;
            Ok(ProjectWithSettings { project: Project::try_from(r.project)?, settings })
        })
        .transpose()
    }

    /// Projects that are not deleted, in creation order, one page at a time.
    pub async fn project_list(&self, filter: ProjectFilter, page: &PageRequest) -> Result<Vec<Project>, StoreError> {
        let (workspace, project) = match filter {
            ProjectFilter::All => (None, None),
            ProjectFilter::Workspace(w) => (Some(w), None),
            ProjectFilter::Project(p) => (None, Some(p)),
        };
        let after = page.after.map(ProjectId::from);
        let sql = format!(
            "SELECT {COLUMNS} FROM projects p \
             WHERE p.state <> 'deleted' AND ($1 IS NULL OR p.workspace_id = $1) AND ($2 IS NULL OR p.id = $2) \
             AND ($3 IS NULL OR p.id > $3) ORDER BY p.id LIMIT $4"
        );
        let rows: Vec<ProjectRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(workspace)
                .bind(project)
                .bind(after)
                .bind(page.fetch_limit())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Project::try_from).collect()
    }

    /// Every revision of a project, newest first.
    pub async fn revision_list(&self, project: ProjectId) -> Result<Vec<Revision>, StoreError> {
        let rows: Vec<RevisionRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT project_id, id, settings, rendered, warnings, created_at FROM project_revisions \
                 WHERE project_id = $1 ORDER BY id DESC",
            )
            .bind(project)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Revision::try_from).collect()
    }

    /// One revision.
    pub async fn revision_get(&self, project: ProjectId, id: RevisionId) -> Result<Option<Revision>, StoreError> {
        let row: Option<RevisionRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT project_id, id, settings, rendered, warnings, created_at FROM project_revisions \
                 WHERE project_id = $1 AND id = $2",
            )
            .bind(project)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(Revision::try_from).transpose()
    }

    /// Purges a project: revisions, members and keys go; a `deleted` tombstone row keeps the slug taken
    /// (its `revision_id` then points at nothing).
    /// Returns false when there was nothing to purge.
    pub async fn project_purge_in_tx(
        &self,
        tx: &mut Transaction,
        id: ProjectId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let purged = on_tx!(tx, conn => {
            let n = sqlx::query("UPDATE projects SET state = $2, updated_at = $3 WHERE id = $1 AND state <> 'deleted'")
                .bind(id)
                .bind(ProjectState::Deleted.as_str())
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM api_keys WHERE project_id = $1").bind(id).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM project_members WHERE project_id = $1").bind(id).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM custom_domains WHERE project_id = $1").bind(id).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM project_revisions WHERE project_id = $1").bind(id).execute(&mut *conn).await?;
            }
            n == 1
        });
        Ok(purged)
    }

    /// A project in any state, read inside `tx`.
    pub async fn project_any_state_in_tx(
        &self,
        tx: &mut Transaction,
        id: ProjectId,
    ) -> Result<Option<Project>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.id = $1");
        let row: Option<ProjectRow> = on_tx!(tx, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?
        });
        row.map(Project::try_from).transpose()
    }

    /// Halts or resumes a project that is not deleted; false when there is no such project.
    pub async fn project_set_state_in_tx(
        &self,
        tx: &mut Transaction,
        id: ProjectId,
        state: ProjectState,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(tx, conn => {
            sqlx::query("UPDATE projects SET state = $2, updated_at = $3 WHERE id = $1 AND state <> 'deleted'")
                .bind(id)
                .bind(state.as_str())
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// The id of the live project with this slug.
    pub async fn project_id_by_slug(&self, slug: &str) -> Result<Option<ProjectId>, StoreError> {
        let id: Option<ProjectId> = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1 AND state <> 'deleted'")
                .bind(slug)
                .fetch_optional(pool)
                .await?
        });
        Ok(id)
    }

    /// Whether a slug is taken, including by purged projects.
    pub async fn project_slug_taken(&self, slug: &str) -> Result<bool, StoreError> {
        let n: i64 = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE slug = $1").bind(slug).fetch_one(pool).await?
        });
        Ok(n > 0)
    }
}
