//! All SQL of the control plane.
//!
//! One module owns the schema in `migrations/control-plane/`; nothing else in the crate writes SQL.
//! Each query is written once and runs on Postgres or SQLite through `on_db!`/`on_tx!`.
//! Methods are named resource first, then verb (`project_create`), with `_in_tx` when they take a transaction.
//! Settings, rendered configs and warnings are stored as JSON text (not JSONB) so that a revision
//! comes back byte for byte as it was written.

mod api_keys;
mod directory;
mod domains;
mod members;
mod projects;
mod region_keys;
mod usage;
mod workspaces;

use tessera_platform::db::{Database, DbError, Transaction};

pub use api_keys::KeyRecord;
pub use directory::RecordSources;
pub use domains::CustomDomain;
pub use members::MemberRemoval;
pub use projects::ProjectFilter;
pub use region_keys::RegionKeyRow;
pub use usage::{BatchOutcome, DailyUsageRow, InvoiceRow, RegionalUsageRow, UsageEventRow, UsageScope};

/// Failures of the store; the app layer decides what they mean to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint rejected the write (slug or email taken).
    #[error("a unique value is already taken")]
    Duplicate,
    /// A stored value no longer parses; the database was edited by hand or a migration is missing.
    #[error("corrupt stored value in {what}: {message}")]
    Corrupt { what: &'static str, message: String },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if tessera_platform::db::is_unique_violation(&e) { Self::Duplicate } else { Self::Db(DbError::Query(e)) }
    }
}

/// Typed access to the control-plane database.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Wraps a migrated database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The underlying pool, for health checks.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Transaction, StoreError> {
        Ok(self.db.begin().await?)
    }
}

pub(crate) fn corrupt(what: &'static str, message: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { what, message: message.to_string() }
}
