//! Keeping the region's directory current: long-poll the control plane, apply in order, persist, repeat.
//!
//! Invariants: an entry is applied only after every entry before it (the batch must continue the cursor
//! exactly, else the worker reloads a snapshot); the persisted copy and cursor change in one transaction
//! before memory changes, so a crash between the two replays the batch on restart instead of skipping it;
//! replaying is harmless because applying a record replaces the project's state. When the control plane is
//! unreachable the worker keeps serving what it has and retries with backoff.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use tessera_directory::{ENTRIES_PATH, ProjectRecord, RESYNC_ERROR_ID, RegionKey, SNAPSHOT_PATH, region_token};
use tessera_platform::clock::SharedClock;

use super::Directory;
use super::store::DirectoryStore;

/// How the sync is doing, for `/metrics` and the status endpoint.
#[derive(Debug, Default)]
pub struct SyncStatus {
    /// The newest sequence number the control plane reported.
    pub known_head: AtomicI64,
    current_since: std::sync::Mutex<Option<Instant>>,
    last_contact: std::sync::Mutex<Option<Instant>>,
    last_error: std::sync::Mutex<Option<String>>,
}

impl SyncStatus {
    fn contact(&self, head: i64, applied: i64) {
        self.known_head.store(head, Ordering::Relaxed);
        let now = Instant::now();
        *self.last_contact.lock().expect("status lock") = Some(now);
        *self.last_error.lock().expect("status lock") = None;
        let mut since = self.current_since.lock().expect("status lock");
        if applied >= head {
            *since = Some(now);
        }
    }

    fn failed(&self, error: String) {
        *self.last_error.lock().expect("status lock") = Some(error);
    }

    /// Entries the control plane has that this region has not applied.
    pub fn lag_entries(&self, applied: i64) -> i64 {
        (self.known_head.load(Ordering::Relaxed) - applied).max(0)
    }

    /// Seconds since this region was last known to be current (0 while current).
    pub fn lag_seconds(&self, applied: i64) -> f64 {
        if self.lag_entries(applied) == 0 && self.last_contact.lock().expect("status lock").is_some() {
            return 0.0;
        }
        self.current_since.lock().expect("status lock").map(|t| t.elapsed().as_secs_f64()).unwrap_or(f64::INFINITY)
    }

    /// Seconds since the control plane last answered.
    pub fn seconds_since_contact(&self) -> Option<f64> {
        self.last_contact.lock().expect("status lock").map(|t| t.elapsed().as_secs_f64())
    }

    /// The last sync error, if the last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().expect("status lock").clone()
    }
}

/// Why a sync round failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the control plane is unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the control plane answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the control plane asks for a resync")]
    Resync,
    #[error("entry {got} does not continue cursor {cursor}")]
    Gap { cursor: i64, got: i64 },
    #[error("a directory record is malformed: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("the region's database failed")]
    Store(#[from] tessera_platform::db::DbError),
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    seq: i64,
    #[serde(borrow)]
    record: &'a RawValue,
}

#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    entries: Vec<RawEntry<'a>>,
    head: i64,
}

#[derive(Deserialize)]
struct RawSnapshot<'a> {
    seq: i64,
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
}

/// Follows the control plane's directory log for one region.
#[derive(Debug, Clone)]
pub struct Syncer {
    pub region: String,
    pub control_plane_url: String,
    pub key: RegionKey,
    pub wait: Duration,
    pub directory: Arc<Directory>,
    pub store: DirectoryStore,
    pub status: Arc<SyncStatus>,
    pub clock: SharedClock,
    pub client: reqwest::Client,
}

impl Syncer {
    /// Runs until the task is dropped: catch up, then long-poll; back off while the control plane is away.
    pub async fn run(self) {
        let mut backoff = Duration::from_millis(100);
        // A region that has never synced starts from a snapshot rather than replaying the whole log.
        let mut fresh = self.directory.seq() == 0;
        loop {
            let result = if fresh { self.load_snapshot().await } else { self.round().await };
            match result {
                Ok(()) if fresh => {
                    fresh = false;
                    backoff = Duration::from_millis(100);
                }
                Ok(()) => backoff = Duration::from_millis(100),
                Err(SyncError::Resync | SyncError::Gap { .. }) => {
                    tracing::warn!(region = %self.region, "directory cursor is not continuable; loading a snapshot");
                    if let Err(e) = self.load_snapshot().await {
                        self.note_failure(&e, &mut backoff).await;
                    }
                }
                Err(e) => self.note_failure(&e, &mut backoff).await,
            }
        }
    }

    async fn note_failure(&self, e: &SyncError, backoff: &mut Duration) {
        tracing::warn!(region = %self.region, error = %e, retry_in_ms = backoff.as_millis() as u64, "directory sync failed; serving the copy we have");
        self.status.failed(e.to_string());
        tokio::time::sleep(*backoff).await;
        *backoff = (*backoff * 2).min(Duration::from_secs(5));
    }

    fn token(&self) -> String {
        region_token(&self.key, &self.region, self.clock.now().unix_timestamp(), Duration::from_secs(60))
    }

    /// One step: fetch (waiting for news up to `wait`) and apply the entries after the cursor.
    pub async fn round(&self) -> Result<(), SyncError> {
        let cursor = self.directory.seq();
        let url = format!("{}{ENTRIES_PATH}", self.control_plane_url);
        let resp = self
            .client
            .get(&url)
            .bearer_auth(self.token())
            .query(&[
                ("after", cursor.to_string()),
                ("limit", "1000".into()),
                ("wait_ms", self.wait.as_millis().to_string()),
            ])
            .timeout(self.wait + Duration::from_secs(10))
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if status.as_u16() == 409 && String::from_utf8_lossy(&body).contains(RESYNC_ERROR_ID) {
            return Err(SyncError::Resync);
        }
        if !status.is_success() {
            return Err(SyncError::Refused {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let page: RawPage<'_> = serde_json::from_slice(&body)?;
        let mut expected = cursor;
        let mut batch = Vec::with_capacity(page.entries.len());
        for entry in &page.entries {
            if entry.seq != expected + 1 {
                return Err(SyncError::Gap { cursor: expected, got: entry.seq });
            }
            expected = entry.seq;
            let record: ProjectRecord = serde_json::from_str(entry.record.get())?;
            batch.push((record, entry.record.get().to_owned()));
        }
        if !batch.is_empty() {
            self.store.apply(expected, &batch).await?;
            self.directory.apply(expected, batch.into_iter().map(|(r, _)| r));
            tracing::debug!(region = %self.region, seq = expected, "directory entries applied");
        }
        self.status.contact(page.head, expected);
        Ok(())
    }

    /// Replaces the copy with the control plane's current snapshot.
    pub async fn load_snapshot(&self) -> Result<(), SyncError> {
        let started = Instant::now();
        let url = format!("{}{SNAPSHOT_PATH}", self.control_plane_url);
        let resp = self.client.get(&url).bearer_auth(self.token()).timeout(Duration::from_secs(120)).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            return Err(SyncError::Refused {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let snapshot: RawSnapshot<'_> = serde_json::from_slice(&body)?;
        let mut records = Vec::with_capacity(snapshot.records.len());
        for raw in &snapshot.records {
            records.push((serde_json::from_str::<ProjectRecord>(raw.get())?, raw.get().to_owned()));
        }
        self.store.replace(snapshot.seq, &records).await?;
        let count = records.len();
        self.directory.replace(snapshot.seq, records.into_iter().map(|(r, _)| r).collect());
        self.status.contact(snapshot.seq, snapshot.seq);
        tracing::info!(region = %self.region, seq = snapshot.seq, projects = count, elapsed_ms = started.elapsed().as_millis() as u64, "directory snapshot loaded");
        Ok(())
    }
}

/// Loads the persisted copy into memory; the worker serves from it before it has talked to the control plane.
pub async fn load_persisted(store: &DirectoryStore, directory: &Directory) -> Result<usize, SyncError> {
    let (seq, rows) = store.load().await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        records.push(serde_json::from_str::<ProjectRecord>(row)?);
    }
    let count = records.len();
    directory.replace(seq, records);
    Ok(count)
}
