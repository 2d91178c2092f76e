use sqlx::FromRow;
use tessera_platform::db::Transaction;
use tessera_platform::ids::{AccountId, ApiKeyId, ProjectId, WorkspaceId};
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use super::{Store, StoreError};
use crate::model::{ApiKey, KeyScope};

#[derive(FromRow)]
struct KeyRow {
    id: ApiKeyId,
    workspace_id: WorkspaceId,
    project_id: Option<ProjectId>,
    name: String,
    owner_id: AccountId,
    secret_hash: String,
    last_characters: String,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// A key with its stored hash, as authentication needs it.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub key: ApiKey,
    pub secret_hash: String,
}

impl From<KeyRow> for KeyRecord {
    fn from(r: KeyRow) -> Self {
        let scope = match r.project_id {
            Some(project_id) => KeyScope::Project { workspace_id: r.workspace_id, project_id },
            None => KeyScope::Workspace(r.workspace_id),
        };
        KeyRecord {
            key: ApiKey {
                id: r.id,
                scope,
                name: r.name,
                owner_id: r.owner_id,
                last_characters: r.last_characters,
                expires_at: r.expires_at,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            secret_hash: r.secret_hash,
        }
    }
}

const COLUMNS: &str =
    "id, workspace_id, project_id, name, owner_id, secret_hash, last_characters, expires_at, created_at, updated_at";

fn scope_ids(scope: KeyScope) -> (WorkspaceId, Option<ProjectId>) {
    match scope {
        KeyScope::Workspace(w) => (w, None),
        KeyScope::Project { workspace_id, project_id } => (workspace_id, Some(project_id)),
    }
}

impl Store {
    /// Stores a new key's metadata and hash.
    pub async fn api_key_create_in_tx(
        &self,
        tx: &mut Transaction,
        key: &ApiKey,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        let (workspace_id, project_id) = scope_ids(key.scope);
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO api_keys (id, workspace_id, project_id, name, owner_id, secret_hash, last_characters, expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(key.id)
            .bind(workspace_id)
            .bind(project_id)
            .bind(&key.name)
            .bind(key.owner_id)
            .bind(secret_hash)
            .bind(&key.last_characters)
            .bind(key.expires_at)
            .bind(key.created_at)
            .bind(key.updated_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// The key whose secret hashes to `secret_hash`.
    pub async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE secret_hash = $1");
        let row: Option<KeyRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(secret_hash).fetch_optional(pool).await?
        });
        Ok(row.map(KeyRecord::from))
    }

    /// The keys of exactly this scope (a workspace's own keys exclude its projects' keys), oldest first.
    pub async fn api_key_list(&self, scope: KeyScope) -> Result<Vec<ApiKey>, StoreError> {
        let (workspace_id, project_id) = scope_ids(scope);
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE workspace_id = $1 \
             AND (($2 IS NULL AND project_id IS NULL) OR project_id = $2) ORDER BY id LIMIT 1000"
        );
        let rows: Vec<KeyRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(workspace_id).bind(project_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| KeyRecord::from(r).key).collect())
    }

    /// Deletes a key of exactly this scope; false when no such key exists there.
    pub async fn api_key_delete_in_tx(
        &self,
        tx: &mut Transaction,
        scope: KeyScope,
        id: ApiKeyId,
    ) -> Result<bool, StoreError> {
        let (workspace_id, project_id) = scope_ids(scope);
        let n = on_tx!(tx, conn => {
            sqlx::query(
                "DELETE FROM api_keys WHERE id = $1 AND workspace_id = $2 \
                 AND (($3 IS NULL AND project_id IS NULL) OR project_id = $3)",
            )
            .bind(id)
            .bind(workspace_id)
            .bind(project_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// How many keys a scope has; creation is capped.
    pub async fn api_key_count(&self, scope: KeyScope) -> Result<i64, StoreError> {
        let (workspace_id, project_id) = scope_ids(scope);
        let n: i64 = on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM api_keys WHERE workspace_id = $1 \
                 AND (($2 IS NULL AND project_id IS NULL) OR project_id = $2)",
            )
            .bind(workspace_id)
            .bind(project_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }
}
