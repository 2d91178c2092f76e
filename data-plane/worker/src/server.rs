//! Starting a regional worker: its database, its directory copy, the sync task and the HTTP server.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tessera_directory::RegionKey;
use tessera_platform::clock::SharedClock;
use tessera_platform::config::Config;
use tessera_platform::db::{Database, DbError};
use tessera_platform::http;
use tessera_platform::telemetry::record_request;
use tessera_platform::usage::UsageRecorder;
use tokio::sync::Notify;

use crate::directory::Directory;
use crate::directory::store::DirectoryStore;
use crate::directory::sync::{SyncError, SyncStatus, Syncer, load_persisted};
use crate::limits::TenantLimits;
use crate::metrics::WorkerMetrics;
use crate::state::WorkerState;
use crate::usage::Flusher;
use crate::usage::UsageStatus;
use crate::usage::ship::Shipper;
use crate::usage::store::OutboxStore;
use crate::{gate, routes};
use tessera_identity::service::{IdentityService, IdentitySettings};
use tessera_oauth2::{OAuth2Service, OAuth2Settings};
use tessera_permission::service::{PermissionService, ServiceSettings};
use tessera_project_export::ExportService;

/// Why a worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid data-plane configuration: {0}")]
    Config(String),
    #[error("cannot open or migrate the region's database")]
    Database(#[from] DbError),
    #[error("cannot load the persisted directory")]
    Directory(#[from] SyncError),
    #[error("cannot listen")]
    Bind(#[source] std::io::Error),
}

/// A worker that is serving.
#[derive(Debug)]
pub struct RunningWorker {
    pub addr: SocketAddr,
    pub region: String,
    pub directory: Arc<Directory>,
    pub status: Arc<SyncStatus>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    flush_task: tokio::task::JoinHandle<()>,
    flusher: Flusher,
    /// Usage shipping progress.
    pub usage_status: Arc<UsageStatus>,
    handle_signals: bool,
}

impl RunningWorker {
    /// Base URL on this machine.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and syncing; what was counted since the last flush is flushed after the server drained.
    pub async fn stop(mut self) {
        for t in &self.background {
            t.abort();
        }
        self.handle.stop(true).await;
        let _ = (&mut self.task).await;
        self.final_flush().await;
    }

    /// Stops like a crash would, for tests: no final flush, so what was counted since the last flush is lost.
    pub async fn kill(self) {
        for t in &self.background {
            t.abort();
        }
        self.flush_task.abort();
        self.handle.stop(false).await;
        let _ = self.task.await;
    }

    /// Flushes the usage counters now (tests, and the graceful stop).
    pub async fn flush_usage(&self) -> u64 {
        match self.flusher.flush().await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "usage flush failed");
                0
            }
        }
    }

    async fn final_flush(&self) {
        self.flush_task.abort();
        match self.flusher.flush().await {
            Ok(n) => tracing::info!(region = %self.region, events = n, "usage flushed at shutdown"),
            Err(e) => {
                tracing::error!(region = %self.region, error = %e, "usage flush at shutdown failed; counts since the last flush are lost")
            }
        }
    }

    /// Serves until the server stops; with signals handled, SIGINT or SIGTERM stop it gracefully.
    pub async fn wait(mut self) -> std::io::Result<()> {
        if self.handle_signals {
            tokio::select! {
                result = &mut self.task => {
                    for t in &self.background {
                        t.abort();
                    }
                    self.final_flush().await;
                    return result.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                }
                _ = tessera_platform::shutdown_signal() => {
                    tracing::info!(region = %self.region, "shutdown requested; finishing in-flight requests");
                }
            }
        }
        for t in &self.background {
            t.abort();
        }
        self.handle.stop(true).await;
        let result = (&mut self.task).await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        self.final_flush().await;
        result
    }
}

/// The worker's schema migrations (the regional database's, shared with the engines).
pub fn migrations() -> tessera_platform::db::Migrations {
    tessera_platform::db::data_plane_migrations()
}

/// Starts the worker for `region`: loads the persisted directory (and serves from it at once), then follows
/// the control plane. `listener` is a pre-bound socket (for `tessera dev`); otherwise `http.listen` is bound.
pub async fn boot(
    config: &Config,
    region: &str,
    listener: Option<TcpListener>,
    clock: SharedClock,
    handle_signals: bool,
) -> Result<RunningWorker, WorkerError> {
    if !config.regions.contains_key(region) {
        return Err(WorkerError::Config(format!("`{region}` is not in [regions]")));
    }
    let key_text = config.data_plane.region_key.as_ref().ok_or_else(|| {
        WorkerError::Config(
            "data_plane.region_key is required (issue one with `tessera control-plane issue-region-key`)".into(),
        )
    })?;
    let key =
        RegionKey::decode(key_text.expose()).map_err(|e| WorkerError::Config(format!("data_plane.region_key: {e}")))?;
    let forward_secret = config
        .data_plane
        .forward_secret
        .as_ref()
        .ok_or_else(|| {
            WorkerError::Config("data_plane.forward_secret is required (the same value in every region)".into())
        })?
        .expose()
        .to_owned();

    let db = Database::connect(config.database.url.expose(), config.database.max_connections).await?;
    db.migrate(&migrations()).await?;
    let store = DirectoryStore::new(db.clone());
    let directory = Arc::new(Directory::new());
    let loaded = load_persisted(&store, &directory).await?;
    tracing::info!(region, projects = loaded, seq = directory.seq(), "serving from the persisted directory");

    let metrics = WorkerMetrics::new(region);
    let permissions = Arc::new(
        PermissionService::new(db.clone(), metrics.http.registry(), ServiceSettings::default())
            .await
            .map_err(|e| WorkerError::Config(format!("cannot start the permission engine: {e}")))?,
    );
    let feed_task = tokio::spawn(permissions.clone().follow(clock.clone()));
    let identities = Arc::new(
        IdentityService::new(db.clone(), metrics.http.registry(), clock.clone(), IdentitySettings::default())
            .await
            .map_err(|e| WorkerError::Config(format!("cannot start the identity engine: {e}")))?,
    );
    let identity_task = tokio::spawn(identities.clone().follow());
    let system_secret = config
        .data_plane
        .system_secret
        .as_ref()
        .ok_or_else(|| {
            WorkerError::Config("data_plane.system_secret is required (the same value in every region)".into())
        })?
        .expose()
        .as_bytes()
        .to_vec();
    let oauth2 = Arc::new(
        OAuth2Service::new(db.clone(), metrics.http.registry(), clock.clone(), OAuth2Settings { system_secret })
            .map_err(|e| WorkerError::Config(format!("cannot start the OAuth2 engine: {e}")))?,
    );
    let exports = ExportService::from_config(config.data_plane.export.as_ref(), clock.clone())
        .map_err(|e| WorkerError::Config(e.to_string()))?;

    let status = Arc::new(SyncStatus::default());
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| WorkerError::Config(format!("cannot build the HTTP client: {e}")))?;
    let syncer = Syncer {
        region: region.to_owned(),
        control_plane_url: config.data_plane.control_plane_url.as_str().trim_end_matches('/').to_owned(),
        key: key.clone(),
        wait: Duration::from_millis(config.data_plane.directory_wait_ms),
        directory: directory.clone(),
        store,
        status: status.clone(),
        clock: clock.clone(),
        client: client.clone(),
    };
    let sync_task = tokio::spawn(syncer.run());

    let usage = UsageRecorder::new(clock.clone(), config.data_plane.metering);
    let written = Arc::new(Notify::new());
    let outbox = OutboxStore::new(db.clone());
    let usage_status = Arc::new(UsageStatus::default());
    let flusher = Flusher {
        recorder: usage.clone(),
        store: outbox.clone(),
        clock: clock.clone(),
        written: written.clone(),
        status: usage_status.clone(),
    };
    let flush_task = tokio::spawn(flusher.clone().run(Duration::from_millis(config.data_plane.usage_flush_ms)));
    let shipper = Shipper {
        region: region.to_owned(),
        control_plane_url: config.data_plane.control_plane_url.as_str().trim_end_matches('/').to_owned(),
        key,
        client: client.clone(),
        clock: clock.clone(),
        store: outbox,
        written,
        status: usage_status.clone(),
    };
    let ship_task = tokio::spawn(shipper.run());

    let regions: BTreeMap<String, String> = config
        .regions
        .iter()
        .map(|(name, r)| (name.clone(), r.url.as_str().trim_end_matches('/').to_owned()))
        .collect();
    let state = web::Data::new(WorkerState {
        region: region.to_owned(),
        projects_domain: config.control_plane.projects_domain.clone(),
        directory: directory.clone(),
        status: status.clone(),
        db,
        limits: TenantLimits::new(config.data_plane.rate_limit_scale),
        client: crate::forward::client(),
        regions,
        forward_secret,
        max_hops: config.data_plane.max_hops,
        max_body_bytes: config.http.max_body_bytes,
        metrics,
        clock,
        usage,
        usage_status: usage_status.clone(),
    });
    let permissions = web::Data::from(permissions);
    let identities = web::Data::from(identities);
    let oauth2 = web::Data::from(oauth2);
    let exports = web::Data::new(exports);
    let http_metrics = web::Data::new(state.metrics.http.clone());
    let body_limit = config.http.max_body_bytes;
    let app_state = state.clone();
    let factory = move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(permissions.clone())
            .app_data(identities.clone())
            .app_data(oauth2.clone())
            .app_data(exports.clone())
            .app_data(http_metrics.clone())
            .app_data(http::json_config(body_limit))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(from_fn(gate::gate))
            .wrap(from_fn(record_request))
            .configure(routes::configure)
            .default_service(web::to(http::not_found))
    };
    let workers =
        config.http.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    // Signals are handled in `RunningWorker::wait`.
    let server = HttpServer::new(factory).workers(workers).shutdown_timeout(10).disable_signals();
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(config.http.listen).map_err(WorkerError::Bind)?,
    };
    let server = server.listen(listener).map_err(WorkerError::Bind)?;
    let addr = server.addrs().first().copied().ok_or_else(|| WorkerError::Bind(std::io::Error::other("no address")))?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.limits.shrink();
        }
    });
    tracing::info!(region, %addr, "regional worker listening");
    Ok(RunningWorker {
        addr,
        region: region.to_owned(),
        directory,
        status,
        handle,
        task,
        background: vec![sync_task, housekeeping, feed_task, identity_task, ship_task],
        flush_task,
        flusher,
        usage_status,
        handle_signals,
    })
}
