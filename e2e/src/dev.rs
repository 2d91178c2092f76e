//! `tessera dev`: the whole system on one machine with nothing installed.
//!
//! One process runs the control plane and two regional workers (`eu-central`, `us-east`), each on its own
//! SQLite file under the data directory (default `.tessera/`). `dev.json` there holds the URLs and the keys
//! seeded on first start; keys are stored hashed in the databases like any other, so `dev.json` is the only
//! place their values exist, and restarting reads them back from there.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tessera_control_plane::ControlPlane;
use tessera_control_plane::app::CreateProject;
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::{Environment, Role};
use tessera_directory::{RegionKey, region_token};
use tessera_platform::clock::{Clock, SharedClock, SystemClock};
use tessera_platform::config::{Config, LogFormat, RegionConfig, Secret};
use tessera_platform::ids::{ProjectId, WorkspaceId};
use tessera_platform::secrets::generate_token;
use tessera_worker::{RunningWorker, WorkerError};
use tessera_workspace_api::{BootError, RunningServer};

/// The regions `tessera dev` runs, and their port offsets from the control plane's port.
pub const DEV_REGIONS: [(&str, u16); 2] = [("eu-central", 100), ("us-east", 200)];

/// Options of `tessera dev`.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Where the databases and `dev.json` live.
    pub data_dir: PathBuf,
    /// Port of the control plane; the regions listen 100 and 200 above it. 0 picks free ports for all three.
    pub port: u16,
    /// A database other than the embedded SQLite file for the control plane (e.g. Postgres).
    pub database_url: Option<String>,
}

/// What `tessera dev` prints and writes to `<data-dir>/dev.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DevInfo {
    pub control_plane_url: String,
    pub workspace_id: WorkspaceId,
    pub workspace_api_key: String,
    pub project: DevProject,
    /// The platform operator's key (can create workspaces).
    pub admin_api_key: String,
    /// Region name → base URL of its worker.
    #[serde(default)]
    pub regions: BTreeMap<String, String>,
    /// A URL with `{slug}` that reaches any project through any region, without wildcard DNS.
    #[serde(default)]
    pub project_url_template: String,
    /// The keys the regions sign their directory requests with.
    #[serde(default)]
    pub region_keys: BTreeMap<String, String>,
    /// Proves forwarded requests come from a worker.
    #[serde(default)]
    pub forward_secret: String,
    /// Keys OAuth2 token signatures and client-secret digests (kept across restarts, or tokens stop working).
    #[serde(default)]
    pub system_secret: String,
}

/// The seeded demo project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DevProject {
    pub id: ProjectId,
    pub slug: String,
    pub api_key: String,
    /// The project's base URL through its home region.
    #[serde(default)]
    pub url: String,
}

/// Why `tessera dev` could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Config(#[from] tessera_platform::config::ConfigError),
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error("a regional worker failed to start")]
    Worker(#[from] WorkerError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid dev file (delete it to reseed): {message}")]
    DevFile { path: PathBuf, message: String },
    #[error("invalid billing job settings")]
    Jobs(#[from] tessera_billing_jobs::JobError),
    #[error("seeding the demo workspace failed")]
    Seed(#[source] tessera_control_plane::Error),
}

/// A running dev stack.
#[derive(Debug)]
pub struct DevStack {
    pub info: DevInfo,
    pub server: RunningServer,
    pub workers: Vec<RunningWorker>,
    pub config: Config,
    /// The billing jobs, when `[billing.export]` or `[billing.stripe]` is configured.
    pub jobs: Option<tokio::task::JoinHandle<()>>,
}

impl DevStack {
    /// Serves until SIGINT or SIGTERM, then stops the regions and the control plane.
    pub async fn wait(self) -> std::io::Result<()> {
        tessera_platform::shutdown_signal().await;
        tracing::info!("shutdown requested; stopping the regions and the control plane");
        self.stop().await;
        Ok(())
    }

    /// Stops everything: regions first (they hold long-polls on the control plane).
    pub async fn stop(self) {
        if let Some(jobs) = &self.jobs {
            jobs.abort();
        }
        for w in self.workers {
            w.stop().await;
        }
        self.server.stop().await;
    }
}

fn bind(port: u16) -> Result<TcpListener, DevError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpListener::bind(addr).map_err(|source| DevError::Bind { addr, source })
}

fn url_of(listener: &TcpListener) -> String {
    format!("http://{}", listener.local_addr().expect("bound listener has an address"))
}

/// Starts the dev stack, seeding it on first start, and writes `dev.json`.
pub async fn start(base: Config, opts: &DevOptions) -> Result<DevStack, DevError> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| DevError::Io { path: opts.data_dir.clone(), source })?;
    let dev_file = opts.data_dir.join("dev.json");
    let previous = read_dev_file(&dev_file)?;
    let admin_key = previous.as_ref().map(|p| p.admin_api_key.clone()).unwrap_or_else(|| generate_token("tessera_op_"));
    let forward_secret = previous
        .as_ref()
        .map(|p| p.forward_secret.clone())
        .filter(|s| s.len() >= 16)
        .unwrap_or_else(|| generate_token("tessera_fw_"));
    let system_secret = previous
        .as_ref()
        .map(|p| p.system_secret.clone())
        .filter(|s| s.len() >= 32)
        .unwrap_or_else(|| generate_token("tessera_sys_"));

    // Bind every listener first, so each component knows the others' real addresses (ports may be 0).
    let cp_listener = bind(opts.port)?;
    let mut region_listeners = Vec::new();
    for (name, offset) in DEV_REGIONS {
        let port = if opts.port == 0 { 0 } else { opts.port + offset };
        region_listeners.push((name, bind(port)?));
    }
    let mut config = base;
    config.database.url = Secret::new(
        opts.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", opts.data_dir.join("control-plane.db").display())),
    );
    config.http.listen = cp_listener.local_addr().expect("bound");
    config.http.public_url = None;
    config.telemetry.log_format = LogFormat::Pretty;
    config.control_plane.admin_api_key = Some(Secret::new(admin_key.clone()));
    config.regions = region_listeners
        .iter()
        .map(|(name, l)| (name.to_string(), RegionConfig { url: url_of(l).parse().expect("valid url") }))
        .collect();
    config.control_plane.default_region = DEV_REGIONS[0].0.to_owned();
    config.data_plane.control_plane_url = url_of(&cp_listener).parse().expect("valid url");
    config.data_plane.forward_secret = Some(Secret::new(forward_secret.clone()));
    config.data_plane.system_secret = Some(Secret::new(system_secret.clone()));

    let clock: SharedClock = Arc::new(SystemClock);
    let (server, control_plane) = tessera_workspace_api::boot(&config, Some(cp_listener), clock.clone(), false).await?;
    let cp_url = server.url();

    let mut info = match previous {
        Some(p) if still_seeded(&control_plane, &p).await => p,
        _ => seed(&control_plane, cp_url.clone(), admin_key).await.map_err(DevError::Seed)?,
    };
    info.control_plane_url = cp_url;
    info.forward_secret = forward_secret;
    info.system_secret = system_secret;

    let mut workers = Vec::new();
    for (name, listener) in region_listeners {
        let key = match info.region_keys.get(name) {
            Some(k) if key_still_valid(&control_plane, k, name, clock.as_ref()).await => k.clone(),
            _ => control_plane.region_key_issue(name, false).await.map_err(DevError::Seed)?,
        };
        info.region_keys.insert(name.to_owned(), key.clone());
        let mut worker_config = config.clone();
        worker_config.database.url =
            Secret::new(format!("sqlite://{}", opts.data_dir.join(format!("region-{name}.db")).display()));
        worker_config.data_plane.region = Some(name.to_owned());
        worker_config.data_plane.region_key = Some(Secret::new(key));
        let worker = tessera_worker::boot(&worker_config, name, Some(listener), clock.clone(), false).await?;
        info.regions.insert(name.to_owned(), worker.url());
        workers.push(worker);
    }
    let home_url = info.regions[DEV_REGIONS[0].0].clone();
    info.project_url_template = format!("{home_url}/p/{{slug}}");
    info.project.url = format!("{home_url}/p/{}", info.project.slug);

    let text = serde_json::to_string_pretty(&info).expect("dev info serializes");
    std::fs::write(&dev_file, text + "\n").map_err(|source| DevError::Io { path: dev_file.clone(), source })?;
    let jobs = tessera_billing_jobs::BillingJobs::from_config(&config, control_plane, clock)?
        .map(|jobs| tokio::spawn(jobs.run(std::time::Duration::from_secs(60))));
    Ok(DevStack { info, server, workers, config, jobs })
}

fn read_dev_file(path: &Path) -> Result<Option<DevInfo>, DevError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| DevError::DevFile { path: path.to_owned(), message: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DevError::Io { path: path.to_owned(), source }),
    }
}

/// Whether the database still holds what `dev.json` describes (it may have been deleted by hand).
async fn still_seeded(cp: &ControlPlane, info: &DevInfo) -> bool {
    match cp.authenticate(&info.project.api_key).await {
        Ok(actor) => {
            cp.project_get(&actor, info.project.id).await.is_ok()
                && cp.authenticate(&info.workspace_api_key).await.is_ok()
        }
        Err(_) => false,
    }
}

async fn key_still_valid(cp: &ControlPlane, text: &str, region: &str, clock: &dyn Clock) -> bool {
    let Ok(key) = RegionKey::decode(text) else { return false };
    let token = region_token(&key, region, clock.now().unix_timestamp(), Duration::from_secs(60));
    cp.region_authenticate(&token).await.is_ok_and(|r| r == region)
}

async fn seed(cp: &ControlPlane, url: String, admin_key: String) -> Result<DevInfo, tessera_control_plane::Error> {
    let operator = Actor::Operator;
    let workspace = cp.workspace_create(&operator, "Development").await?;
    let workspace_key = cp.workspace_key_create(&operator, workspace.id, "tessera dev", None).await?;
    let (project, _) = cp
        .project_create(
            &operator,
            CreateProject {
                name: "Demo".to_owned(),
                environment: Environment::Dev,
                home_region: Some(DEV_REGIONS[0].0.to_owned()),
                workspace_id: Some(workspace.id),
            },
        )
        .await?;
    let project_id = project.project.id;
    let project_key = cp.project_key_create(&operator, project_id, "tessera dev", None).await?;
    cp.project_member_add(&operator, project_id, "developer@tessera.localhost", Some("Developer"), Role::Owner).await?;
    tracing::info!(workspace = %workspace.id, project = %project_id, "seeded the demo workspace and project");
    Ok(DevInfo {
        control_plane_url: url,
        workspace_id: workspace.id,
        workspace_api_key: workspace_key.secret,
        project: DevProject {
            id: project_id,
            slug: project.project.slug,
            api_key: project_key.secret,
            url: String::new(),
        },
        admin_api_key: admin_key,
        regions: BTreeMap::new(),
        project_url_template: String::new(),
        region_keys: BTreeMap::new(),
        forward_secret: String::new(),
        system_secret: String::new(),
    })
}

/// The banner `tessera dev` prints.
pub fn banner(info: &DevInfo, data_dir: &Path) -> String {
    let regions: String = info.regions.iter().map(|(name, url)| format!("  Region {name:<24}{url}\n")).collect();
    format!(
        "\nTessera is running.\n\n  \
         Control plane (workspace API)  {url}\n{regions}  \
         Any project                    {template}\n\n  \
         Workspace id                   {ws}\n  \
         Workspace API key              {wk}\n  \
         Demo project                   {pid} (slug {slug})\n  \
         Demo project URL               {purl}\n  \
         Demo project API key           {pk}\n  \
         Operator key                   {ak}\n\n  \
         Written to {file}\n\n  \
         Try: curl -H 'Authorization: Bearer {wk}' {url}/projects/{pid}\n       \
         curl -H 'Authorization: Bearer {pk}' {purl}/admin/tenant\n\n  \
         Usage and the draft invoice (usage arrives within about a second):\n       \
         curl -H 'Authorization: Bearer {wk}' {url}/workspaces/{ws}/usage\n       \
         curl -H 'Authorization: Bearer {wk}' {url}/workspaces/{ws}/invoices\n\n\
         Press Ctrl-C to stop.\n",
        url = info.control_plane_url,
        template = info.project_url_template,
        ws = info.workspace_id,
        wk = info.workspace_api_key,
        pid = info.project.id,
        slug = info.project.slug,
        purl = info.project.url,
        pk = info.project.api_key,
        ak = info.admin_api_key,
        file = data_dir.join("dev.json").display(),
    )
}
