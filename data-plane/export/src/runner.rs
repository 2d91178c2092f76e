//! The export job: page through the project's identities, relationships and clients with each engine's own
//! store, write every record in the JSON its engine's admin API shows, record progress after every page,
//! then finish (files, then manifest) or abort.
//!
//! Memory is bounded by one page of rows plus one multipart part per file (`tessera-export` streams), whatever
//! the project's size.

use std::future::Future;
use std::time::Duration;

use tessera_export::{ExportSink, ProjectExport, ProjectManifest};
use tessera_identity::store::{IdentityStore, ListFilter};
use tessera_identity::urls::PublicUrls;
use tessera_identity::wire::{Audience, identity_json};
use tessera_oauth2::store::{ClientPage, OAuth2Store};
use tessera_permission::api::wire::Relationship;
use tessera_permission::store::{PermissionStore, TupleQuery};
use tessera_platform::clock::SharedClock;
use tessera_platform::tenant::TenantContext;
use tracing::Instrument;

use crate::config::Tuning;
use crate::error::{Error, chain};
use crate::job::{Counts, ExportId};
use crate::store::ExportStore;

/// How often a running job says it is alive, besides recording each page.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(10);
/// A running job silent for this long is taken for dead (several missed heartbeats).
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(90);
/// Attempts at recording the outcome: a job that cannot record it stays `running` until it goes stale.
const RECORD_ATTEMPTS: u32 = 3;

/// One export being run.
pub(crate) struct Job {
    pub ctx: TenantContext,
    pub id: ExportId,
    pub sink: ExportSink,
    /// The project's public URL as the client that asked reached it: identities' `schema_url`s use it, as
    /// `GET /admin/identities/{id}` through that address does.
    pub urls: PublicUrls,
    pub clock: SharedClock,
    pub tuning: Tuning,
}

impl Job {
    fn store(&self) -> ExportStore<'_> {
        ExportStore::new(self.ctx.db())
    }

    /// Runs the job to its end and records the outcome; never fails (failures are the job's state).
    pub(crate) async fn run(self) {
        let span = tracing::info_span!("project_export", project = %self.ctx.project_id(), export = %self.id);
        async move {
            let mut counts = Counts::default();
            let outcome = self.beating(self.export(&mut counts)).await;
            self.record(outcome, &counts).await;
        }
        .instrument(span)
        .await
    }

    /// Runs `work` while beating every [`HEARTBEAT`]; gives up when the job is no longer running.
    async fn beating<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        tokio::pin!(work);
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.tick().await;
        loop {
            tokio::select! {
                outcome = &mut work => return outcome,
                _ = tick.tick() => match self.store().beat(self.id, self.clock.now()).await {
                    Ok(true) => {}
                    // Dropping `work` drops the uploads, which abort themselves in the background.
                    Ok(false) => return Err(Error::Abandoned),
                    Err(e) => tracing::warn!(error = %chain(&e), "export heartbeat failed"),
                },
            }
        }
    }

    /// Streams the three files and, if the job is still ours, the manifest.
    async fn export(&self, counts: &mut Counts) -> Result<ProjectManifest, Error> {
        let project = self.ctx.project_id().to_string();
        let mut out = ProjectExport::begin(&self.sink, &project, &self.id.to_string()).map_err(Error::Storage)?;
        let written = async {
            self.identities(&mut out, counts).await?;
            self.relationships(&mut out, counts).await?;
            self.clients(&mut out, counts).await?;
            // A job failed as stale while it ran must not publish a manifest now.
            if self.store().progress(self.id, counts, self.clock.now()).await? { Ok(()) } else { Err(Error::Abandoned) }
        }
        .await;
        match written {
            // `finish` aborts what is unfinished when a file or the manifest fails.
            Ok(()) => out.finish().await.map_err(Error::Storage),
            Err(e) => {
                out.abort().await;
                Err(e)
            }
        }
    }

    async fn identities(&self, out: &mut ProjectExport, counts: &mut Counts) -> Result<(), Error> {
        let store = IdentityStore::new(self.ctx.db());
        let audience = Audience::Admin { declassify: &[] };
        let mut after = None;
        loop {
            let page = store
                .list(&ListFilter::All, after, self.tuning.page_size, true)
                .await
                .map_err(|e| Error::read("identities")(Box::new(e)))?;
            for identity in &page {
                out.identities().write(&identity_json(identity, &self.urls, audience)).await.map_err(Error::Storage)?;
            }
            counts.identities += page.len() as u64;
            after = page.last().map(|i| i.id);
            if !self.page_done(counts, page.len()).await? {
                return Ok(());
            }
        }
    }

    async fn relationships(&self, out: &mut ProjectExport, counts: &mut Counts) -> Result<(), Error> {
        let store = PermissionStore::for_tenant(self.ctx.db());
        let query = TupleQuery::default();
        let mut after = 0;
        loop {
            let page = store
                .list(self.ctx.project_id(), &query, after, self.tuning.page_size)
                .await
                .map_err(|e| Error::read("relationships")(Box::new(e)))?;
            for (_, tuple) in &page {
                out.relationships().write(&Relationship::from(tuple)).await.map_err(Error::Storage)?;
            }
            counts.relationships += page.len() as u64;
            after = page.last().map_or(after, |(seq, _)| *seq);
            if !self.page_done(counts, page.len()).await? {
                return Ok(());
            }
        }
    }

    async fn clients(&self, out: &mut ProjectExport, counts: &mut Counts) -> Result<(), Error> {
        let store = OAuth2Store::new(self.ctx.db());
        let mut page_request = ClientPage { limit: self.tuning.page_size, ..ClientPage::default() };
        loop {
            let page = store.clients(&page_request).await.map_err(|e| Error::read("OAuth2 clients")(Box::new(e)))?;
            for stored in &page {
                // Secrets exist only as digests next to the document, and `None` keeps them out of the JSON.
                out.clients().write(&stored.client.to_json(None)).await.map_err(Error::Storage)?;
            }
            counts.clients += page.len() as u64;
            page_request.after = page.last().map(|c| c.client.client_id.clone());
            if !self.page_done(counts, page.len()).await? {
                return Ok(());
            }
        }
    }

    /// Records progress after a page and paces the job; `Ok(false)` when that was the last page.
    async fn page_done(&self, counts: &Counts, rows: usize) -> Result<bool, Error> {
        if rows > 0 && !self.store().progress(self.id, counts, self.clock.now()).await? {
            return Err(Error::Abandoned);
        }
        let more = rows as i64 >= self.tuning.page_size;
        if more && !self.tuning.page_pause.is_zero() {
            tokio::time::sleep(self.tuning.page_pause).await;
        }
        Ok(more)
    }

    /// Writes the outcome, retrying briefly: the database may be what failed the job.
    async fn record(&self, outcome: Result<ProjectManifest, Error>, counts: &Counts) {
        let outcome = match outcome {
            Ok(manifest) => {
                tracing::info!(
                    identities = counts.identities,
                    relationships = counts.relationships,
                    clients = counts.clients,
                    files = manifest.files.len(),
                    "project export succeeded"
                );
                Ok(manifest)
            }
            Err(e) => {
                tracing::error!(error = %chain(&e), "project export failed");
                Err(e.job_message())
            }
        };
        for attempt in 1..=RECORD_ATTEMPTS {
            let now = self.clock.now();
            let recorded = match &outcome {
                Ok(manifest) => self.store().succeed(self.id, counts, manifest, now).await,
                Err(message) => self.store().fail(self.id, counts, message, now).await.map_err(Error::Db),
            };
            match recorded {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!("the export was marked failed while it ran; its outcome is not recorded");
                    return;
                }
                Err(e) if attempt < RECORD_ATTEMPTS => {
                    tracing::warn!(attempt, error = %chain(&e), "recording the export's outcome failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::error!(error = %chain(&e),
                        "recording the export's outcome failed; the job is failed once it goes stale");
                }
            }
        }
    }
}
