//! Exports to S3: daily usage per workspace and GDPR project data exports.
//!
//! Kept out of `tessera-billing` so aws-sdk-s3 (the slowest crate of the build after Stripe) is compiled only
//! by what writes exports. The pieces:
//!
//! - [`S3Settings`]: bucket, prefix, endpoint and static credentials, deserialised from the control plane's TOML.
//! - [`ExportSink`]: whole-object writes ([`ExportSink::put`]), bounded-memory streaming writes
//!   ([`ExportSink::stream`], multipart) and verification ([`ExportSink::verify`]). Every object carries its
//!   SHA-256 as `sha256` metadata and, where the store supports it, as S3's `ChecksumSHA256`.
//! - [`export_daily_usage`]: `usage/<workspace>/<day>/{usage.csv, aggregates.jsonl, manifest.json}`,
//!   byte-identical on re-run.
//! - [`ProjectExport`]: `projects/<project>/<export>/{identities,relationships,clients}.jsonl` + `manifest.json`.
//!
//! Manifests are written last: an export is complete exactly when its manifest exists.

mod error;
mod project;
mod settings;
mod sink;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod usage;

pub use error::{ExportError, Result};
pub use project::{JsonlWriter, ProjectExport, ProjectFile, ProjectManifest};
pub use settings::S3Settings;
pub use sink::{ExportSink, MIN_PART_SIZE, SHA256_METADATA, StoredObject};
pub use stream::StreamingUpload;
pub use usage::{ManifestFile, USAGE_CSV_HEADER, UsageManifest, UsageRow, export_daily_usage, usage_csv, usage_jsonl};
