//! `StreamingUpload`: single-part and multipart paths, and clean-up when a stream fails.

mod common;

use common::{bucket, sha256_hex};
use tessera_export::{ExportError, MIN_PART_SIZE};

/// Deterministic test content: `len` bytes that differ from part to part.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 13)) as u8).collect()
}

#[tokio::test]
async fn a_small_stream_is_a_single_put_without_multipart() {
    let b = bucket().await;
    let key = b.sink.key("stream/small.jsonl");
    let mut upload = b.sink.stream(&key, "application/x-ndjson").unwrap();
    for i in 0..1000 {
        upload.write_line(format!("{{\"n\":{i}}}")).await.unwrap();
    }
    assert!(b.open_uploads().await.is_empty(), "a stream below one part must not start a multipart upload");
    let stored = upload.finish().await.unwrap();
    let expected: String = (0..1000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    assert_eq!(b.get(&key).await, expected.as_bytes());
    assert_eq!((stored.size, stored.sha256_hex.clone()), (expected.len() as u64, sha256_hex(expected.as_bytes())));
    assert_eq!(b.sink.verify(&key).await.unwrap(), stored);
}

#[tokio::test]
async fn exactly_one_part_stays_a_single_put() {
    let b = bucket().await;
    let key = b.sink.key("stream/one-part.bin");
    let data = content(MIN_PART_SIZE);
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    upload.write(&data).await.unwrap();
    assert!(b.open_uploads().await.is_empty());
    let stored = upload.finish().await.unwrap();
    assert_eq!(stored.sha256_hex, sha256_hex(&data));
    assert_eq!(b.get(&key).await, data);
}

#[tokio::test]
async fn a_multipart_stream_is_stamped_with_its_sha256() {
    let b = bucket().await;
    let key = b.sink.key("stream/multi.bin");
    let data = content(13 * 1024 * 1024 + 17);
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    for chunk in data.chunks(100_003) {
        upload.write(chunk).await.unwrap();
    }
    assert_eq!(b.open_uploads().await, vec![key.clone()], "two parts sent, the upload is open");
    let stored = upload.finish().await.unwrap();
    assert!(b.open_uploads().await.is_empty());
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.sha256_hex, sha256_hex(&data));
    assert_eq!(b.get(&key).await, data);
    assert_eq!(b.sink.verify(&key).await.unwrap(), stored);

    // The re-stamp keeps the content type and gives a full-object ChecksumSHA256 (not a composite `-N`).
    let head = b.head(&key).await;
    assert_eq!(head.content_type(), Some("application/octet-stream"));
    assert_eq!(head.metadata().unwrap().get("sha256"), Some(&stored.sha256_hex));
    let checksum = head.checksum_sha256().expect("CopyObject computed a checksum");
    assert!(!checksum.contains('-'), "{checksum}");
}

#[tokio::test]
async fn objects_above_the_single_copy_limit_are_stamped_part_by_part() {
    let b = bucket().await;
    // Pretend CopyObject stops at 6 MiB so the UploadPartCopy path runs on a 12 MiB object.
    let sink = b.sink.clone().with_copy_limits_for_tests(6 * 1024 * 1024, MIN_PART_SIZE as u64);
    let key = sink.key("stream/copied-in-parts.bin");
    let data = content(12 * 1024 * 1024 + 5);
    let mut upload = sink.stream(&key, "application/octet-stream").unwrap();
    upload.write(&data).await.unwrap();
    let stored = upload.finish().await.unwrap();
    assert!(b.open_uploads().await.is_empty());
    assert_eq!(b.get(&key).await, data);
    assert_eq!(sink.verify(&key).await.unwrap(), stored);
}

#[tokio::test]
async fn a_source_failing_mid_stream_aborts_and_leaves_nothing() {
    let b = bucket().await;
    let key = b.sink.key("stream/failing.bin");
    // A source (say, a database cursor) that yields 7 MiB and then fails.
    let source = content(7 * 1024 * 1024)
        .chunks(64 * 1024)
        .map(|c| Ok::<_, String>(c.to_vec()))
        .chain([Err("connection to the regional database lost".to_owned())])
        .collect::<Vec<_>>();
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    let mut failure = None;
    for item in source {
        match item {
            Ok(chunk) => upload.write(&chunk).await.unwrap(),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    assert!(failure.is_some());
    assert_eq!(b.open_uploads().await, vec![key.clone()], "one part was sent before the failure");
    upload.abort().await;
    assert!(b.open_uploads().await.is_empty(), "abort() waits for S3 to confirm");
    assert!(!b.exists(&key).await);
}

#[tokio::test]
async fn dropping_an_unfinished_stream_aborts_in_the_background() {
    let b = bucket().await;
    let key = b.sink.key("stream/dropped.bin");
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    upload.write(&content(11 * 1024 * 1024)).await.unwrap();
    assert_eq!(b.open_uploads().await, vec![key.clone()]);
    drop(upload);
    b.wait_for_no_open_uploads().await;
    assert!(!b.exists(&key).await);
}

#[tokio::test]
async fn an_s3_failure_mid_stream_aborts_and_closes_the_upload() {
    let b = bucket().await;
    let key = b.sink.key("stream/s3-failure.bin");
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    upload.write(&content(6 * 1024 * 1024)).await.unwrap();
    // Someone (an operator, a lifecycle rule) aborts the upload behind our back: the next part is refused.
    let listed = b.client().list_multipart_uploads().bucket(b.sink.bucket()).send().await.unwrap();
    let upload_id = listed.uploads()[0].upload_id().unwrap().to_owned();
    b.client().abort_multipart_upload().bucket(b.sink.bucket()).key(&key).upload_id(upload_id).send().await.unwrap();
    let err = upload.write(&content(5 * 1024 * 1024)).await.unwrap_err();
    // AWS answers NoSuchUpload; moto (5.2.5) fails with an internal error (HTTP 500) instead.
    assert!(
        matches!(&err, ExportError::S3 { operation: "UploadPart", code, .. } if code == "NoSuchUpload" || code == "HTTP 500"),
        "{err:?}"
    );
    let err = upload.write(b"more").await.unwrap_err();
    assert!(matches!(err, ExportError::UploadClosed { .. }), "{err:?}");
    let err = upload.finish().await.unwrap_err();
    assert!(err.to_string().contains("already failed or was aborted"), "{err}");
    assert!(b.open_uploads().await.is_empty());
    assert!(!b.exists(&key).await);
}
