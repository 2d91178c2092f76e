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
    /// Apply pending database migrations of the control plane and exit.
    Migrate {
        /// The database to migrate; defaults to `database.url` from the configuration.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
enum ControlPlaneCommand {
    /// Serve the workspace API (migrations are applied at start).
    Serve,
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
            stack.server.wait().await?;
            Ok(())
        }
        Command::ControlPlane(ControlPlaneCommand::Serve) => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            if config.control_plane.admin_api_key.is_none() {
                tracing::warn!("no control_plane.admin_api_key is set: workspaces cannot be created over HTTP");
            }
            let (server, _) = tessera_workspace_api::boot(&config, Arc::new(SystemClock), true).await?;
            server.wait().await?;
            Ok(())
        }
        Command::Migrate { database_url } => {
            telemetry::init_tracing(&config.telemetry);
            warn_unknown(unknown_keys);
            let url = database_url.unwrap_or_else(|| config.database.url.expose().to_owned());
            let db = Database::connect(&url, 1).await?;
            db.migrate(&tessera_control_plane::migrations()).await?;
            db.close().await;
            println!("control-plane migrations applied");
            Ok(())
        }
    }
}
