//! A real S3 for tests (feature `testing`): moto_server started through `scripts/moto` on a free port, killed on
//! drop. `MOTO_PARENT_PID` makes the script's watchdog stop it even if the test process is killed. Shared by the
//! tests of this crate, the project export and the billing jobs, so there is one way to start it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::S3Settings;

/// A running moto_server.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    log: PathBuf,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl MotoServer {
    /// Starts a server (installing moto first if this machine has none; that may take a minute).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to make moto check
    /// credentials.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        install();
        let mut last_log = String::new();
        // The port is free when probed but could be taken before moto binds it: retry with another.
        for _ in 0..3 {
            let Some(port) = TcpListener::bind("127.0.0.1:0").ok().and_then(|l| l.local_addr().ok()).map(|a| a.port())
            else {
                continue;
            };
            let log = std::env::temp_dir().join(format!("tessera-moto-{}-{port}.log", std::process::id()));
            let Some((out, err)) = std::fs::File::create(&log).ok().and_then(|f| Some((f.try_clone().ok()?, f))) else {
                continue;
            };
            let spawned = Command::new("bash")
                .arg(script())
                .arg(port.to_string())
                .env("MOTO_PARENT_PID", std::process::id().to_string())
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn();
            let Ok(child) = spawned else { continue };
            let mut server = MotoServer { child, endpoint: format!("http://127.0.0.1:{port}"), log };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if answers_http(port) {
                    return server;
                }
                if server.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            last_log = std::fs::read_to_string(&server.log).unwrap_or_default();
        }
        panic!("moto_server did not start; last log:\n{last_log}");
    }

    /// Settings for a bucket on this server, under the prefix `exports`; moto accepts any credentials, and the
    /// timeouts are short so failures show quickly.
    pub fn settings(&self, bucket: &str) -> S3Settings {
        S3Settings { endpoint: Some(self.endpoint.clone()), ..Self::settings_template(bucket) }
    }

    /// The same settings without an endpoint, for tests that point them elsewhere (a closed port, a server that
    /// never answers).
    pub fn settings_template(bucket: &str) -> S3Settings {
        S3Settings {
            connect_timeout_secs: 2,
            attempt_timeout_secs: 30,
            ..S3Settings::new("us-east-1", bucket, "testing", "testing-secret").with_prefix("exports")
        }
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto")
}

/// Installs moto once per process, without a deadline: a first run downloads it from PyPI.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let out = Command::new("bash").arg(script()).arg("--install-only").output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("scripts/moto --install-only failed:\n{}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => panic!("cannot run scripts/moto: {e}"),
        }
    });
}

fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
