//! The project's JSON Web Key sets: the keys ID tokens and JWT access tokens are signed with, and whatever
//! sets the admin API manages (Hydra's `/admin/keys`).
//!
//! At rest a private key exists only sealed (AES-256-GCM, `tessera_jwk::Sealer`) under a key derived from the
//! installation's secret, with the row's project, set and kid as associated data: a sealed key copied into
//! another row or project no longer opens, so a database write alone cannot make one project sign with another
//! project's key.
//!
//! Signing must not read and unseal keys per token, so each worker caches the sets it loaded, per project and
//! set. Changes made through this worker's admin API drop the entry at once; changes made on another worker are
//! seen when the entry is re-read, at most [`CACHE_TTL`] later. Until then a worker may still sign with a key
//! that was just rotated out (it stays published, so its tokens verify) or, after a delete, with the deleted
//! key: deleting a key that is in use is an operator's decision whose effects take those seconds to settle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use quick_cache::sync::Cache;
use serde_json::Value;
use sha2::Sha256;
use tessera_jwk::{Algorithm, JwkError, KeyPair, KeyUse, PublicKeySet, Sealer};
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use crate::error::OAuth2Error;
use crate::service::OAuth2Service;
use crate::store::{StoreError, StoredKey};

/// The set ID tokens are signed with (Hydra's name); RS256 when generated, as OIDC's default requires.
pub const ID_TOKEN_SET: &str = "hydra.openid.id-token";
/// The set JWT access tokens are signed with (Hydra's name); ES256 when generated, the fastest to sign.
pub const ACCESS_TOKEN_SET: &str = "hydra.jwt.access-token";
/// The sets whose public keys `/.well-known/jwks.json` publishes, in that order.
pub const PUBLISHED_SETS: [&str; 2] = [ID_TOKEN_SET, ACCESS_TOKEN_SET];
/// How long a worker uses a loaded set before reading it again: the delay with which it sees changes made
/// on other workers.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
/// Sets kept in memory per worker (two per active project, plus custom sets).
const CACHE_CAPACITY: usize = 8192;
/// Locks that serialize the first generation of a set on this worker (striped by project and set).
const GENERATION_LOCKS: usize = 16;

/// The algorithm of the key generated for a set on first use.
pub fn default_alg(set: &str) -> Algorithm {
    if set == ACCESS_TOKEN_SET { Algorithm::ES256 } else { Algorithm::RS256 }
}

/// One set as loaded from the database: its keys newest first and the public keys that verify its tokens.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<Arc<KeyPair>>,
    public: PublicKeySet,
    loaded: Instant,
}

impl KeySet {
    fn new(keys: Vec<Arc<KeyPair>>) -> Self {
        let public = keys.iter().filter_map(|k| k.public_key().ok()).collect();
        Self { keys, public, loaded: Instant::now() }
    }

    /// Every key, newest first.
    pub fn keys(&self) -> &[Arc<KeyPair>] {
        &self.keys
    }

    /// The key new tokens are signed with: the newest one meant for signatures.
    pub fn signing_key(&self) -> Option<&Arc<KeyPair>> {
        self.keys.iter().find(|k| k.key_use() == KeyUse::Sig)
    }

    /// The public keys, for verifying tokens signed with any key of the set (rotated-out ones included).
    pub fn public(&self) -> &PublicKeySet {
        &self.public
    }
}

type CacheKey = (ProjectId, String);

/// The engine's key state: the sealer, the per-worker cache of loaded sets, and the generation locks.
pub struct KeyRing {
    sealer: Sealer,
    cache: Cache<CacheKey, Arc<KeySet>>,
    /// Bumped by every invalidation, so a load that raced with an admin change is not cached.
    epoch: AtomicU64,
    generation: [tokio::sync::Mutex<()>; GENERATION_LOCKS],
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("cached_sets", &self.cache.len()).finish_non_exhaustive()
    }
}

/// The associated data of a sealed key: the row it belongs to, unambiguously encoded.
fn aad(project: ProjectId, set: &str, kid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + set.len() + kid.len());
    out.extend_from_slice(b"oauth2_jwks\0");
    out.extend_from_slice(project.0.as_bytes());
    out.extend_from_slice(&(set.len() as u64).to_be_bytes());
    out.extend_from_slice(set.as_bytes());
    out.extend_from_slice(kid.as_bytes());
    out
}

impl KeyRing {
    /// Derives the sealing key from the installation's secret (its own HMAC label, so it is independent of the
    /// token and client-secret keys derived from the same secret).
    pub fn new(system_secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(system_secret).expect("HMAC takes any key length");
        mac.update(b"tessera-oauth2-jwk-sealer");
        let derived: [u8; 32] = mac.finalize().into_bytes().into();
        Self {
            sealer: Sealer::new(&derived).expect("32 bytes is a valid sealing secret"),
            cache: Cache::new(CACHE_CAPACITY),
            epoch: AtomicU64::new(0),
            generation: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
        }
    }

    /// The row that stores `key` in `set` of `project`.
    pub fn seal(
        &self,
        project: ProjectId,
        set: &str,
        key: &KeyPair,
        created_at: OffsetDateTime,
    ) -> Result<StoredKey, OAuth2Error> {
        let plain = key.to_stored().map_err(|e| OAuth2Error::Internal(format!("cannot export a key: {e}")))?;
        Ok(StoredKey {
            kid: key.kid().to_owned(),
            alg: key.alg().as_str().to_owned(),
            key_use: key.key_use().as_str().to_owned(),
            sealed: self.sealer.seal(&plain, &aad(project, set, key.kid())),
            created_at,
        })
    }

    /// The key a row of `set` of `project` stores; an error when it was sealed for another row or tampered with.
    pub fn open(&self, project: ProjectId, set: &str, row: &StoredKey) -> Result<KeyPair, OAuth2Error> {
        let plain = self.sealer.open(&row.sealed, &aad(project, set, &row.kid)).map_err(|e| {
            OAuth2Error::Internal(format!(
                "key {:?} of set {set:?} of project {project} cannot be opened: {e}",
                row.kid
            ))
        })?;
        KeyPair::from_stored(&plain).map_err(|e| {
            OAuth2Error::Internal(format!("key {:?} of set {set:?} of project {project} is invalid: {e}", row.kid))
        })
    }

    fn generation_lock(&self, project: ProjectId, set: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{BuildHasher, RandomState};
        static STATE: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
        let hash = STATE.get_or_init(RandomState::new).hash_one((project, set));
        &self.generation[(hash % GENERATION_LOCKS as u64) as usize]
    }
}

fn conflict(e: StoreError) -> OAuth2Error {
    match e {
        StoreError::Conflict => OAuth2Error::Conflict(
            "Unable to insert or update resource because a resource with that value exists already".into(),
        ),
        other => other.into(),
    }
}

impl OAuth2Service {
    /// The key new tokens of `set` are signed with: the set's newest signing key, generated and stored on first
    /// use ([`default_alg`]). Served from this worker's cache on the hot path.
    pub async fn signing_key(&self, tenant: &TenantContext, set: &str) -> Result<Arc<KeyPair>, OAuth2Error> {
        let loaded = self.key_set(tenant, set).await?;
        if let Some(key) = loaded.signing_key() {
            return Ok(key.clone());
        }
        let loaded = self.ensure_signing_key(tenant, set).await?;
        loaded.signing_key().cloned().ok_or_else(|| OAuth2Error::Internal(format!("set {set:?} has no signing key")))
    }

    /// The public JWKs of the published sets for `/.well-known/jwks.json`: every key of each set, newest first,
    /// so keys rotated out stay published (tokens they signed keep verifying) until they are deleted. Sets
    /// without a signing key get one first, so relying parties always find a key.
    pub async fn public_keys(&self, tenant: &TenantContext) -> Result<Vec<Value>, OAuth2Error> {
        let mut out = Vec::new();
        for set in PUBLISHED_SETS {
            let mut loaded = self.key_set(tenant, set).await?;
            if loaded.signing_key().is_none() {
                loaded = self.ensure_signing_key(tenant, set).await?;
            }
            out.extend(loaded.keys().iter().map(|k| k.public_jwk()));
        }
        Ok(out)
    }

    /// A set as this worker last loaded it (at most [`CACHE_TTL`] old); may be empty.
    pub async fn key_set(&self, tenant: &TenantContext, set: &str) -> Result<Arc<KeySet>, OAuth2Error> {
        let cache_key = (tenant.project_id(), set.to_owned());
        if let Some(hit) = self.jwks.cache.get(&cache_key)
            && hit.loaded.elapsed() < CACHE_TTL
        {
            return Ok(hit);
        }
        self.reload_key_set(tenant, set).await
    }

    /// A set read from the database now, and cached unless an admin change raced with the read.
    pub async fn reload_key_set(&self, tenant: &TenantContext, set: &str) -> Result<Arc<KeySet>, OAuth2Error> {
        let epoch = self.jwks.epoch.load(Ordering::Acquire);
        let loaded = Arc::new(KeySet::new(self.stored_keys(tenant, set).await?.into_iter().map(Arc::new).collect()));
        if self.jwks.epoch.load(Ordering::Acquire) == epoch {
            self.jwks.cache.insert((tenant.project_id(), set.to_owned()), loaded.clone());
        }
        Ok(loaded)
    }

    /// Every key of a set, newest first, read and opened now (the admin API's view).
    pub async fn stored_keys(&self, tenant: &TenantContext, set: &str) -> Result<Vec<KeyPair>, OAuth2Error> {
        let rows = self.store(tenant).keys(set).await?;
        rows.iter().map(|row| self.jwks.open(tenant.project_id(), set, row)).collect()
    }

    /// One key of a set, read and opened now.
    pub async fn stored_key(
        &self,
        tenant: &TenantContext,
        set: &str,
        kid: &str,
    ) -> Result<Option<KeyPair>, OAuth2Error> {
        let row = self.store(tenant).key(set, kid).await?;
        row.map(|row| self.jwks.open(tenant.project_id(), set, &row)).transpose()
    }

    /// Adds a key to a set as its newest; `Conflict` when the kid is taken in the set.
    pub async fn add_key(&self, tenant: &TenantContext, set: &str, key: &KeyPair) -> Result<(), OAuth2Error> {
        let row = self.jwks.seal(tenant.project_id(), set, key, self.now())?;
        let result = self.store(tenant).insert_key(set, &row).await.map_err(conflict);
        self.invalidate_key_set(tenant.project_id(), set);
        result
    }

    /// Creates or replaces the key with `key`'s kid; it becomes the set's newest.
    pub async fn put_key(&self, tenant: &TenantContext, set: &str, key: &KeyPair) -> Result<(), OAuth2Error> {
        let row = self.jwks.seal(tenant.project_id(), set, key, self.now())?;
        let result = self.store(tenant).upsert_key(set, &row).await.map_err(OAuth2Error::from);
        self.invalidate_key_set(tenant.project_id(), set);
        result
    }

    /// Replaces a whole set; the first key of `keys` becomes the newest (the one that signs).
    pub async fn replace_key_set(
        &self,
        tenant: &TenantContext,
        set: &str,
        keys: &[KeyPair],
    ) -> Result<(), OAuth2Error> {
        let now = self.now();
        let rows = keys
            .iter()
            .enumerate()
            .map(|(i, key)| self.jwks.seal(tenant.project_id(), set, key, now - time::Duration::microseconds(i as i64)))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self.store(tenant).replace_set(set, &rows).await.map_err(conflict);
        self.invalidate_key_set(tenant.project_id(), set);
        result
    }

    /// Deletes a set; `false` when it had no keys.
    pub async fn delete_key_set(&self, tenant: &TenantContext, set: &str) -> Result<bool, OAuth2Error> {
        let result = self.store(tenant).delete_set(set).await;
        self.invalidate_key_set(tenant.project_id(), set);
        Ok(result? > 0)
    }

    /// Deletes one key; `false` when it did not exist.
    pub async fn delete_key(&self, tenant: &TenantContext, set: &str, kid: &str) -> Result<bool, OAuth2Error> {
        let result = self.store(tenant).delete_key(set, kid).await;
        self.invalidate_key_set(tenant.project_id(), set);
        Ok(result?)
    }

    /// Forgets this worker's copy of a set, so the next use reads it again.
    pub fn invalidate_key_set(&self, project: ProjectId, set: &str) {
        self.jwks.epoch.fetch_add(1, Ordering::AcqRel);
        self.jwks.cache.remove(&(project, set.to_owned()));
    }

    /// Makes sure `set` has a signing key and returns the set as stored now. Requests of this worker queue on
    /// a lock, so one generates and the others read its key; workers racing each other are settled by the
    /// store's insert-if-no-signing-key, whose loser reads the winner's key. Either way one key results.
    async fn ensure_signing_key(&self, tenant: &TenantContext, set: &str) -> Result<Arc<KeySet>, OAuth2Error> {
        let project = tenant.project_id();
        let _queue = self.jwks.generation_lock(project, set).lock().await;
        let mut generated: Option<KeyPair> = None;
        for attempt in 0..5u64 {
            if attempt > 0 {
                // We lost to a generation on another worker, which may not be committed yet.
                tokio::time::sleep(Duration::from_millis(25 * attempt)).await;
            }
            let current = self.reload_key_set(tenant, set).await?;
            if current.signing_key().is_some() {
                return Ok(current);
            }
            let key = match generated.take() {
                Some(key) => key,
                None => {
                    let alg = default_alg(set);
                    tokio::task::spawn_blocking(move || KeyPair::generate(alg, None, KeyUse::Sig))
                        .await
                        .map_err(|e| OAuth2Error::Internal(format!("key generation panicked: {e}")))?
                        .map_err(|e: JwkError| OAuth2Error::Internal(format!("cannot generate a key: {e}")))?
                }
            };
            let row = self.jwks.seal(project, set, &key, self.now())?;
            if self.store(tenant).insert_first_signing_key(set, &row).await? {
                tracing::info!(%project, set, kid = key.kid(), alg = %key.alg(), "generated a key set's first key");
                self.invalidate_key_set(project, set);
                return self.reload_key_set(tenant, set).await;
            }
            generated = Some(key);
        }
        Err(OAuth2Error::Internal(format!("set {set:?} still has no signing key after generating one")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_in_its_own_row() {
        let ring = KeyRing::new(b"an installation secret for tests");
        let (a, b) = (ProjectId::new(), ProjectId::new());
        let key = KeyPair::generate(Algorithm::ES256, Some("k1".into()), KeyUse::Sig).unwrap();
        let row = ring.seal(a, ACCESS_TOKEN_SET, &key, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(row.alg, "ES256");
        assert_eq!(row.key_use, "sig");
        let d = key.private_jwk().unwrap()["d"].as_str().unwrap().to_owned();
        assert!(!String::from_utf8_lossy(&row.sealed).contains(&d), "the private key is not stored in clear");
        let opened = ring.open(a, ACCESS_TOKEN_SET, &row).unwrap();
        assert_eq!(opened.public_jwk(), key.public_jwk());

        assert!(ring.open(b, ACCESS_TOKEN_SET, &row).is_err(), "another project's AAD");
        assert!(ring.open(a, ID_TOKEN_SET, &row).is_err(), "another set");
        let moved = StoredKey { kid: "k2".into(), ..row.clone() };
        assert!(ring.open(a, ACCESS_TOKEN_SET, &moved).is_err(), "another kid");
        let other_secret = KeyRing::new(b"another installation's secret!!");
        assert!(other_secret.open(a, ACCESS_TOKEN_SET, &row).is_err(), "another installation");
        // The length prefix keeps (set, kid) pairs that concatenate alike apart.
        assert_ne!(aad(a, "ab", "c"), aad(a, "a", "bc"));
    }

    #[test]
    fn generated_sets_use_their_default_algorithms() {
        assert_eq!(default_alg(ID_TOKEN_SET), Algorithm::RS256);
        assert_eq!(default_alg(ACCESS_TOKEN_SET), Algorithm::ES256);
        assert_eq!(default_alg("custom"), Algorithm::RS256);
    }
}
