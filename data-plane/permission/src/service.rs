//! The permission engine as the worker runs it: per-project indexes loaded on first use and kept coherent
//! with the region's database, compiled schemas, consistency tokens, and the check counter.
//!
//! Coherence: every write commits to the database first (taking a region-wide sequence number), then the
//! writing worker replays the project's changes into its index, so a worker always reads its own writes.
//! Every worker also follows the region's change feed (`poll_feed`, every `feed_interval`), applying changes
//! of the projects it has loaded, so writes made through other workers show up within about one interval.
//! A consistency token names a position in the feed; a check carrying one first replays the project's
//! changes up to it, so it sees at least that write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prometheus::IntCounterVec;
use tessera_opl::Schema;
use tessera_platform::db::{Database, DbError};
use tessera_platform::ids::{ProjectId, RevisionId};
use tessera_platform::tenant::TenantContext;
use tessera_platform::usage::meter;
use tessera_project_config::permission::{Namespaces, decode_opl};
use tokio::sync::OnceCell;

use crate::engine::{CheckError, Checker, ExpandNode, Limits, Membership, expand};
use crate::index::ProjectIndex;
use crate::store::{Change, PermissionStore};
use crate::tuple::{RelationTuple, SubjectSet};

/// Failures of the engine outside check semantics.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the region's database failed")]
    Db(#[from] DbError),
    #[error("the consistency token is malformed or belongs to another project")]
    BadToken,
    #[error("the consistency token is ahead of this region; it was not issued here")]
    TokenAhead,
    #[error("the project's permission configuration does not compile: {0}")]
    Schema(String),
    /// The project is over its plan's hard limit of permission checks this period.
    #[error("the project's permission-check quota is used up")]
    QuotaExceeded,
}

/// A position in the region's change feed, bound to one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsistencyToken {
    pub project: ProjectId,
    pub seq: i64,
}

impl ConsistencyToken {
    /// The opaque text form: `ct1_` then base64url of the project id and the position.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(self.project.0.as_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        format!("ct1_{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses a token and checks it belongs to `project`.
    pub fn decode(text: &str, project: ProjectId) -> Result<Self, ServiceError> {
        let raw = text.strip_prefix("ct1_").ok_or(ServiceError::BadToken)?;
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| ServiceError::BadToken)?;
        if bytes.len() != 24 {
            return Err(ServiceError::BadToken);
        }
        let id = uuid::Uuid::from_slice(&bytes[..16]).map_err(|_| ServiceError::BadToken)?;
        let seq = i64::from_be_bytes(bytes[16..].try_into().map_err(|_| ServiceError::BadToken)?);
        if ProjectId(id) != project || seq < 0 {
            return Err(ServiceError::BadToken);
        }
        Ok(Self { project, seq })
    }
}

/// One loaded project.
type Slot = Arc<OnceCell<Arc<RwLock<ProjectIndex>>>>;

/// A project's compiled schema and the revision it was compiled from.
type CachedSchema = (Option<RevisionId>, Arc<Schema>);

/// Engine settings.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSettings {
    /// How often the change feed is read.
    pub feed_interval: Duration,
    /// How long changes are kept in the feed.
    pub feed_retention: Duration,
    /// Evaluation steps per check at most.
    pub max_steps: usize,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            feed_interval: Duration::from_millis(100),
            feed_retention: Duration::from_secs(3600),
            max_steps: 100_000,
        }
    }
}

/// The permission engine of one worker.
#[derive(Debug)]
pub struct PermissionService {
    store: PermissionStore,
    slots: Mutex<HashMap<ProjectId, Slot>>,
    schemas: Mutex<HashMap<ProjectId, CachedSchema>>,
    feed_cursor: Mutex<i64>,
    checks: IntCounterVec,
    settings: ServiceSettings,
}

impl PermissionService {
    /// Over the worker's database; registers the check counter in `registry`.
    pub async fn new(
        db: Database,
        registry: &prometheus::Registry,
        settings: ServiceSettings,
    ) -> Result<Self, ServiceError> {
        let store = PermissionStore::new(db);
        let head = store.head().await?;
        let checks = IntCounterVec::new(
            prometheus::Opts::new(
                "permission_checks_total",
                "Permission checks answered, by project (the metering counter)",
            ),
            &["project"],
        )
        .expect("valid metric");
        registry.register(Box::new(checks.clone())).expect("metric registered once");
        Ok(Self {
            store,
            slots: Mutex::new(HashMap::new()),
            schemas: Mutex::new(HashMap::new()),
            feed_cursor: Mutex::new(head),
            checks,
            settings,
        })
    }

    /// The store, for the relationship API's reads and writes.
    pub fn store(&self) -> &PermissionStore {
        &self.store
    }

    /// Checks answered for a project so far (the usage pipeline reads this).
    pub fn checks_answered(&self, project: ProjectId) -> u64 {
        self.checks.with_label_values(&[&project.to_string()]).get()
    }

    /// The project's compiled namespaces, cached per configuration revision.
    pub fn schema(&self, tenant: &TenantContext) -> Result<Arc<Schema>, ServiceError> {
        let mut cache = self.schemas.lock().expect("schema cache lock");
        if let Some((rev, schema)) = cache.get(&tenant.project_id())
            && *rev == tenant.revision_id()
        {
            return Ok(schema.clone());
        }
        let schema = Arc::new(compile(&tenant.config().permission.namespaces)?);
        cache.insert(tenant.project_id(), (tenant.revision_id(), schema.clone()));
        Ok(schema)
    }

    /// The project's index, loaded from the database on first use.
    pub async fn index(&self, project: ProjectId) -> Result<Arc<RwLock<ProjectIndex>>, ServiceError> {
        let slot = self.slots.lock().expect("slots lock").entry(project).or_default().clone();
        let index = slot
            .get_or_try_init(|| async {
                let (head, tuples) = self.store.load(project).await?;
                let mut index = ProjectIndex::new();
                for t in &tuples {
                    index.insert(t);
                }
                index.applied_seq = head;
                let index = Arc::new(RwLock::new(index));
                // Replay what committed while loading.
                let changes = self.store.changes_of(project, head).await?;
                apply(&index, &changes);
                tracing::info!(project = %project, relationships = tuples.len(), "permission index loaded");
                Ok::<_, ServiceError>(index)
            })
            .await?;
        Ok(index.clone())
    }

    /// Replays the project's changes after what its index has applied; returns the new position.
    pub async fn catch_up(&self, project: ProjectId) -> Result<i64, ServiceError> {
        let index = self.index(project).await?;
        let applied = index.read().expect("index lock").applied_seq;
        let changes = self.store.changes_of(project, applied).await?;
        apply(&index, &changes);
        Ok(index.read().expect("index lock").applied_seq)
    }

    /// Makes the project's index include everything up to `token`.
    pub async fn ensure(&self, token: Option<ConsistencyToken>) -> Result<(), ServiceError> {
        let Some(token) = token else { return Ok(()) };
        let index = self.index(token.project).await?;
        if index.read().expect("index lock").applied_seq >= token.seq {
            return Ok(());
        }
        self.catch_up(token.project).await?;
        if index.read().expect("index lock").applied_seq >= token.seq {
            return Ok(());
        }
        // The project may simply have had no change at or after the token's position.
        if self.store.head().await? >= token.seq {
            index.write().expect("index lock").applied_seq =
                index.read().expect("index lock").applied_seq.max(token.seq);
            return Ok(());
        }
        Err(ServiceError::TokenAhead)
    }

    /// Answers a check.
    pub async fn check(
        &self,
        tenant: &TenantContext,
        tuple: &RelationTuple,
        depth: i32,
        max_width: usize,
        token: Option<ConsistencyToken>,
    ) -> Result<Result<Membership, CheckError>, ServiceError> {
        if tenant.over_quota(meter::PERMISSION_CHECKS) {
            return Err(ServiceError::QuotaExceeded);
        }
        let schema = self.schema(tenant)?;
        self.checks.with_label_values(&[&tenant.project_id().to_string()]).inc();
        tenant.usage().count(meter::PERMISSION_CHECKS, 1);
        if schema.namespace(&tuple.namespace).is_none() {
            // Keto: an unknown namespace is not an error for a check, just "not allowed".
            return Ok(Ok(Membership::NotMember));
        }
        self.ensure(token).await?;
        let index = self.index(tenant.project_id()).await?;
        let index = index.read().expect("index lock");
        let limits = Limits { max_width, max_steps: self.settings.max_steps };
        Ok(Checker::check(&index, &schema, tuple, depth, limits))
    }

    /// Answers an expand.
    pub async fn expand(
        &self,
        tenant: &TenantContext,
        set: &SubjectSet,
        depth: i32,
        token: Option<ConsistencyToken>,
    ) -> Result<ExpandNode, ServiceError> {
        let schema = self.schema(tenant)?;
        self.ensure(token).await?;
        let index = self.index(tenant.project_id()).await?;
        let index = index.read().expect("index lock");
        Ok(expand(&index, &schema, set, depth))
    }

    /// Reads the region's change feed once and applies it to loaded indexes; returns how many changes it read.
    pub async fn poll_feed(&self) -> Result<usize, ServiceError> {
        let cursor = *self.feed_cursor.lock().expect("feed lock");
        let changes = self.store.changes(cursor, 5000).await?;
        let Some(first) = changes.first() else { return Ok(0) };
        if first.seq != cursor + 1 {
            // Changes this worker never saw were pruned: every loaded index may be stale; reload lazily.
            tracing::warn!(cursor, first = first.seq, "permission feed gap; dropping loaded indexes");
            self.slots.lock().expect("slots lock").clear();
        } else {
            let mut by_project: HashMap<ProjectId, Vec<Change>> = HashMap::new();
            for c in &changes {
                by_project.entry(c.project_id).or_default().push(c.clone());
            }
            for (project, changes) in by_project {
                let slot = self.slots.lock().expect("slots lock").get(&project).cloned();
                if let Some(index) = slot.and_then(|s| s.get().cloned()) {
                    apply(&index, &changes);
                }
            }
        }
        let last = changes.last().map_or(cursor, |c| c.seq);
        *self.feed_cursor.lock().expect("feed lock") = last;
        Ok(changes.len())
    }

    /// Follows the feed until the task is dropped; prunes old changes now and then.
    pub async fn follow(self: Arc<Self>, clock: tessera_platform::clock::SharedClock) {
        let mut tick = tokio::time::interval(self.settings.feed_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            loop {
                match self.poll_feed().await {
                    Ok(n) if n >= 5000 => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the permission change feed failed");
                        break;
                    }
                }
            }
            rounds += 1;
            if rounds.is_multiple_of(600) {
                let before = clock.now() - self.settings.feed_retention;
                if let Err(e) = self.store.prune(before).await {
                    tracing::warn!(error = %e, "pruning the permission change feed failed");
                }
            }
        }
    }
}

/// Applies changes newer than what the index has applied, in order.
fn apply(index: &RwLock<ProjectIndex>, changes: &[Change]) {
    let mut index = index.write().expect("index lock");
    for c in changes {
        if c.seq <= index.applied_seq {
            continue;
        }
        if c.inserted {
            index.insert(&c.tuple);
        } else {
            index.remove(&c.tuple);
        }
        index.applied_seq = c.seq;
    }
}

/// Compiles a project's namespaces: a plain list, or an OPL document.
pub fn compile(namespaces: &Namespaces) -> Result<Schema, ServiceError> {
    match namespaces {
        Namespaces::List(list) => Ok(Schema::from_names(list.iter().map(|n| n.name.as_str()))),
        Namespaces::Opl(loc) => {
            let source = decode_opl(&loc.location).map_err(ServiceError::Schema)?;
            tessera_opl::parse(&source).map_err(|errors| {
                ServiceError::Schema(
                    errors
                        .iter()
                        .map(|e| format!("{}:{}: {}", e.start.line, e.start.column, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
        }
    }
}
