//! A project's data export (GDPR Art. 20): its identities, relationships and OAuth2 clients, streamed page by
//! page from the regional database into S3 as JSON Lines, with a manifest (sizes, SHA-256, line counts).
//!
//! The pieces, top to bottom:
//!
//! - [`api`]: `POST /admin/exports` (202 and the job), `GET /admin/exports` (newest first, paginated) and
//!   `GET /admin/exports/{id}` (with the manifest once done), behind the worker's project-key gate.
//! - [`ExportService`]: starts a job (one running export per project), runs it as a background task on the
//!   worker's runtime, and answers the job records.
//! - `runner`: the job itself. Each file is written in the JSON its engine's admin API shows
//!   (`GET /admin/identities/{id}`, the relationships API, `GET /admin/clients/{id}`), so an export never
//!   carries what those APIs hide: no password hashes, no client secrets.
//! - [`store`]: all SQL of the job records (`project_exports`); every query binds the project.
//!
//! **Nothing half-written.** The files go to S3 first and `manifest.json` last (see `tessera-export`): an
//! export is complete exactly when its manifest exists, and only then is its job `succeeded`. Any failure
//! aborts the uploads started so far and marks the job `failed` with a message saying what went wrong.
//!
//! **Not a snapshot.** Each page is read on its own, so writes made while an export runs may or may not be in
//! it; every row that existed throughout the export is in it exactly once (keyset pages in id order).

pub mod api;
mod config;
mod error;
mod job;
mod runner;
mod service;
pub mod store;

pub use config::{ExportConfig, Tuning};
pub use error::Error;
pub use job::{Counts, ExportId, ExportJob, ExportState};
pub use service::ExportService;
