//! The control plane's HTTP server: the workspace API plus health, metrics and the OpenAPI document.

use std::net::{SocketAddr, TcpListener};

use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use tessera_control_plane::store::Store;
use tessera_control_plane::{ControlPlane, Settings};
use tessera_platform::clock::SharedClock;
use tessera_platform::config::Config;
use tessera_platform::db::{Database, DbError};
use tessera_platform::telemetry::{HttpMetrics, metrics_endpoint, record_request};
use tessera_platform::{health, http};

use crate::state::ApiState;
use crate::{internal, openapi, routes};

/// A server that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound address (the real port when the config asked for port 0).
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    housekeeping: tokio::task::JoinHandle<()>,
    control_plane: ControlPlane,
    handle_signals: bool,
}

impl RunningServer {
    /// Base URL for clients on this machine.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends directory long-polls, finishes in-flight requests, and waits.
    pub async fn stop(self) {
        self.control_plane.close();
        self.handle.stop(true).await;
        self.housekeeping.abort();
        let _ = self.task.await;
    }

    /// Serves until the server stops; with `handle_signals`, SIGINT or SIGTERM stop it gracefully.
    pub async fn wait(mut self) -> std::io::Result<()> {
        if self.handle_signals {
            tokio::select! {
                result = &mut self.task => {
                    self.housekeeping.abort();
                    return result.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                }
                _ = tessera_platform::shutdown_signal() => {
                    tracing::info!("shutdown requested; finishing in-flight requests");
                }
            }
        }
        self.control_plane.close();
        self.handle.stop(true).await;
        self.housekeeping.abort();
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("cannot open or migrate the control-plane database")]
    Database(#[from] DbError),
    #[error("invalid control-plane settings")]
    Settings(#[source] tessera_control_plane::Error),
    #[error("cannot publish existing projects to the directory")]
    Backfill(#[source] tessera_control_plane::Error),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Opens and migrates the database named in `config`, assembles the control plane and starts serving it.
/// This is `tessera control-plane serve`, and what `tessera dev` and the end-to-end tests run.
/// `listener` is a pre-bound socket (for `tessera dev`); otherwise `http.listen` is bound.
pub async fn boot(
    config: &Config,
    listener: Option<TcpListener>,
    clock: SharedClock,
    handle_signals: bool,
) -> Result<(RunningServer, ControlPlane), BootError> {
    let db = Database::connect(config.database.url.expose(), config.database.max_connections).await?;
    db.migrate(&tessera_control_plane::migrations()).await?;
    let control_plane =
        ControlPlane::new(Store::new(db.clone()), clock, Settings::from_config(config).map_err(BootError::Settings)?);
    let backfilled = control_plane.directory_backfill().await.map_err(BootError::Backfill)?;
    if backfilled > 0 {
        tracing::info!(projects = backfilled, "published projects that had no directory record");
    }
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(config.http.listen)
            .map_err(|source| BootError::Bind { addr: config.http.listen, source })?,
    };
    let addr = listener.local_addr().unwrap_or(config.http.listen);
    let server = start(config, control_plane.clone(), db, listener, handle_signals)
        .map_err(|source| BootError::Bind { addr, source })?;
    Ok((server, control_plane))
}

/// Binds and starts the control plane's HTTP server. With `handle_signals`, SIGINT/SIGTERM stop it gracefully.
pub fn start(
    config: &Config,
    control_plane: ControlPlane,
    db: Database,
    listener: TcpListener,
    handle_signals: bool,
) -> std::io::Result<RunningServer> {
    let state = web::Data::new(ApiState::new(control_plane, config.control_plane.rate_limit));
    let metrics = web::Data::new(HttpMetrics::new("control_plane"));
    let db = web::Data::new(db);
    let body_limit = config.http.max_body_bytes;

    let cleanup_state = state.clone();
    let cleanup_control_plane = state.control_plane.clone();
    let factory = move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .app_data(db.clone())
            .app_data(http::json_config(body_limit))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(Compress::default())
            .wrap(from_fn(record_request))
            .configure(health::configure)
            .route("/metrics", web::get().to(metrics_endpoint))
            .route("/openapi.json", web::get().to(openapi_json))
            .configure(routes::configure)
            .configure(internal::configure)
            .default_service(web::to(http::not_found))
    };
    // Signals are handled in `RunningServer::wait`, which first ends the directory long-polls.
    let server = HttpServer::new(factory)
        .workers(
            config.http.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)),
        )
        .shutdown_timeout(10)
        .disable_signals();
    let server = server.listen(listener)?;
    let addr = server.addrs().first().copied().ok_or_else(|| std::io::Error::other("no address bound"))?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);

    // Forget idle rate-limit buckets so memory stays bounded by the number of recently active callers.
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            cleanup_state.per_caller.shrink();
            cleanup_state.per_address.shrink();
            // Scheduled downgrades, lifting last month's quota blocks, freezing closed months' invoices.
            if let Err(e) = cleanup_state.control_plane.billing_tick().await {
                tracing::warn!(error = %e, "billing housekeeping failed; retried in a minute");
            }
        }
    });
    tracing::info!(%addr, "control plane listening");
    Ok(RunningServer { addr, handle, task, housekeeping, control_plane: cleanup_control_plane, handle_signals })
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(openapi::document())
}
