//! SQL for the issuers trusted by the JWT-bearer grant.

use sqlx::{FromRow, QueryBuilder};
use tessera_platform::on_db;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OAuth2Store, StoreError};

/// One trust relationship.
#[derive(Debug, Clone, FromRow)]
pub struct TrustedIssuer {
    pub id: Uuid,
    pub issuer: String,
    /// Empty when `allow_any_subject`.
    pub subject: String,
    pub allow_any_subject: bool,
    /// JSON array of scopes.
    pub scope: String,
    pub kid: String,
    /// The public JWK as JSON text.
    pub jwk: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl TrustedIssuer {
    /// The scopes assertions of this issuer may be granted.
    pub fn scopes(&self) -> Vec<String> {
        serde_json::from_str(&self.scope).unwrap_or_default()
    }
}

const COLUMNS: &str = "id, issuer, subject, allow_any_subject, scope, kid, jwk, created_at, expires_at";

impl OAuth2Store<'_> {
    /// Stores a trust relationship; `Conflict` when the same issuer, subject and key are trusted already.
    pub async fn insert_trust(&self, t: &TrustedIssuer) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_trusted_issuers (project_id, id, issuer, subject, allow_any_subject, scope, kid, \
                 jwk, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(self.project)
            .bind(t.id)
            .bind(&t.issuer)
            .bind(&t.subject)
            .bind(t.allow_any_subject)
            .bind(&t.scope)
            .bind(&t.kid)
            .bind(&t.jwk)
            .bind(t.created_at)
            .bind(t.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One trust relationship.
    pub async fn trust(&self, id: Uuid) -> Result<Option<TrustedIssuer>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM oauth2_trusted_issuers WHERE project_id = $1 AND id = $2");
        let row = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(id).fetch_optional(pool).await?
        });
        Ok(row)
    }

    /// A page of trust relationships in id order, optionally of one issuer.
    pub async fn trusts(
        &self,
        issuer: Option<&str>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<TrustedIssuer>, StoreError> {
        let rows = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM oauth2_trusted_issuers WHERE project_id = "));
            qb.push_bind(self.project);
            if let Some(issuer) = issuer {
                qb.push(" AND issuer = ").push_bind(issuer.to_owned());
            }
            if let Some(after) = after {
                qb.push(" AND id > ").push_bind(after);
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Unexpired relationships that could vouch for an assertion from `issuer` about `subject` signed by `kid`.
    pub async fn trusts_for(
        &self,
        issuer: &str,
        subject: &str,
        kid: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<TrustedIssuer>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM oauth2_trusted_issuers WHERE project_id = $1 AND issuer = $2 AND kid = $3 \
             AND (subject = $4 OR allow_any_subject = $5) AND expires_at > $6"
        );
        let rows = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(self.project)
                .bind(issuer)
                .bind(kid)
                .bind(subject)
                .bind(true)
                .bind(now)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Deletes a trust relationship; `false` when it did not exist.
    pub async fn delete_trust(&self, id: Uuid) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_trusted_issuers WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
