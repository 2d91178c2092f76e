//! PBKDF2-HMAC: `$pbkdf2-<digest>$i=<iters>,l=<len>$<raw salt>$<raw hash>`.

use pbkdf2::pbkdf2_hmac;

use crate::PasswordError;
use crate::encoding::decode_raw;
use crate::import::{ct_eq, fields, key_values, number};

/// Largest iteration count a stored or imported PBKDF2 hash may declare.
const MAX_ITERATIONS: u32 = 10_000_000;

/// The PRF digest. `sha224`/`sha384` mean SHA3-224/SHA3-384, a legacy quirk of the system these hashes come from
/// (kept so existing exports keep verifying); any other `shaNNN` means SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
    Sha3_224,
    Sha3_384,
}

/// A parsed, bounds-checked PBKDF2 hash.
#[derive(Debug, Clone)]
pub(crate) struct Pbkdf2Hash {
    prf: Prf,
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// The digest digits of `$pbkdf2-sha<1-3 digits>$` and the rest after the prefix.
fn split_prefix(hash: &str) -> Option<(&str, &str)> {
    let rest = hash.strip_prefix("$pbkdf2-sha")?;
    let (digits, rest) = rest.split_once('$')?;
    (!digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit())).then_some((digits, rest))
}

/// Whether `hash` starts like PBKDF2 (`^\$pbkdf2-sha[0-9]{1,3}\$`).
pub(crate) fn has_prefix(hash: &str) -> bool {
    split_prefix(hash).is_some()
}

/// Parses and bounds-checks a PBKDF2 hash; `l` must be a number but the real length is the decoded hash's.
pub(crate) fn parse(hash: &str) -> Result<Pbkdf2Hash, PasswordError> {
    let (digits, rest) = split_prefix(hash).ok_or(PasswordError::UnknownHashFormat)?;
    let prf = match digits {
        "1" => Prf::Sha1,
        "512" => Prf::Sha512,
        "224" => Prf::Sha3_224,
        "384" => Prf::Sha3_384,
        _ => Prf::Sha256,
    };
    let [params, salt, digest] = fields::<3>(rest)?;
    let [i, l] = key_values(params, ["i", "l"])?;
    let iterations: u32 = number(i)?;
    let _declared_len: u32 = number(l)?;
    let salt = decode_raw(salt).ok_or(PasswordError::UnparsableHash)?;
    let hash = decode_raw(digest).ok_or(PasswordError::UnparsableHash)?;
    if hash.is_empty() {
        return Err(PasswordError::UnparsableHash);
    }
    if !(1..=MAX_ITERATIONS).contains(&iterations) {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    Ok(Pbkdf2Hash { prf, iterations, salt, hash })
}

impl Pbkdf2Hash {
    /// Derives a key as long as the stored one and compares in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        let (salt, rounds) = (&self.salt[..], self.iterations);
        match self.prf {
            Prf::Sha1 => pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out),
            Prf::Sha256 => pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out),
            Prf::Sha512 => pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, &mut out),
            // SHA-3 has no eager block API, so it goes through the generic HMAC.
            Prf::Sha3_224 => sha3_pbkdf2::<sha3::Sha3_224>(password, salt, rounds, &mut out),
            Prf::Sha3_384 => sha3_pbkdf2::<sha3::Sha3_384>(password, salt, rounds, &mut out),
        }
        ct_eq(&out, &self.hash)
    }
}

/// PBKDF2 with `SimpleHmac` over a SHA-3 digest.
fn sha3_pbkdf2<D>(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8])
where
    D: sha3::Digest + sha3::digest::block_api::BlockSizeUser + Clone,
{
    // HMAC accepts keys of any length, so this cannot fail; a failure would only make the comparison fail.
    if pbkdf2::pbkdf2::<hmac::SimpleHmac<D>>(password, salt, rounds, out).is_err() {
        out.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: &str = "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU";

    #[test]
    fn digest_mapping() {
        assert_eq!(parse(CHEAP).unwrap().prf, Prf::Sha256);
        assert_eq!(parse(&CHEAP.replace("sha256", "sha1")).unwrap().prf, Prf::Sha1);
        assert_eq!(parse(&CHEAP.replace("sha256", "sha512")).unwrap().prf, Prf::Sha512);
        assert_eq!(parse(&CHEAP.replace("sha256", "sha224")).unwrap().prf, Prf::Sha3_224);
        assert_eq!(parse(&CHEAP.replace("sha256", "sha384")).unwrap().prf, Prf::Sha3_384);
        // Unknown digests fall back to SHA-256, so the hash still verifies.
        assert!(parse(&CHEAP.replace("sha256", "sha999")).unwrap().verify(b"hunter2"));
    }

    #[test]
    fn refuses_malformed_and_costly() {
        for bad in [
            CHEAP.replace("i=1000", "I=1000"),
            CHEAP.replace("l=32", "L=32"),
            CHEAP.replace("l=32", "l=x"),
            CHEAP.replace(",l=32", ""),
            CHEAP.replace("$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU", "$"),
            CHEAP.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdA=="),
            format!("{CHEAP}$extra"),
        ] {
            assert_eq!(parse(&bad).unwrap_err(), PasswordError::UnparsableHash, "{bad}");
        }
        for costly in ["i=10000001", "i=0"] {
            let h = CHEAP.replace("i=1000", costly);
            assert_eq!(parse(&h).unwrap_err(), PasswordError::HashCostOutOfBounds, "{costly}");
        }
        assert!(parse(&CHEAP.replace("i=1000", "i=10000000")).is_ok());
    }
}
