//! The GDPR project export: three streamed JSON Lines files and their manifest.

mod common;

use common::{bucket, sha256_hex};
use serde_json::json;
use tessera_export::{ExportError, ProjectExport, ProjectFile, ProjectManifest};

const PROJECT: &str = "0195a3b2-7777-7e8f-9a0b-1c2d3e4f5a6b";
const EXPORT: &str = "0195a3b3-0001-7000-8000-000000000001";

fn identity(i: u32) -> serde_json::Value {
    json!({
        "id": format!("0195a3b2-0000-7000-8000-{i:012}"),
        "schema_id": "default",
        "traits": { "email": format!("user{i}@example.com"), "bio": "line one\nline two, \"quoted\"" },
        "state": "active",
    })
}

#[tokio::test]
async fn streams_three_files_and_records_line_counts() {
    let b = bucket().await;
    let mut export = ProjectExport::begin(&b.sink, PROJECT, EXPORT).unwrap();
    // Identities come page by page, interleaved with the other files; ~7 MiB, so that file is multipart.
    let identities = 30_000;
    for page in 0..(identities / 500) {
        for i in page * 500..(page + 1) * 500 {
            let mut record = identity(i);
            record["traits"]["padding"] = json!("x".repeat(150));
            export.identities().write(&record).await.unwrap();
        }
        export
            .relationships()
            .write(&json!({"namespace": "docs", "object": format!("d{page}"), "relation": "owner",
            "subject_id": format!("user{page}")}))
            .await
            .unwrap();
    }
    export.clients().write(&json!({"client_id": "c1", "client_name": "CLI"})).await.unwrap();
    export.clients().write(&json!({"client_id": "c2", "client_name": "Web, \"main\""})).await.unwrap();
    assert_eq!(export.identities().lines(), u64::from(identities));
    let manifest = export.finish().await.unwrap();

    let dir = format!("exports/projects/{PROJECT}/{EXPORT}");
    assert_eq!((manifest.project_id.as_str(), manifest.export_id.as_str()), (PROJECT, EXPORT));
    let names: Vec<_> = manifest.files.iter().map(|f| f.key.rsplit('/').next().unwrap().to_owned()).collect();
    assert_eq!(names, ["identities.jsonl", "relationships.jsonl", "clients.jsonl"]);
    let lines: Vec<_> = manifest.files.iter().map(|f| f.lines).collect();
    assert_eq!(lines, [u64::from(identities), u64::from(identities / 500), 2]);

    for file in &manifest.files {
        assert!(file.key.starts_with(&dir), "{}", file.key);
        let bytes = b.get(&file.key).await;
        assert_eq!((file.size, file.sha256.as_str()), (bytes.len() as u64, sha256_hex(&bytes).as_str()));
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count() as u64, file.lines, "{}", file.key);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        b.sink.verify(&file.key).await.unwrap();
    }
    let clients = String::from_utf8(b.get(&manifest.files[2].key).await).unwrap();
    assert_eq!(
        clients,
        "{\"client_id\":\"c1\",\"client_name\":\"CLI\"}\n{\"client_id\":\"c2\",\"client_name\":\"Web, \\\"main\\\"\"}\n"
    );

    let stored: ProjectManifest = serde_json::from_slice(&b.get(&format!("{dir}/manifest.json")).await).unwrap();
    assert_eq!(stored, manifest);
    b.sink.verify(&format!("{dir}/manifest.json")).await.unwrap();
}

#[tokio::test]
async fn an_export_with_empty_files_still_lists_them() {
    let b = bucket().await;
    let mut export = ProjectExport::begin(&b.sink, PROJECT, "empty").unwrap();
    export.identities().write(&identity(1)).await.unwrap();
    let manifest = export.finish().await.unwrap();
    let expected_empty = ProjectFile {
        key: format!("exports/projects/{PROJECT}/empty/clients.jsonl"),
        size: 0,
        sha256: sha256_hex(b""),
        lines: 0,
    };
    assert_eq!(manifest.files[2], expected_empty);
    assert_eq!(manifest.files[0].lines, 1);
}

#[tokio::test]
async fn an_abandoned_export_leaves_no_manifest_and_no_open_uploads() {
    let b = bucket().await;
    let mut export = ProjectExport::begin(&b.sink, PROJECT, "abandoned").unwrap();
    let big = json!({"traits": {"padding": "y".repeat(1024 * 1024)}});
    for _ in 0..6 {
        export.identities().write(&big).await.unwrap();
    }
    assert_eq!(b.open_uploads().await.len(), 1);
    export.abort().await;
    assert!(b.open_uploads().await.is_empty());
    let listed = b.client().list_objects_v2().bucket(b.sink.bucket()).send().await.unwrap();
    assert!(listed.contents().is_empty(), "{:?}", listed.contents());
}

#[tokio::test]
async fn ids_that_are_not_key_segments_are_refused() {
    let b = bucket().await;
    for (project, export) in [("a/b", "e"), (PROJECT, ".."), ("", "e")] {
        let err = ProjectExport::begin(&b.sink, project, export).expect_err("refused");
        assert!(matches!(err, ExportError::InvalidInput(_)), "{err:?}");
    }
}
