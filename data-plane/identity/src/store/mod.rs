//! All SQL of the identity engine. Every query binds the project id, except the invalidation feed reader,
//! which follows the whole region (that is what keeps every worker's whoami cache coherent).

mod flows;
mod identities;
pub mod invalidations;
mod sessions;

use serde_json::Value;
use tessera_platform::db::{Database, DbError};
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantDb;

pub use flows::{FlowRecord, StoredError};
pub use identities::ListFilter;
pub use invalidations::Invalidation;
pub use sessions::{SessionOrder, SessionPage, StoredSession};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (identifier, address, external id) is taken.
    #[error("a unique value is already taken")]
    Conflict,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if tessera_platform::db::is_unique_violation(&e) { Self::Conflict } else { Self::Db(DbError::Query(e)) }
    }
}

/// One project's identities, sessions and flows.
#[derive(Debug, Clone, Copy)]
pub struct IdentityStore<'a> {
    db: &'a Database,
    project: ProjectId,
}

impl<'a> IdentityStore<'a> {
    /// Scoped to the tenant the request resolved to.
    pub fn new(db: TenantDb<'a>) -> Self {
        Self { db: db.database(), project: db.project_id() }
    }

    /// The project every query binds.
    pub fn project(&self) -> ProjectId {
        self.project
    }
}

/// JSON as stored: compact text.
fn json_text(v: &Value) -> String {
    v.to_string()
}

/// Stored JSON back; a corrupt document reads as `null` rather than failing a whole page.
fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored JSON document does not parse");
        Value::Null
    })
}
