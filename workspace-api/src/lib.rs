//! The public management API: Ory Network's Project and Workspace API, over the control plane.
//!
//! Same paths, methods, status codes and JSON as Ory's, so Ory's SDKs work unchanged; a few Tessera
//! extensions (revisions, member invitation, regions) are marked as such in the OpenAPI document.

pub mod auth;
pub mod internal;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod state;
pub mod wire;
pub mod wire_billing;

pub use server::{BootError, RunningServer, boot, start};
