//! SQL for clients. Secrets arrive here only as digests.

use sqlx::{FromRow, QueryBuilder};
use tessera_platform::on_db;

use super::{OAuth2Store, StoreError};
use crate::client::Client;

#[derive(FromRow)]
struct ClientRow {
    secret_digest: Option<String>,
    rotated_secret_digests: String,
    document: String,
}

/// A client with the digests its secrets are checked against.
#[derive(Debug, Clone)]
pub struct StoredClient {
    pub client: Client,
    pub secret_digest: Option<String>,
    pub rotated_secret_digests: Vec<String>,
}

impl ClientRow {
    fn into_stored(self) -> Result<StoredClient, StoreError> {
        Ok(StoredClient {
            client: serde_json::from_str(&self.document).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            secret_digest: self.secret_digest,
            rotated_secret_digests: serde_json::from_str(&self.rotated_secret_digests).unwrap_or_default(),
        })
    }
}

/// A page of the client list: filters and the keyset position.
#[derive(Debug, Clone, Default)]
pub struct ClientPage {
    pub client_name: Option<String>,
    pub owner: Option<String>,
    /// The last id of the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

fn document(c: &Client) -> String {
    serde_json::to_string(c).expect("a client serializes")
}

impl OAuth2Store<'_> {
    /// Inserts a new client; `Conflict` when its id is taken.
    pub async fn insert_client(&self, c: &StoredClient) -> Result<(), StoreError> {
        let rotated = serde_json::to_string(&c.rotated_secret_digests).expect("strings serialize");
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_clients (project_id, id, secret_digest, rotated_secret_digests, document, \
                 client_name, owner, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(self.project)
            .bind(&c.client.client_id)
            .bind(&c.secret_digest)
            .bind(rotated)
            .bind(document(&c.client))
            .bind(&c.client.client_name)
            .bind(&c.client.owner)
            .bind(c.client.created_at)
            .bind(c.client.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Replaces a client's document and digests; `false` when it does not exist.
    pub async fn update_client(&self, c: &StoredClient) -> Result<bool, StoreError> {
        let rotated = serde_json::to_string(&c.rotated_secret_digests).expect("strings serialize");
        let done = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_clients SET secret_digest = $3, rotated_secret_digests = $4, document = $5, \
                 client_name = $6, owner = $7, updated_at = $8 WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(&c.client.client_id)
            .bind(&c.secret_digest)
            .bind(rotated)
            .bind(document(&c.client))
            .bind(&c.client.client_name)
            .bind(&c.client.owner)
            .bind(c.client.updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// One client.
    pub async fn client(&self, id: &str) -> Result<Option<StoredClient>, StoreError> {
        let row: Option<ClientRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT secret_digest, rotated_secret_digests, document FROM oauth2_clients \
                 WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ClientRow::into_stored).transpose()
    }

    /// A page of clients in id order.
    pub async fn clients(&self, page: &ClientPage) -> Result<Vec<StoredClient>, StoreError> {
        let rows: Vec<ClientRow> = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT secret_digest, rotated_secret_digests, document FROM oauth2_clients WHERE project_id = ",
            );
            qb.push_bind(self.project);
            if let Some(name) = &page.client_name {
                qb.push(" AND client_name = ").push_bind(name.clone());
            }
            if let Some(owner) = &page.owner {
                qb.push(" AND owner = ").push_bind(owner.clone());
            }
            if let Some(after) = &page.after {
                qb.push(" AND id > ").push_bind(after.clone());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(page.limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(ClientRow::into_stored).collect()
    }

    /// Deletes a client and every token issued to it; `false` when it did not exist.
    pub async fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
        let done = on_db!(self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM oauth2_tokens WHERE project_id = $1 AND client_id = $2")
                .bind(self.project)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM oauth2_clients WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            n
        });
        Ok(done == 1)
    }
}
