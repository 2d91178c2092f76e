//! A large streamed export holds about one part in memory, whatever its size.
//!
//! Measured as the growth of the process's peak resident set (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs`), so the SDK's and hyper's buffers count too. Its own test binary (one test) because
//! the measure is process-wide.

mod common;

use sha2::{Digest, Sha256};
use tessera_export::MIN_PART_SIZE;

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

/// Streams `total` bytes of deterministic content in chunks without materialising it.
fn chunks(total: usize, chunk: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..total.div_ceil(chunk)).map(move |i| {
        let len = chunk.min(total - i * chunk);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_40_mib_stream_holds_about_one_part_and_round_trips() {
    const TOTAL: usize = 40 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let b = common::bucket().await;
    let key = b.sink.key("stream/large.bin");

    // Warm up allocator arenas, the connection pool and lazily initialised SDK state with a small upload.
    b.sink.put(&b.sink.key("stream/warm-up"), vec![1u8; 1024], "application/octet-stream").await.unwrap();
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident set (Linux >= 4.0)");
    let baseline = status_bytes("VmRSS:");
    let mut upload = b.sink.stream(&key, "application/octet-stream").unwrap();
    let mut expected = Sha256::new();
    for chunk in chunks(TOTAL, CHUNK) {
        expected.update(&chunk);
        upload.write(&chunk).await.unwrap();
    }
    let stored = upload.finish().await.unwrap();
    let peak = status_bytes("VmHWM:").saturating_sub(baseline);

    let expected = expected.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!((stored.size, stored.sha256_hex.as_str()), (TOTAL as u64, expected.as_str()));
    // One part buffer plus SDK, HTTP and allocator working memory; far below the 40 MiB streamed.
    eprintln!("peak resident set growth while streaming {TOTAL} bytes: {peak} bytes");
    assert!(peak < 3 * MIN_PART_SIZE, "peak resident set grew by {peak} bytes for a {TOTAL}-byte stream");

    // The object equals the stream: compare the download chunk by chunk with a regenerated stream.
    let object = b.client().get_object().bucket(b.sink.bucket()).key(&key).send().await.unwrap();
    let mut body = object.body;
    let mut regenerated = chunks(TOTAL, CHUNK).flatten();
    let mut downloaded = 0usize;
    while let Some(part) = body.try_next().await.unwrap() {
        for byte in part.iter() {
            assert_eq!(Some(*byte), regenerated.next(), "first difference at byte {downloaded}");
            downloaded += 1;
        }
    }
    assert_eq!((downloaded, regenerated.next()), (TOTAL, None));
    assert_eq!(b.sink.verify(&key).await.unwrap(), stored);
}
