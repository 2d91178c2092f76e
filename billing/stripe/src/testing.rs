//! A real fake Stripe for tests (feature `testing`): localstripe started through `scripts/localstripe` on a free
//! port, killed on drop. Shared by this crate's tests and the billing jobs' tests, so there is one way to start it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The API key the tests use; localstripe accepts any `sk_...`.
pub const API_KEY: &str = "sk_test_tessera";
/// How long a first start may take, including installing localstripe into its virtualenv from PyPI.
const START_DEADLINE: Duration = Duration::from_secs(120);

/// A running localstripe.
#[derive(Debug)]
pub struct LocalStripeProcess {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    log: PathBuf,
}

impl Drop for LocalStripeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl LocalStripeProcess {
    /// Starts `scripts/localstripe <port>` and waits until it answers an authenticated request.
    pub fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/localstripe");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let log = std::env::temp_dir().join(format!("tessera-localstripe-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let child = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        let mut process = Self { child, port, log };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("localstripe exited with {status} before answering:\n{}", process.log_tail());
            }
            if answers(port) {
                return process;
            }
            assert!(
                Instant::now() < deadline,
                "localstripe did not answer within {START_DEADLINE:?}:\n{}",
                process.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>/`, the base URL a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The end of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(4_000);
        text.get(start..).unwrap_or_default().to_owned()
    }
}

/// Whether an authenticated `GET /v1/customers` gets a 200.
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /v1/customers HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && head.ends_with(b"200")
}
