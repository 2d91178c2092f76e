//! Argon2id / Argon2i PHC strings: `$argon2id$v=19$m=<KiB>,t=<iters>,p=<lanes>$<raw salt>$<raw hash>`.

use argon2::{Algorithm, Argon2, Params, Version};

use crate::encoding::{decode_raw, encode_raw};
use crate::import::{HashFormat, ct_eq, fields, key_values, number};
use crate::params::{ARGON2_MAX_ITERATIONS, ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_PARALLELISM};
use crate::{HashParams, PasswordError};

/// A parsed, bounds-checked argon2 hash.
#[derive(Debug, Clone)]
pub(crate) struct Argon2Hash {
    algorithm: Algorithm,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Parses `$argon2id$…` or `$argon2i$…`; the same bounds apply at import and at every login.
pub(crate) fn parse(hash: &str) -> Result<Argon2Hash, PasswordError> {
    let (algorithm, rest) = if let Some(rest) = hash.strip_prefix("$argon2id$") {
        (Algorithm::Argon2id, rest)
    } else if let Some(rest) = hash.strip_prefix("$argon2i$") {
        (Algorithm::Argon2i, rest)
    } else {
        return Err(PasswordError::UnknownHashFormat);
    };
    let [version, params, salt, digest] = fields::<4>(rest)?;
    if version != "v=19" {
        return Err(PasswordError::UnparsableHash);
    }
    let [m, t, p] = key_values(params, ["m", "t", "p"])?;
    let (memory_kib, iterations, parallelism): (u32, u32, u32) = (number(m)?, number(t)?, number(p)?);
    let salt = decode_raw(salt).ok_or(PasswordError::UnparsableHash)?;
    let hash = decode_raw(digest).ok_or(PasswordError::UnparsableHash)?;
    // The argon2 crate needs at least 8 salt bytes (RFC 9106's minimum) and 4 output bytes.
    if salt.len() < argon2::MIN_SALT_LEN || hash.len() < Params::MIN_OUTPUT_LEN {
        return Err(PasswordError::UnparsableHash);
    }
    if !(1..=ARGON2_MAX_MEMORY_KIB).contains(&memory_kib)
        || !(1..=ARGON2_MAX_ITERATIONS).contains(&iterations)
        || !(1..=ARGON2_MAX_PARALLELISM).contains(&parallelism)
    {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    Ok(Argon2Hash { algorithm, memory_kib, iterations, parallelism, salt, hash })
}

impl Argon2Hash {
    /// `Argon2id` or `Argon2i`.
    pub(crate) fn format(&self) -> HashFormat {
        match self.algorithm {
            Algorithm::Argon2i => HashFormat::Argon2i,
            _ => HashFormat::Argon2id,
        }
    }

    /// Recomputes with the stored parameters; any library refusal counts as a non-match.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        // Like Go's x/crypto/argon2, too little memory for the lanes is raised to the minimum rather than refused.
        let memory = self.memory_kib.max(8 * self.parallelism);
        let Ok(params) = Params::new(memory, self.iterations, self.parallelism, Some(self.hash.len())) else {
            return false;
        };
        let mut out = vec![0u8; self.hash.len()];
        let ctx = Argon2::new(self.algorithm, Version::V0x13, params);
        ctx.hash_password_into(password, &self.salt, &mut out).is_ok() && ct_eq(&out, &self.hash)
    }

    /// Whether `params` is argon2id with exactly this hash's costs and sizes.
    pub(crate) fn matches_params(&self, params: &HashParams) -> bool {
        match *params {
            HashParams::Argon2id { memory_kib, iterations, parallelism, salt_len, key_len } => {
                self.algorithm == Algorithm::Argon2id
                    && self.memory_kib == memory_kib
                    && self.iterations == iterations
                    && self.parallelism == parallelism
                    && self.salt.len() == salt_len
                    && self.hash.len() == key_len
            }
            HashParams::Bcrypt { .. } => false,
        }
    }
}

/// Computes the raw argon2id key for new hashes and dummy verifications.
pub(crate) fn derive(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    key_len: usize,
) -> Result<Vec<u8>, PasswordError> {
    let params = Params::new(memory_kib, iterations, parallelism, Some(key_len))
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let mut out = vec![0u8; key_len];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, &mut out)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(out)
}

/// Hashes a new password into the PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`.
pub(crate) fn hash(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    key_len: usize,
) -> Result<String, PasswordError> {
    let key = derive(password, salt, memory_kib, iterations, parallelism, key_len)?;
    Ok(format!(
        "$argon2id$v=19$m={memory_kib},t={iterations},p={parallelism}${}${}",
        encode_raw(salt),
        encode_raw(&key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: &str =
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q";

    #[test]
    fn parses_and_verifies() {
        let h = parse(CHEAP).unwrap();
        assert_eq!(h.format(), HashFormat::Argon2id);
        assert!(h.verify(b"hunter2"));
        assert!(!h.verify(b"hunter3"));
    }

    #[test]
    fn refuses_malformed_and_costly() {
        let unparsable = [
            "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
            "$argon2id$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
            "$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA==$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q$",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$",
        ];
        for bad in unparsable {
            assert_eq!(parse(bad).unwrap_err(), PasswordError::UnparsableHash, "{bad}");
        }
        for costly in ["m=1048577,t=1,p=1", "m=64,t=11,p=1", "m=256,t=1,p=17", "m=0,t=1,p=1", "m=64,t=0,p=1"] {
            let h = CHEAP.replace("m=64,t=1,p=1", costly);
            assert_eq!(parse(&h).unwrap_err(), PasswordError::HashCostOutOfBounds, "{costly}");
        }
    }

    #[test]
    fn new_hash_round_trips_and_knows_its_params() {
        let s = hash(b"pw", &[1; 16], 64, 1, 1, 32).unwrap();
        assert!(s.starts_with("$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$"));
        let h = parse(&s).unwrap();
        assert!(h.verify(b"pw"));
        let same = HashParams::Argon2id { memory_kib: 64, iterations: 1, parallelism: 1, salt_len: 16, key_len: 32 };
        let other = HashParams::Argon2id { memory_kib: 128, iterations: 1, parallelism: 1, salt_len: 16, key_len: 32 };
        assert!(h.matches_params(&same));
        assert!(!h.matches_params(&other));
        assert!(!h.matches_params(&HashParams::Bcrypt { cost: 4 }));
    }
}
