//! Encryption of private keys at rest.
//!
//! Format of a sealed value: `version (1 byte) || nonce (12 bytes) ||
//! AES-256-GCM ciphertext and tag`. The version byte is authenticated with
//! the caller's associated data, which should name the row the value belongs
//! to (project, key set, kid): a sealed key copied into another row no longer
//! opens.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use aws_lc_rs::rand::fill;

use crate::JwkError;

/// The shortest installation secret [`Sealer::new`] accepts (128 bits).
pub const MIN_SECRET_LEN: usize = 16;

/// The only format version so far.
const VERSION: u8 = 1;
/// HKDF salt and info: the derived key is used for this purpose only.
const HKDF_SALT: &[u8] = b"tessera-jwk sealer";
const HKDF_INFO: &[u8] = b"tessera-jwk private key at rest, AES-256-GCM, v1";
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Seals and opens private keys with a key derived from an installation secret.
pub struct Sealer {
    key: LessSafeKey,
}

impl fmt::Debug for Sealer {
    /// Prints nothing about the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// The version byte followed by the caller's associated data.
fn full_aad(aad: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(1 + aad.len());
    full.push(VERSION);
    full.extend_from_slice(aad);
    full
}

impl Sealer {
    /// Derives the AES-256-GCM key from `secret` with HKDF-SHA256. The secret
    /// must be at least [`MIN_SECRET_LEN`] bytes; a random one of 32 bytes is
    /// recommended.
    pub fn new(secret: &[u8]) -> Result<Sealer, JwkError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(JwkError::SecretTooShort(MIN_SECRET_LEN));
        }
        let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(secret);
        let okm = prk.expand(&[HKDF_INFO], &AES_256_GCM).map_err(|_| JwkError::KeyGeneration)?;
        Ok(Sealer { key: LessSafeKey::new(UnboundKey::from(okm)) })
    }

    /// Encrypts `plaintext` under a fresh random nonce, binding it to `aad`.
    /// Two seals of the same input differ.
    ///
    /// # Panics
    /// Only if the operating system's random number generator fails, or the
    /// plaintext exceeds AES-GCM's 64 GiB limit; neither can be handled
    /// meaningfully by a caller.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        fill(&mut nonce).expect("the system random number generator failed");
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(full_aad(aad)),
                &mut sealed[HEADER_LEN..],
            )
            .expect("AES-GCM sealing only fails beyond 64 GiB");
        sealed.extend_from_slice(tag.as_ref());
        sealed
    }

    /// Decrypts a value made by [`Sealer::seal`] with the same secret and
    /// `aad`. Every failure gives the same [`JwkError::Unseal`].
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, JwkError> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(JwkError::Unseal);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..HEADER_LEN]).map_err(|_| JwkError::Unseal)?;
        let mut buffer = sealed[HEADER_LEN..].to_vec();
        let plaintext_len =
            self.key.open_in_place(nonce, Aad::from(full_aad(aad)), &mut buffer).map_err(|_| JwkError::Unseal)?.len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }
}
