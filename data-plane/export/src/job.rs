//! An export job as the region records it, and its JSON.

use serde_json::{Map, Value, json};
use tessera_export::ProjectManifest;
use tessera_platform::ids::ProjectId;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

tessera_platform::typed_id!(
    /// One export of one project; also the S3 key segment its files are written under.
    ExportId
);

/// Where a job is; it only ever leaves `Running`, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    /// Pages are being read and uploaded.
    Running,
    /// Every file and the manifest are in S3.
    Succeeded,
    /// Given up; no manifest was written, so nothing of it counts as an export.
    Failed,
}

impl ExportState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored name; an unknown one (a newer worker's) reads as failed rather than running forever.
    pub fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            _ => Self::Failed,
        }
    }
}

/// Records written so far, per file: the job's progress, and its line counts once it succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines of `identities.jsonl`.
    pub identities: u64,
    /// Lines of `relationships.jsonl`.
    pub relationships: u64,
    /// Lines of `clients.jsonl`.
    pub clients: u64,
}

/// One export of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    /// The export, unique in the region; names its S3 folder.
    pub id: ExportId,
    /// The project exported (every read of a job binds it).
    pub project_id: ProjectId,
    /// Where the job is.
    pub state: ExportState,
    /// Progress while running; the files' line counts once succeeded.
    pub counts: Counts,
    /// Present exactly when the job succeeded.
    pub manifest: Option<ProjectManifest>,
    /// Present exactly when the job failed: what went wrong, for the project's eyes.
    pub error: Option<String>,
    /// When the project asked for it.
    pub created_at: OffsetDateTime,
    /// The last progress or heartbeat.
    pub updated_at: OffsetDateTime,
    /// When it succeeded or failed.
    pub finished_at: Option<OffsetDateTime>,
}

impl ExportJob {
    /// The job's JSON: `id`, `state`, `created_at`, `counts`; `finished_at` once finished, `manifest` once
    /// succeeded, `error` once failed.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("state".into(), json!(self.state.as_str()));
        o.insert("created_at".into(), json!(timestamp(self.created_at)));
        if let Some(at) = self.finished_at {
            o.insert("finished_at".into(), json!(timestamp(at)));
        }
        o.insert(
            "counts".into(),
            json!({
                "identities": self.counts.identities,
                "relationships": self.counts.relationships,
                "clients": self.counts.clients,
            }),
        );
        if let Some(manifest) = &self.manifest {
            o.insert("manifest".into(), serde_json::to_value(manifest).unwrap_or(Value::Null));
        }
        if let Some(error) = &self.error {
            o.insert("error".into(), json!(error));
        }
        Value::Object(o)
    }
}

/// RFC 3339 in UTC, as every other Tessera API prints times.
fn timestamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shows_manifest_and_error_only_when_there() {
        let at = time::macros::datetime!(2026-03-01 12:00:00.5 UTC);
        let job = ExportJob {
            id: ExportId::new(),
            project_id: ProjectId::new(),
            state: ExportState::Running,
            counts: Counts { identities: 3, relationships: 2, clients: 1 },
            manifest: None,
            error: None,
            created_at: at,
            updated_at: at,
            finished_at: None,
        };
        let v = job.to_json();
        assert_eq!(v["state"], "running");
        assert_eq!(v["created_at"], "2026-03-01T12:00:00.5Z");
        assert_eq!(v["counts"], json!({"identities": 3, "relationships": 2, "clients": 1}));
        assert!(v.get("manifest").is_none() && v.get("error").is_none() && v.get("finished_at").is_none());
        let failed = ExportJob { state: ExportState::Failed, error: Some("boom".into()), finished_at: Some(at), ..job };
        let v = failed.to_json();
        assert_eq!((v["state"].as_str(), v["error"].as_str()), (Some("failed"), Some("boom")));
        assert!(v.get("manifest").is_none());
    }

    #[test]
    fn unknown_states_read_as_failed() {
        for state in [ExportState::Running, ExportState::Succeeded, ExportState::Failed] {
            assert_eq!(ExportState::parse(state.as_str()), state);
        }
        assert_eq!(ExportState::parse("paused"), ExportState::Failed);
    }
}
