//! SQL for JSON Web Key sets and for the jti of client assertions. Private keys arrive here only sealed.

use sqlx::FromRow;
use tessera_platform::db::Database;
use tessera_platform::on_db;
use time::OffsetDateTime;

use super::{OAuth2Store, StoreError};

/// A key row: the sealed private JWK and the metadata kept in clear.
#[derive(Debug, Clone, FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    #[sqlx(rename = "use")]
    pub key_use: String,
    pub sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
}

const INSERT: &str = "INSERT INTO oauth2_jwks (project_id, set_id, kid, alg, use, sealed, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Postgres's "could not serialize access" (SQLSTATE 40001): a concurrent transaction won.
fn is_serialization_failure(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"))
}

impl OAuth2Store<'_> {
    /// Every key of a set, newest first (ties broken by kid, so every worker agrees on "the newest").
    ///
    /// Sorted here rather than by SQL: SQLite keeps `created_at` as RFC 3339 text whose fraction drops trailing
    /// zeros, so its text order is not time order (`…:31.24755Z` sorts after `…:31.247551Z`, `…:31Z` after both).
    pub async fn keys(&self, set: &str) -> Result<Vec<StoredKey>, StoreError> {
        let mut rows: Vec<StoredKey> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT kid, alg, use, sealed, created_at FROM oauth2_jwks WHERE project_id = $1 AND set_id = $2",
            )
            .bind(self.project)
            .bind(set)
            .fetch_all(pool)
            .await?
        });
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.kid.cmp(&a.kid)));
        Ok(rows)
    }

    /// One key of a set.
    pub async fn key(&self, set: &str, kid: &str) -> Result<Option<StoredKey>, StoreError> {
        let row = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT kid, alg, use, sealed, created_at FROM oauth2_jwks \
                 WHERE project_id = $1 AND set_id = $2 AND kid = $3",
            )
            .bind(self.project)
            .bind(set)
            .bind(kid)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Adds a key to a set; `Conflict` when the set already has its kid.
    pub async fn insert_key(&self, set: &str, k: &StoredKey) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(INSERT)
            .bind(self.project)
            .bind(set)
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.key_use)
            .bind(&k.sealed)
            .bind(k.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Adds a set's first signing key unless a signing key exists by now; `false` when another request or
    /// worker got there first (the caller then reads the winner's key). SQLite runs the statement under its
    /// write lock; Postgres runs it serializable, so of two racing inserts one fails with 40001 and loses.
    pub async fn insert_first_signing_key(&self, set: &str, k: &StoredKey) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO oauth2_jwks (project_id, set_id, kid, alg, use, sealed, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS \
             (SELECT 1 FROM oauth2_jwks WHERE project_id = $1 AND set_id = $2 AND use = 'sig')";
        let inserted = match self.db {
            Database::Postgres(pool) => {
                let attempt = async {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").execute(&mut *tx).await?;
                    let n = sqlx::query(SQL)
                        .bind(self.project)
                        .bind(set)
                        .bind(&k.kid)
                        .bind(&k.alg)
                        .bind(&k.key_use)
                        .bind(&k.sealed)
                        .bind(k.created_at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok::<u64, sqlx::Error>(n)
                };
                match attempt.await {
                    Ok(n) => n,
                    Err(e) if is_serialization_failure(&e) => 0,
                    Err(e) => return Err(e.into()),
                }
            }
            Database::Sqlite(pool) => sqlx::query(SQL)
                .bind(self.project)
                .bind(set)
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(&k.key_use)
                .bind(&k.sealed)
                .bind(k.created_at)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(inserted == 1)
    }

    /// Replaces a set with `keys` (`PUT /admin/keys/{set}`), in one transaction.
    pub async fn replace_set(&self, set: &str, keys: &[StoredKey]) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM oauth2_jwks WHERE project_id = $1 AND set_id = $2")
                .bind(self.project)
                .bind(set)
                .execute(&mut *tx)
                .await?;
            for k in keys {
                sqlx::query(INSERT)
                .bind(self.project)
                .bind(set)
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(&k.key_use)
                .bind(&k.sealed)
                .bind(k.created_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Creates or replaces one key (`PUT /admin/keys/{set}/{kid}`); a replaced key becomes the newest.
    pub async fn upsert_key(&self, set: &str, k: &StoredKey) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_jwks (project_id, set_id, kid, alg, use, sealed, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, set_id, kid) DO UPDATE \
                 SET alg = excluded.alg, use = excluded.use, sealed = excluded.sealed, \
                 created_at = excluded.created_at",
            )
            .bind(self.project)
            .bind(set)
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.key_use)
            .bind(&k.sealed)
            .bind(k.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes a whole set; how many keys it had.
    pub async fn delete_set(&self, set: &str) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_jwks WHERE project_id = $1 AND set_id = $2")
                .bind(self.project)
                .bind(set)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Deletes one key; `false` when it did not exist.
    pub async fn delete_key(&self, set: &str, kid: &str) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_jwks WHERE project_id = $1 AND set_id = $2 AND kid = $3")
                .bind(self.project)
                .bind(set)
                .bind(kid)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records a client assertion's jti until `expires_at`; `false` when it is already recorded and not yet
    /// expired (a replay). One statement, so two racing requests with the same jti cannot both pass.
    pub async fn use_jti(
        &self,
        digest: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_jtis (project_id, jti, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE oauth2_jtis.expires_at <= $4",
            )
            .bind(self.project)
            .bind(digest)
            .bind(expires_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Forgets the project's jtis that expired before `now` (their assertions are refused by `exp` anyway).
    pub async fn delete_expired_jtis(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_jtis WHERE project_id = $1 AND expires_at < $2")
                .bind(self.project)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use tessera_platform::db::data_plane_migrations;
    use tessera_platform::db::testing::{TestDatabase, backends};
    use tessera_platform::ids::ProjectId;

    use super::*;

    /// Workers generating a set's first key at once: at most one insert wins, and what the set holds is what won.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_first_keys_leave_at_most_one() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let project = ProjectId::new();
            for round in 0..5 {
                let set = format!("set-{round}");
                let tasks: Vec<_> = (0..6u8)
                    .map(|i| {
                        let (db, set) = (t.db.clone(), set.clone());
                        tokio::spawn(async move {
                            let row = StoredKey {
                                kid: format!("k{i}"),
                                alg: "ES256".into(),
                                key_use: "sig".into(),
                                sealed: vec![i],
                                created_at: OffsetDateTime::UNIX_EPOCH,
                            };
                            OAuth2Store { db: &db, project }.insert_first_signing_key(&set, &row).await.unwrap()
                        })
                    })
                    .collect();
                let mut won = 0;
                for task in tasks {
                    won += usize::from(task.await.unwrap());
                }
                let keys = OAuth2Store { db: &t.db, project }.keys(&set).await.unwrap();
                assert!(won <= 1, "{backend:?}: {won} inserts won");
                assert_eq!(keys.len(), won, "{backend:?}");
            }
            // An encryption key does not count as the set's signing key.
            let store = OAuth2Store { db: &t.db, project };
            let enc = StoredKey {
                kid: "e".into(),
                alg: "ES256".into(),
                key_use: "enc".into(),
                sealed: vec![0],
                created_at: OffsetDateTime::UNIX_EPOCH,
            };
            store.insert_key("mixed", &enc).await.unwrap();
            assert!(
                store
                    .insert_first_signing_key("mixed", &StoredKey { kid: "s".into(), key_use: "sig".into(), ..enc })
                    .await
                    .unwrap()
            );
        }
    }

    /// Newest first to the microsecond on both backends, also where SQLite's RFC 3339 text sorts otherwise (a
    /// fraction that is a prefix of another, a whole second); equal times by kid, descending.
    #[tokio::test]
    async fn keys_are_listed_newest_first_to_the_microsecond() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let store = OAuth2Store { db: &t.db, project: ProjectId::new() };
            let micros = time::Duration::microseconds;
            let base = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000) + micros(31_247_550);
            for (kid, at) in [
                ("whole-second", base - micros(247_550)),
                ("trimmed", base),
                ("one-later", base + micros(1)),
                ("tie-a", base + micros(1_000)),
                ("tie-b", base + micros(1_000)),
            ] {
                let row = StoredKey {
                    kid: kid.into(),
                    alg: "ES256".into(),
                    key_use: "sig".into(),
                    sealed: vec![0],
                    created_at: at,
                };
                store.insert_key("ordered", &row).await.unwrap();
            }
            let kids: Vec<String> = store.keys("ordered").await.unwrap().into_iter().map(|k| k.kid).collect();
            assert_eq!(kids, ["tie-b", "tie-a", "one-later", "trimmed", "whole-second"], "{backend:?}");
        }
    }

    #[tokio::test]
    async fn a_jti_is_accepted_once_until_it_expires() {
        for backend in backends() {
            let t = TestDatabase::new(backend, &data_plane_migrations()).await;
            let (a, b) = (ProjectId::new(), ProjectId::new());
            let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
            let later = now + time::Duration::minutes(5);
            let store = OAuth2Store { db: &t.db, project: a };
            assert!(store.use_jti("j", later, now).await.unwrap());
            assert!(!store.use_jti("j", later, now).await.unwrap(), "replay");
            assert!(OAuth2Store { db: &t.db, project: b }.use_jti("j", later, now).await.unwrap(), "other project");
            assert!(store.use_jti("j", later + time::Duration::minutes(5), later).await.unwrap(), "after expiry");
            assert_eq!(store.delete_expired_jtis(later + time::Duration::hours(1)).await.unwrap(), 1);
        }
    }
}
