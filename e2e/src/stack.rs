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
        let (server, control_plane) = tessera_workspace_api::boot(&config, None, Arc::new(SystemClock), false)
            .await
            .expect("control plane starts");
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

/// A control plane and a worker per region, each over its own fresh database, for multi-region tests.
/// Components can be stopped and restarted on the same addresses and databases.
#[derive(Debug)]
pub struct RegionalStack {
    pub operator_key: String,
    pub cp_url: String,
    control_plane: Option<(RunningServer, ControlPlane)>,
    cp_config: Config,
    pub workers: std::collections::BTreeMap<String, tessera_worker::RunningWorker>,
    worker_configs: std::collections::BTreeMap<String, Config>,
    _dbs: Vec<TestDatabase>,
}

/// The regions a [`RegionalStack`] runs.
pub const REGIONS: [&str; 2] = ["eu-central", "us-east"];

impl RegionalStack {
    /// Starts the control plane and one worker per region in [`REGIONS`], all on `backend`.
    pub async fn start(backend: Backend, adjust: impl Fn(&mut Config)) -> Self {
        Self::start_custom(backend, adjust, |_, _| {}).await
    }

    /// Like [`start`](Self::start), with a further adjustment per worker (`region`, its config).
    pub async fn start_custom(
        backend: Backend,
        adjust: impl Fn(&mut Config),
        adjust_worker: impl Fn(&str, &mut Config),
    ) -> Self {
        let cp_db = TestDatabase::new(backend, &tessera_control_plane::migrations()).await;
        let operator_key = generate_token("tessera_op_");
        let cp_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let cp_url = format!("http://{}", cp_listener.local_addr().unwrap());
        let mut region_listeners = Vec::new();
        for region in REGIONS {
            region_listeners.push((region, std::net::TcpListener::bind("127.0.0.1:0").expect("bind")));
        }
        let mut config = Config::load(None, Vec::new()).expect("default configuration is valid").config;
        config.database.url = Secret::new(cp_db.url.clone());
        config.http.listen = cp_listener.local_addr().unwrap();
        config.http.workers = Some(1);
        config.control_plane.admin_api_key = Some(Secret::new(operator_key.clone()));
        config.control_plane.rate_limit.requests_per_second = 10_000;
        config.control_plane.rate_limit.burst = 10_000;
        config.regions = region_listeners
            .iter()
            .map(|(r, l)| {
                let url = format!("http://{}", l.local_addr().unwrap()).parse().unwrap();
                (r.to_string(), tessera_platform::config::RegionConfig { url })
            })
            .collect();
        config.data_plane.control_plane_url = cp_url.parse().unwrap();
        config.data_plane.forward_secret = Some(Secret::new(generate_token("tessera_fw_")));
        config.data_plane.system_secret = Some(Secret::new(generate_token("tessera_sys_")));
        config.data_plane.directory_wait_ms = 5_000;
        config.data_plane.rate_limit_scale = 100.0;
        adjust(&mut config);
        let clock: tessera_platform::clock::SharedClock = Arc::new(SystemClock);
        let (server, cp) = tessera_workspace_api::boot(&config, Some(cp_listener), clock.clone(), false)
            .await
            .expect("control plane starts");
        let mut dbs = vec![cp_db];
        let mut workers = std::collections::BTreeMap::new();
        let mut worker_configs = std::collections::BTreeMap::new();
        for (region, listener) in region_listeners {
            let db = TestDatabase::new(backend, &tessera_worker::migrations()).await;
            let mut wc = config.clone();
            wc.database.url = Secret::new(db.url.clone());
            wc.http.listen = listener.local_addr().unwrap();
            wc.data_plane.region = Some(region.to_owned());
            wc.data_plane.region_key = Some(Secret::new(cp.region_key_issue(region, false).await.expect("region key")));
            adjust_worker(region, &mut wc);
            let worker =
                tessera_worker::boot(&wc, region, Some(listener), clock.clone(), false).await.expect("worker starts");
            workers.insert(region.to_owned(), worker);
            worker_configs.insert(region.to_owned(), wc);
            dbs.push(db);
        }
        Self {
            operator_key,
            cp_url,
            control_plane: Some((server, cp)),
            cp_config: config,
            workers,
            worker_configs,
            _dbs: dbs,
        }
    }

    /// The control plane's operations (panics while it is stopped).
    pub fn control_plane(&self) -> &ControlPlane {
        &self.control_plane.as_ref().expect("the control plane is running").1
    }

    /// A region's base URL.
    pub fn region_url(&self, region: &str) -> String {
        format!("http://{}", self.worker_configs[region].http.listen)
    }

    /// Stops the control plane (its database stays).
    pub async fn stop_control_plane(&mut self) {
        if let Some((server, _)) = self.control_plane.take() {
            server.stop().await;
        }
    }

    /// Starts the control plane again on the same address and database.
    pub async fn start_control_plane(&mut self) {
        let listener = rebind(self.cp_config.http.listen).await;
        let (server, cp) = tessera_workspace_api::boot(&self.cp_config, Some(listener), Arc::new(SystemClock), false)
            .await
            .expect("control plane restarts");
        self.control_plane = Some((server, cp));
    }

    /// Stops a region's worker and starts it again on the same address and database.
    pub async fn restart_worker(&mut self, region: &str) {
        if let Some(w) = self.workers.remove(region) {
            w.stop().await;
        }
        let config = &self.worker_configs[region];
        let listener = rebind(config.http.listen).await;
        let worker = tessera_worker::boot(config, region, Some(listener), Arc::new(SystemClock), false)
            .await
            .expect("worker restarts");
        self.workers.insert(region.to_owned(), worker);
    }

    /// Stops a region's worker as a crash would: no final usage flush, so what was counted since the last flush
    /// is lost (its outbox stays as it was). Start it again with [`start_worker`](Self::start_worker).
    pub async fn crash_worker(&mut self, region: &str) {
        if let Some(w) = self.workers.remove(region) {
            w.kill().await;
        }
    }

    /// Starts a region's worker that is not running, on its address and database.
    pub async fn start_worker(&mut self, region: &str) {
        let config = &self.worker_configs[region];
        let listener = rebind(config.http.listen).await;
        let worker = tessera_worker::boot(config, region, Some(listener), Arc::new(SystemClock), false)
            .await
            .expect("worker starts");
        self.workers.insert(region.to_owned(), worker);
    }

    /// The key a region signs its tokens to the control plane with (for tests that speak the internal API).
    pub fn region_key(&self, region: &str) -> tessera_directory::RegionKey {
        let text = self.worker_configs[region].data_plane.region_key.as_ref().expect("region key").expose();
        tessera_directory::RegionKey::decode(text).expect("a valid region key")
    }

    /// The database URL of a region's worker (for benchmarks that load data directly).
    pub fn worker_database_url(&self, region: &str) -> String {
        self.worker_configs[region].database.url.expose().to_owned()
    }

    /// Starts another worker for `region` on the same database (a region runs several); the caller stops it.
    pub async fn extra_worker(&self, region: &str) -> tessera_worker::RunningWorker {
        let config = &self.worker_configs[region];
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        tessera_worker::boot(config, region, Some(listener), Arc::new(SystemClock), false)
            .await
            .expect("extra worker starts")
    }

    /// Gives a region's worker a fresh, empty database (it takes effect at the next restart), as a newly
    /// provisioned region would have.
    pub async fn replace_worker_database(&mut self, region: &str) {
        let backend = tessera_platform::db::Backend::of_url(self.worker_configs[region].database.url.expose())
            .expect("known backend");
        let db = TestDatabase::new(backend, &tessera_worker::migrations()).await;
        self.worker_configs.get_mut(region).expect("region").database.url = Secret::new(db.url.clone());
        self._dbs.push(db);
    }

    /// Waits until every worker has applied the control plane's whole log; false on timeout.
    pub async fn converged(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let head = self.control_plane().store().directory_head().await.expect("head");
            if self.workers.values().all(|w| w.directory.seq() == head) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Stops everything and drops the databases.
    pub async fn stop(mut self) {
        for (_, w) in std::mem::take(&mut self.workers) {
            w.stop().await;
        }
        self.stop_control_plane().await;
    }
}

/// Binds an address that was just released, retrying briefly.
async fn rebind(addr: SocketAddr) -> std::net::TcpListener {
    for _ in 0..100 {
        if let Ok(l) = std::net::TcpListener::bind(addr) {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("cannot rebind {addr}");
}
