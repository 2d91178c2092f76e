//! `StreamingUpload`: writes an object of any size while holding at most one part in memory.
//!
//! Bytes are buffered up to the part size; a full part is sent as an UploadPart (with its SHA-256, which S3
//! verifies) only once more data arrives, so an object that fits in one part becomes a single PutObject. The
//! whole-object SHA-256 is computed on the fly and stamped on the object after completion (see
//! [`ExportSink::stamp_sha256`]). Anything that stops the upload before [`StreamingUpload::finish`] succeeds
//! — an error, [`StreamingUpload::abort`], or dropping the writer — aborts the multipart upload, so no part is
//! left billed and no partial object appears.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedPart};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::error::{ExportError, Result};
use crate::sink::{ExportSink, StoredObject};

/// S3's limit on parts per upload.
const MAX_PARTS: usize = 10_000;

/// An object being written chunk by chunk; obtain one from [`ExportSink::stream`].
#[must_use = "an upload that is dropped without `finish()` is aborted"]
pub struct StreamingUpload {
    sink: ExportSink,
    key: String,
    content_type: String,
    buf: Vec<u8>,
    hasher: Sha256,
    size: u64,
    multipart: Option<Multipart>,
    /// Set while a request is in flight and on failure: a write future dropped mid-request (a timeout, a
    /// `select!`) loses its part, so the upload must not go on.
    poisoned: bool,
}

struct Multipart {
    upload_id: String,
    parts: Vec<CompletedPart>,
}

impl StreamingUpload {
    pub(crate) fn new(sink: ExportSink, key: String, content_type: String) -> Self {
        Self {
            sink,
            key,
            content_type,
            buf: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
            multipart: None,
            poisoned: false,
        }
    }

    /// The object key being written.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes accepted so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends bytes; sends a part whenever a full one is buffered and more data follows.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        if self.poisoned {
            return Err(ExportError::UploadClosed { key: self.key.clone() });
        }
        let part_size = self.sink.part_size;
        while !data.is_empty() {
            if self.buf.len() == part_size {
                self.send_buffered_part().await?;
            }
            if self.buf.capacity() == 0 {
                // Allocated once per part, after the previous part's buffer has been handed to the SDK and
                // freed, so at most one part is held.
                self.buf.reserve_exact(part_size);
            }
            let n = (part_size - self.buf.len()).min(data.len());
            let (now, rest) = data.split_at(n);
            self.buf.extend_from_slice(now);
            self.hasher.update(now);
            self.size += n as u64;
            data = rest;
        }
        Ok(())
    }

    /// Appends bytes followed by `\n` (one JSON Lines record, one CSV row...).
    pub async fn write_line(&mut self, line: impl AsRef<[u8]>) -> Result<()> {
        self.write(line.as_ref()).await?;
        self.write(b"\n").await
    }

    /// Sends what is buffered, completes the upload and stamps the SHA-256; returns what was stored.
    pub async fn finish(mut self) -> Result<StoredObject> {
        if self.poisoned {
            return Err(ExportError::UploadClosed { key: self.key.clone() });
        }
        self.poisoned = true;
        let digest: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
        let sink = self.sink.clone();
        if self.multipart.is_none() {
            // Everything fit in one part: a single PutObject, no multipart bookkeeping at all.
            let bytes = std::mem::take(&mut self.buf);
            return sink.put_with_digest(&self.key, bytes, &self.content_type, &digest).await;
        }
        if !self.buf.is_empty() {
            self.send_buffered_part().await?;
        }
        let Some(Multipart { upload_id, parts }) = self.multipart.take() else {
            return Err(ExportError::UploadClosed { key: self.key.clone() });
        };
        let etag = match sink.complete_upload(&self.key, &upload_id, parts).await {
            Ok(etag) => etag,
            Err(err) => {
                sink.abort_upload(&self.key, &upload_id).await;
                return Err(err);
            }
        };
        if let Err(err) = sink.stamp_sha256(&self.key, etag.as_deref(), self.size, &self.content_type, &digest).await {
            // An object without its checksum would fail verification forever: better no object at all.
            sink.delete_quietly(&self.key).await;
            return Err(err);
        }
        Ok(StoredObject { key: self.key.clone(), size: self.size, sha256_hex: crate::sink::hex(&digest) })
    }

    /// Gives up: aborts the multipart upload (if one was started) and waits for S3 to confirm, so the caller
    /// knows nothing is left behind. Nothing is written.
    pub async fn abort(mut self) {
        self.poisoned = true;
        self.buf = Vec::new();
        if let Some(multipart) = self.multipart.take() {
            self.sink.abort_upload(&self.key, &multipart.upload_id).await;
        }
    }

    /// Uploads the buffer as the next part, starting the multipart upload on the first one.
    async fn send_buffered_part(&mut self) -> Result<()> {
        self.poisoned = true;
        let body = std::mem::take(&mut self.buf);
        match self.upload_part(body).await {
            Ok(()) => {
                self.poisoned = false;
                Ok(())
            }
            Err(err) => {
                if let Some(multipart) = self.multipart.take() {
                    self.sink.abort_upload(&self.key, &multipart.upload_id).await;
                }
                Err(err)
            }
        }
    }

    async fn upload_part(&mut self, body: Vec<u8>) -> Result<()> {
        let sink = &self.sink;
        let multipart = match &mut self.multipart {
            Some(multipart) => multipart,
            multipart @ None => {
                let cx = sink.cx("CreateMultipartUpload", &self.key);
                let created = sink
                    .client()
                    .create_multipart_upload()
                    .bucket(sink.bucket())
                    .key(&self.key)
                    .content_type(&self.content_type)
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .send()
                    .await
                    .map_err(|e| cx.map(e))?;
                let upload_id = created.upload_id().map(str::to_owned).ok_or_else(|| ExportError::S3 {
                    operation: "CreateMultipartUpload",
                    key: self.key.clone(),
                    code: "no upload id".into(),
                    detail: "S3 answered without an UploadId".into(),
                })?;
                multipart.insert(Multipart { upload_id, parts: Vec::new() })
            }
        };
        if multipart.parts.len() == MAX_PARTS {
            return Err(ExportError::InvalidInput(format!(
                "`{}` exceeds {MAX_PARTS} parts of {} bytes; use ExportSink::with_part_size for larger exports",
                self.key, sink.part_size
            )));
        }
        let part_number = multipart.parts.len() as i32 + 1;
        let checksum = BASE64.encode(Sha256::digest(&body));
        let cx = sink.cx("UploadPart", &self.key);
        let uploaded = sink
            .client()
            .upload_part()
            .bucket(sink.bucket())
            .key(&self.key)
            .upload_id(&multipart.upload_id)
            .part_number(part_number)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(&checksum)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| cx.map(e))?;
        multipart.parts.push(
            CompletedPart::builder()
                .part_number(part_number)
                .set_e_tag(uploaded.e_tag().map(str::to_owned))
                .checksum_sha256(checksum)
                .build(),
        );
        Ok(())
    }
}

impl std::fmt::Debug for StreamingUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingUpload")
            .field("key", &self.key)
            .field("size", &self.size)
            .field("buffered", &self.buf.len())
            .field("parts_sent", &self.multipart.as_ref().map_or(0, |m| m.parts.len()))
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl Drop for StreamingUpload {
    /// Aborts an unfinished multipart upload in the background; S3 would otherwise keep (and bill) its parts.
    fn drop(&mut self) {
        let Some(multipart) = self.multipart.take() else { return };
        let (sink, key) = (self.sink.clone(), std::mem::take(&mut self.key));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { sink.abort_upload(&key, &multipart.upload_id).await });
            }
            Err(_) => tracing::warn!(
                bucket = sink.bucket(),
                key,
                upload_id = multipart.upload_id,
                "streaming upload dropped outside a Tokio runtime; its multipart upload is left for the bucket's lifecycle rule"
            ),
        }
    }
}
