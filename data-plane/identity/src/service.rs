//! The identity engine as a worker runs it: the password hasher's bounded pool, the whoami cache and the
//! follower that keeps it coherent with the region, compiled schemas, and the engine's counters.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntCounterVec, Opts};
use tessera_password::PasswordHasher;
use tessera_platform::clock::{SharedClock, db_time};
use tessera_platform::db::{Database, DbError};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use crate::schemas::SchemaCache;
use crate::session::cache::SessionCache;
use crate::store::{IdentityStore, invalidations};

/// Engine settings (not per project: per worker).
#[derive(Debug, Clone, Copy)]
pub struct IdentitySettings {
    /// Password hashes computed at once at most; the rest wait their turn without holding a thread.
    pub max_concurrent_hashes: usize,
    /// Sessions the whoami cache holds.
    pub cache_capacity: usize,
    /// How long a cached session is served before it is re-read (a backstop; invalidation is immediate).
    pub cache_max_age: Duration,
    /// How often the invalidation feed is read.
    pub feed_interval: Duration,
    /// How long feed entries are kept.
    pub feed_retention: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            max_concurrent_hashes: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            cache_capacity: 100_000,
            cache_max_age: Duration::from_secs(300),
            feed_interval: Duration::from_millis(100),
            feed_retention: Duration::from_secs(3600),
        }
    }
}

/// The engine's counters.
#[derive(Debug, Clone)]
pub struct IdentityMetrics {
    /// Sessions issued per project: the hook daily-active-identity metering reads.
    pub sessions_issued: IntCounterVec,
    /// whoami answers by `result` (`hit`, `miss`, `none`).
    pub whoami: IntCounterVec,
}

impl IdentityMetrics {
    fn new(registry: &prometheus::Registry) -> Self {
        let sessions_issued = IntCounterVec::new(
            Opts::new("identity_sessions_issued_total", "Sessions issued, by project"),
            &["project"],
        )
        .expect("static metric definition");
        let whoami =
            IntCounterVec::new(Opts::new("identity_whoami_total", "whoami answers by cache result"), &["result"])
                .expect("static metric definition");
        for c in [&sessions_issued, &whoami] {
            if let Err(e) = registry.register(Box::new(c.clone())) {
                tracing::warn!(error = %e, "identity metric already registered");
            }
        }
        Self { sessions_issued, whoami }
    }
}

/// The identity engine of one worker.
#[derive(Debug)]
pub struct IdentityService {
    db: Database,
    pub hasher: PasswordHasher,
    pub sessions: SessionCache,
    pub schemas: SchemaCache,
    pub metrics: IdentityMetrics,
    clock: SharedClock,
    settings: IdentitySettings,
}

impl IdentityService {
    /// Over the worker's migrated database; registers counters in `registry`.
    pub async fn new(
        db: Database,
        registry: &prometheus::Registry,
        clock: SharedClock,
        settings: IdentitySettings,
    ) -> Result<Self, DbError> {
        let head = invalidations::head(&db).await?;
        Ok(Self {
            db,
            hasher: PasswordHasher::new(settings.max_concurrent_hashes),
            sessions: SessionCache::new(settings.cache_capacity, settings.cache_max_age, head),
            schemas: SchemaCache::default(),
            metrics: IdentityMetrics::new(registry),
            clock,
            settings,
        })
    }

    /// Now, at the database's precision (so values read back compare equal).
    pub fn now(&self) -> OffsetDateTime {
        db_time(self.clock.now())
    }

    /// The tenant's store.
    pub fn store<'a>(&self, tenant: &'a TenantContext) -> IdentityStore<'a> {
        IdentityStore::new(tenant.db())
    }

    /// Follows the region's invalidation feed forever, and prunes old feed entries and expired flows.
    pub async fn follow(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.feed_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut housekeeping = 0u64;
        loop {
            tick.tick().await;
            if let Err(e) = self.poll_feed().await {
                tracing::warn!(error = %e, "cannot read the identity invalidation feed");
            }
            housekeeping += 1;
            if housekeeping.is_multiple_of(600) {
                self.housekeeping().await;
            }
        }
    }

    /// Applies the feed once; public so tests can drive it without waiting.
    pub async fn poll_feed(&self) -> Result<(), DbError> {
        loop {
            let after = self.sessions.applied();
            let batch = invalidations::read(&self.db, after, 1000).await?;
            if batch.first().is_some_and(|b| b.seq > after + 1) {
                // Entries we never saw were pruned: nothing cached can be trusted.
                let head = invalidations::head(&self.db).await?;
                tracing::warn!(after, head, "fell behind the invalidation feed; clearing the session cache");
                self.sessions.clear(head);
                return Ok(());
            }
            self.sessions.apply(&batch);
            if batch.len() < 1000 {
                return Ok(());
            }
        }
    }

    async fn housekeeping(&self) {
        self.sessions.prune();
        let now = self.clock.now();
        let retention = time::Duration::try_from(self.settings.feed_retention).unwrap_or(time::Duration::HOUR);
        if let Err(e) = invalidations::prune(&self.db, now - retention).await {
            tracing::warn!(error = %e, "cannot prune the identity invalidation feed");
        }
        if let Err(e) = IdentityStore::prune_flows(&self.db, now - time::Duration::DAY).await {
            tracing::warn!(error = %e, "cannot prune expired flows");
        }
    }
}
