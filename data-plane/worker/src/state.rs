//! What the worker's middleware and routes share.

use std::collections::BTreeMap;
use std::sync::Arc;

use tessera_platform::clock::SharedClock;
use tessera_platform::db::Database;
use tessera_platform::usage::UsageRecorder;

use crate::directory::Directory;
use crate::directory::sync::SyncStatus;
use crate::limits::TenantLimits;
use crate::metrics::WorkerMetrics;
use crate::usage::UsageStatus;

/// Shared state of one regional worker.
#[derive(Debug)]
pub struct WorkerState {
    /// The region this worker serves.
    pub region: String,
    /// Projects are reached at `<slug>.<projects_domain>`.
    pub projects_domain: String,
    pub directory: Arc<Directory>,
    pub status: Arc<SyncStatus>,
    /// The regional database; handed to engines only inside a tenant context.
    pub db: Database,
    pub limits: TenantLimits,
    /// Keep-alive pool for forwarding.
    pub client: crate::forward::ForwardClient,
    /// Base URL of every region, for forwarding.
    pub regions: BTreeMap<String, String>,
    pub forward_secret: String,
    pub max_hops: u8,
    pub max_body_bytes: usize,
    pub metrics: WorkerMetrics,
    pub clock: SharedClock,
    /// Usage counted in memory, drained into the outbox by the metering task.
    pub usage: UsageRecorder,
    /// Metering's progress.
    pub usage_status: Arc<UsageStatus>,
}
