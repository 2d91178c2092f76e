//! Generating, hashing and comparing high-entropy secrets (API keys, tokens).
//!
//! Such secrets are stored as SHA-256 digests: they carry at least 190 bits of entropy, so a fast hash
//! is safe against a stolen database and keeps lookup on the hot path cheap. Passwords, which are
//! low-entropy, are hashed elsewhere with argon2id.

use rand::distr::Alphanumeric;
use rand::{Rng, TryRngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of the random part of a generated token: 40 base62 characters, about 238 bits.
pub const TOKEN_RANDOM_LEN: usize = 40;

/// A fresh token: `prefix` followed by random base62 characters from the OS generator.
pub fn generate_token(prefix: &str) -> String {
    let random: String =
        rand::rngs::OsRng.unwrap_err().sample_iter(&Alphanumeric).take(TOKEN_RANDOM_LEN).map(char::from).collect();
    format!("{prefix}{random}")
}

/// The storable digest of a secret, as lowercase hex.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The last four characters, which lists show so that keys can be told apart.
pub fn last_characters(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_distinct() {
        let a = generate_token("ory_pat_");
        let b = generate_token("ory_pat_");
        assert!(a.starts_with("ory_pat_"));
        assert_eq!(a.len(), "ory_pat_".len() + TOKEN_RANDOM_LEN);
        assert_ne!(a, b);
        assert!(a["ory_pat_".len()..].chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn hashing_is_stable_and_comparison_exact() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"Same"));
        assert!(!constant_time_eq(b"short", b"shorter"));
        assert_eq!(last_characters("ory_pat_abcdWXYZ"), "WXYZ");
        assert_eq!(last_characters("ab"), "ab");
    }
}
