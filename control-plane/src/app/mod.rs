//! The control plane's operations.
//!
//! Every operation takes the authenticated [`Actor`], checks scope first, then validates, then writes through
//! the [`Store`] in one transaction where more than one row changes. Handlers above this layer only parse and
//! map; nothing here knows about HTTP.

mod api_keys;
mod billing;
mod directory;
mod domains;
mod members;
mod projects;
mod usage;
mod workspaces;

use std::collections::BTreeMap;
use std::sync::Arc;

use tessera_billing::{Catalogue, Period, PlanSpec};
use tessera_platform::clock::SharedClock;
use tessera_platform::config::{Config, DomainVerificationConfig};
use tessera_platform::secrets::{constant_time_eq, hash_secret};

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::model::Region;
use crate::store::Store;

pub use billing::{InvoiceList, UsageReport};
pub use directory::{DirectoryReadError, parse_region_key};
pub use domains::VERIFICATION_PATH;
pub use projects::{CreateProject, ProjectUpdate};

/// The settings the control plane's operations need, taken from [`Config`] once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Projects live at `<slug>.<projects_domain>`.
    pub projects_domain: String,
    /// Home region of projects created without one.
    pub default_region: String,
    /// The region registry.
    pub regions: BTreeMap<String, Region>,
    /// SHA-256 of the operator key, if one is configured.
    pub operator_key_hash: Option<String>,
    /// How custom domains are verified.
    pub domain_verification: DomainVerificationConfig,
    /// The plans workspaces can be on.
    pub catalogue: Arc<Catalogue>,
    /// How long after a month ends its invoices are frozen.
    pub finalize_after: time::Duration,
}

impl Settings {
    /// Extracts the control plane's settings from the process configuration; a bad plan catalogue is refused
    /// with the plan and field it concerns.
    pub fn from_config(config: &Config) -> Result<Self> {
        let catalogue = if config.billing.plans.is_empty() {
            Catalogue::builtin()
        } else {
            let mut specs = BTreeMap::new();
            for (id, table) in &config.billing.plans {
                let spec: PlanSpec = serde_json::from_value(table.clone())
                    .map_err(|e| Error::Invalid(format!("billing.plans.{id}: {e}")))?;
                specs.insert(id.clone(), spec);
            }
            Catalogue::from_specs(specs).map_err(|e| Error::Invalid(format!("billing.plans: {e}")))?
        };
        Ok(Self {
            projects_domain: config.control_plane.projects_domain.clone(),
            default_region: config.control_plane.default_region.clone(),
            regions: config
                .regions
                .iter()
                .map(|(name, r)| {
                    let url = r.url.as_str().trim_end_matches('/').to_owned();
                    (name.clone(), Region { name: name.clone(), url })
                })
                .collect(),
            operator_key_hash: config.control_plane.admin_api_key.as_ref().map(|k| hash_secret(k.expose())),
            domain_verification: config.control_plane.domain_verification.clone(),
            catalogue: Arc::new(catalogue),
            finalize_after: time::Duration::hours(i64::from(config.billing.finalize_after_hours)),
        })
    }
}

/// The control plane: its store, clock and settings, and the feed that wakes regions waiting for the directory.
#[derive(Debug, Clone)]
pub struct ControlPlane {
    store: Store,
    clock: SharedClock,
    settings: Settings,
    feed: Arc<tokio::sync::watch::Sender<i64>>,
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl ControlPlane {
    /// Assembles the control plane over a migrated store.
    pub fn new(store: Store, clock: SharedClock, settings: Settings) -> Self {
        Self {
            store,
            clock,
            settings,
            feed: Arc::new(tokio::sync::watch::Sender::new(0)),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Ends every waiting directory long-poll now, so a shutdown does not wait for them to time out.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The store, for health checks and seeding.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Resolves a bearer token to a caller; unknown, malformed and expired keys are all 401.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let hash = hash_secret(token);
        if let Some(operator) = &self.settings.operator_key_hash
            && constant_time_eq(operator.as_bytes(), hash.as_bytes())
        {
            return Ok(Actor::Operator);
        }
        let unauthenticated = || Error::Unauthenticated("The API key is invalid, expired or revoked.".into());
        let Some(record) = self.store.api_key_by_hash(&hash).await? else {
            return Err(unauthenticated());
        };
        if !constant_time_eq(record.secret_hash.as_bytes(), hash.as_bytes()) {
            return Err(unauthenticated());
        }
        if record.key.expires_at.is_some_and(|at| at <= self.clock.now()) {
            return Err(unauthenticated());
        }
        Ok(Actor::Key { id: record.key.id, scope: record.key.scope, owner_id: record.key.owner_id })
    }

    /// The region registry; any authenticated caller may read it.
    pub fn regions(&self, _actor: &Actor) -> Vec<Region> {
        self.settings.regions.values().cloned().collect()
    }

    /// The public base URL of a project: `https://<slug>.<domain>` (`http` for `localhost` domains).
    pub fn project_url(&self, slug: &str) -> String {
        let domain = &self.settings.projects_domain;
        let scheme = if domain == "localhost" || domain.ends_with(".localhost") { "http" } else { "https" };
        format!("{scheme}://{slug}.{domain}")
    }

    /// The billing period (UTC month) now.
    pub(crate) fn current_period(&self) -> Result<Period> {
        Period::containing(self.clock.now()).map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The hostnames a project answers on.
    pub fn project_hosts(&self, slug: &str) -> Vec<String> {
        vec![format!("{slug}.{}", self.settings.projects_domain)]
    }
}
