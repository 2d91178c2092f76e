//! Parameters for new hashes, and the cost bounds every verification enforces.

use crate::PasswordError;

/// Largest argon2 memory cost (KiB, = 1 GiB) a stored or imported hash may declare.
pub const ARGON2_MAX_MEMORY_KIB: u32 = 1_048_576;
/// Largest argon2 iteration count a stored or imported hash may declare.
pub const ARGON2_MAX_ITERATIONS: u32 = 10;
/// Largest argon2 parallelism a stored or imported hash may declare.
pub const ARGON2_MAX_PARALLELISM: u32 = 16;
/// Largest bcrypt cost a stored or imported hash may declare (2^15 rounds, about 2-3 s of CPU).
pub const BCRYPT_MAX_COST: u32 = 15;
/// Smallest bcrypt cost the algorithm defines.
pub const BCRYPT_MIN_COST: u32 = 4;
/// The number of password bytes bcrypt consumes; longer passwords are refused rather than truncated.
pub const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;
/// Passwords longer than this are never hashed or verified: it bounds the work an attacker can request per attempt.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Which algorithm and parameters new hashes use (from the project's `hashers` config). Stored hashes that differ
/// from these are re-hashed after a successful login (see [`crate::Verified::needs_rehash`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashParams {
    /// Argon2id (RFC 9106), version 0x13, written as a PHC string.
    Argon2id {
        /// Memory cost in KiB.
        memory_kib: u32,
        /// Number of passes over the memory.
        iterations: u32,
        /// Lanes; each hash still runs on one pool thread, so 1 gives the best throughput.
        parallelism: u32,
        /// Random salt length in bytes.
        salt_len: usize,
        /// Derived key length in bytes.
        key_len: usize,
    },
    /// bcrypt (`$2b$`), Kratos's default hasher; limits passwords to 72 bytes.
    Bcrypt {
        /// log2 of the number of rounds.
        cost: u32,
    },
}

impl Default for HashParams {
    /// Argon2id with m=64 MiB, t=2, p=1, 16-byte salt, 32-byte key. This is above OWASP's minimum (m=19 MiB, t=2,
    /// p=1) on the memory axis, which is what makes GPU/ASIC guessing expensive, while one hash still takes about a
    /// tenth of a second on one core, so a two-core node can serve logins at the rate `benches/argon2_ceiling.rs`
    /// reports. p=1 because the pool already runs one hash per core; more lanes would only contend.
    fn default() -> Self {
        HashParams::Argon2id { memory_kib: 65_536, iterations: 2, parallelism: 1, salt_len: 16, key_len: 32 }
    }
}

impl HashParams {
    /// Checks that hashes made with these parameters can be verified again: the same bounds apply to stored hashes,
    /// so a hash made outside them would lock its owner out.
    pub fn validate(&self) -> Result<(), PasswordError> {
        match *self {
            HashParams::Argon2id { memory_kib, iterations, parallelism, salt_len, key_len } => {
                if !(1..=ARGON2_MAX_PARALLELISM).contains(&parallelism) {
                    return Err(PasswordError::InvalidParams("argon2 parallelism must be between 1 and 16"));
                }
                if memory_kib < 8 * parallelism || memory_kib > ARGON2_MAX_MEMORY_KIB {
                    return Err(PasswordError::InvalidParams(
                        "argon2 memory must be between 8 KiB per lane and 1048576 KiB",
                    ));
                }
                if !(1..=ARGON2_MAX_ITERATIONS).contains(&iterations) {
                    return Err(PasswordError::InvalidParams("argon2 iterations must be between 1 and 10"));
                }
                if !(8..=64).contains(&salt_len) {
                    return Err(PasswordError::InvalidParams("argon2 salt length must be between 8 and 64 bytes"));
                }
                if !(16..=64).contains(&key_len) {
                    return Err(PasswordError::InvalidParams("argon2 key length must be between 16 and 64 bytes"));
                }
                Ok(())
            }
            HashParams::Bcrypt { cost } => {
                if !(BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost) {
                    return Err(PasswordError::InvalidParams("bcrypt cost must be between 4 and 15"));
                }
                Ok(())
            }
        }
    }

    /// The longest password (bytes) these parameters can hash without truncation: `Some(72)` for bcrypt, which the
    /// password policy turns into its 4000033 rule; `None` when only the general 4096-byte guard applies.
    pub fn max_password_bytes(&self) -> Option<usize> {
        match self {
            HashParams::Bcrypt { .. } => Some(BCRYPT_MAX_PASSWORD_BYTES),
            HashParams::Argon2id { .. } => None,
        }
    }

    /// Refuses passwords these parameters cannot hash in full (shared by hashing and dummy verification).
    pub(crate) fn check_password_len(&self, password: &[u8]) -> Result<(), PasswordError> {
        let max = self.max_password_bytes().unwrap_or(MAX_PASSWORD_BYTES).min(MAX_PASSWORD_BYTES);
        if password.len() > max {
            return Err(PasswordError::PasswordTooLong { len: password.len(), max });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_argon2id_above_owasp_minimum() {
        let p = HashParams::default();
        p.validate().unwrap();
        let HashParams::Argon2id { memory_kib, iterations, parallelism, .. } = p else { panic!("not argon2id") };
        assert!(memory_kib >= 19_456 && iterations >= 2 && parallelism == 1);
        assert_eq!(p.max_password_bytes(), None);
    }

    #[test]
    fn validate_refuses_unverifiable_parameters() {
        let base = HashParams::default();
        let with = |f: &dyn Fn(&mut HashParams)| {
            let mut p = base.clone();
            f(&mut p);
            p.validate()
        };
        let set = |m: u32, t: u32, p: u32, s: usize, k: usize| {
            move |h: &mut HashParams| {
                *h = HashParams::Argon2id { memory_kib: m, iterations: t, parallelism: p, salt_len: s, key_len: k }
            }
        };
        assert!(with(&set(1_048_577, 2, 1, 16, 32)).is_err());
        assert!(with(&set(1_048_576, 2, 1, 16, 32)).is_ok());
        assert!(with(&set(65_536, 11, 1, 16, 32)).is_err());
        assert!(with(&set(65_536, 2, 17, 16, 32)).is_err());
        assert!(with(&set(16, 2, 4, 16, 32)).is_err());
        assert!(with(&set(65_536, 2, 1, 4, 32)).is_err());
        assert!(with(&set(65_536, 2, 1, 16, 8)).is_err());
        assert!(HashParams::Bcrypt { cost: 16 }.validate().is_err());
        assert!(HashParams::Bcrypt { cost: 3 }.validate().is_err());
        assert!(HashParams::Bcrypt { cost: 10 }.validate().is_ok());
    }

    #[test]
    fn password_length_limits() {
        let b = HashParams::Bcrypt { cost: 4 };
        assert_eq!(b.max_password_bytes(), Some(72));
        assert!(b.check_password_len(&[b'a'; 72]).is_ok());
        assert_eq!(b.check_password_len(&[b'a'; 73]), Err(PasswordError::PasswordTooLong { len: 73, max: 72 }));
        let a = HashParams::default();
        assert!(a.check_password_len(&[b'a'; 4096]).is_ok());
        assert!(a.check_password_len(&[b'a'; 4097]).is_err());
    }
}
