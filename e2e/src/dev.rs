//! `tessera dev`: the whole system on one machine with nothing installed.
//!
//! State lives under a data directory (default `.tessera/`): the SQLite database and `dev.json`, which holds
//! the URLs and the keys seeded on first start. Keys are stored hashed in the database like any other, so
//! `dev.json` is the only place their values exist; restarting reads them back from there.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tessera_control_plane::ControlPlane;
use tessera_control_plane::app::CreateProject;
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::{Environment, Role};
use tessera_platform::clock::SystemClock;
use tessera_platform::config::{Config, LogFormat, Secret};
use tessera_platform::ids::{ProjectId, WorkspaceId};
use tessera_platform::secrets::generate_token;
use tessera_workspace_api::{BootError, RunningServer};

/// Options of `tessera dev`.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Where the database and `dev.json` live.
    pub data_dir: PathBuf,
    /// Port of the control plane; 0 picks a free one.
    pub port: u16,
    /// A database other than the embedded SQLite file (e.g. Postgres).
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
}

/// The seeded demo project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DevProject {
    pub id: ProjectId,
    pub slug: String,
    pub api_key: String,
}

/// Why `tessera dev` could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Config(#[from] tessera_platform::config::ConfigError),
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid dev file (delete it to reseed): {message}")]
    DevFile { path: PathBuf, message: String },
    #[error("seeding the demo workspace failed")]
    Seed(#[source] tessera_control_plane::Error),
}

/// A running dev stack.
#[derive(Debug)]
pub struct DevStack {
    pub info: DevInfo,
    pub server: RunningServer,
    pub config: Config,
}

/// The configuration `tessera dev` runs with: `base` (file and environment) with the dev choices on top.
pub fn dev_config(mut base: Config, opts: &DevOptions, admin_key: &str) -> Config {
    let db_url = opts
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", opts.data_dir.join("control-plane.db").display()));
    base.database.url = Secret::new(db_url);
    base.http.listen = SocketAddr::from(([127, 0, 0, 1], opts.port));
    base.http.public_url = None;
    base.telemetry.log_format = LogFormat::Pretty;
    base.control_plane.admin_api_key = Some(Secret::new(admin_key.to_owned()));
    base
}

/// Starts the dev stack, seeding it on first start, and writes `dev.json`.
pub async fn start(base: Config, opts: &DevOptions) -> Result<DevStack, DevError> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| DevError::Io { path: opts.data_dir.clone(), source })?;
    let dev_file = opts.data_dir.join("dev.json");
    let previous = read_dev_file(&dev_file)?;
    let admin_key = previous.as_ref().map(|p| p.admin_api_key.clone()).unwrap_or_else(|| generate_token("tessera_op_"));
    let config = dev_config(base, opts, &admin_key);
    let (server, control_plane) = tessera_workspace_api::boot(&config, Arc::new(SystemClock), true).await?;
    let url = server.url();

    let info = match previous {
        Some(mut p) if still_seeded(&control_plane, &p).await => {
            p.control_plane_url = url;
            p
        }
        _ => seed(&control_plane, url, admin_key).await.map_err(DevError::Seed)?,
    };
    let text = serde_json::to_string_pretty(&info).expect("dev info serializes");
    std::fs::write(&dev_file, text + "\n").map_err(|source| DevError::Io { path: dev_file.clone(), source })?;
    Ok(DevStack { info, server, config })
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
                home_region: None,
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
        project: DevProject { id: project_id, slug: project.project.slug, api_key: project_key.secret },
        admin_api_key: admin_key,
    })
}

/// The banner `tessera dev` prints.
pub fn banner(info: &DevInfo, data_dir: &Path) -> String {
    format!(
        "\nTessera is running.\n\n  \
         Control plane (workspace API)  {url}\n  \
         OpenAPI document               {url}/openapi.json\n  \
         Metrics                        {url}/metrics\n\n  \
         Workspace id                   {ws}\n  \
         Workspace API key              {wk}\n  \
         Demo project                   {pid} (slug {slug})\n  \
         Demo project API key           {pk}\n  \
         Operator key                   {ak}\n\n  \
         Written to {file}\n\n  \
         Try: curl -H 'Authorization: Bearer {wk}' {url}/projects/{pid}\n\n\
         Press Ctrl-C to stop.\n",
        url = info.control_plane_url,
        ws = info.workspace_id,
        wk = info.workspace_api_key,
        pid = info.project.id,
        slug = info.project.slug,
        pk = info.project.api_key,
        ak = info.admin_api_key,
        file = data_dir.join("dev.json").display(),
    )
}
