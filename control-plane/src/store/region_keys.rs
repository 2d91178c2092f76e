use sqlx::FromRow;
use tessera_platform::on_db;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError};

/// The public half of a region's signing key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RegionKeyRow {
    pub id: Uuid,
    pub region: String,
    pub public_key: Vec<u8>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Store {
    /// Records a region's new public key.
    pub async fn region_key_create(
        &self,
        id: Uuid,
        region: &str,
        public_key: &[u8],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => {
            sqlx::query("INSERT INTO region_keys (id, region, public_key, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(region)
                .bind(public_key)
                .bind(at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A key by id, revoked or not.
    pub async fn region_key_get(&self, id: Uuid) -> Result<Option<RegionKeyRow>, StoreError> {
        let row: Option<RegionKeyRow> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, region, public_key, revoked_at FROM region_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Revokes every key of a region except `keep`.
    pub async fn region_key_revoke_others(
        &self,
        region: &str,
        keep: Uuid,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let n = on_db!(&self.db, pool => {
            sqlx::query("UPDATE region_keys SET revoked_at = $3 WHERE region = $1 AND id <> $2 AND revoked_at IS NULL")
                .bind(region)
                .bind(keep)
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
