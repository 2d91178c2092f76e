//! `ExportSink`: one bucket and prefix, whole-object writes with SHA-256 recorded on every object, and
//! verification of what was written.
//!
//! Every object carries its SHA-256 as user metadata `sha256` (lower-case hex), which any S3-compatible store
//! keeps, and as S3's own `ChecksumSHA256` where the store supports it (AWS verifies it on upload).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, MetadataDirective};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Context, ExportError, Result, source_chain};
use crate::settings::S3Settings;
use crate::stream::StreamingUpload;

/// The smallest part S3 accepts (except for the last one); also the default part size of streaming uploads.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// The largest object a single CopyObject may copy; larger streamed objects are re-stamped part by part.
const SINGLE_COPY_LIMIT: u64 = 5 * 1024 * 1024 * 1024;
/// Part size of that part-by-part copy (server-side, so it costs no client memory).
const COPY_PART_SIZE: u64 = 1024 * 1024 * 1024;
/// The user metadata key holding the hex SHA-256 of the object.
pub const SHA256_METADATA: &str = "sha256";

/// What was written: enough for a manifest and for a later [`ExportSink::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    /// The full object key, prefix included.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256_hex: String,
}

/// A bucket and key prefix that exports are written to; cheap to clone (the SDK client is shared).
#[derive(Clone)]
pub struct ExportSink {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    endpoint: String,
    pub(crate) part_size: usize,
    single_copy_limit: u64,
    copy_part_size: u64,
}

impl std::fmt::Debug for ExportSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSink")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("part_size", &self.part_size)
            .finish_non_exhaustive()
    }
}

impl ExportSink {
    /// Builds the client from validated settings; makes no network call (see [`Self::check`] for that).
    pub fn new(settings: &S3Settings) -> Result<Self> {
        let client = settings.client()?;
        Ok(Self {
            client,
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            endpoint: settings.endpoint_label(),
            part_size: MIN_PART_SIZE,
            single_copy_limit: SINGLE_COPY_LIMIT,
            copy_part_size: COPY_PART_SIZE,
        })
    }

    /// Uses bigger multipart parts (at least [`MIN_PART_SIZE`]): fewer requests and a larger maximum object
    /// (S3 allows 10,000 parts), at the price of that much memory per open streaming upload.
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    /// Lowers the size above which streamed objects are re-stamped with part-by-part copies, so tests can
    /// exercise that path without writing 5 GiB.
    #[doc(hidden)]
    pub fn with_copy_limits_for_tests(mut self, single_copy_limit: u64, copy_part_size: u64) -> Self {
        self.single_copy_limit = single_copy_limit;
        self.copy_part_size = copy_part_size.max(MIN_PART_SIZE as u64);
        self
    }

    /// The SDK client, for operations this crate does not wrap (listing, lifecycle rules, tests).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// The bucket every object goes to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The full key for a key relative to the configured prefix.
    pub fn key(&self, relative: &str) -> String {
        if self.prefix.is_empty() { relative.to_owned() } else { format!("{}/{relative}", self.prefix) }
    }

    /// Checks at start-up that the bucket exists and the credentials may use it, so misconfiguration surfaces
    /// before the first nightly export.
    pub async fn check(&self) -> Result<()> {
        let cx = self.cx("HeadBucket", "");
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(|e| cx.map(e))?;
        Ok(())
    }

    /// Writes a whole object in one request, recording its SHA-256; overwriting with the same bytes yields the
    /// same object, which is what makes re-running an export idempotent.
    pub async fn put(&self, key: &str, bytes: impl Into<Vec<u8>>, content_type: &str) -> Result<StoredObject> {
        check_key(key)?;
        let bytes = bytes.into();
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        self.put_with_digest(key, bytes, content_type, &digest).await
    }

    /// Opens a streaming upload: memory stays at one part whatever the size; see [`StreamingUpload`].
    pub fn stream(&self, key: &str, content_type: &str) -> Result<StreamingUpload> {
        check_key(key)?;
        Ok(StreamingUpload::new(self.clone(), key.to_owned(), content_type.to_owned()))
    }

    /// Downloads an object and checks its content against its `sha256` metadata (and against S3's full-object
    /// `ChecksumSHA256` when present); streams the body, so any size verifies in constant memory.
    pub async fn verify(&self, key: &str) -> Result<StoredObject> {
        let cx = self.cx("GetObject", key);
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| cx.map(e))?;
        let expected = object
            .metadata()
            .and_then(|m| m.get(SHA256_METADATA))
            .map(|v| v.trim().to_ascii_lowercase())
            .ok_or_else(|| ExportError::MissingChecksum { key: key.to_owned() })?;
        // A composite checksum of a multipart object ends in `-<parts>` and is not a hash of the content.
        let s3_checksum = object.checksum_sha256().filter(|c| !c.contains('-')).map(str::to_owned);
        let mut body = object.body;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    hasher.update(&chunk);
                }
                Ok(None) => break,
                Err(err) => {
                    return Err(ExportError::Download { key: key.to_owned(), detail: source_chain(&err) });
                }
            }
        }
        let digest: [u8; 32] = hasher.finalize().into();
        let actual = hex(&digest);
        if actual != expected {
            return Err(ExportError::ChecksumMismatch {
                key: key.to_owned(),
                source_of_truth: "`sha256` metadata",
                expected,
                actual,
            });
        }
        if let Some(s3_checksum) = s3_checksum
            && s3_checksum != BASE64.encode(digest)
        {
            let expected = BASE64.decode(&s3_checksum).map(|d| hex(&d)).unwrap_or(s3_checksum);
            return Err(ExportError::ChecksumMismatch {
                key: key.to_owned(),
                source_of_truth: "S3 ChecksumSHA256",
                expected,
                actual,
            });
        }
        Ok(StoredObject { key: key.to_owned(), size, sha256_hex: actual })
    }

    /// PutObject with the SHA-256 as metadata and as S3 checksum (S3 rejects the upload if bytes were damaged
    /// in transit).
    pub(crate) async fn put_with_digest(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        digest: &[u8; 32],
    ) -> Result<StoredObject> {
        let size = bytes.len() as u64;
        let sha256_hex = hex(digest);
        let cx = self.cx("PutObject", key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .metadata(SHA256_METADATA, &sha256_hex)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(BASE64.encode(digest))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| cx.map(e))?;
        Ok(StoredObject { key: key.to_owned(), size, sha256_hex })
    }

    /// Re-writes a just-completed multipart object onto itself with its SHA-256 metadata, which could not be
    /// set when the upload began. The copy is server-side and conditional on the ETag we completed, so a
    /// concurrent writer's object is never stamped with our hash. CopyObject also makes S3 compute a
    /// full-object `ChecksumSHA256`.
    pub(crate) async fn stamp_sha256(
        &self,
        key: &str,
        etag: Option<&str>,
        size: u64,
        content_type: &str,
        digest: &[u8; 32],
    ) -> Result<()> {
        let source = format!("{}/{}", self.bucket, encode_key(key));
        let sha256_hex = hex(digest);
        if size <= self.single_copy_limit {
            let cx = self.cx("CopyObject", key);
            self.client
                .copy_object()
                .bucket(&self.bucket)
                .key(key)
                .copy_source(&source)
                .set_copy_source_if_match(etag.map(str::to_owned))
                .metadata_directive(MetadataDirective::Replace)
                .metadata(SHA256_METADATA, &sha256_hex)
                .content_type(content_type)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .send()
                .await
                .map_err(|e| cx.map(e))?;
            return Ok(());
        }
        // Above 5 GiB CopyObject is refused: copy into a new multipart upload carrying the metadata.
        let cx = self.cx("CreateMultipartUpload", key);
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .metadata(SHA256_METADATA, &sha256_hex)
            .send()
            .await
            .map_err(|e| cx.map(e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let result = self.copy_parts(key, &source, etag, size, &upload_id).await;
        if result.is_err() {
            self.abort_upload(key, &upload_id).await;
        }
        result
    }

    async fn copy_parts(&self, key: &str, source: &str, etag: Option<&str>, size: u64, upload_id: &str) -> Result<()> {
        let mut parts = Vec::new();
        let mut start = 0u64;
        while start < size {
            let end = (start + self.copy_part_size).min(size) - 1;
            let part_number = parts.len() as i32 + 1;
            let cx = self.cx("UploadPartCopy", key);
            let copied = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(part_number)
                .copy_source(source)
                .set_copy_source_if_match(etag.map(str::to_owned))
                .copy_source_range(format!("bytes={start}-{end}"))
                .send()
                .await
                .map_err(|e| cx.map(e))?;
            let e_tag = copied.copy_part_result().and_then(|r| r.e_tag()).map(str::to_owned);
            parts.push(CompletedPart::builder().part_number(part_number).set_e_tag(e_tag).build());
            start = end + 1;
        }
        self.complete_upload(key, upload_id, parts).await.map(drop)
    }

    /// Completes a multipart upload and returns the new object's ETag.
    pub(crate) async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<Option<String>> {
        let cx = self.cx("CompleteMultipartUpload", key);
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| cx.map(e))?;
        Ok(completed.e_tag().map(str::to_owned))
    }

    /// Aborts a multipart upload, logging instead of failing: this runs on paths that already carry an error.
    pub(crate) async fn abort_upload(&self, key: &str, upload_id: &str) {
        let cx = self.cx("AbortMultipartUpload", key);
        let result =
            self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(upload_id).send().await;
        if let Err(err) = result {
            tracing::warn!(bucket = %self.bucket, key, upload_id, error = %cx.map(err),
                "could not abort multipart upload; a bucket lifecycle rule (AbortIncompleteMultipartUpload) reclaims it");
        }
    }

    /// Deletes an object, logging instead of failing (clean-up after a failed re-stamp).
    pub(crate) async fn delete_quietly(&self, key: &str) {
        let cx = self.cx("DeleteObject", key);
        if let Err(err) = self.client.delete_object().bucket(&self.bucket).key(key).send().await {
            tracing::warn!(bucket = %self.bucket, key, error = %cx.map(err), "could not delete unverifiable object");
        }
    }

    pub(crate) fn cx<'a>(&'a self, operation: &'static str, key: &'a str) -> Context<'a> {
        Context { operation, endpoint: &self.endpoint, bucket: &self.bucket, key }
    }
}

/// Refuses keys S3 would reject, so the error says why instead of an opaque 400.
fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 1024 || key.starts_with('/') {
        return Err(ExportError::InvalidInput(format!(
            "object key `{key}` must be 1-1024 bytes, not starting with `/`"
        )));
    }
    Ok(())
}

/// Lower-case hex, the form `sha256sum` prints and manifests carry.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Percent-encodes a key for `x-amz-copy-source`, keeping `/` and the unreserved characters.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_sha256sum() {
        let digest: [u8; 32] = Sha256::digest(b"abc").into();
        assert_eq!(hex(&digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn copy_source_keys_are_percent_encoded() {
        assert_eq!(encode_key("exports/a b/ü+x.csv"), "exports/a%20b/%C3%BC%2Bx.csv");
    }

    #[test]
    fn keys_join_the_prefix() {
        let settings = S3Settings::new("us-east-1", "bucket", "id", "secret");
        let sink = ExportSink::new(&settings.clone().with_prefix("prod/eu")).unwrap();
        assert_eq!(sink.key("usage/x"), "prod/eu/usage/x");
        assert_eq!(ExportSink::new(&settings).unwrap().key("usage/x"), "usage/x");
    }
}
