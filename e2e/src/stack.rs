//! A control plane on port 0 over a fresh database, for tests.

use std::net::SocketAddr;
use std::sync::Arc;

use tessera_control_plane::ControlPlane;
use tessera_platform::clock::SystemClock;
use tessera_platform::config::{Config, Secret};
use tessera_platform::db::Backend;
use tessera_platform::db::testing::TestDatabase;
use tessera_platform::secrets::generate_token;
use tessera_workspace_api::RunningServer;

/// A running control plane and what a test needs to talk to it.
#[derive(Debug)]
pub struct ControlPlaneStack {
    /// Base URL, e.g. `http://127.0.0.1:38123`.
    pub url: String,
    /// The platform operator's key.
    pub operator_key: String,
    /// Direct access to the operations, for seeding.
    pub control_plane: ControlPlane,
    /// The configuration it runs with.
    pub config: Config,
    server: RunningServer,
    _db: TestDatabase,
}

impl ControlPlaneStack {
    /// Starts a control plane over a fresh database on `backend`.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`start`](Self::start), after letting the test adjust the configuration.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::new(backend, &tessera_control_plane::migrations()).await;
        let operator_key = generate_token("tessera_op_");
        let mut config = Config::load(None, Vec::new()).expect("default configuration is valid").config;
        config.database.url = Secret::new(db.url.clone());
        config.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.http.workers = Some(1);
        config.control_plane.admin_api_key = Some(Secret::new(operator_key.clone()));
        config.control_plane.rate_limit.requests_per_second = 10_000;
        config.control_plane.rate_limit.burst = 10_000;
        adjust(&mut config);
        let (server, control_plane) =
            tessera_workspace_api::boot(&config, None, Arc::new(SystemClock), false).await.expect("control plane starts");
        Self { url: server.url(), operator_key, control_plane, config, server, _db: db }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Stops the server and drops its database.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}
