//! Shipping the outbox to the control plane, oldest batch first, until every batch is acknowledged.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use tessera_directory::{MAX_USAGE_BATCHES, RegionKey, USAGE_BATCHES_PATH, UsageAck, region_token};
use tessera_platform::clock::SharedClock;
use tokio::sync::Notify;
use uuid::Uuid;

use super::UsageStatus;
use super::store::OutboxStore;

/// Why a shipping round failed; the shipper retries with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("the control plane is unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the control plane answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the outbox failed: {0}")]
    Outbox(#[from] tessera_platform::db::DbError),
}

/// The shipping half of metering.
#[derive(Debug, Clone)]
pub struct Shipper {
    pub region: String,
    pub control_plane_url: String,
    pub key: RegionKey,
    pub client: reqwest::Client,
    pub clock: SharedClock,
    pub store: OutboxStore,
    pub written: Arc<Notify>,
    pub status: Arc<UsageStatus>,
}

#[derive(Serialize)]
struct OutgoingBatch<'a> {
    id: Uuid,
    usage: &'a RawValue,
}

#[derive(Serialize)]
struct OutgoingUpload<'a> {
    batches: Vec<OutgoingBatch<'a>>,
}

impl Shipper {
    /// Ships until aborted: right after a flush, else every second; backs off while the control plane is away.
    pub async fn run(self) {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.round().await {
                Ok(0) => {
                    backoff = Duration::from_millis(250);
                    tokio::select! {
                        _ = self.written.notified() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                Ok(_) => backoff = Duration::from_millis(250),
                Err(e) => {
                    self.status.ship_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %e, "usage shipping failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Sends one upload of pending batches; returns how many were acknowledged.
    pub async fn round(&self) -> Result<usize, ShipError> {
        let pending = self.store.pending(MAX_USAGE_BATCHES as i64).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut batches = Vec::with_capacity(pending.len());
        for p in &pending {
            match serde_json::from_str::<&RawValue>(&p.body) {
                Ok(usage) => batches.push(OutgoingBatch { id: p.id, usage }),
                Err(e) => tracing::error!(batch = %p.id, error = %e, "an outbox batch is not JSON; left in place"),
            }
        }
        let token = region_token(&self.key, &self.region, self.clock.now().unix_timestamp(), Duration::from_secs(60));
        let resp = self
            .client
            .post(format!("{}{USAGE_BATCHES_PATH}", self.control_plane_url))
            .bearer_auth(token)
            .timeout(Duration::from_secs(30))
            .json(&OutgoingUpload { batches })
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(ShipError::Refused { status: status.as_u16(), body });
        }
        let ack: UsageAck = resp.json().await?;
        let mut done: Vec<Uuid> = ack.applied;
        done.extend(ack.duplicates);
        // Only ids we sent can be acknowledged; anything else in the answer is ignored.
        done.retain(|id| pending.iter().any(|p| p.id == *id));
        self.store.acknowledge(&done, self.clock.now()).await?;
        self.status.acknowledged.fetch_add(done.len() as u64, Ordering::Relaxed);
        Ok(done.len())
    }
}
