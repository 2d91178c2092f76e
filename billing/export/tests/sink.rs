//! `ExportSink::put`, `verify` and error reporting against a real moto_server.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use common::{bucket, settings, sha256_hex};
use tessera_export::{ExportError, ExportSink, StoredObject};

#[tokio::test]
async fn put_then_verify_round_trips_with_an_independent_sha256() {
    let b = bucket().await;
    b.sink.check().await.unwrap();
    let body = b"day,quantity\r\n2025-03-07,12\r\n".to_vec();
    let key = b.sink.key("adhoc/report.csv");
    let stored = b.sink.put(&key, body.clone(), "text/csv").await.unwrap();
    let expected = StoredObject { key: key.clone(), size: body.len() as u64, sha256_hex: sha256_hex(&body) };
    assert_eq!(stored, expected);
    assert_eq!(b.sink.verify(&key).await.unwrap(), expected);

    // What S3 itself holds: the bytes, the content type, the metadata and (moto supports it) ChecksumSHA256.
    let head = b.head(&key).await;
    assert_eq!(head.content_type(), Some("text/csv"));
    assert_eq!(head.metadata().unwrap().get("sha256"), Some(&sha256_hex(&body)));
    use base64::Engine as _;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&body);
    assert_eq!(head.checksum_sha256(), Some(base64::engine::general_purpose::STANDARD.encode(digest).as_str()));
    assert_eq!(b.get(&key).await, body);
}

#[tokio::test]
async fn tampered_objects_fail_verification() {
    let b = bucket().await;
    let key = b.sink.key("adhoc/tamper.jsonl");
    let original = b.sink.put(&key, b"{\"a\":1}\n".to_vec(), "application/x-ndjson").await.unwrap();

    // Overwritten through the SDK without our metadata: nothing to verify against.
    b.client()
        .put_object()
        .bucket(b.sink.bucket())
        .key(&key)
        .body(ByteStream::from_static(b"{\"a\":2}\n"))
        .send()
        .await
        .unwrap();
    let err = b.sink.verify(&key).await.unwrap_err();
    assert!(matches!(&err, ExportError::MissingChecksum { key: k } if *k == key), "{err:?}");
    assert!(err.to_string().contains("no `sha256` metadata"), "{err}");

    // Overwritten with other bytes but the old hash copied along: the content no longer matches.
    b.client()
        .put_object()
        .bucket(b.sink.bucket())
        .key(&key)
        .metadata("sha256", &original.sha256_hex)
        .body(ByteStream::from_static(b"{\"a\":3}\n"))
        .send()
        .await
        .unwrap();
    match b.sink.verify(&key).await.unwrap_err() {
        ExportError::ChecksumMismatch { expected, actual, .. } => {
            assert_eq!(expected, original.sha256_hex);
            assert_eq!(actual, sha256_hex(b"{\"a\":3}\n"));
        }
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn verify_of_a_missing_object_names_it() {
    let b = bucket().await;
    let err = b.sink.verify("exports/nothing-here").await.unwrap_err();
    assert!(matches!(err, ExportError::ObjectMissing { ref key, .. } if key == "exports/nothing-here"), "{err:?}");
}

#[tokio::test]
async fn a_missing_bucket_is_reported_as_such() {
    let b = bucket().await;
    let sink = ExportSink::new(&settings(&b.settings.endpoint.clone().unwrap(), "no-such-bucket")).unwrap();
    for err in [sink.check().await.unwrap_err(), sink.put("exports/x", b"x".to_vec(), "text/plain").await.unwrap_err()]
    {
        assert!(matches!(&err, ExportError::BucketMissing { bucket, .. } if bucket == "no-such-bucket"), "{err:?}");
        assert!(err.to_string().contains("S3 bucket `no-such-bucket` does not exist"), "{err}");
    }
    // Streaming uploads fail the same way, once a full part is followed by more data (the first request).
    let mut upload = sink.stream("exports/big", "application/octet-stream").unwrap();
    upload.write(&vec![7u8; tessera_export::MIN_PART_SIZE]).await.unwrap();
    let err = upload.write(b"more").await.unwrap_err();
    assert!(matches!(err, ExportError::BucketMissing { .. }), "{err:?}");
}

#[tokio::test]
async fn unknown_credentials_are_reported_as_access_denied() {
    // With no unauthenticated actions allowed, moto checks access keys like IAM does.
    let moto = common::private_moto(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let sink = ExportSink::new(&settings(&moto.endpoint, "tessera-exports")).unwrap();
    let err = sink.put("exports/x", b"x".to_vec(), "text/plain").await.unwrap_err();
    assert!(
        matches!(&err, ExportError::AccessDenied { operation: "PutObject", code, .. } if code == "InvalidAccessKeyId"),
        "{err:?}"
    );
    assert!(err.to_string().contains("check the access key id, the secret and the bucket policy"), "{err}");
    // HEAD answers have no body, so only the status says it.
    let err = sink.check().await.unwrap_err();
    assert!(matches!(err, ExportError::AccessDenied { operation: "HeadBucket", .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_fails_fast_with_a_network_error() {
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let sink = ExportSink::new(&settings(&endpoint, "tessera-exports")).unwrap();
    let started = Instant::now();
    let err = sink.put("exports/x", b"x".to_vec(), "text/plain").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(matches!(&err, ExportError::Network { endpoint: e, .. } if *e == endpoint), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(&format!("cannot reach S3 at {endpoint} (PutObject)")), "{message}");
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out_instead_of_hanging() {
    // Accepts connections and never answers, like a black-holed load balancer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(2) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    let sink = ExportSink::new(&tessera_export::S3Settings {
        attempt_timeout_secs: 1,
        max_attempts: 2,
        ..settings(&endpoint, "tessera-exports")
    })
    .unwrap();
    let started = Instant::now();
    let err = sink.verify("exports/x").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(matches!(err, ExportError::Timeout { operation: "GetObject", .. }), "{err:?}");
    assert!(err.to_string().contains("did not answer GetObject in time"), "{err}");
    drop(hold);
}

#[tokio::test]
async fn invalid_keys_are_refused_before_any_request() {
    let b = bucket().await;
    let err = b.sink.put("/leading-slash", b"x".to_vec(), "text/plain").await.unwrap_err();
    assert!(matches!(err, ExportError::InvalidInput(_)), "{err:?}");
}
