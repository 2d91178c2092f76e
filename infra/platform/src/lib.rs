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
pub mod query;
pub mod rate_limit;
pub mod secrets;
pub mod telemetry;
pub mod tenant;
pub mod usage;

pub use error::ApiError;

/// Resolves when the process is asked to stop (SIGINT or SIGTERM).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
