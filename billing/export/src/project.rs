//! The project data export (GDPR Art. 20): everything a project holds, as JSON Lines, streamed page by page
//! from the caller's database into S3, so a project of any size exports in bounded memory (one part per
//! file, three files).

use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result, check_segment};
use crate::sink::ExportSink;
use crate::stream::StreamingUpload;

/// One JSON Lines file of a project export being written.
pub struct JsonlWriter {
    upload: StreamingUpload,
    lines: u64,
    scratch: Vec<u8>,
}

impl JsonlWriter {
    fn new(upload: StreamingUpload) -> Self {
        Self { upload, lines: 0, scratch: Vec::with_capacity(1024) }
    }

    /// Appends one value as one line. serde_json escapes line breaks inside strings, so a value is always
    /// exactly one line.
    pub async fn write<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, value)
            .map_err(|source| ExportError::Json { what: "export record", source })?;
        self.scratch.push(b'\n');
        self.upload.write(&self.scratch).await?;
        self.lines += 1;
        Ok(())
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

impl std::fmt::Debug for JsonlWriter {
    /// Leaves out the last record: it is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlWriter").field("upload", &self.upload).field("lines", &self.lines).finish()
    }
}

/// One file of a project export as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFile {
    /// Full object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Number of JSON Lines records.
    pub lines: u64,
}

/// `manifest.json` of a project export; written last, so its presence means the export is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectManifest {
    /// The project exported.
    pub project_id: String,
    /// This export's id (one project can be exported many times).
    pub export_id: String,
    /// `identities.jsonl`, `relationships.jsonl`, `clients.jsonl`, in that order.
    pub files: Vec<ProjectFile>,
}

/// A project export in progress under `<prefix>/projects/<project_id>/<export_id>/`.
///
/// Feed each file through its writer (in any interleaving), then [`ProjectExport::finish`]. Dropping the
/// export, or any failure, aborts the uploads started so far and writes no manifest.
#[derive(Debug)]
pub struct ProjectExport {
    sink: ExportSink,
    project_id: String,
    export_id: String,
    identities: JsonlWriter,
    relationships: JsonlWriter,
    clients: JsonlWriter,
}

impl ProjectExport {
    /// Opens the three files; nothing is sent until a file has a full part or the export finishes.
    pub fn begin(sink: &ExportSink, project_id: &str, export_id: &str) -> Result<Self> {
        check_segment("project id", project_id)?;
        check_segment("export id", export_id)?;
        let dir = sink.key(&format!("projects/{project_id}/{export_id}"));
        let open = |name: &str| sink.stream(&format!("{dir}/{name}"), "application/x-ndjson").map(JsonlWriter::new);
        Ok(Self {
            sink: sink.clone(),
            project_id: project_id.to_owned(),
            export_id: export_id.to_owned(),
            identities: open("identities.jsonl")?,
            relationships: open("relationships.jsonl")?,
            clients: open("clients.jsonl")?,
        })
    }

    /// The identities file: one identity (traits, metadata, credentials' public parts) per line.
    pub fn identities(&mut self) -> &mut JsonlWriter {
        &mut self.identities
    }

    /// The relationships file: one relation tuple per line.
    pub fn relationships(&mut self) -> &mut JsonlWriter {
        &mut self.relationships
    }

    /// The OAuth2 clients file: one client per line.
    pub fn clients(&mut self) -> &mut JsonlWriter {
        &mut self.clients
    }

    /// Completes the three files, then writes `manifest.json` with each file's size, SHA-256 and line count.
    pub async fn finish(self) -> Result<ProjectManifest> {
        let Self { sink, project_id, export_id, identities, relationships, clients } = self;
        let mut files = Vec::with_capacity(3);
        // Completing one at a time: if one fails, the writers not yet finished are dropped and abort.
        for writer in [identities, relationships, clients] {
            let lines = writer.lines;
            let stored = writer.upload.finish().await?;
            files.push(ProjectFile { key: stored.key, size: stored.size, sha256: stored.sha256_hex, lines });
        }
        let manifest = ProjectManifest { project_id, export_id, files };
        let mut body =
            serde_json::to_vec_pretty(&manifest).map_err(|source| ExportError::Json { what: "manifest", source })?;
        body.push(b'\n');
        let dir = sink.key(&format!("projects/{}/{}", manifest.project_id, manifest.export_id));
        sink.put(&format!("{dir}/manifest.json"), body, "application/json").await?;
        Ok(manifest)
    }

    /// Gives up and waits until every started multipart upload is aborted.
    pub async fn abort(self) {
        self.identities.upload.abort().await;
        self.relationships.upload.abort().await;
        self.clients.upload.abort().await;
    }
}
