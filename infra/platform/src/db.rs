//! Database pools for PostgreSQL (production) and SQLite (embedded default), and their migrations.
//!
//! Stores write each query once, with `$1`-style placeholders that both backends accept, and run it
//! through [`on_db!`](crate::on_db) or [`on_tx!`](crate::on_tx), which expand the same code once per backend.
//! That keeps one SQL text per operation while letting each backend use its native types
//! (UUID and TIMESTAMPTZ on Postgres). SQL stays CockroachDB-compatible: no LISTEN/NOTIFY, no advisory locks.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A pool on one of the two supported backends.
#[derive(Clone, Debug)]
pub enum Database {
    /// PostgreSQL (or CockroachDB).
    Postgres(PgPool),
    /// An SQLite file.
    Sqlite(SqlitePool),
}

/// An open transaction on either backend; dropped without [`Transaction::commit`] it rolls back.
#[derive(Debug)]
pub enum Transaction {
    /// A Postgres transaction.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// An SQLite transaction.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

/// The migration sets of one schema, one per backend.
#[derive(Debug)]
pub struct Migrations {
    /// Applied to Postgres.
    pub postgres: Migrator,
    /// Applied to SQLite.
    pub sqlite: Migrator,
}

/// Which backend a URL or pool refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// Failures opening, migrating or querying a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (expected postgres:// or sqlite:)")]
    UnsupportedUrl,
    #[error("cannot create the directory for the SQLite file {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database query failed")]
    Query(#[from] sqlx::Error),
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }
}

impl Database {
    /// Opens a pool. SQLite files (and their directory) are created when missing and run in WAL mode.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        match Backend::of_url(url)? {
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(DbError::Connect)?;
                Ok(Self::Postgres(pool))
            }
            Backend::Sqlite => {
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(DbError::Connect)?
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let options = if in_memory {
                    options
                } else {
                    let path = options.get_filename().to_owned();
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .map_err(|source| DbError::CreateDir { path: dir.display().to_string(), source })?;
                    }
                    options.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal)
                };
                // Each in-memory connection would be its own empty database.
                let max = if in_memory { 1 } else { max_connections };
                let pool = SqlitePoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(DbError::Connect)?;
                Ok(Self::Sqlite(pool))
            }
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies every pending migration of `migrations` for this backend.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), DbError> {
        match self {
            Self::Postgres(pool) => migrations.postgres.run(pool).await.map_err(DbError::Migrate),
            Self::Sqlite(pool) => migrations.sqlite.run(pool).await.map_err(DbError::Migrate),
        }
    }

    /// A trivial round trip; what `/health/ready` asks.
    pub async fn ping(&self) -> Result<(), DbError> {
        crate::on_db!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Transaction, DbError> {
        Ok(match self {
            Self::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
            Self::Sqlite(pool) => Transaction::Sqlite(pool.begin().await?),
        })
    }

    /// Closes every connection; used on shutdown and by tests that drop their database.
    pub async fn close(&self) {
        crate::on_db!(self, pool => pool.close().await)
    }
}

impl Transaction {
    /// Makes the transaction's writes durable.
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Self::Postgres(tx) => tx.commit().await?,
            Self::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// The regional database's schema (directory copy, relationships, …), shared by the worker and its engines.
pub fn data_plane_migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("../../migrations/data-plane/postgres"),
        sqlite: sqlx::migrate!("../../migrations/data-plane/sqlite"),
    }
}

/// Whether an error is a violated unique constraint, on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Runs `$body` with `$ex` bound to the pool, expanded once per backend.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $ex:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Postgres($ex) => $body,
            $crate::db::Database::Sqlite($ex) => $body,
        }
    };
}

/// Runs `$body` with `$ex` bound to the transaction's connection, expanded once per backend.
/// Reborrow with `&mut *$ex` to run several queries in one body.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $ex:ident => $body:expr) => {
        match $tx {
            $crate::db::Transaction::Postgres(tx) => {
                let $ex = &mut **tx;
                $body
            }
            $crate::db::Transaction::Sqlite(tx) => {
                let $ex = &mut **tx;
                $body
            }
        }
    };
}

/// Test databases: a fresh SQLite file, or a fresh Postgres database on the server `DATABASE_URL` names.
pub mod testing {
    use super::*;

    /// A database that exists for one test; Postgres databases are dropped when it is dropped.
    #[derive(Debug)]
    pub struct TestDatabase {
        /// The pool.
        pub db: Database,
        /// Its URL, so that a server under test can open its own pool.
        pub url: String,
        _dir: Option<tempfile_dir::TempDir>,
        admin_url: Option<String>,
        name: Option<String>,
    }

    mod tempfile_dir {
        /// A directory removed on drop, without depending on the tempfile crate outside tests.
        #[derive(Debug)]
        pub struct TempDir(pub std::path::PathBuf);
        impl Drop for TempDir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    /// The backends tests must cover: SQLite always, Postgres when `DATABASE_URL` is set.
    pub fn backends() -> Vec<Backend> {
        let mut b = vec![Backend::Sqlite];
        if std::env::var("DATABASE_URL").map(|u| !u.is_empty()).unwrap_or(false) {
            b.push(Backend::Postgres);
        }
        b
    }

    impl TestDatabase {
        /// A fresh, migrated database on `backend`.
        pub async fn new(backend: Backend, migrations: &Migrations) -> Self {
            let t = match backend {
                Backend::Sqlite => {
                    let dir = std::env::temp_dir().join(format!("tessera-test-{}", uuid::Uuid::now_v7().simple()));
                    std::fs::create_dir_all(&dir).expect("create temp dir");
                    let url = format!("sqlite://{}", dir.join("test.db").display());
                    let db = Database::connect(&url, 5).await.expect("open sqlite");
                    Self { db, url, _dir: Some(tempfile_dir::TempDir(dir)), admin_url: None, name: None }
                }
                Backend::Postgres => {
                    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL for Postgres tests");
                    let name = format!("tessera_test_{}", uuid::Uuid::now_v7().simple());
                    let admin = PgPool::connect(&admin_url).await.expect("connect to DATABASE_URL");
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&admin)
                        .await
                        .expect("create test database");
                    admin.close().await;
                    let url = replace_db_name(&admin_url, &name);
                    let db = Database::connect(&url, 5).await.expect("open test database");
                    Self { db, url, _dir: None, admin_url: Some(admin_url), name: Some(name) }
                }
            };
            t.db.migrate(migrations).await.expect("migrations apply to an empty database");
            t
        }
    }

    impl Drop for TestDatabase {
        fn drop(&mut self) {
            let (Some(admin_url), Some(name)) = (self.admin_url.take(), self.name.take()) else {
                return;
            };
            if std::thread::panicking() {
                eprintln!("keeping test database {name} for inspection");
                return;
            }
            // Drop may run inside the test's runtime, which must not be blocked on its own pool; use a private
            // runtime on another thread, and FORCE to end the connections the test's pool still holds.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async move {
                    let admin = PgPool::connect(&admin_url).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&admin)
                        .await
                        .ok()?;
                    admin.close().await;
                    Some(())
                })
            })
            .join();
        }
    }

    /// Swaps the database name in a Postgres URL.
    pub fn replace_db_name(url: &str, name: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
        let base = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => base,
        };
        match query {
            Some(q) => format!("{base}/{name}?{q}"),
            None => format!("{base}/{name}"),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn replaces_database_name() {
            assert_eq!(super::replace_db_name("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
            assert_eq!(
                super::replace_db_name("postgres://u@h/test?sslmode=disable", "x"),
                "postgres://u@h/x?sslmode=disable"
            );
            assert_eq!(super::replace_db_name("postgres://u@h", "x"), "postgres://u@h/x");
        }
    }
}
