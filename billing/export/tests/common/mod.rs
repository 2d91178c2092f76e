//! Test harness: a real moto_server (via `scripts/moto`) per test binary, and a fresh bucket per test.
//!
//! The server is shared by the tests running at the same time and killed when the last one drops its handle;
//! `MOTO_PARENT_PID` makes the script's watchdog stop it even if this process is killed.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tessera_export::testing::MotoServer;
use tessera_export::{ExportSink, S3Settings};

/// A fresh, empty bucket on the shared server, with a sink writing into it under the prefix `exports`.
pub struct TestBucket {
    pub sink: ExportSink,
    pub settings: S3Settings,
    _moto: Arc<MotoServer>,
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

    /// The object's head with its checksum, as S3 itself holds it.
    pub async fn head(&self, key: &str) -> aws_sdk_s3::operation::head_object::HeadObjectOutput {
        self.client()
            .head_object()
            .bucket(self.sink.bucket())
            .key(key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .unwrap()
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
    let settings = moto.settings(&name);
    let sink = ExportSink::new(&settings).unwrap();
    sink.client().create_bucket().bucket(&name).send().await.unwrap();
    TestBucket { sink, settings, _moto: moto }
}

/// Settings for a bucket at a local endpoint (see [`MotoServer::settings`]).
pub fn settings(endpoint: &str, bucket: &str) -> S3Settings {
    S3Settings { endpoint: Some(endpoint.to_owned()), ..MotoServer::settings_template(bucket) }
}

fn moto() -> Arc<MotoServer> {
    static SHARED: Mutex<Weak<MotoServer>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(moto) = shared.upgrade() {
        return moto;
    }
    let moto = Arc::new(MotoServer::start());
    *shared = Arc::downgrade(&moto);
    moto
}

/// A server of its own (not shared) with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to make
/// moto check credentials.
pub fn private_moto(env: &[(&str, &str)]) -> MotoServer {
    MotoServer::start_with(env)
}

/// Lower-case hex SHA-256, computed independently of the crate.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
