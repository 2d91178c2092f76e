//! bcrypt: `$2a$`/`$2b$`/`$2y$`/`$2z$`/`$2$` + two-digit cost + 22 salt chars + 31 hash chars.

use crate::PasswordError;
use crate::encoding::decode_bcrypt;
use crate::import::ct_eq;
use crate::params::{BCRYPT_MAX_COST, BCRYPT_MAX_PASSWORD_BYTES, BCRYPT_MIN_COST};

/// A parsed bcrypt hash; the hash part stays encoded because bcrypt implementations compare the encoded form.
#[derive(Debug, Clone)]
pub(crate) struct BcryptHash {
    cost: u32,
    salt: [u8; 16],
    hash: String,
}

/// Whether `hash` starts like bcrypt (`^\$2[abzy]?\$`).
pub(crate) fn has_prefix(hash: &str) -> bool {
    version_len(hash).is_some()
}

/// Length of the `$2?$` prefix.
fn version_len(hash: &str) -> Option<usize> {
    let rest = hash.strip_prefix("$2")?;
    match rest.as_bytes().first()? {
        b'$' => Some(3),
        b'a' | b'b' | b'z' | b'y' if rest.as_bytes().get(1) == Some(&b'$') => Some(4),
        _ => None,
    }
}

/// Parses and bounds-checks a bcrypt hash.
pub(crate) fn parse(hash: &str) -> Result<BcryptHash, PasswordError> {
    let rest = &hash[version_len(hash).ok_or(PasswordError::UnknownHashFormat)?..];
    let (cost, body) = rest.split_once('$').ok_or(PasswordError::UnparsableHash)?;
    if cost.len() != 2 || !cost.bytes().all(|b| b.is_ascii_digit()) || body.len() != 53 || !body.is_ascii() {
        return Err(PasswordError::UnparsableHash);
    }
    let cost: u32 = cost.parse().map_err(|_| PasswordError::UnparsableHash)?;
    if !(BCRYPT_MIN_COST..=31).contains(&cost) {
        return Err(PasswordError::UnparsableHash);
    }
    let (salt, digest) = body.split_at(22);
    let salt = decode_bcrypt::<16>(salt).ok_or(PasswordError::UnparsableHash)?;
    decode_bcrypt::<23>(digest).ok_or(PasswordError::UnparsableHash)?;
    if cost > BCRYPT_MAX_COST {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    Ok(BcryptHash { cost, salt, hash: digest.to_owned() })
}

impl BcryptHash {
    /// The cost (log2 rounds), compared with the configured cost to decide on re-hashing.
    pub(crate) fn cost(&self) -> u32 {
        self.cost
    }

    /// Passwords over 72 bytes never match: bcrypt would silently ignore the excess, so a long password sharing its
    /// first 72 bytes with the real one must not log in.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        if password.len() > BCRYPT_MAX_PASSWORD_BYTES {
            return false;
        }
        let Ok(parts) = bcrypt::hash_with_salt(password, self.cost, self.salt) else { return false };
        let computed = parts.format_for_version(bcrypt::Version::TwoB);
        ct_eq(computed.as_bytes()[29..].as_ref(), self.hash.as_bytes())
    }
}

/// Hashes a new password as `$2b$`; the caller has already refused passwords over 72 bytes.
pub(crate) fn hash(password: &[u8], cost: u32, salt: [u8; 16]) -> Result<String, PasswordError> {
    if password.len() > BCRYPT_MAX_PASSWORD_BYTES {
        return Err(PasswordError::PasswordTooLong { len: password.len(), max: BCRYPT_MAX_PASSWORD_BYTES });
    }
    let parts = bcrypt::hash_with_salt(password, cost, salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(parts.format_for_version(bcrypt::Version::TwoB))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: &str = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";

    #[test]
    fn parses_versions_and_cost() {
        let h = parse(CHEAP).unwrap();
        assert_eq!(h.cost(), 4);
        for prefix in ["$2a$", "$2y$", "$2z$", "$2$"] {
            let other = CHEAP.replacen("$2b$", prefix, 1);
            assert!(parse(&other).unwrap().verify(b"hunter2"), "{prefix}");
        }
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "$2b$4$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm",
            "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXV",
            "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVmm",
            "$2b$03$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm",
            "$2b$32$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm",
            "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRX+m",
            "$2b$x4$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm",
        ] {
            assert_eq!(parse(bad).unwrap_err(), PasswordError::UnparsableHash, "{bad}");
        }
        let costly = CHEAP.replacen("$04$", "$16$", 1);
        assert_eq!(parse(&costly).unwrap_err(), PasswordError::HashCostOutOfBounds);
    }

    #[test]
    fn hash_round_trip_and_length_limit() {
        let h = hash(b"correct horse", 4, [7; 16]).unwrap();
        assert!(h.starts_with("$2b$04$"));
        assert_eq!(h.len(), 60);
        let parsed = parse(&h).unwrap();
        assert!(parsed.verify(b"correct horse"));
        assert!(!parsed.verify(b"correct horsf"));
        assert!(hash(&[b'a'; 73], 4, [7; 16]).is_err());
    }
}
