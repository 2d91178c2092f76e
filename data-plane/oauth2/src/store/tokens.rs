//! SQL for tokens. A token is found by its signature, never by its text.

use serde_json::Value;
use sqlx::{FromRow, QueryBuilder};
use tessera_platform::db::Database;
use tessera_platform::ids::ProjectId;
use tessera_platform::on_db;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OAuth2Store, StoreError};

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub signature: &'a str,
    pub kind: &'static str,
    /// Groups the tokens one grant issued.
    pub request_id: Uuid,
    pub client_id: &'a str,
    pub subject: &'a str,
    pub scope: &'a str,
    pub audience: &'a [String],
    /// Claims and session data the token carries (`ext` for introspection).
    pub extra: &'a Value,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A stored token.
#[derive(Debug, Clone, FromRow)]
pub struct StoredToken {
    pub kind: String,
    pub request_id: Uuid,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    audience: String,
    extra: String,
    pub active: bool,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StoredToken {
    /// The audiences it was issued for.
    pub fn audience(&self) -> Vec<String> {
        serde_json::from_str(&self.audience).unwrap_or_default()
    }

    /// What it carries beyond the standard claims.
    pub fn extra(&self) -> Value {
        serde_json::from_str(&self.extra).unwrap_or(Value::Null)
    }
}

/// A token row as the batching writer holds it: owned, with its project.
#[derive(Debug, Clone)]
pub struct TokenRow {
    project: ProjectId,
    signature: String,
    kind: &'static str,
    request_id: Uuid,
    client_id: String,
    subject: String,
    scope: String,
    audience: String,
    extra: String,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl TokenRow {
    /// `t` for `project`.
    pub fn new(project: ProjectId, t: &NewToken<'_>) -> Self {
        Self {
            project,
            signature: t.signature.to_owned(),
            kind: t.kind,
            request_id: t.request_id,
            client_id: t.client_id.to_owned(),
            subject: t.subject.to_owned(),
            scope: t.scope.to_owned(),
            audience: serde_json::to_string(t.audience).expect("strings serialize"),
            extra: t.extra.to_string(),
            issued_at: t.issued_at,
            expires_at: t.expires_at,
        }
    }
}

/// Inserts rows of possibly several projects in one statement and one commit. Each row carries its own project
/// id: this is the region's write path for the batching writer, not a tenant read.
pub async fn insert_token_rows(db: &Database, rows: &[&TokenRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    on_db!(db, pool => {
        let mut qb = QueryBuilder::new(
            "INSERT INTO oauth2_tokens (project_id, signature, kind, request_id, client_id, subject, scope, audience, \
             extra, active, issued_at, expires_at) ",
        );
        qb.push_values(rows.iter(), |mut b, r| {
            b.push_bind(r.project)
                .push_bind(r.signature.clone())
                .push_bind(r.kind)
                .push_bind(r.request_id)
                .push_bind(r.client_id.clone())
                .push_bind(r.subject.clone())
                .push_bind(r.scope.clone())
                .push_bind(r.audience.clone())
                .push_bind(r.extra.clone())
                .push_bind(true)
                .push_bind(r.issued_at)
                .push_bind(r.expires_at);
        });
        qb.build().execute(pool).await?;
    });
    Ok(())
}

impl OAuth2Store<'_> {
    /// Stores a token.
    pub async fn insert_token(&self, t: &NewToken<'_>) -> Result<(), StoreError> {
        let audience = serde_json::to_string(t.audience).expect("strings serialize");
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_tokens (project_id, signature, kind, request_id, client_id, subject, scope, \
                 audience, extra, active, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(self.project)
            .bind(t.signature)
            .bind(t.kind)
            .bind(t.request_id)
            .bind(t.client_id)
            .bind(t.subject)
            .bind(t.scope)
            .bind(audience)
            .bind(t.extra.to_string())
            .bind(true)
            .bind(t.issued_at)
            .bind(t.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The token with `signature`, active or not.
    pub async fn token(&self, signature: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT kind, request_id, client_id, subject, scope, audience, extra, active, issued_at, expires_at \
                 FROM oauth2_tokens WHERE project_id = $1 AND signature = $2",
            )
            .bind(self.project)
            .bind(signature)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Marks a single-use token (code, refresh token) used; `false` when it was already used or revoked, which
    /// is how a replay is detected even when two requests race.
    pub async fn consume_token(&self, signature: &str) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("UPDATE oauth2_tokens SET active = $3 WHERE project_id = $1 AND signature = $2 AND active = $4")
                .bind(self.project)
                .bind(signature)
                .bind(false)
                .bind(true)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// The login and consent facts of an authorization (stored with its code), for `/userinfo`.
    pub async fn grant_session(&self, request_id: Uuid) -> Result<Option<Value>, StoreError> {
        let row: Option<(String,)> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT extra FROM oauth2_tokens WHERE project_id = $1 AND request_id = $2 AND kind = $3 LIMIT 1",
            )
            .bind(self.project)
            .bind(request_id)
            .bind("authorize_code")
            .fetch_optional(pool)
            .await?
        });
        Ok(row.and_then(|(extra,)| serde_json::from_str(&extra).ok()))
    }

    /// Revokes the access tokens of one grant (a refresh replaces them, as fosite does).
    pub async fn revoke_request_access_tokens(&self, request_id: Uuid) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_tokens SET active = $3 WHERE project_id = $1 AND request_id = $2 AND kind = $4 AND active = $5",
            )
            .bind(self.project)
            .bind(request_id)
            .bind(false)
            .bind("access_token")
            .bind(true)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// Revokes everything one grant issued (RFC 7009: revoking a token may revoke its family).
    pub async fn revoke_request(&self, request_id: Uuid) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("UPDATE oauth2_tokens SET active = $3 WHERE project_id = $1 AND request_id = $2 AND active = $4")
                .bind(self.project)
                .bind(request_id)
                .bind(false)
                .bind(true)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Deletes every token issued to a client (`DELETE /admin/oauth2/tokens?client_id=`).
    pub async fn delete_client_tokens(&self, client_id: &str) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_tokens WHERE project_id = $1 AND client_id = $2")
                .bind(self.project)
                .bind(client_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
