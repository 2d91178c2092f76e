//! A regional data-plane worker.
//!
//! It keeps a replica of the directory (persisted in the region's own database, followed from the control
//! plane), resolves every request to exactly one project, forwards requests for projects homed elsewhere,
//! enforces per-project rate limits and admin authentication, and hands the engines a
//! [`TenantContext`](tessera_platform::tenant::TenantContext).

pub mod directory;
pub mod forward;
pub mod gate;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod routing;
pub mod server;
pub mod state;
pub mod usage;

pub use server::{RunningWorker, WorkerError, boot, migrations};
