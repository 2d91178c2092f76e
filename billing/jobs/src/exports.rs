//! Daily usage exports: each closed UTC day of each workspace, once, as CSV and JSON Lines with a manifest.

use tessera_control_plane::ControlPlane;
use tessera_control_plane::store::UsageScope;
use tessera_export::{ExportSink, UsageManifest, UsageRow, export_daily_usage};
use tessera_platform::ids::WorkspaceId;
use time::{Date, OffsetDateTime};

use crate::JobError;
use crate::store::JobStore;

/// How far back a pass looks for days not exported yet (older gaps are left for an operator to backfill).
pub const LOOKBACK_DAYS: i64 = 35;

/// Writes closed days' usage to S3.
#[derive(Debug, Clone)]
pub struct UsageExports {
    pub sink: ExportSink,
    /// A day is exported this long after it ended, so usage still in regional outboxes arrives first.
    pub grace: time::Duration,
}

impl UsageExports {
    /// Exports every closed day of every workspace that is not exported yet; returns how many it wrote.
    pub async fn tick(&self, cp: &ControlPlane, store: &JobStore, now: OffsetDateTime) -> Result<usize, JobError> {
        let last_closed = (now - self.grace).date().previous_day().ok_or(JobError::Calendar)?;
        let mut written = 0;
        for workspace in cp.store().workspace_ids().await? {
            let Some(ws) = cp.store().workspace_get(workspace).await? else { continue };
            let first = ws.created_at.date().max(last_closed - time::Duration::days(LOOKBACK_DAYS - 1));
            let done = store.exported_days(workspace, first).await?;
            let mut day = first;
            while day <= last_closed {
                if !done.contains(&day) {
                    let manifest = self.export_day(cp, workspace, day).await?;
                    let text = serde_json::to_string(&manifest).map_err(|e| JobError::Invalid(e.to_string()))?;
                    store.export_record(workspace, day, &text, now).await?;
                    tracing::info!(workspace = %workspace, day = %day, rows = manifest.rows, "usage exported");
                    written += 1;
                }
                day = day.next_day().ok_or(JobError::Calendar)?;
            }
        }
        Ok(written)
    }

    /// Writes one workspace's day (idempotent: the same aggregates give byte-identical objects).
    pub async fn export_day(
        &self,
        cp: &ControlPlane,
        workspace: WorkspaceId,
        day: Date,
    ) -> Result<UsageManifest, JobError> {
        let projects = cp.store().usage_projects(workspace).await?;
        let rows = cp.store().usage_day_by_region(UsageScope::Workspace(workspace), day).await?;
        let rows: Vec<UsageRow> = rows
            .into_iter()
            .map(|r| UsageRow {
                project_id: r.project_id.to_string(),
                slug: projects.iter().find(|(id, _)| *id == r.project_id).map(|(_, s)| s.clone()).unwrap_or_default(),
                day,
                meter: r.meter,
                region: r.region,
                quantity: u64::try_from(r.quantity).unwrap_or(0),
            })
            .collect();
        Ok(export_daily_usage(&self.sink, &workspace.to_string(), day, &rows).await?)
    }
}
