//! All SQL of the OAuth2 engine. Every query binds the project id.

mod clients;
mod device;
mod flows;
mod keys;
mod logout;
mod tokens;
mod trust;

use tessera_platform::db::{Database, DbError};
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantDb;

pub use clients::{ClientPage, StoredClient};
pub use device::DeviceChallenge;
pub use flows::{FlowKey, LoginSession};
pub use keys::StoredKey;
pub use tokens::{NewToken, StoredToken, TokenRow, insert_token_rows};
pub use trust::TrustedIssuer;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (a client id) is taken.
    #[error("a unique value is already taken")]
    Conflict,
    /// A stored document does not parse: a bug or a corrupted row.
    #[error("a stored document is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if tessera_platform::db::is_unique_violation(&e) { Self::Conflict } else { Self::Db(DbError::Query(e)) }
    }
}

/// One project's clients and tokens.
#[derive(Debug, Clone, Copy)]
pub struct OAuth2Store<'a> {
    db: &'a Database,
    project: ProjectId,
}

impl<'a> OAuth2Store<'a> {
    /// Scoped to the tenant the request resolved to.
    pub fn new(db: TenantDb<'a>) -> Self {
        Self { db: db.database(), project: db.project_id() }
    }
}
