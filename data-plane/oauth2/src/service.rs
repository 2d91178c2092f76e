//! The OAuth2 engine's state shared by every request of a worker: the installation secret that token and
//! client-secret digests are keyed with, the clock, and the M2M token counter the usage pipeline reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, Opts, Registry};
use quick_cache::sync::Cache;
use tessera_platform::clock::{SharedClock, db_time};
use tessera_platform::db::Database;
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use crate::keys::KeyRing;
use crate::store::{NewToken, OAuth2Store, StoreError, StoredClient, StoredToken};
use crate::token::{ProjectKeys, SystemSecret};
use crate::writer::TokenWriter;

/// Knobs of the engine that are not per project.
#[derive(Debug, Clone)]
pub struct OAuth2Settings {
    /// The installation's secret (`data_plane.system_secret`), the same in every region.
    pub system_secret: Vec<u8>,
}

/// The engine.
#[derive(Debug)]
pub struct OAuth2Service {
    db: Database,
    secret: SystemSecret,
    clock: SharedClock,
    m2m_tokens: IntCounterVec,
    /// Sealed JSON Web Keys and this worker's cache of them (see `crate::keys`).
    pub(crate) jwks: KeyRing,
    /// Batches token inserts into group commits (see `crate::writer`).
    tokens: TokenWriter,
    /// Clients as the token endpoint last read them, for at most [`CLIENT_CACHE_TTL`].
    clients: Cache<(ProjectId, String), (Arc<StoredClient>, Instant)>,
    /// Token rows as introspection last read them, with the revocation epoch they were read in.
    tokens_read: Cache<(ProjectId, String), (Arc<StoredToken>, Instant, u64)>,
    /// Bumped by every revocation through this worker: cached token rows read before it are misses.
    revocations: AtomicU64,
}

/// How long a worker authenticates against a client it read earlier. An admin change through this worker is
/// seen at once; through another worker of the region, within this long (as whoami revocations are).
pub const CLIENT_CACHE_TTL: Duration = Duration::from_secs(1);

/// How long introspection answers from a token row it read earlier. A revocation through this worker is seen at
/// once (it bumps the epoch); through another worker of the region, within this long.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);

impl OAuth2Service {
    /// Registers the engine's metrics on `registry`.
    pub fn new(
        db: Database,
        registry: &Registry,
        clock: SharedClock,
        settings: OAuth2Settings,
    ) -> Result<Self, prometheus::Error> {
        let m2m_tokens = IntCounterVec::new(
            Opts::new("oauth2_m2m_tokens_issued_total", "Access tokens issued by the client_credentials grant"),
            &["project"],
        )?;
        registry.register(Box::new(m2m_tokens.clone()))?;
        Ok(Self {
            db: db.clone(),
            secret: SystemSecret::new(&settings.system_secret),
            clock,
            m2m_tokens,
            jwks: KeyRing::new(&settings.system_secret),
            tokens: TokenWriter::start(db.clone()),
            clients: Cache::new(16_384),
            tokens_read: Cache::new(65_536),
            revocations: AtomicU64::new(0),
        })
    }

    /// The store scoped to the request's project.
    pub fn store<'a>(&self, tenant: &'a TenantContext) -> OAuth2Store<'a> {
        OAuth2Store::new(tenant.db())
    }

    /// A client for authentication on the hot path (token endpoint, revocation): cached per worker for at most
    /// [`CLIENT_CACHE_TTL`]. Admin reads and writes go to the store directly.
    pub async fn cached_client(
        &self,
        tenant: &TenantContext,
        id: &str,
    ) -> Result<Option<Arc<StoredClient>>, StoreError> {
        let key = (tenant.project_id(), id.to_owned());
        if let Some((client, read)) = self.clients.get(&key)
            && read.elapsed() < CLIENT_CACHE_TTL
        {
            return Ok(Some(client));
        }
        let Some(client) = self.store(tenant).client(id).await? else {
            self.clients.remove(&key);
            return Ok(None);
        };
        let client = Arc::new(client);
        self.clients.insert(key, (client.clone(), Instant::now()));
        Ok(Some(client))
    }

    /// A token row for introspection: cached per worker for at most [`TOKEN_CACHE_TTL`] unless this worker revoked
    /// anything since it was read.
    pub async fn cached_token(
        &self,
        tenant: &TenantContext,
        signature: &str,
    ) -> Result<Option<Arc<StoredToken>>, StoreError> {
        let key = (tenant.project_id(), signature.to_owned());
        let epoch = self.revocations.load(Ordering::Acquire);
        if let Some((row, read, seen)) = self.tokens_read.get(&key)
            && seen == epoch
            && read.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(Some(row));
        }
        let Some(row) = self.store(tenant).token(signature).await? else { return Ok(None) };
        let row = Arc::new(row);
        self.tokens_read.insert(key, (row.clone(), Instant::now(), epoch));
        Ok(Some(row))
    }

    /// Called after any change that ends tokens (revocation, replay, rotation, deletion): cached token rows of this
    /// worker are no longer trusted.
    pub fn tokens_revoked(&self) {
        self.revocations.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops a client from this worker's cache after an admin change.
    pub fn forget_client(&self, project: ProjectId, id: &str) {
        self.clients.remove(&(project, id.to_owned()));
    }

    /// Stores a token of the request's project through the group-commit writer; returns once committed.
    pub async fn store_token(&self, tenant: &TenantContext, token: &NewToken<'_>) -> Result<(), StoreError> {
        self.tokens.write(tenant, token).await
    }

    /// The project's token and client-secret keys.
    pub fn keys(&self, project: ProjectId) -> ProjectKeys {
        self.secret.for_project(project)
    }

    /// Now, truncated to what both databases keep.
    pub fn now(&self) -> OffsetDateTime {
        db_time(self.clock.now())
    }

    /// Counts one M2M token: in the worker's metrics, and as billable usage of the project.
    pub fn count_m2m_token(&self, tenant: &TenantContext) {
        self.m2m_tokens.with_label_values(&[&tenant.project_id().to_string()]).inc();
        tenant.usage().count(tessera_platform::usage::meter::M2M_TOKENS, 1);
    }

    /// The regional database (for housekeeping).
    pub fn database(&self) -> &Database {
        &self.db
    }
}
