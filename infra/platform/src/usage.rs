//! Usage counted on the hot path, for metering and billing.
//!
//! Engines call [`UsageRecorder::count`] and [`UsageRecorder::active_identity`] while they answer; both only
//! touch memory (one sharded lock, no allocation for counts), so metering costs no database write per event.
//! The worker drains the recorder on a short interval into its outbox ([`UsageRecorder::drain`]) and puts a
//! delta back if that write fails ([`UsageRecorder::restore`]), so nothing counted is dropped by a failed flush.
//! What a crash loses is what was counted since the last flush; see ARCHITECTURE.md ("Usage metering").

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::Date;

use crate::clock::SharedClock;
use crate::ids::ProjectId;

/// Meter names, shared by the engines that count, the control plane that aggregates and billing.
pub mod meter {
    /// Distinct identities that got a session or a token on a day (an exact set, merged across regions).
    pub const ACTIVE_IDENTITIES: &str = "daily_active_identities";
    /// Access tokens issued by the client-credentials grant.
    pub const M2M_TOKENS: &str = "m2m_tokens";
    /// Permission checks answered (each item of a batch check counts).
    pub const PERMISSION_CHECKS: &str = "permission_checks";
    /// Prefix of the API-request meters; the endpoint group follows the dot (`api_requests.identity`).
    pub const API_REQUESTS_PREFIX: &str = "api_requests.";
}

/// Longest identity key kept; longer subjects are cut (a subject that long is not an identity id anyway).
pub const MAX_IDENTITY_KEY: usize = 256;

const SHARDS: usize = 16;

/// Meters are borrowed on the hot path and owned only when a drained delta is put back.
type CountKey = (ProjectId, Date, Cow<'static, str>);

#[derive(Debug, Default)]
struct Shard {
    counts: HashMap<CountKey, u64>,
    identities: HashMap<(ProjectId, Date), HashSet<Box<str>>>,
}

/// In-memory usage counters of one worker; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct UsageRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shards: Vec<Mutex<Shard>>,
    clock: SharedClock,
    hasher: std::collections::hash_map::RandomState,
    enabled: bool,
}

/// One project's count of one meter on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterCount {
    pub project_id: ProjectId,
    pub day: Date,
    pub meter: String,
    pub quantity: u64,
}

/// The identities of one project that were active on one UTC day (a set: merging is a union).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveIdentities {
    pub project_id: ProjectId,
    pub day: Date,
    pub identities: Vec<String>,
}

/// What was counted between two drains; the body of one usage batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDelta {
    pub counts: Vec<MeterCount>,
    pub identities: Vec<ActiveIdentities>,
}

impl UsageDelta {
    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.identities.is_empty()
    }

    /// Events in the delta: the sum of the counts plus the identity sightings; for progress metrics.
    pub fn events(&self) -> u64 {
        let counted = self.counts.iter().fold(0u64, |sum, c| sum.saturating_add(c.quantity));
        counted.saturating_add(self.identities.iter().map(|i| i.identities.len() as u64).sum())
    }
}

impl UsageRecorder {
    /// A recorder stamping events with `clock`'s UTC day. A disabled recorder counts nothing (for measuring
    /// what metering costs).
    pub fn new(clock: SharedClock, enabled: bool) -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
        Self { inner: Arc::new(Inner { shards, clock, hasher: Default::default(), enabled }) }
    }

    fn shard(&self, project: ProjectId) -> std::sync::MutexGuard<'_, Shard> {
        let i = (self.inner.hasher.hash_one(project) as usize) % SHARDS;
        self.inner.shards[i].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts `n` events of `meter` for `project` today.
    pub fn count(&self, project: ProjectId, meter: &'static str, n: u64) {
        if !self.inner.enabled || n == 0 {
            return;
        }
        let day = self.inner.clock.now().date();
        let mut shard = self.shard(project);
        let slot = shard.counts.entry((project, day, Cow::Borrowed(meter))).or_insert(0);
        *slot = slot.saturating_add(n);
    }

    /// Notes that `identity` (an identity id or OAuth2 subject) was active for `project` today.
    pub fn active_identity(&self, project: ProjectId, identity: &str) {
        if !self.inner.enabled || identity.is_empty() {
            return;
        }
        let key = cut(identity, MAX_IDENTITY_KEY);
        let day = self.inner.clock.now().date();
        let mut shard = self.shard(project);
        let set = shard.identities.entry((project, day)).or_default();
        if !set.contains(key) {
            set.insert(key.into());
        }
    }

    /// Takes everything counted so far, leaving the recorder empty.
    pub fn drain(&self) -> UsageDelta {
        let mut delta = UsageDelta::default();
        for shard in &self.inner.shards {
            let taken = std::mem::take(&mut *shard.lock().unwrap_or_else(|p| p.into_inner()));
            delta.counts.extend(taken.counts.into_iter().map(|((project_id, day, meter), quantity)| MeterCount {
                project_id,
                day,
                meter: meter.into_owned(),
                quantity,
            }));
            delta.identities.extend(taken.identities.into_iter().map(|((project_id, day), set)| {
                let mut identities: Vec<String> = set.into_iter().map(String::from).collect();
                identities.sort_unstable();
                ActiveIdentities { project_id, day, identities }
            }));
        }
        delta.counts.sort_by(|a, b| (a.project_id, a.day, &a.meter).cmp(&(b.project_id, b.day, &b.meter)));
        delta.identities.sort_by_key(|a| (a.project_id, a.day));
        delta
    }

    /// Puts back a drained delta whose write failed, merged with what was counted since.
    pub fn restore(&self, delta: UsageDelta) {
        for c in delta.counts {
            let mut shard = self.shard(c.project_id);
            let slot = shard.counts.entry((c.project_id, c.day, Cow::Owned(c.meter))).or_insert(0);
            *slot = slot.saturating_add(c.quantity);
        }
        for a in delta.identities {
            let mut shard = self.shard(a.project_id);
            let set = shard.identities.entry((a.project_id, a.day)).or_default();
            set.extend(a.identities.into_iter().map(String::into_boxed_str));
        }
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use time::macros::datetime;

    fn recorder() -> (UsageRecorder, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-30 23:59:59.5 UTC)));
        (UsageRecorder::new(clock.clone(), true), clock)
    }

    #[test]
    fn counts_by_project_day_and_meter() {
        let (r, clock) = recorder();
        let (a, b) = (ProjectId::new(), ProjectId::new());
        r.count(a, meter::PERMISSION_CHECKS, 2);
        r.count(a, meter::PERMISSION_CHECKS, 3);
        r.count(b, meter::M2M_TOKENS, 1);
        clock.advance(time::Duration::seconds(1));
        r.count(a, meter::PERMISSION_CHECKS, 1);
        let d = r.drain();
        let find = |p, day: Date| d.counts.iter().find(|c| c.project_id == p && c.day == day).map(|c| c.quantity);
        assert_eq!(find(a, time::macros::date!(2026 - 11 - 30)), Some(5));
        assert_eq!(find(a, time::macros::date!(2026 - 12 - 01)), Some(1), "the day is the UTC day of the event");
        assert_eq!(find(b, time::macros::date!(2026 - 11 - 30)), Some(1));
        assert_eq!(d.events(), 7);
        assert!(r.drain().is_empty(), "a drain empties the recorder");
    }

    #[test]
    fn identities_are_a_set_and_restore_merges() {
        let (r, _) = recorder();
        let p = ProjectId::new();
        r.active_identity(p, "alice");
        r.active_identity(p, "alice");
        r.active_identity(p, "");
        r.active_identity(p, &"x".repeat(1000));
        let d = r.drain();
        assert_eq!(d.identities.len(), 1);
        assert_eq!(d.identities[0].identities.len(), 2, "duplicates and empty subjects are not counted");
        assert!(d.identities[0].identities.iter().all(|i| i.len() <= MAX_IDENTITY_KEY));
        r.active_identity(p, "bob");
        r.count(p, meter::PERMISSION_CHECKS, 4);
        r.restore(d.clone());
        r.restore(UsageDelta {
            counts: vec![MeterCount {
                project_id: p,
                day: d.identities[0].day,
                meter: "permission_checks".into(),
                quantity: 6,
            }],
            identities: vec![],
        });
        let merged = r.drain();
        assert_eq!(merged.identities[0].identities.len(), 3);
        assert_eq!(merged.counts[0].quantity, 10);
    }

    #[test]
    fn disabled_counts_nothing() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-30 12:00 UTC)));
        let r = UsageRecorder::new(clock, false);
        r.count(ProjectId::new(), meter::M2M_TOKENS, 1);
        r.active_identity(ProjectId::new(), "a");
        assert!(r.drain().is_empty());
    }
}
