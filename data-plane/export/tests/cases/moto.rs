//! A real S3: `tessera_export::testing::MotoServer` (moto_server through `scripts/moto`), one per test, and a
//! bucket on it.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tessera_export::ExportSink;
use tessera_export::testing::MotoServer;

/// A running moto_server and one bucket on it.
pub struct Moto {
    _server: MotoServer,
    pub endpoint: String,
    pub bucket: String,
    /// Writes and reads the bucket with the same settings the worker gets.
    pub sink: ExportSink,
}

impl Moto {
    /// Starts a server and creates a fresh bucket on it.
    pub async fn start() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let server = MotoServer::start();
        let bucket = format!("tessera-export-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let sink = ExportSink::new(&server.settings(&bucket)).unwrap();
        let moto = Self { endpoint: server.endpoint.clone(), _server: server, bucket, sink };
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

/// Lower-case hex SHA-256, computed independently of the crates under test.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
