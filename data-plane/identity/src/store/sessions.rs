//! SQL for sessions. Tokens arrive here only as digests.

use sqlx::{FromRow, QueryBuilder};
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use super::{IdentityStore, StoreError, invalidations, parse_json};
use crate::model::{Aal, IdentityId, Session, SessionId};

#[derive(FromRow)]
struct SessionRow {
    id: SessionId,
    identity_id: IdentityId,
    logout_token_hash: String,
    active: bool,
    aal: String,
    methods: String,
    devices: String,
    authenticated_at: OffsetDateTime,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const SESSION_COLUMNS: &str = "id, identity_id, logout_token_hash, active, aal, methods, devices, authenticated_at, \
                               issued_at, expires_at, created_at, updated_at";

/// A session with the digest of its logout token.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub session: Session,
    pub logout_token_hash: String,
}

impl SessionRow {
    fn into_stored(self) -> StoredSession {
        StoredSession {
            session: Session {
                id: self.id,
                identity_id: self.identity_id,
                active: self.active,
                aal: Aal::parse(&self.aal).unwrap_or(Aal::Aal0),
                methods: serde_json::from_value(parse_json(&self.methods)).unwrap_or_default(),
                devices: serde_json::from_value(parse_json(&self.devices)).unwrap_or_default(),
                authenticated_at: self.authenticated_at,
                issued_at: self.issued_at,
                expires_at: self.expires_at,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            logout_token_hash: self.logout_token_hash,
        }
    }
}

/// The position after which an admin session list continues: newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOrder {
    pub created_at: OffsetDateTime,
    pub id: SessionId,
}

/// Which sessions a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPage {
    /// `Some(true)`: active and unexpired only; `Some(false)`: revoked or expired only.
    pub active: Option<bool>,
    pub now: OffsetDateTime,
    pub after: Option<SessionOrder>,
    pub limit: i64,
}

impl IdentityStore<'_> {
    /// Stores a new session under the digests of its tokens.
    pub async fn insert_session(
        &self,
        s: &Session,
        token_hash: &str,
        logout_token_hash: &str,
    ) -> Result<(), StoreError> {
        let methods = serde_json::to_string(&s.methods).unwrap_or_else(|_| "[]".into());
        let devices = serde_json::to_string(&s.devices).unwrap_or_else(|_| "[]".into());
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO sessions (project_id, id, identity_id, token_hash, logout_token_hash, active, aal, methods, \
                 devices, authenticated_at, issued_at, expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(self.project)
            .bind(s.id)
            .bind(s.identity_id)
            .bind(token_hash)
            .bind(logout_token_hash)
            .bind(s.active)
            .bind(s.aal.as_str())
            .bind(methods)
            .bind(devices)
            .bind(s.authenticated_at)
            .bind(s.issued_at)
            .bind(s.expires_at)
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session a token digest names, if it belongs to this project.
    pub async fn session_by_token(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1 AND project_id = $2");
        let row: Option<SessionRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(self.project).fetch_optional(pool).await?
        });
        Ok(row.map(SessionRow::into_stored))
    }

    /// One session by id.
    pub async fn session(&self, id: SessionId) -> Result<Option<StoredSession>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = $1 AND id = $2");
        let row: Option<SessionRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(SessionRow::into_stored))
    }

    /// A page of the project's sessions, newest first.
    pub async fn sessions(&self, page: &SessionPage) -> Result<Vec<Session>, StoreError> {
        self.session_query(None, page).await
    }

    /// A page of one identity's sessions, newest first.
    pub async fn sessions_of(&self, identity: IdentityId, page: &SessionPage) -> Result<Vec<Session>, StoreError> {
        self.session_query(Some(identity), page).await
    }

    async fn session_query(
        &self,
        identity: Option<IdentityId>,
        page: &SessionPage,
    ) -> Result<Vec<Session>, StoreError> {
        let rows: Vec<SessionRow> = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = "));
            qb.push_bind(self.project);
            if let Some(identity) = identity {
                qb.push(" AND identity_id = ").push_bind(identity);
            }
            // A session counts as active only while its identity is active too, as whoami decides.
            const IDENTITY_ACTIVE: &str = "EXISTS (SELECT 1 FROM identities i WHERE i.project_id = sessions.project_id \
                AND i.id = sessions.identity_id AND i.state = 'active')";
            match page.active {
                Some(true) => {
                    qb.push(" AND active = ").push_bind(true).push(" AND expires_at > ").push_bind(page.now);
                    qb.push(" AND ").push(IDENTITY_ACTIVE);
                }
                Some(false) => {
                    qb.push(" AND (active = ").push_bind(false).push(" OR expires_at <= ").push_bind(page.now);
                    qb.push(" OR NOT ").push(IDENTITY_ACTIVE).push(")");
                }
                None => {}
            }
            if let Some(after) = page.after {
                qb.push(" AND (created_at < ")
                    .push_bind(after.created_at)
                    .push(" OR (created_at = ")
                    .push_bind(after.created_at)
                    .push(" AND id > ")
                    .push_bind(after.id)
                    .push("))");
            }
            qb.push(" ORDER BY created_at DESC, id LIMIT ").push_bind(page.limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.into_stored().session).collect())
    }

    /// Revokes one session (kept, marked inactive); the invalidation's feed position, or `None` when there
    /// is no such session.
    pub async fn revoke_session(&self, id: SessionId, at: OffsetDateTime) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await?;
        let seq = invalidations::append(&mut tx, self.project, Some(id), None, at).await?;
        let n = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE sessions SET active = $3, updated_at = $4 WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .bind(false)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Revokes every active session of an identity except `keep`; how many were revoked, and the
    /// invalidation's feed position when there were any.
    pub async fn revoke_sessions_of(
        &self,
        identity: IdentityId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<(u64, Option<i64>), StoreError> {
        let mut tx = self.db.begin().await?;
        let n = on_tx!(&mut tx, conn => {
            let mut qb = QueryBuilder::new("UPDATE sessions SET active = ");
            qb.push_bind(false)
                .push(", updated_at = ")
                .push_bind(at)
                .push(" WHERE project_id = ")
                .push_bind(self.project)
                .push(" AND identity_id = ")
                .push_bind(identity)
                .push(" AND active = ")
                .push_bind(true)
                .push(" AND expires_at > ")
                .push_bind(at);
            if let Some(keep) = keep {
                qb.push(" AND id <> ").push_bind(keep);
            }
            qb.build().execute(&mut *conn).await?.rows_affected()
        });
        let seq = if n > 0 {
            Some(invalidations::append(&mut tx, self.project, None, Some(identity), at).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok((n, seq))
    }

    /// Deletes every session of an identity; the invalidation's feed position.
    pub async fn delete_sessions_of(&self, identity: IdentityId, at: OffsetDateTime) -> Result<i64, StoreError> {
        let mut tx = self.db.begin().await?;
        let seq = invalidations::append(&mut tx, self.project, None, Some(identity), at).await?;
        let n = on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM sessions WHERE project_id = $1 AND identity_id = $2")
                .bind(self.project)
                .bind(identity)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        tracing::debug!(deleted = n, "deleted an identity's sessions");
        tx.commit().await?;
        Ok(seq)
    }

    /// Moves a session's expiry; the invalidation's feed position, or `None` when there is no such session.
    pub async fn extend_session(
        &self,
        id: SessionId,
        expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await?;
        let seq = invalidations::append(&mut tx, self.project, Some(id), None, at).await?;
        let n = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE sessions SET expires_at = $3, updated_at = $4 WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .bind(expires_at)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(seq))
    }
}
