//! The shared kernel every Tessera process is built on.
//!
//! It holds what must mean the same thing in the control plane, the regional workers and the engines:
//! typed ids, the error shape clients see, configuration loading, database pools and migrations,
//! telemetry, HTTP middleware, secret handling and the clock.
//! It knows nothing of workspaces, projects or any engine's domain; those live in the crates above it.

pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod ids;
pub mod pagination;
pub mod rate_limit;
pub mod secrets;
pub mod telemetry;
pub mod tenant;

pub use error::ApiError;
