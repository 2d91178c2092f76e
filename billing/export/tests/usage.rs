//! The daily usage export: exact file contents, manifest, idempotent re-runs.

mod common;

use common::{bucket, sha256_hex};
use tessera_export::{ExportError, ManifestFile, UsageManifest, UsageRow, export_daily_usage};
use time::macros::date;

const WORKSPACE: &str = "0195a3b2-1c4d-7e8f-9a0b-1c2d3e4f5a6b";

fn rows() -> Vec<UsageRow> {
    let row = |project: &str, slug: &str, meter: &str, region: Option<&str>, quantity| UsageRow {
        project_id: project.into(),
        slug: slug.into(),
        day: date!(2025 - 03 - 07),
        meter: meter.into(),
        region: region.map(Into::into),
        quantity,
    };
    // In the order a database might return them, not the export order.
    vec![
        row("proj-b", "plain-slug", "identities_created", Some("us-east"), 3),
        row("proj-a", "acme, \"prod\"", "daily_active_identities", None, 1200),
        row("proj-a", "acme, \"prod\"", "permission_checks", Some("eu-central"), 98_765),
        row("proj-b", "plain-slug", "meter,with\ncomma", Some("eu-central"), 0),
    ]
}

const EXPECTED_CSV: &str = "day,project_id,slug,meter,region,quantity\r\n\
2025-03-07,proj-a,\"acme, \"\"prod\"\"\",daily_active_identities,,1200\r\n\
2025-03-07,proj-a,\"acme, \"\"prod\"\"\",permission_checks,eu-central,98765\r\n\
2025-03-07,proj-b,plain-slug,identities_created,us-east,3\r\n\
2025-03-07,proj-b,plain-slug,\"meter,with\ncomma\",eu-central,0\r\n";

const EXPECTED_JSONL: &str = r#"{"day":"2025-03-07","project_id":"proj-a","slug":"acme, \"prod\"","meter":"daily_active_identities","region":null,"quantity":1200}
{"day":"2025-03-07","project_id":"proj-a","slug":"acme, \"prod\"","meter":"permission_checks","region":"eu-central","quantity":98765}
{"day":"2025-03-07","project_id":"proj-b","slug":"plain-slug","meter":"identities_created","region":"us-east","quantity":3}
{"day":"2025-03-07","project_id":"proj-b","slug":"plain-slug","meter":"meter,with\ncomma","region":"eu-central","quantity":0}
"#;

#[tokio::test]
async fn writes_exact_csv_jsonl_and_a_manifest_that_matches_the_objects() {
    let b = bucket().await;
    let manifest = export_daily_usage(&b.sink, WORKSPACE, date!(2025 - 03 - 07), &rows()).await.unwrap();

    let dir = format!("exports/usage/{WORKSPACE}/2025-03-07");
    let csv = b.get(&format!("{dir}/usage.csv")).await;
    let jsonl = b.get(&format!("{dir}/aggregates.jsonl")).await;
    assert_eq!(String::from_utf8(csv.clone()).unwrap(), EXPECTED_CSV);
    assert_eq!(String::from_utf8(jsonl.clone()).unwrap(), EXPECTED_JSONL);

    let expected = UsageManifest {
        workspace_id: WORKSPACE.into(),
        day: "2025-03-07".into(),
        files: vec![
            ManifestFile { key: format!("{dir}/usage.csv"), size: csv.len() as u64, sha256: sha256_hex(&csv) },
            ManifestFile {
                key: format!("{dir}/aggregates.jsonl"),
                size: jsonl.len() as u64,
                sha256: sha256_hex(&jsonl),
            },
        ],
        rows: 4,
    };
    assert_eq!(manifest, expected);
    // The stored manifest is the returned one, with the documented field names.
    let stored: serde_json::Value = serde_json::from_slice(&b.get(&format!("{dir}/manifest.json")).await).unwrap();
    assert_eq!(stored, serde_json::to_value(&expected).unwrap());
    assert_eq!(stored["files"][0]["sha256"], sha256_hex(&csv));
    for file in &manifest.files {
        let verified = b.sink.verify(&file.key).await.unwrap();
        assert_eq!((verified.size, verified.sha256_hex.as_str()), (file.size, file.sha256.as_str()));
    }
    b.sink.verify(&format!("{dir}/manifest.json")).await.unwrap();
}

#[tokio::test]
async fn re_running_the_export_is_byte_identical() {
    let b = bucket().await;
    let day = date!(2025 - 03 - 07);
    let first = export_daily_usage(&b.sink, WORKSPACE, day, &rows()).await.unwrap();
    let dir = format!("exports/usage/{WORKSPACE}/2025-03-07");
    let names = ["usage.csv", "aggregates.jsonl", "manifest.json"];
    let mut before = Vec::new();
    for name in names {
        before.push(b.get(&format!("{dir}/{name}")).await);
    }

    let mut shuffled = rows();
    shuffled.rotate_left(2);
    let second = export_daily_usage(&b.sink, WORKSPACE, day, &shuffled).await.unwrap();
    assert_eq!(first, second);
    for (name, bytes) in names.iter().zip(before) {
        assert_eq!(b.get(&format!("{dir}/{name}")).await, bytes, "{name} changed on re-run");
    }
}

#[tokio::test]
async fn an_empty_day_still_gets_a_header_and_a_manifest() {
    let b = bucket().await;
    let manifest = export_daily_usage(&b.sink, WORKSPACE, date!(2025 - 03 - 08), &[]).await.unwrap();
    assert_eq!(manifest.rows, 0);
    let csv = b.get(&manifest.files[0].key).await;
    assert_eq!(csv, b"day,project_id,slug,meter,region,quantity\r\n");
    assert_eq!(manifest.files[1].size, 0);
}

#[tokio::test]
async fn rows_of_another_day_and_unsafe_ids_are_refused_before_writing() {
    let b = bucket().await;
    let err = export_daily_usage(&b.sink, WORKSPACE, date!(2025 - 03 - 08), &rows()).await.unwrap_err();
    assert!(matches!(err, ExportError::InvalidInput(_)), "{err:?}");
    assert!(err.to_string().contains("not for the exported day 2025-03-08"), "{err}");
    let err = export_daily_usage(&b.sink, "../other", date!(2025 - 03 - 07), &rows()).await.unwrap_err();
    assert!(err.to_string().contains("workspace id `../other` is not a valid key segment"), "{err}");
    let listed = b.client().list_objects_v2().bucket(b.sink.bucket()).send().await.unwrap();
    assert!(listed.contents().is_empty());
}
