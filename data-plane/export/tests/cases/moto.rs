//! A real S3: moto_server (through `scripts/moto`, as `billing/export`'s tests run it) on a free port, one per
//! test, killed on drop; `MOTO_PARENT_PID` makes the script's watchdog stop it even if the test process dies.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_export::{ExportSink, S3Settings};

/// A running moto_server and one bucket on it.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
    /// Writes and reads the bucket with the same settings the worker gets.
    pub sink: ExportSink,
    log: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Moto {
    /// Starts a server and creates a fresh bucket on it.
    pub async fn start() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (child, endpoint, log) = spawn();
        let bucket = format!("tessera-export-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let sink = ExportSink::new(&settings(&endpoint, &bucket)).unwrap();
        let moto = Self { child, endpoint, bucket, sink, log };
        moto.create_bucket().await;
        moto
    }

    /// `[data_plane.export]` for a worker writing into this bucket, paced so that an export of a few thousand
    /// rows runs for a second or two (long enough to be seen running).
    pub fn worker_config(&self, bucket: &str) -> Value {
        json!({
            "endpoint": self.endpoint, "region": "us-east-1", "bucket": bucket, "prefix": "exports",
            "access_key_id": "testing", "secret_access_key": "testing-secret",
            "connect_timeout_secs": 2, "attempt_timeout_secs": 30, "max_attempts": 2,
            "page_size": 50, "page_pause_ms": 10,
        })
    }

    pub async fn create_bucket(&self) {
        self.client().create_bucket().bucket(&self.bucket).send().await.unwrap();
    }

    /// Deletes every object of the bucket, then the bucket.
    pub async fn delete_bucket(&self) {
        for key in self.keys("").await {
            self.client().delete_object().bucket(&self.bucket).key(key).send().await.unwrap();
        }
        self.client().delete_bucket().bucket(&self.bucket).send().await.unwrap();
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        self.sink.client()
    }

    /// Every key under `prefix`.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client()
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .unwrap();
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return keys;
            }
        }
    }

    /// Keys of the multipart uploads still open in the bucket.
    pub async fn open_uploads(&self) -> Vec<String> {
        let listed = self.client().list_multipart_uploads().bucket(&self.bucket).send().await.unwrap();
        listed.uploads().iter().filter_map(|u| u.key().map(str::to_owned)).collect()
    }

    /// The whole object.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let object = self.client().get_object().bucket(&self.bucket).key(key).send().await.unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    }
}

fn settings(endpoint: &str, bucket: &str) -> S3Settings {
    S3Settings {
        connect_timeout_secs: 2,
        attempt_timeout_secs: 30,
        ..S3Settings::new("us-east-1", bucket, "testing", "testing-secret")
            .with_endpoint(endpoint)
            .with_prefix("exports")
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto")
}

fn spawn() -> (Child, String, PathBuf) {
    // A first run installs moto from PyPI, without a deadline.
    let out = Command::new("bash").arg(script()).arg("--install-only").output().expect("run scripts/moto");
    assert!(out.status.success(), "scripts/moto --install-only failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let mut last_log = String::new();
    // The port is free when probed but could be taken before moto binds it: retry with another.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("tessera-project-export-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("bash")
            .arg(script())
            .arg(port.to_string())
            .env("MOTO_PARENT_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("spawn scripts/moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers_http(port) {
                return (child, format!("http://127.0.0.1:{port}"), log);
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        last_log = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
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

/// Lower-case hex SHA-256, computed independently of the crates under test.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
