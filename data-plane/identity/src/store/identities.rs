//! SQL for identities, their credentials, identifiers and addresses.
//!
//! An identity is written whole: the row, then its credentials, identifiers and addresses are replaced in the
//! same transaction, so a reader never sees an identity whose identifiers disagree with its traits. The
//! unique index on identifiers is what refuses a second account for the same email, race-free.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{FromRow, QueryBuilder};
use tessera_platform::db::Transaction;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{IdentityStore, StoreError, invalidations, json_text, parse_json};
use crate::model::{AddressId, Credential, Identity, IdentityId, IdentityState, RecoveryAddress, VerifiableAddress};

/// Which identities a list returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter {
    All,
    Ids(Vec<IdentityId>),
    /// Exact match on a normalised identifier of any credential kind.
    Identifier(String),
    /// Prefix match on identifiers.
    IdentifierPrefix(String),
    Organization(Uuid),
}

#[derive(FromRow)]
struct IdentityRow {
    id: IdentityId,
    schema_id: String,
    state: String,
    state_changed_at: Option<OffsetDateTime>,
    traits: String,
    metadata_public: Option<String>,
    metadata_admin: Option<String>,
    external_id: Option<String>,
    organization_id: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct CredentialRow {
    identity_id: IdentityId,
    kind: String,
    config: String,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct IdentifierRow {
    identity_id: IdentityId,
    kind: String,
    identifier: String,
}

#[derive(FromRow)]
struct AddressRow {
    id: AddressId,
    identity_id: IdentityId,
    purpose: String,
    via: String,
    value: String,
    verified: bool,
    status: String,
    verified_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const IDENTITY_COLUMNS: &str = "id, schema_id, state, state_changed_at, traits, metadata_public, metadata_admin, \
                                external_id, organization_id, created_at, updated_at";

impl IdentityRow {
    fn into_identity(self) -> Identity {
        Identity {
            id: self.id,
            schema_id: self.schema_id,
            state: IdentityState::parse(&self.state).unwrap_or(IdentityState::Inactive),
            state_changed_at: self.state_changed_at,
            traits: parse_json(&self.traits),
            metadata_public: self.metadata_public.as_deref().map(parse_json),
            metadata_admin: self.metadata_admin.as_deref().map(parse_json),
            external_id: self.external_id,
            organization_id: self.organization_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            credentials: Vec::new(),
            verifiable_addresses: Vec::new(),
            recovery_addresses: Vec::new(),
        }
    }
}

impl IdentityStore<'_> {
    /// Inserts a new identity with everything it holds. A taken identifier, address or external id is a
    /// [`StoreError::Conflict`] and nothing is written.
    pub async fn create(&self, identity: &Identity) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        insert_row(&mut tx, self.project, identity).await?;
        insert_parts(&mut tx, self.project, identity).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts several identities in one transaction: all or none.
    pub async fn create_all(&self, identities: &[Identity]) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        for identity in identities {
            insert_row(&mut tx, self.project, identity).await?;
            insert_parts(&mut tx, self.project, identity).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an identity (row, credentials, identifiers, addresses) and invalidates its cached sessions:
    /// the invalidation's feed position, or `None` when it does not exist.
    pub async fn replace(&self, identity: &Identity, at: OffsetDateTime) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await?;
        let seq = invalidations::append(&mut tx, self.project, None, Some(identity.id), at).await?;
        let updated = on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE identities SET schema_id = $3, state = $4, state_changed_at = $5, traits = $6, \
                 metadata_public = $7, metadata_admin = $8, external_id = $9, organization_id = $10, updated_at = $11 \
                 WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(identity.id)
            .bind(&identity.schema_id)
            .bind(identity.state.as_str())
            .bind(identity.state_changed_at)
            .bind(json_text(&identity.traits))
            .bind(identity.metadata_public.as_ref().map(json_text))
            .bind(identity.metadata_admin.as_ref().map(json_text))
            .bind(identity.external_id.as_deref())
            .bind(identity.organization_id)
            .bind(identity.updated_at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Ok(None);
        }
        delete_parts(&mut tx, self.project, identity.id).await?;
        insert_parts(&mut tx, self.project, identity).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Replaces one credential's config (a re-hash after login); identifiers stay.
    pub async fn set_credential_config(
        &self,
        id: IdentityId,
        kind: &str,
        config: &Value,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE identity_credentials SET config = $4, updated_at = $5 \
                 WHERE project_id = $1 AND identity_id = $2 AND kind = $3",
            )
            .bind(self.project)
            .bind(id)
            .bind(kind)
            .bind(json_text(config))
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes an identity, its parts and its sessions: the invalidation's feed position, or `None` when it
    /// did not exist.
    pub async fn delete(&self, id: IdentityId, at: OffsetDateTime) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await?;
        let seq = invalidations::append(&mut tx, self.project, None, Some(id), at).await?;
        let deleted = on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM identities WHERE project_id = $1 AND id = $2")
                .bind(self.project)
                .bind(id)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            return Ok(None);
        }
        delete_parts(&mut tx, self.project, id).await?;
        on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM sessions WHERE project_id = $1 AND identity_id = $2")
                .bind(self.project)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// One identity with its addresses, and its credentials when `with_credentials`.
    pub async fn get(&self, id: IdentityId, with_credentials: bool) -> Result<Option<Identity>, StoreError> {
        let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE project_id = $1 AND id = $2");
        let row: Option<IdentityRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(id).fetch_optional(pool).await?
        });
        let mut list: Vec<Identity> = row.into_iter().map(IdentityRow::into_identity).collect();
        self.load_parts(&mut list, with_credentials).await?;
        Ok(list.pop())
    }

    /// The identity with this external id.
    pub async fn get_by_external_id(
        &self,
        external_id: &str,
        with_credentials: bool,
    ) -> Result<Option<Identity>, StoreError> {
        let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE project_id = $1 AND external_id = $2");
        let row: Option<IdentityRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(external_id).fetch_optional(pool).await?
        });
        let mut list: Vec<Identity> = row.into_iter().map(IdentityRow::into_identity).collect();
        self.load_parts(&mut list, with_credentials).await?;
        Ok(list.pop())
    }

    /// The identity a credential identifier belongs to.
    pub async fn find_by_identifier(&self, kind: &str, identifier: &str) -> Result<Option<IdentityId>, StoreError> {
        let id: Option<IdentityId> = on_db!(self.db, pool => {
            sqlx::query_scalar(
                "SELECT identity_id FROM identity_identifiers WHERE project_id = $1 AND kind = $2 AND identifier = $3",
            )
            .bind(self.project)
            .bind(kind)
            .bind(identifier)
            .fetch_optional(pool)
            .await?
        });
        Ok(id)
    }

    /// A page of identities in id order after `after`; at most `limit`.
    pub async fn list(
        &self,
        filter: &ListFilter,
        after: Option<IdentityId>,
        limit: i64,
        with_credentials: bool,
    ) -> Result<Vec<Identity>, StoreError> {
        let after = after.unwrap_or(IdentityId(Uuid::nil()));
        let rows: Vec<IdentityRow> = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE project_id = "));
            qb.push_bind(self.project).push(" AND id > ").push_bind(after);
            match filter {
                ListFilter::All => {}
                ListFilter::Ids(ids) => {
                    qb.push(" AND id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                }
                ListFilter::Identifier(identifier) => {
                    qb.push(" AND id IN (SELECT identity_id FROM identity_identifiers WHERE project_id = ")
                        .push_bind(self.project)
                        .push(" AND identifier = ")
                        .push_bind(identifier.clone())
                        .push(")");
                }
                ListFilter::IdentifierPrefix(prefix) => {
                    qb.push(" AND id IN (SELECT identity_id FROM identity_identifiers WHERE project_id = ")
                        .push_bind(self.project)
                        .push(" AND identifier LIKE ")
                        .push_bind(format!("{}%", escape_like(prefix)))
                        .push(" ESCAPE '\\')");
                }
                ListFilter::Organization(org) => {
                    qb.push(" AND organization_id = ").push_bind(*org);
                }
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        let mut list: Vec<Identity> = rows.into_iter().map(IdentityRow::into_identity).collect();
        self.load_parts(&mut list, with_credentials).await?;
        Ok(list)
    }

    /// Fills in addresses (always) and credentials (when asked) for a batch of identities.
    async fn load_parts(&self, list: &mut [Identity], with_credentials: bool) -> Result<(), StoreError> {
        if list.is_empty() {
            return Ok(());
        }
        let ids: Vec<IdentityId> = list.iter().map(|i| i.id).collect();
        let position: HashMap<IdentityId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let addresses: Vec<AddressRow> = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT id, identity_id, purpose, via, value, verified, status, verified_at, created_at, updated_at \
                 FROM identity_addresses WHERE project_id = ",
            );
            qb.push_bind(self.project).push(" AND identity_id IN (");
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY created_at, id");
            qb.build_query_as().fetch_all(pool).await?
        });
        for a in addresses {
            let Some(&i) = position.get(&a.identity_id) else { continue };
            if a.purpose == "verify" {
                list[i].verifiable_addresses.push(VerifiableAddress {
                    id: a.id,
                    value: a.value,
                    via: a.via,
                    verified: a.verified,
                    status: a.status,
                    verified_at: a.verified_at,
                    created_at: a.created_at,
                    updated_at: a.updated_at,
                });
            } else {
                list[i].recovery_addresses.push(RecoveryAddress {
                    id: a.id,
                    value: a.value,
                    via: a.via,
                    created_at: a.created_at,
                    updated_at: a.updated_at,
                });
            }
        }
        if !with_credentials {
            return Ok(());
        }
        let (credentials, identifiers): (Vec<CredentialRow>, Vec<IdentifierRow>) = on_db!(self.db, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT identity_id, kind, config, version, created_at, updated_at FROM identity_credentials \
                 WHERE project_id = ",
            );
            qb.push_bind(self.project).push(" AND identity_id IN (");
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY kind");
            let credentials = qb.build_query_as().fetch_all(pool).await?;
            let mut qb = QueryBuilder::new(
                "SELECT identity_id, kind, identifier FROM identity_identifiers WHERE project_id = ",
            );
            qb.push_bind(self.project).push(" AND identity_id IN (");
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY identifier");
            (credentials, qb.build_query_as().fetch_all(pool).await?)
        });
        for c in credentials {
            let Some(&i) = position.get(&c.identity_id) else { continue };
            list[i].credentials.push(Credential {
                kind: c.kind,
                identifiers: Vec::new(),
                config: parse_json(&c.config),
                version: c.version,
                created_at: c.created_at,
                updated_at: c.updated_at,
            });
        }
        for row in identifiers {
            let Some(&i) = position.get(&row.identity_id) else { continue };
            if let Some(c) = list[i].credentials.iter_mut().find(|c| c.kind == row.kind) {
                c.identifiers.push(row.identifier);
            }
        }
        Ok(())
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

async fn insert_row(
    tx: &mut Transaction,
    project: tessera_platform::ids::ProjectId,
    i: &Identity,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO identities (project_id, id, schema_id, state, state_changed_at, traits, metadata_public, \
             metadata_admin, external_id, organization_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(project)
        .bind(i.id)
        .bind(&i.schema_id)
        .bind(i.state.as_str())
        .bind(i.state_changed_at)
        .bind(json_text(&i.traits))
        .bind(i.metadata_public.as_ref().map(json_text))
        .bind(i.metadata_admin.as_ref().map(json_text))
        .bind(i.external_id.as_deref())
        .bind(i.organization_id)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

async fn delete_parts(
    tx: &mut Transaction,
    project: tessera_platform::ids::ProjectId,
    id: IdentityId,
) -> Result<(), StoreError> {
    for table in ["identity_credentials", "identity_identifiers", "identity_addresses"] {
        let sql = format!("DELETE FROM {table} WHERE project_id = $1 AND identity_id = $2");
        on_tx!(tx, conn => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(project).bind(id).execute(&mut *conn).await?;
        });
    }
    Ok(())
}

async fn insert_parts(
    tx: &mut Transaction,
    project: tessera_platform::ids::ProjectId,
    i: &Identity,
) -> Result<(), StoreError> {
    for c in &i.credentials {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO identity_credentials (project_id, identity_id, kind, config, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(project)
            .bind(i.id)
            .bind(&c.kind)
            .bind(json_text(&c.config))
            .bind(c.version)
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *conn)
            .await?;
        });
        for identifier in &c.identifiers {
            on_tx!(tx, conn => {
                sqlx::query(
                    "INSERT INTO identity_identifiers (project_id, kind, identifier, identity_id) VALUES ($1, $2, $3, $4)",
                )
                .bind(project)
                .bind(&c.kind)
                .bind(identifier)
                .bind(i.id)
                .execute(&mut *conn)
                .await?;
            });
        }
    }
    let verifiable = i.verifiable_addresses.iter().map(|a| {
        (
            "verify",
            a.id,
            a.via.as_str(),
            a.value.as_str(),
            a.verified,
            a.status.as_str(),
            a.verified_at,
            a.created_at,
            a.updated_at,
        )
    });
    let recovery = i
        .recovery_addresses
        .iter()
        .map(|a| ("recover", a.id, a.via.as_str(), a.value.as_str(), false, "", None, a.created_at, a.updated_at));
    for (purpose, id, via, value, verified, status, verified_at, created_at, updated_at) in verifiable.chain(recovery) {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO identity_addresses (project_id, id, identity_id, purpose, via, value, verified, status, \
                 verified_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(project)
            .bind(id)
            .bind(i.id)
            .bind(purpose)
            .bind(via)
            .bind(value)
            .bind(verified)
            .bind(status)
            .bind(verified_at)
            .bind(created_at)
            .bind(updated_at)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(())
}
