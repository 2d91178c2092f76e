//! The daily usage export of one workspace: what it was metered for on one day, as CSV for spreadsheets and
//! JSON Lines for programs, plus a manifest with each file's hash.
//!
//! Rendering is pure and the row order is fixed, so re-running an export (a retry, a backfill) writes
//! byte-identical objects: the export is idempotent and its hashes are stable.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::{ExportError, Result, check_segment};
use crate::sink::ExportSink;

/// One aggregate: a project's quantity of one meter in one region on one day (for `daily_active_identities`,
/// the distinct count).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsageRow {
    /// The project's id.
    pub project_id: String,
    /// The project's slug at export time, so the file reads without a lookup.
    pub slug: String,
    /// The day metered (UTC).
    pub day: Date,
    /// The meter's name, e.g. `identities_created` or `daily_active_identities`.
    pub meter: String,
    /// Where it was metered, if the meter is regional.
    pub region: Option<String>,
    /// The aggregated quantity.
    pub quantity: u64,
}

/// One file of an export as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Full object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// `manifest.json` of a daily usage export; written last, so its presence means the export is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageManifest {
    /// The workspace exported.
    pub workspace_id: String,
    /// The day exported, `YYYY-MM-DD`.
    pub day: String,
    /// `usage.csv` then `aggregates.jsonl`.
    pub files: Vec<ManifestFile>,
    /// Number of rows in each file (header excluded).
    pub rows: u64,
}

/// The CSV header, in the column order of every row.
pub const USAGE_CSV_HEADER: &str = "day,project_id,slug,meter,region,quantity";

/// Writes `<prefix>/usage/<workspace_id>/<YYYY-MM-DD>/{usage.csv,aggregates.jsonl,manifest.json}` and returns
/// the manifest. Every row must be of `day`; re-running with the same rows rewrites the same bytes.
pub async fn export_daily_usage(
    sink: &ExportSink,
    workspace_id: &str,
    day: Date,
    rows: &[UsageRow],
) -> Result<UsageManifest> {
    check_segment("workspace id", workspace_id)?;
    let day_text = format_day(day);
    if let Some(row) = rows.iter().find(|r| r.day != day) {
        return Err(ExportError::InvalidInput(format!(
            "usage row of project `{}` is for {}, not for the exported day {day_text}",
            row.project_id,
            format_day(row.day)
        )));
    }
    let dir = sink.key(&format!("usage/{workspace_id}/{day_text}"));
    let csv = sink.put(&format!("{dir}/usage.csv"), usage_csv(rows), "text/csv; charset=utf-8").await?;
    let jsonl = sink.put(&format!("{dir}/aggregates.jsonl"), usage_jsonl(rows)?, "application/x-ndjson").await?;
    let manifest = UsageManifest {
        workspace_id: workspace_id.to_owned(),
        day: day_text,
        files: [csv, jsonl]
            .into_iter()
            .map(|o| ManifestFile { key: o.key, size: o.size, sha256: o.sha256_hex })
            .collect(),
        rows: rows.len() as u64,
    };
    let mut body =
        serde_json::to_vec_pretty(&manifest).map_err(|source| ExportError::Json { what: "manifest", source })?;
    body.push(b'\n');
    sink.put(&format!("{dir}/manifest.json"), body, "application/json").await?;
    Ok(manifest)
}

/// Renders the CSV: header, then one CRLF-terminated row per aggregate in the deterministic order, fields
/// quoted per RFC 4180 when they contain a comma, a quote or a line break. An absent region is an empty field.
pub fn usage_csv(rows: &[UsageRow]) -> Vec<u8> {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(USAGE_CSV_HEADER);
    out.push_str("\r\n");
    for row in sorted(rows) {
        let fields = [
            &format_day(row.day),
            &row.project_id,
            &row.slug,
            &row.meter,
            row.region.as_deref().unwrap_or(""),
            &row.quantity.to_string(),
        ];
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, field);
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Renders JSON Lines: one object per aggregate with the CSV's fields in the CSV's order (`region` is `null`
/// when absent, `quantity` a number), in the same row order.
pub fn usage_jsonl(rows: &[UsageRow]) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Line<'a> {
        day: String,
        project_id: &'a str,
        slug: &'a str,
        meter: &'a str,
        region: Option<&'a str>,
        quantity: u64,
    }
    let mut out = Vec::with_capacity(128 * rows.len());
    for row in sorted(rows) {
        let line = Line {
            day: format_day(row.day),
            project_id: &row.project_id,
            slug: &row.slug,
            meter: &row.meter,
            region: row.region.as_deref(),
            quantity: row.quantity,
        };
        serde_json::to_writer(&mut out, &line).map_err(|source| ExportError::Json { what: "usage row", source })?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The fixed row order: by day, project, slug, meter, region (absent first), quantity; independent of the
/// order the database returned.
fn sorted(rows: &[UsageRow]) -> Vec<&UsageRow> {
    let mut sorted: Vec<&UsageRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        (a.day, &a.project_id, &a.slug, &a.meter, &a.region, a.quantity).cmp(&(
            b.day,
            &b.project_id,
            &b.slug,
            &b.meter,
            &b.region,
            b.quantity,
        ))
    });
    sorted
}

fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// `YYYY-MM-DD`, the form of keys, files and manifests.
pub(crate) fn format_day(day: Date) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row(project: &str, slug: &str, meter: &str, region: Option<&str>, quantity: u64) -> UsageRow {
        UsageRow {
            project_id: project.into(),
            slug: slug.into(),
            day: date!(2025 - 03 - 07),
            meter: meter.into(),
            region: region.map(Into::into),
            quantity,
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_orders_rows() {
        let rows = [
            row("p2", "plain", "identities_created", Some("us-east"), 3),
            row("p1", "say \"hi\", ok", "daily_active_identities", None, 12),
            row("p1", "say \"hi\", ok", "api_calls\nline", Some("eu-central"), 7),
        ];
        let csv = String::from_utf8(usage_csv(&rows)).unwrap();
        assert_eq!(
            csv,
            "day,project_id,slug,meter,region,quantity\r\n\
             2025-03-07,p1,\"say \"\"hi\"\", ok\",\"api_calls\nline\",eu-central,7\r\n\
             2025-03-07,p1,\"say \"\"hi\"\", ok\",daily_active_identities,,12\r\n\
             2025-03-07,p2,plain,identities_created,us-east,3\r\n"
        );
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(usage_csv(&reversed), csv.as_bytes());
    }

    #[test]
    fn jsonl_has_one_object_per_row_in_csv_order() {
        let rows = [row("p2", "b", "m", Some("us-east"), 3), row("p1", "a", "m", None, 1)];
        let jsonl = String::from_utf8(usage_jsonl(&rows).unwrap()).unwrap();
        assert_eq!(
            jsonl,
            "{\"day\":\"2025-03-07\",\"project_id\":\"p1\",\"slug\":\"a\",\"meter\":\"m\",\"region\":null,\"quantity\":1}\n\
             {\"day\":\"2025-03-07\",\"project_id\":\"p2\",\"slug\":\"b\",\"meter\":\"m\",\"region\":\"us-east\",\"quantity\":3}\n"
        );
    }

    #[test]
    fn days_are_iso_dates() {
        assert_eq!(format_day(date!(0999 - 01 - 02)), "0999-01-02");
    }
}
