//! Usage metering in the region: flush the in-memory counters into the outbox, ship the outbox to the
//! control plane, forget a batch only once the control plane acknowledged it.
//!
//! Why nothing is lost or counted twice (ARCHITECTURE.md, "Usage metering", has the whole argument):
//! - a flush drains the recorder and writes the drained delta as one outbox row under a fresh UUIDv7; if the
//!   write fails the delta goes back into the recorder, so a failed flush loses nothing;
//! - the shipper sends pending rows by id and marks them acknowledged only after the control plane answered
//!   that it applied (or had already applied) each id; a lost answer means the same ids are sent again, and the
//!   control plane applies an id at most once, so a retry never adds twice;
//! - a graceful stop flushes once more after the HTTP server has drained; only a crash (SIGKILL, power loss)
//!   loses what was counted since the last flush (at most one flush interval).

pub mod ship;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tessera_platform::clock::SharedClock;
use tessera_platform::db::DbError;
use tessera_platform::usage::UsageRecorder;
use tokio::sync::Notify;
use uuid::Uuid;

use self::store::OutboxStore;

/// How long acknowledged batches stay in the outbox as the region's ledger.
pub const ACKED_RETENTION: time::Duration = time::Duration::days(7);

/// How often the ledger of acknowledged batches is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Metering's progress, for `/metrics` and `/status`.
#[derive(Debug, Default)]
pub struct UsageStatus {
    /// Batches written to the outbox by this worker.
    pub flushed_batches: AtomicU64,
    /// Events in those batches.
    pub flushed_events: AtomicU64,
    /// Batches the control plane acknowledged to this worker.
    pub acknowledged: AtomicU64,
    /// Shipping rounds that failed (and were retried).
    pub ship_failures: AtomicU64,
}

impl UsageStatus {
    /// The counters as JSON, for `/status`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "flushed_batches": self.flushed_batches.load(Ordering::Relaxed),
            "flushed_events": self.flushed_events.load(Ordering::Relaxed),
            "acknowledged_batches": self.acknowledged.load(Ordering::Relaxed),
            "ship_failures": self.ship_failures.load(Ordering::Relaxed),
        })
    }
}

/// The flushing half of metering.
#[derive(Debug, Clone)]
pub struct Flusher {
    pub recorder: UsageRecorder,
    pub store: OutboxStore,
    pub clock: SharedClock,
    /// Wakes the shipper when a batch was written.
    pub written: Arc<Notify>,
    pub status: Arc<UsageStatus>,
}

impl Flusher {
    /// Moves everything counted so far into one outbox batch; returns the events it held (0: nothing to do).
    pub async fn flush(&self) -> Result<u64, DbError> {
        let delta = self.recorder.drain();
        if delta.is_empty() {
            return Ok(0);
        }
        let events = delta.events();
        let body = match serde_json::to_string(&delta) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "usage delta does not serialize; keeping it in memory");
                self.recorder.restore(delta);
                return Ok(0);
            }
        };
        if let Err(e) = self.store.append(Uuid::now_v7(), self.clock.now(), events, &body).await {
            self.recorder.restore(delta);
            return Err(e);
        }
        self.written.notify_one();
        self.status.flushed_batches.fetch_add(1, Ordering::Relaxed);
        self.status.flushed_events.fetch_add(events, Ordering::Relaxed);
        Ok(events)
    }

    /// Flushes every `every` until aborted, and prunes the ledger now and then.
    pub async fn run(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = std::time::Instant::now();
        loop {
            tick.tick().await;
            if let Err(e) = self.flush().await {
                tracing::warn!(error = %e, "usage flush failed; the counts stay in memory and are retried");
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = std::time::Instant::now();
                match self.store.prune(self.clock.now() - ACKED_RETENTION).await {
                    Ok(n) if n > 0 => tracing::info!(pruned = n, "old acknowledged usage batches pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning acknowledged usage batches failed"),
                }
            }
        }
    }
}
