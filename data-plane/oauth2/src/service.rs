//! The OAuth2 engine's state shared by every request of a worker: the installation secret that token and
//! client-secret digests are keyed with, the clock, and the M2M token counter the usage pipeline reads.

use prometheus::{IntCounterVec, Opts, Registry};
use tessera_platform::clock::{SharedClock, truncate_to_micros};
use tessera_platform::db::Database;
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use crate::keys::KeyRing;
use crate::store::OAuth2Store;
use crate::token::{ProjectKeys, SystemSecret};

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
}

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
            db,
            secret: SystemSecret::new(&settings.system_secret),
            clock,
            m2m_tokens,
            jwks: KeyRing::new(&settings.system_secret),
        })
    }

    /// The store scoped to the request's project.
    pub fn store<'a>(&self, tenant: &'a TenantContext) -> OAuth2Store<'a> {
        OAuth2Store::new(tenant.db())
    }

    /// The project's token and client-secret keys.
    pub fn keys(&self, project: ProjectId) -> ProjectKeys {
        self.secret.for_project(project)
    }

    /// Now, truncated to what both databases keep.
    pub fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    /// Counts one M2M token for the project (the metering hook).
    pub fn count_m2m_token(&self, project: ProjectId) {
        self.m2m_tokens.with_label_values(&[&project.to_string()]).inc();
    }

    /// M2M tokens issued for `project` since this worker started.
    pub fn m2m_tokens_issued(&self, project: ProjectId) -> u64 {
        self.m2m_tokens.with_label_values(&[&project.to_string()]).get()
    }

    /// The regional database (for housekeeping).
    pub fn database(&self) -> &Database {
        &self.db
    }
}
