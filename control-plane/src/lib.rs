//! The control plane: workspaces, projects and their configuration revisions, API keys, members and the
//! region registry.
//!
//! Layers, top to bottom: [`app`] (operations with authorization), [`service_config`] (validating and
//! rendering project configuration), [`store`] (all SQL). The HTTP surface lives in `tessera-workspace-api`.

pub mod app;
pub mod auth;
pub mod error;
pub mod model;
pub mod patch;
pub mod service_config;
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
