//! Test harness: a real moto_server (via `scripts/moto`) per test binary, and a fresh bucket per test.
//!
//! The server is shared by the tests running at the same time and killed when the last one drops its handle;
//! `MOTO_PARENT_PID` makes the script's watchdog stop it even if this process is killed.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tessera_export::{ExportSink, S3Settings};

/// A running moto_server, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A fresh, empty bucket on the shared server, with a sink writing into it under the prefix `exports`.
pub struct TestBucket {
    pub sink: ExportSink,
    pub settings: S3Settings,
    _moto: Arc<Moto>,
}

impl TestBucket {
    /// The raw SDK client, for what the crate does not wrap (tampering, listing uploads).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        self.sink.client()
    }

    /// The whole object as bytes.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let object = self.client().get_object().bucket(self.sink.bucket()).key(key).send().await.unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// Keys of the multipart uploads still open in the bucket.
    pub async fn open_uploads(&self) -> Vec<String> {
        let listed = self.client().list_multipart_uploads().bucket(self.sink.bucket()).send().await.unwrap();
        listed.uploads().iter().filter_map(|u| u.key().map(str::to_owned)).collect()
    }

    /// Whether an object exists under `key`.
    pub async fn exists(&self, key: &str) -> bool {
        match self.client().head_object().bucket(self.sink.bucket()).key(key).send().await {
            Ok(_) => true,
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
            Err(err) => panic!("HeadObject {key}: {err:?}"),
        }
    }

    /// Polls until no multipart upload is open (aborts from `Drop` run in the background), or panics.
    pub async fn wait_for_no_open_uploads(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let open = self.open_uploads().await;
            if open.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "multipart uploads still open after 10 s: {open:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts (or joins) the moto server and creates a fresh bucket on it.
pub async fn bucket() -> TestBucket {
    let moto = moto();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!("tessera-test-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let settings = settings(&moto.endpoint, &name);
    let sink = ExportSink::new(&settings).unwrap();
    sink.client().create_bucket().bucket(&name).send().await.unwrap();
    TestBucket { sink, settings, _moto: moto }
}

/// Settings for a local endpoint: moto accepts any credentials; short timeouts so failures show quickly.
pub fn settings(endpoint: &str, bucket: &str) -> S3Settings {
    S3Settings {
        connect_timeout_secs: 2,
        attempt_timeout_secs: 30,
        ..S3Settings::new("us-east-1", bucket, "testing", "testing-secret")
            .with_endpoint(endpoint)
            .with_prefix("exports")
    }
}

fn moto() -> Arc<Moto> {
    static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(moto) = shared.upgrade() {
        return moto;
    }
    let moto = Arc::new(start_moto());
    *shared = Arc::downgrade(&moto);
    moto
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto")
}

/// Installs moto once per process, without a deadline: a first run downloads it from PyPI.
fn install_moto() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let out = Command::new("bash").arg(script()).arg("--install-only").output().expect("run scripts/moto");
        assert!(out.status.success(), "scripts/moto --install-only failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
}

/// A server of its own (not shared) with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to make
/// moto check credentials.
pub fn private_moto(env: &[(&str, &str)]) -> Moto {
    start_moto_with(env)
}

fn start_moto() -> Moto {
    start_moto_with(&[])
}

fn start_moto_with(env: &[(&str, &str)]) -> Moto {
    install_moto();
    let mut last_log = String::new();
    // The port is free when probed but could be taken before moto binds it: retry with another.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("tessera-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new("bash")
            .arg(script())
            .arg(port.to_string())
            .env("MOTO_PARENT_PID", std::process::id().to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("spawn scripts/moto");
        let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers_http(port) {
                return moto;
            }
            if moto.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        last_log = std::fs::read_to_string(&moto.log).unwrap_or_default();
    }
    panic!("moto_server did not start; last log:\n{last_log}");
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

/// Lower-case hex SHA-256, computed independently of the crate.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
