//! The whoami cache: a session's rendered JSON by the digest of its token, invalidated region-wide.
//!
//! Invalidation is by generation, not by search: every entry remembers the feed position its worker had
//! applied before it read the session from the database, and the cache keeps, per session id and identity id,
//! the position of the latest invalidation naming it. An entry is served only if nothing newer than its read
//! names its session or identity. Applying an invalidation is O(1) and never scans the cache. Entries also
//! live at most `max_age`, which bounds how long the per-id positions must be remembered.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use quick_cache::sync::Cache;
use tessera_platform::ids::ProjectId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{IdentityId, SessionId};
use crate::store::Invalidation;

/// A token's digest: the cache key.
pub type TokenDigest = [u8; 32];

/// A cached whoami answer.
#[derive(Debug)]
pub struct CachedSession {
    pub project: ProjectId,
    pub session_id: SessionId,
    pub identity_id: IdentityId,
    pub expires_at: OffsetDateTime,
    /// The response body.
    pub body: Bytes,
    /// The feed position applied before the session was read.
    seen: i64,
    loaded: Instant,
}

/// The cache of one worker.
#[derive(Debug)]
pub struct SessionCache {
    entries: Cache<TokenDigest, Arc<CachedSession>>,
    /// Session or identity id → feed position of its latest invalidation (with when it was recorded).
    stale: parking_lot::RwLock<HashMap<Uuid, (i64, Instant)>>,
    applied: AtomicI64,
    max_age: Duration,
}

impl SessionCache {
    /// A cache of at most `capacity` sessions, each served for at most `max_age` before a re-read.
    pub fn new(capacity: usize, max_age: Duration, applied: i64) -> Self {
        Self {
            entries: Cache::new(capacity.max(16)),
            stale: parking_lot::RwLock::new(HashMap::new()),
            applied: AtomicI64::new(applied),
            max_age,
        }
    }

    /// The feed position applied so far; read it before loading a session to cache.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// The cached answer for `key` in `project`, if still valid at `now`.
    pub fn get(&self, key: &TokenDigest, project: ProjectId, now: OffsetDateTime) -> Option<Arc<CachedSession>> {
        let entry = self.entries.get(key)?;
        let valid = entry.project == project
            && entry.expires_at > now
            && entry.loaded.elapsed() < self.max_age
            && !self.is_stale(entry.session_id.0, entry.seen)
            && !self.is_stale(entry.identity_id.0, entry.seen);
        if valid {
            Some(entry)
        } else {
            self.entries.remove(key);
            None
        }
    }

    fn is_stale(&self, id: Uuid, seen: i64) -> bool {
        self.stale.read().get(&id).is_some_and(|(seq, _)| *seq > seen)
    }

    /// Caches an answer read after feed position `seen`.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &self,
        key: TokenDigest,
        project: ProjectId,
        session_id: SessionId,
        identity_id: IdentityId,
        expires_at: OffsetDateTime,
        body: Bytes,
        seen: i64,
    ) {
        let entry = CachedSession { project, session_id, identity_id, expires_at, body, seen, loaded: Instant::now() };
        self.entries.insert(key, Arc::new(entry));
    }

    /// Applies feed entries (in order).
    pub fn apply(&self, batch: &[Invalidation]) {
        let Some(last) = batch.last() else { return };
        {
            let now = Instant::now();
            let mut stale = self.stale.write();
            for inv in batch {
                for id in [inv.session_id.map(|s| s.0), inv.identity_id.map(|i| i.0)].into_iter().flatten() {
                    stale.insert(id, (inv.seq, now));
                }
            }
        }
        self.applied.fetch_max(last.seq, Ordering::AcqRel);
    }

    /// A write this worker made: stale at once here, before the feed brings it back.
    pub fn invalidate_now(&self, id: Uuid, seq: i64) {
        let mut stale = self.stale.write();
        let e = stale.entry(id).or_insert((seq, Instant::now()));
        if e.0 < seq {
            *e = (seq, Instant::now());
        }
    }

    /// Forgets everything (the follower fell behind the feed's retention).
    pub fn clear(&self, applied: i64) {
        self.entries.clear();
        self.stale.write().clear();
        self.applied.store(applied, Ordering::Release);
    }

    /// Forgets invalidations older than any entry can be.
    pub fn prune(&self) {
        let max_age = self.max_age;
        self.stale.write().retain(|_, (_, at)| at.elapsed() < max_age * 2);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
