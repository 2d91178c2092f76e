//! SQL for self-service flows and the errors shown on the project's error page.

use serde_json::Value;
use sqlx::FromRow;
use tessera_platform::on_db;
use time::OffsetDateTime;

use super::{IdentityStore, StoreError, json_text, parse_json};
use crate::model::{FlowErrorId, FlowId, IdentityId};

/// A stored flow: the document the API returns, plus what the engine checks without parsing it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    pub id: FlowId,
    /// `login`, `registration` or `settings`.
    pub kind: String,
    /// `api` or `browser`.
    pub flow_type: String,
    /// The unmasked CSRF token a browser flow was created with (empty for api flows).
    pub csrf_token: String,
    /// The identity a settings flow belongs to.
    pub identity_id: Option<IdentityId>,
    pub document: Value,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct FlowRow {
    id: FlowId,
    kind: String,
    flow_type: String,
    csrf_token: String,
    identity_id: Option<IdentityId>,
    document: String,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// An error kept for the error page.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredError {
    pub id: FlowErrorId,
    pub error: Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct ErrorRow {
    id: FlowErrorId,
    error: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl IdentityStore<'_> {
    /// Stores a new flow.
    pub async fn insert_flow(&self, f: &FlowRecord) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO selfservice_flows (project_id, id, kind, flow_type, csrf_token, identity_id, document, \
                 expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(self.project)
            .bind(f.id)
            .bind(&f.kind)
            .bind(&f.flow_type)
            .bind(&f.csrf_token)
            .bind(f.identity_id)
            .bind(json_text(&f.document))
            .bind(f.expires_at)
            .bind(f.created_at)
            .bind(f.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One flow of `kind`.
    pub async fn flow(&self, id: FlowId, kind: &str) -> Result<Option<FlowRecord>, StoreError> {
        let row: Option<FlowRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT id, kind, flow_type, csrf_token, identity_id, document, expires_at, created_at, updated_at \
                 FROM selfservice_flows WHERE project_id = $1 AND id = $2 AND kind = $3",
            )
            .bind(self.project)
            .bind(id)
            .bind(kind)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| FlowRecord {
            id: r.id,
            kind: r.kind,
            flow_type: r.flow_type,
            csrf_token: r.csrf_token,
            identity_id: r.identity_id,
            document: parse_json(&r.document),
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }))
    }

    /// Saves a flow's new document, but only if it was not changed since `seen` (its `updated_at` when
    /// read): two concurrent submissions of one flow cannot both complete it. `false` when it lost that race.
    pub async fn update_flow(
        &self,
        id: FlowId,
        document: &Value,
        seen: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE selfservice_flows SET document = $3, updated_at = $4 \
                 WHERE project_id = $1 AND id = $2 AND updated_at = $5",
            )
            .bind(self.project)
            .bind(id)
            .bind(json_text(document))
            .bind(at)
            .bind(seen)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Stores an error for the error page.
    pub async fn insert_error(&self, id: FlowErrorId, error: &Value, at: OffsetDateTime) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO selfservice_errors (project_id, id, error, seen, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(self.project)
            .bind(id)
            .bind(json_text(error))
            .bind(false)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A stored error, marked as seen.
    pub async fn take_error(&self, id: FlowErrorId) -> Result<Option<StoredError>, StoreError> {
        let row: Option<ErrorRow> = on_db!(self.db, pool => {
            sqlx::query("UPDATE selfservice_errors SET seen = $3 WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .bind(true)
                .execute(pool)
                .await?;
            sqlx::query_as(
                "SELECT id, error, created_at, updated_at FROM selfservice_errors WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| StoredError {
            id: r.id,
            error: parse_json(&r.error),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }))
    }

    /// Deletes flows that expired before `before` (housekeeping; any project).
    pub async fn prune_flows(db: &tessera_platform::db::Database, before: OffsetDateTime) -> Result<u64, StoreError> {
        let n = on_db!(db, pool => {
            sqlx::query("DELETE FROM selfservice_flows WHERE expires_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
