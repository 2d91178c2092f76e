//! The `tessera` command line: parses arguments, loads configuration, and hands over to the crates.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tessera_platform::clock::SystemClock;
use tessera_platform::config::{Config, Loaded};
use tessera_platform::db::Database;
use tessera_platform::telemetry;

/// Tessera: an open, multi-tenant identity cloud in one binary.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, propagate_version = true)]
struct Cli {
    /// A TOML configuration file; `TESSERA_<SECTION>__<KEY>` environment variables override it.
    #[arg(long, short, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole system locally on SQLite, seed a demo workspace and print its URLs and keys.
    Dev {
        /// Where the database and dev.json are kept.
        #[arg(long, default_value = ".tessera", env = "TESSERA_DATA_DIR", value_name = "DIR")]
        data_dir: PathBuf,
        /// Port of the control plane (0 picks a free port; see dev.json for the one chosen).
        #[arg(long, default_value_t = 4000)]
        port: u16,
        /// Use this database instead of the SQLite file in the data directory (e.g. postgres://...).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Commands of the control plane.
    #[command(name = "control-plane", subcommand)]
    ControlPlane(ControlPlaneCommand),
    /// Commands of a regional data-plane worker.
    #[command(name = "data-plane", subcommand)]
    DataPlane(DataPlaneCommand),
    /// Apply pending database migrations and exit.
    Migrate {
        /// Whose schema: the control plane's or a regional worker's.
        #[arg(long, value_enum, default_value_t = Component::ControlPlane)]
        component: Component,
        /// The database to migrate; defaults to `database.url` from the configuration.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
enum ControlPlaneCommand {
    /// Serve the workspace API and the regions' internal API (migrations are applied at start).
    Serve,
    /// Issue a signing key to a region and print it once; configure it as `data_plane.region_key` there.
    IssueRegionKey {
        /// The region, by its Ory name.
        #[arg(long)]
        region: String,
        /// Revoke the region's older keys (after every worker runs with the new one).
        #[arg(long)]
        revoke_others: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DataPlaneCommand {
    /// Serve one region's projects (migrations are applied at start).
    Serve {
        /// The region to serve; defaults to `data_plane.region` from the configuration.
        #[arg(long, env = "TESSERA_REGION")]
        region: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Component {
    ControlPlane,
    DataPlane,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Version = cli.command {
        println!("tessera {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Loaded { config, unknown_keys } = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config, &unknown_keys));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut text = format!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                text.push_str(&format!("\n  caused by: {s}"));
                source = s.source();
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

fn warn_unknown(unknown_keys: &[String]) {
    for key in unknown_keys {
        tracing::warn!(key = %key, "unknown configuration key ignored");
    }
}

async fn run(command: Command, mut config: Config, unknown_keys: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Version => Ok(()),
        Command::Dev { data_dir, port, database_url } => {
            config.telemetry.log_format = tessera_platform::config::LogFormat::Pretty;
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            let opts = tessera_e2e::dev::DevOptions { data_dir: data_dir.clone(), port, database_url };
            let stack = tessera_e2e::dev::start(config, &opts).await?;
            println!("{}", tessera_e2e::dev::banner(&stack.info, &data_dir));
            stack.wait().await?;
            Ok(())
        }
        Command::ControlPlane(ControlPlaneCommand::Serve) => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            if config.control_plane.admin_api_key.is_none() {
                tracing::warn!("no control_plane.admin_api_key is set: workspaces cannot be created over HTTP");
            }
            let clock: tessera_platform::clock::SharedClock = Arc::new(SystemClock);
            let (server, control_plane) = tessera_workspace_api::boot(&config, None, clock.clone(), true).await?;
            // S3 exports and the Stripe sync, when [billing.export] / [billing.stripe] are configured.
            let jobs = tessera_billing_jobs::BillingJobs::from_config(&config, control_plane, clock)?
                .map(|jobs| tokio::spawn(jobs.run(std::time::Duration::from_secs(60))));
            server.wait().await?;
            if let Some(jobs) = jobs {
                jobs.abort();
            }
            Ok(())
        }
        Command::ControlPlane(ControlPlaneCommand::IssueRegionKey { region, revoke_others }) => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            let db = Database::connect(config.database.url.expose(), 1).await?;
            db.migrate(&tessera_control_plane::migrations()).await?;
            let cp = tessera_control_plane::ControlPlane::new(
                tessera_control_plane::store::Store::new(db.clone()),
                Arc::new(SystemClock),
                tessera_control_plane::Settings::from_config(&config)?,
            );
            let key = cp.region_key_issue(&region, revoke_others).await?;
            db.close().await;
            println!("{key}");
            Ok(())
        }
        Command::DataPlane(DataPlaneCommand::Serve { region }) => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            let region = region
                .or_else(|| config.data_plane.region.clone())
                .ok_or("the region to serve is required: --region <name> or data_plane.region")?;
            let worker = tessera_worker::boot(&config, &region, None, Arc::new(SystemClock), true).await?;
            worker.wait().await?;
            Ok(())
        }
        Command::Migrate { component, database_url } => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            let url = database_url.unwrap_or_else(|| config.database.url.expose().to_owned());
            let db = Database::connect(&url, 1).await?;
            match component {
                Component::ControlPlane => db.migrate(&tessera_control_plane::migrations()).await?,
                Component::DataPlane => db.migrate(&tessera_worker::migrations()).await?,
            }
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
    }
}
