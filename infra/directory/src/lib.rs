//! The directory protocol: what the control plane tells every region about every project.
//!
//! The control plane appends an [`Entry`] to the directory log in the same transaction as each change a region
//! must know. Every entry carries the project's whole [`ProjectRecord`], so applying an entry is a replacement,
//! never a merge, and a region that sees entries in sequence order converges on the control plane's state.
//! Regions read the log through the internal API ([`ENTRIES_PATH`], [`SNAPSHOT_PATH`]), authenticating with
//! short-lived [`region_token`]s signed by a key the control plane issued to that region.
//!
//! The protocol, its failure behaviour and why nothing is lost or applied twice are described in
//! ARCHITECTURE.md ("The directory").

pub mod token;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_platform::ids::{ApiKeyId, ProjectId, RevisionId, WorkspaceId};
use time::OffsetDateTime;

pub use token::{RegionKey, RegionTokenError, RegionVerifier, generate_region_key, region_token};

/// Long-poll for entries after a cursor: `GET ?after=<seq>&limit=<n>&wait_ms=<ms>` → [`EntriesPage`].
pub const ENTRIES_PATH: &str = "/internal/v1/directory/entries";
/// Every current record at one sequence number → [`Snapshot`]; for a fresh region or one that fell behind.
pub const SNAPSHOT_PATH: &str = "/internal/v1/directory/snapshot";
/// The longest a long-poll may wait.
pub const MAX_WAIT_MS: u64 = 30_000;
/// The most entries one page carries.
pub const MAX_PAGE: u32 = 5_000;

/// Everything a region needs to route, authenticate and serve one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub project_id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub slug: String,
    /// `running`, `halted` or `deleted`.
    pub state: String,
    /// `prod`, `stage` or `dev`.
    pub environment: String,
    pub home_region: String,
    /// The workspace's plan id.
    pub plan: String,
    /// The plan's rate-limit tier (`developer`, `production`, `growth`, `enterprise`), so regions need not know the
    /// control plane's plan catalogue. Absent from older records: regions then look the plan id up in the built-in
    /// catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_tier: Option<String>,
    /// The configuration revision this record renders; absent once deleted.
    pub revision_id: Option<RevisionId>,
    /// The project's public base URL, from which its default configuration derives.
    pub project_url: String,
    /// Every hostname that routes to the project: `<slug>.<projects domain>` and verified custom domains.
    pub hosts: Vec<String>,
    /// Hashes of the project's API keys, so regions authenticate admin calls without asking the control plane.
    pub api_keys: Vec<ReplicatedKey>,
    /// The rendered configuration, compacted against the project's defaults (see `tessera_project_config::compact`).
    pub config: Value,
    /// Billable meters the project is over its plan's hard limit for in the current billing period; regions
    /// refuse that usage with `quota_exceeded`. Absent from older records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quota_exceeded: Vec<String>,
}

impl ProjectRecord {
    /// Whether the project is gone for good.
    pub fn is_deleted(&self) -> bool {
        self.state == "deleted"
    }
}

/// A project API key as regions see it: an id, the SHA-256 of the secret, and an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicatedKey {
    pub id: ApiKeyId,
    pub hash: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log; consecutive, starting at 1, with no gaps.
    pub seq: i64,
    pub record: ProjectRecord,
}

/// The answer to [`ENTRIES_PATH`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntriesPage {
    /// Entries after the cursor, in order.
    pub entries: Vec<Entry>,
    /// The newest sequence number at the time of the answer.
    pub head: i64,
}

/// The answer to [`SNAPSHOT_PATH`]: the state of every project as of `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seq: i64,
    pub records: Vec<ProjectRecord>,
}

/// Why the control plane refuses a cursor: the entries after it were compacted away; fetch a snapshot.
pub const RESYNC_ERROR_ID: &str = "directory_resync_required";

/// Where regions upload usage batches (POST [`UsageUpload`], answered with [`UsageAck`]).
pub const USAGE_BATCHES_PATH: &str = "/internal/v1/usage/batches";
/// The most batches one upload carries.
pub const MAX_USAGE_BATCHES: usize = 64;
/// The largest upload body the control plane accepts.
pub const MAX_USAGE_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// One flushed batch of a region's usage. `id` is the idempotency key: the control plane applies a batch id
/// once, however often it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageBatch {
    pub id: uuid::Uuid,
    pub usage: tessera_platform::usage::UsageDelta,
}

/// A region's upload of pending batches, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageUpload {
    pub batches: Vec<UsageBatch>,
}

/// The control plane's acknowledgement: every batch id listed is durably applied (now or earlier), so the
/// region may forget it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageAck {
    /// Applied by this upload.
    pub applied: Vec<uuid::Uuid>,
    /// Applied before (a retried or duplicated batch); nothing was added again.
    pub duplicates: Vec<uuid::Uuid>,
}
