use sqlx::FromRow;
use tessera_platform::db::Transaction;
use tessera_platform::ids::ProjectId;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError};

/// A custom hostname of a project.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CustomDomain {
    pub project_id: ProjectId,
    pub id: Uuid,
    pub hostname: String,
    pub verification_token: String,
    pub verified_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "project_id, id, hostname, verification_token, verified_at, created_at";

impl Store {
    /// Adds an unverified hostname; `Duplicate` when any project already has it.
    pub async fn domain_create(&self, d: &CustomDomain) -> Result<(), StoreError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO custom_domains (project_id, id, hostname, verification_token, verified_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(d.project_id)
            .bind(d.id)
            .bind(&d.hostname)
            .bind(&d.verification_token)
            .bind(d.verified_at)
            .bind(d.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A project's hostnames.
    pub async fn domain_list(&self, project: ProjectId) -> Result<Vec<CustomDomain>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM custom_domains WHERE project_id = $1 ORDER BY id LIMIT 100");
        let rows: Vec<CustomDomain> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// One hostname of a project.
    pub async fn domain_get(&self, project: ProjectId, id: Uuid) -> Result<Option<CustomDomain>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM custom_domains WHERE project_id = $1 AND id = $2");
        let row: Option<CustomDomain> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project).bind(id).fetch_optional(pool).await?
        });
        Ok(row)
    }

    /// Marks a hostname verified; false when it no longer exists.
    pub async fn domain_mark_verified_in_tx(
        &self,
        tx: &mut Transaction,
        project: ProjectId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(tx, conn => {
            sqlx::query("UPDATE custom_domains SET verified_at = $3 WHERE project_id = $1 AND id = $2")
                .bind(project)
                .bind(id)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Removes a hostname; false when it does not exist.
    pub async fn domain_delete_in_tx(
        &self,
        tx: &mut Transaction,
        project: ProjectId,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(tx, conn => {
            sqlx::query("DELETE FROM custom_domains WHERE project_id = $1 AND id = $2")
                .bind(project)
                .bind(id)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
