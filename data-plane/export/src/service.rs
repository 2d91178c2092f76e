//! `ExportService`: starts export jobs and answers their records.
//!
//! Jobs run on the Tokio runtime the service was built on (the worker's main runtime), not on the HTTP
//! worker thread that took the request, so a job outlives the request and is not tied to one HTTP worker.
//! A running job beats every few seconds; one that stopped (its worker crashed or was stopped mid-export)
//! is marked failed the next time its project starts, lists or reads exports, so a project is never blocked
//! from exporting by a job nobody runs.

use std::sync::Arc;

use serde_json::Value;
use tessera_export::ExportSink;
use tessera_identity::urls::PublicUrls;
use tessera_platform::clock::SharedClock;
use tessera_platform::pagination::{PageRequest, split_page};
use tessera_platform::tenant::TenantContext;
use tokio::runtime::Handle;

use crate::config::{ExportConfig, Tuning};
use crate::error::{Error, STALE_MESSAGE, chain};
use crate::job::{ExportId, ExportJob};
use crate::runner::{Job, STALE_AFTER};
use crate::store::ExportStore;

/// Starts and reads a region's project exports; cheap to clone.
#[derive(Clone, Debug)]
pub struct ExportService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `None`: the region has no export bucket, and every endpoint says so.
    sink: Option<ExportSink>,
    tuning: Tuning,
    clock: SharedClock,
    runtime: Handle,
}

impl ExportService {
    /// Builds the service from `[data_plane.export]` (absent: exports are not offered). Must be called on the
    /// runtime jobs should run on; checks the bucket in the background and only warns, so a region whose S3
    /// is briefly away still starts.
    pub fn from_config(section: Option<&Value>, clock: SharedClock) -> Result<Self, Error> {
        let config = section.map(ExportConfig::from_value).transpose()?;
        Self::new(config, clock)
    }

    /// Like [`Self::from_config`], from parsed settings.
    pub fn new(config: Option<ExportConfig>, clock: SharedClock) -> Result<Self, Error> {
        let runtime = Handle::try_current().map_err(|_| Error::Config {
            key: "data_plane.export".into(),
            message: "the export service must be built inside the worker's Tokio runtime".into(),
        })?;
        let (sink, tuning) = match config {
            Some(config) => {
                let sink = ExportSink::new(&config.s3)
                    .map_err(|e| Error::Config { key: "data_plane.export".into(), message: e.to_string() })?;
                let check = sink.clone();
                runtime.spawn(async move {
                    match check.check().await {
                        Ok(()) => tracing::info!(bucket = check.bucket(), "project exports go to S3"),
                        Err(e) => tracing::warn!(error = %chain(&e),
                            "the project export bucket is not usable yet; exports fail until it is"),
                    }
                });
                (Some(sink), config.tuning)
            }
            None => (None, Tuning::default()),
        };
        Ok(Self { inner: Arc::new(Inner { sink, tuning, clock, runtime }) })
    }

    /// Whether the region offers exports.
    pub fn is_enabled(&self) -> bool {
        self.inner.sink.is_some()
    }

    fn sink(&self) -> Result<&ExportSink, Error> {
        self.inner.sink.as_ref().ok_or(Error::NotConfigured)
    }

    /// Starts an export of the tenant's project in the background and returns its job (state `running`).
    /// `public_base_url` is the project's URL as the caller reached it; identities' `schema_url`s use it.
    /// [`Error::AlreadyRunning`] while another export of the project runs.
    pub async fn start(&self, ctx: &TenantContext, public_base_url: &str) -> Result<ExportJob, Error> {
        let sink = self.sink()?.clone();
        let store = ExportStore::new(ctx.db());
        self.reap(&store).await?;
        let job = store.insert_running(ExportId::new(), self.inner.clock.now()).await?;
        let run = Job {
            ctx: ctx.clone(),
            id: job.id,
            sink,
            urls: PublicUrls::fixed(public_base_url),
            clock: self.inner.clock.clone(),
            tuning: self.inner.tuning,
        };
        self.inner.runtime.spawn(run.run());
        tracing::info!(project = %ctx.project_id(), export = %job.id, "project export started");
        Ok(job)
    }

    /// One export of the tenant's project; another project's id is [`Error::NotFound`].
    pub async fn get(&self, ctx: &TenantContext, id: ExportId) -> Result<ExportJob, Error> {
        self.sink()?;
        let store = ExportStore::new(ctx.db());
        self.reap(&store).await?;
        store.get(id).await?.ok_or(Error::NotFound)
    }

    /// A page of the tenant's exports, newest first, and the next page's token.
    pub async fn list(
        &self,
        ctx: &TenantContext,
        page: &PageRequest,
    ) -> Result<(Vec<ExportJob>, Option<String>), Error> {
        self.sink()?;
        let store = ExportStore::new(ctx.db());
        self.reap(&store).await?;
        let jobs = store.list(page.after.map(ExportId), page.fetch_limit()).await?;
        Ok(split_page(jobs, page, |j| j.id.as_uuid()))
    }

    /// Fails the project's running job if it stopped beating.
    async fn reap(&self, store: &ExportStore<'_>) -> Result<(), Error> {
        let now = self.inner.clock.now();
        let stale_before = now - STALE_AFTER;
        let failed = store.fail_stale(stale_before, STALE_MESSAGE, now).await?;
        if failed > 0 {
            tracing::warn!("a project export stopped beating and was marked failed");
        }
        Ok(())
    }
}
