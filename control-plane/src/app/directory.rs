//! Publishing to the directory, and serving it to regions.
//!
//! Every operation that changes what a region must know calls [`ControlPlane::publish_in_tx`] inside its own
//! transaction, so the change and its log entry commit together or not at all, then [`ControlPlane::announce`]
//! after commit to wake long-polling regions at once.

use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_directory::{ProjectRecord, RegionKey, RegionVerifier, ReplicatedKey, generate_region_key};
use tessera_platform::db::Transaction;
use tessera_platform::ids::ProjectId;
use uuid::Uuid;

use super::ControlPlane;
use crate::error::{Error, Result};
use crate::model::ProjectState;
use crate::store::{RecordSources, StoreError};

/// How often a long-poll looks at the database when nothing wakes it (writes by other control-plane replicas).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Why a region's read of the directory was refused.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryReadError {
    /// The cursor is before the oldest retained entry, or after the head (the control plane's database was
    /// restored): the region must load a snapshot.
    #[error("cursor {cursor} is outside the log ({oldest}..={head}); load a snapshot")]
    Resync { cursor: i64, oldest: i64, head: i64 },
    #[error(transparent)]
    Other(#[from] Error),
}

impl ControlPlane {
    /// Appends the project's current record to the directory log inside `tx`; returns its sequence number.
    pub(crate) async fn publish_in_tx(&self, tx: &mut Transaction, project: ProjectId) -> Result<i64> {
        let period = self.current_period()?.to_string();
        let sources = self.store.directory_sources_in_tx(tx, project, &period).await?;
        let record = self.directory_record(sources)?;
        let text = serde_json::to_string(&record).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(self.store.directory_append_in_tx(tx, project, &text, self.clock.now()).await?)
    }

    /// Wakes long-polling regions after a commit that published `seq`.
    pub(crate) fn announce(&self, seq: i64) {
        self.feed.send_if_modified(|head| {
            let newer = seq > *head;
            if newer {
                *head = seq;
            }
            newer
        });
    }

    fn directory_record(&self, s: RecordSources) -> Result<ProjectRecord> {
        let p = s.project;
        let project_url = self.project_url(&p.slug);
        let deleted = p.state == ProjectState::Deleted;
        let config = match (&s.rendered, deleted) {
            (Some(text), false) => {
                let full: Value = serde_json::from_str(text)
                    .map_err(|e| Error::Store(crate::store::corrupt("project_revisions.rendered", e)))?;
                tessera_project_config::compact(&full, &tessera_project_config::baseline(&project_url))
            }
            _ => Value::Object(Default::default()),
        };
        let mut hosts = Vec::new();
        let mut api_keys = Vec::new();
        if !deleted {
            hosts = self.project_hosts(&p.slug);
            hosts.extend(s.verified_domains);
            api_keys =
                s.keys.into_iter().map(|(id, hash, expires_at)| ReplicatedKey { id, hash, expires_at }).collect();
        }
        Ok(ProjectRecord {
            project_id: p.id,
            workspace_id: p.workspace_id,
            slug: p.slug,
            state: p.state.as_str().to_owned(),
            environment: p.environment.as_str().to_owned(),
            home_region: p.home_region,
            plan_tier: self.settings.catalogue.get(&s.plan).map(|p| p.tier.as_str().to_owned()),
            plan: s.plan,
            revision_id: (!deleted).then_some(p.revision_id),
            project_url,
            hosts,
            api_keys,
            config,
            quota_exceeded: if deleted { Vec::new() } else { s.quota_blocks },
        })
    }

    /// Up to `limit` entries after `after` (as `(seq, record JSON)`) and the head; waits up to `wait` for the
    /// first one when there are none yet.
    pub async fn directory_entries(
        &self,
        after: i64,
        limit: i64,
        wait: Duration,
    ) -> std::result::Result<(Vec<(i64, String)>, i64), DirectoryReadError> {
        let deadline = Instant::now() + wait;
        // Subscribe before reading, so a commit between the read and the wait still wakes us.
        let mut news = self.feed.subscribe();
        let mut closing = self.closing.subscribe();
        loop {
            let head = self.store.directory_head().await.map_err(Error::from)?;
            let oldest = self.store.directory_oldest().await.map_err(Error::from)?.unwrap_or(head + 1);
            if after > head || after < oldest - 1 {
                return Err(DirectoryReadError::Resync { cursor: after, oldest, head });
            }
            let entries = self.store.directory_entries(after, limit).await.map_err(Error::from)?;
            let now = Instant::now();
            if !entries.is_empty() || now >= deadline || *closing.borrow() {
                return Ok((entries, head));
            }
            let pause = (deadline - now).min(POLL_INTERVAL);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = news.changed() => {}
                _ = closing.changed() => {}
            }
        }
    }

    /// Every current record and the sequence number they are current at.
    pub async fn directory_snapshot(&self) -> Result<(i64, Vec<String>)> {
        Ok(self.store.directory_snapshot().await?)
    }

    /// Publishes projects that have no directory record (created before the directory existed). Idempotent.
    pub async fn directory_backfill(&self) -> Result<usize> {
        let missing = self.store.directory_unpublished().await?;
        for id in &missing {
            let mut tx = self.store.begin().await?;
            let seq = self.publish_in_tx(&mut tx, *id).await?;
            tx.commit().await.map_err(StoreError::from)?;
            self.announce(seq);
        }
        Ok(missing.len())
    }

    /// Issues a signing key to `region` and returns the private half, which is shown only this once.
    /// With `revoke_others`, the region's older keys stop working (rotation after every worker has the new key).
    pub async fn region_key_issue(&self, region: &str, revoke_others: bool) -> Result<String> {
        if !self.settings.regions.contains_key(region) {
            return Err(Error::Invalid(format!("`{region}` is not a configured region.")));
        }
        let (text, key, public) = generate_region_key();
        let now = self.clock.now();
        self.store.region_key_create(key.id, region, &public, now).await?;
        if revoke_others {
            self.store.region_key_revoke_others(region, key.id, now).await?;
        }
        tracing::info!(region, key = %key.id, "region key issued");
        Ok(text)
    }

    /// Verifies a region token; returns the region it speaks for.
    pub async fn region_authenticate(&self, token: &str) -> Result<String> {
        let unauthenticated = |why: &str| Error::Unauthenticated(format!("The region token is not valid: {why}."));
        let kid: Uuid = RegionVerifier::key_id(token).map_err(|e| unauthenticated(&e.to_string()))?;
        let key = self
            .store
            .region_key_get(kid)
            .await?
            .filter(|k| k.revoked_at.is_none())
            .ok_or_else(|| unauthenticated("unknown or revoked key"))?;
        let claims =
            RegionVerifier::verify(token, &key.public_key, &key.region).map_err(|e| unauthenticated(&e.to_string()))?;
        Ok(claims.region)
    }
}

/// Parses a region key from configuration; exposed so the CLI can validate what an operator pastes.
pub fn parse_region_key(text: &str) -> Result<RegionKey> {
    RegionKey::decode(text).map_err(|e| Error::Invalid(e.to_string()))
}
