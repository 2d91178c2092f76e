//! The blocking work behind [`crate::PasswordHasher`]: making new hashes and spending dummy-verification time.
//! Everything here is CPU-bound and must run on the pool, never on an async worker.

use rand::RngCore as _;

use crate::import::{argon2, bcrypt, ct_eq};
use crate::{HashParams, PasswordError};

/// A fresh random salt of the length `params` asks for (bcrypt always uses 16 bytes).
pub(crate) fn new_salt(params: &HashParams) -> Vec<u8> {
    let len = match params {
        HashParams::Argon2id { salt_len, .. } => *salt_len,
        HashParams::Bcrypt { .. } => 16,
    };
    let mut salt = vec![0u8; len];
    rand::rng().fill_bytes(&mut salt);
    salt
}

/// Hashes `password` with validated `params` and `salt` into its storable string.
pub(crate) fn hash(params: &HashParams, password: &[u8], salt: &[u8]) -> Result<String, PasswordError> {
    match *params {
        HashParams::Argon2id { memory_kib, iterations, parallelism, key_len, .. } => {
            argon2::hash(password, salt, memory_kib, iterations, parallelism, key_len)
        }
        HashParams::Bcrypt { cost } => {
            let salt: [u8; 16] = salt.try_into().map_err(|_| PasswordError::Hashing("bcrypt salt".into()))?;
            bcrypt::hash(password, cost, salt)
        }
    }
}

/// Does the work of verifying `password` against a hash made with `params` and throws the result away, so that a
/// login for an unknown account takes as long as one for a known account.
pub(crate) fn dummy_verify(params: &HashParams, password: &[u8], salt: &[u8]) {
    let computed = match *params {
        HashParams::Argon2id { memory_kib, iterations, parallelism, key_len, .. } => {
            argon2::derive(password, salt, memory_kib, iterations, parallelism, key_len).unwrap_or_default()
        }
        HashParams::Bcrypt { cost } => {
            let salt: [u8; 16] = salt.try_into().unwrap_or([0; 16]);
            bcrypt::hash(password, cost, salt).map(String::into_bytes).unwrap_or_default()
        }
    };
    // Compare like a real verification would; black_box keeps the optimiser from dropping the work.
    std::hint::black_box(ct_eq(&computed, &vec![0u8; computed.len()]));
}
