//! The region's invalidation feed: which cached sessions a write made stale.
//!
//! Writers append in the same transaction as the change, under the head row's lock, so sequence order is
//! commit order and a follower that has read up to N has seen everything before N.

use sqlx::FromRow;
use tessera_platform::db::{Database, DbError, Transaction};
use tessera_platform::ids::ProjectId;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use crate::model::{IdentityId, SessionId};

/// One entry: a session, or every session of an identity, is stale.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Invalidation {
    pub seq: i64,
    pub project_id: ProjectId,
    pub session_id: Option<SessionId>,
    pub identity_id: Option<IdentityId>,
}

/// Appends an entry inside `tx` (taking the head lock until commit).
pub async fn append(
    tx: &mut Transaction,
    project: ProjectId,
    session: Option<SessionId>,
    identity: Option<IdentityId>,
    at: OffsetDateTime,
) -> Result<i64, DbError> {
    let seq: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar("UPDATE identity_invalidation_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *conn)
            .await?
    });
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO identity_invalidations (seq, project_id, session_id, identity_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seq)
        .bind(project)
        .bind(session)
        .bind(identity)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(seq)
}

/// The last sequence number handed out.
pub async fn head(db: &Database) -> Result<i64, DbError> {
    let seq: i64 = on_db!(db, pool => {
        sqlx::query_scalar("SELECT seq FROM identity_invalidation_head WHERE id = 1").fetch_one(pool).await?
    });
    Ok(seq)
}

/// Entries after `after`, in order, at most `limit`.
pub async fn read(db: &Database, after: i64, limit: i64) -> Result<Vec<Invalidation>, DbError> {
    let rows: Vec<Invalidation> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT seq, project_id, session_id, identity_id FROM identity_invalidations WHERE seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// Forgets entries older than `before` (followers that fell that far behind clear their caches).
pub async fn prune(db: &Database, before: OffsetDateTime) -> Result<u64, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM identity_invalidations WHERE created_at < $1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n)
}
