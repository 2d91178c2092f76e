//! The control plane: workspaces, projects and their configuration revisions, API keys, members and the
//! region registry.
//!
//! Layers, top to bottom: [`app`] (operations with authorization) and [`store`] (all SQL).
//! Configuration is validated and rendered by `tessera-project-config`; the HTTP surface lives in
//! `tessera-workspace-api`.

pub mod app;
pub mod auth;
pub mod error;
pub mod model;
pub mod patch;
pub mod slug;
pub mod store;

pub use app::{ControlPlane, Settings};
pub use error::{Error, Result};

use tessera_platform::db::Migrations;

/// The control plane's schema migrations, embedded at compile time.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("../migrations/control-plane/postgres"),
        sqlite: sqlx::migrate!("../migrations/control-plane/sqlite"),
    }
}
