//! Load-generator plumbing the benchmarks share: wrk runs (in the foreground or the background) and their
//! figures, and the machine's load average to print next to them. wrk comes from Debian (`apt-get install wrk`).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_platform::ids::{ProjectId, WorkspaceId};

use crate::stack::RegionalStack;

/// A knob from the environment, or its default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A workspace on the enterprise plan: benchmarks measure the engines, and the developer plan's hard limits
/// (e.g. 10,000 M2M tokens a month) would refuse them with `quota_exceeded` part-way.
pub async fn workspace(stack: &RegionalStack) -> WorkspaceId {
    let cp = stack.control_plane();
    let ws = cp.workspace_create(&Actor::Operator, "bench").await.expect("the benchmark workspace is created").id;
    cp.subscription_set(&Actor::Operator, ws, "enterprise").await.expect("the enterprise plan exists");
    ws
}

/// A production project homed in eu-central, with a JSON Patch applied to its settings when given; its slug
/// and id.
pub async fn project(stack: &RegionalStack, ws: WorkspaceId, name: &str, patch: Option<Value>) -> (String, ProjectId) {
    let cp = stack.control_plane();
    let op = Actor::Operator;
    let create = CreateProject {
        name: name.into(),
        environment: Environment::Prod,
        home_region: Some("eu-central".into()),
        workspace_id: Some(ws),
    };
    let (p, _) = cp.project_create(&op, create).await.expect("the benchmark project is created");
    if let Some(ops) = patch {
        cp.project_update(&op, p.project.id, ProjectUpdate::Patch(ops), None)
            .await
            .expect("the settings patch applies");
    }
    (p.project.slug, p.project.id)
}

/// The machine's load averages, for reading the figures next to what else ran.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let parts: Vec<&str> = text.split_whitespace().take(3).collect();
    format!("load average {}", parts.join(" "))
}

/// wrk's figures as it prints them.
pub struct Wrk {
    pub rps: String,
    pub p50: String,
    pub p99: String,
    non2xx: String,
    socket_errors: String,
}

/// A wrk run in the background.
pub struct RunningWrk(Child);

impl RunningWrk {
    pub fn finish(self) -> Wrk {
        Wrk::parse(&self.0.wait_with_output().expect("wrk runs"))
    }
}

impl Wrk {
    fn command(script: &Path, url: &str, connections: usize, seconds: u64) -> Command {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t", "1", "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--latency", "-s"])
            .arg(script)
            .arg(url);
        cmd
    }

    pub fn run(script: &Path, url: &str, connections: usize, seconds: u64) -> Wrk {
        let out =
            Self::command(script, url, connections, seconds).output().expect("wrk is installed (apt-get install wrk)");
        Self::parse(&out)
    }

    pub fn spawn(script: &Path, url: &str, connections: usize, seconds: u64) -> RunningWrk {
        let child = Self::command(script, url, connections, seconds)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wrk is installed (apt-get install wrk)");
        RunningWrk(child)
    }

    fn parse(out: &std::process::Output) -> Wrk {
        let text = String::from_utf8_lossy(&out.stdout);
        let line = |prefix: &str| text.lines().find(|l| l.trim_start().starts_with(prefix)).map(str::trim);
        let last = |prefix: &str| line(prefix).and_then(|l| l.split_whitespace().last()).unwrap_or("?").to_owned();
        Wrk {
            rps: last("Requests/sec"),
            p50: last("50%"),
            p99: last("99%"),
            non2xx: line("Non-2xx").unwrap_or("").to_owned(),
            socket_errors: line("Socket errors").unwrap_or("").to_owned(),
        }
    }

    pub fn errors(&self) -> String {
        let parts: Vec<&str> =
            [self.non2xx.as_str(), self.socket_errors.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join("; ")) }
    }
}
