use sqlx::FromRow;
use tessera_platform::ids::WorkspaceId;
use tessera_platform::pagination::PageRequest;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use super::{Store, StoreError, corrupt};
use crate::model::{AccessPolicy, Workspace};

#[derive(FromRow)]
struct WorkspaceRow {
    id: WorkspaceId,
    name: String,
    access_policy: Option<String>,
    subscription_plan: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;
    fn try_from(r: WorkspaceRow) -> Result<Self, StoreError> {
        let access_policy = r
            .access_policy
            .map(|p| p.parse::<AccessPolicy>().map_err(|e| corrupt("workspaces.access_policy", e)))
            .transpose()?;
        Ok(Workspace {
            id: r.id,
            name: r.name,
            access_policy,
            subscription_plan: r.subscription_plan,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, name, access_policy, subscription_plan, created_at, updated_at";

impl Store {
    /// Inserts a new workspace and the first entry of its plan history, together.
    pub async fn workspace_create(&self, w: &Workspace) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO workspaces (id, name, access_policy, subscription_plan, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(w.id)
            .bind(&w.name)
            .bind(w.access_policy.map(|p| p.as_str()))
            .bind(&w.subscription_plan)
            .bind(w.created_at)
            .bind(w.updated_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("INSERT INTO plan_changes (workspace_id, requested_at, plan) VALUES ($1, $2, $3)")
                .bind(w.id)
                .bind(w.created_at)
                .bind(&w.subscription_plan)
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// One workspace.
    pub async fn workspace_get(&self, id: WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM workspaces WHERE id = $1");
        let row: Option<WorkspaceRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        row.map(Workspace::try_from).transpose()
    }

    /// A page of workspaces, restricted to `only` when given; over-fetches one row to detect a next page.
    pub async fn workspace_list(
        &self,
        only: Option<WorkspaceId>,
        page: &PageRequest,
    ) -> Result<Vec<Workspace>, StoreError> {
        let after = page.after.map(WorkspaceId::from);
        let sql = format!(
            "SELECT {COLUMNS} FROM workspaces \
             WHERE ($1 IS NULL OR id = $1) AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        let rows: Vec<WorkspaceRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(only)
                .bind(after)
                .bind(page.fetch_limit())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Workspace::try_from).collect()
    }

    /// Renames a workspace or changes its access policy; false when it does not exist.
    pub async fn workspace_update(&self, w: &Workspace) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => {
            sqlx::query("UPDATE workspaces SET name = $2, access_policy = $3, updated_at = $4 WHERE id = $1")
                .bind(w.id)
                .bind(&w.name)
                .bind(w.access_policy.map(|p| p.as_str()))
                .bind(w.updated_at)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }
}
