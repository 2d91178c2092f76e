//! scrypt (`$scrypt$ln=<N>,r=<r>,p=<p>$<salt>$<hash>`, N given directly) and Firebase's scrypt variant
//! (`$firescrypt$ln=<log2 N>,r,p$<salt>$<hash>$<salt separator>$<signer key>`).

use aes::Aes256;
use ctr::Ctr128BE;
use ctr::cipher::{KeyIvInit as _, StreamCipher as _};
use scrypt::Params;

use crate::PasswordError;
use crate::encoding::decode_std;
use crate::import::{ct_eq, fields, key_values, number};

/// Largest scrypt N a stored or imported hash may declare (128 MiB of memory at r=8).
const MAX_N: u64 = 131_072;
/// Largest Firebase scrypt log2(N) (same N as [`MAX_N`]).
const MAX_FIREBASE_LOG_N: u32 = 17;
/// Largest block size r.
const MAX_R: u32 = 8;
/// Largest parallelisation p.
const MAX_P: u32 = 10;

/// A parsed, bounds-checked scrypt hash.
#[derive(Debug, Clone)]
pub(crate) struct ScryptHash {
    log_n: u8,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// A parsed, bounds-checked Firebase scrypt hash.
#[derive(Debug, Clone)]
pub(crate) struct FirebaseHash {
    log_n: u8,
    r: u32,
    p: u32,
    /// The salt followed by the salt separator, as Firebase feeds them to scrypt.
    salt: Vec<u8>,
    hash: Vec<u8>,
    signer_key: Vec<u8>,
}

/// Checks r and p against the bounds shared by both variants.
fn check_r_p(r: u32, p: u32) -> Result<(), PasswordError> {
    if !(1..=MAX_R).contains(&r) || !(1..=MAX_P).contains(&p) {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    Ok(())
}

/// Parses a scrypt hash; `ln` is N itself and must be a power of two.
pub(crate) fn parse(hash: &str) -> Result<ScryptHash, PasswordError> {
    let rest = hash.strip_prefix("$scrypt$").ok_or(PasswordError::UnknownHashFormat)?;
    let [params, salt, digest] = fields::<3>(rest)?;
    let [n, r, p] = key_values(params, ["ln", "r", "p"])?;
    let (n, r, p): (u64, u32, u32) = (number(n)?, number(r)?, number(p)?);
    let salt = decode_std(salt).ok_or(PasswordError::UnparsableHash)?;
    let hash = decode_std(digest).ok_or(PasswordError::UnparsableHash)?;
    if n < 2 || !n.is_power_of_two() || hash.is_empty() {
        return Err(PasswordError::UnparsableHash);
    }
    if n > MAX_N {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    check_r_p(r, p)?;
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| PasswordError::UnparsableHash)?;
    Ok(ScryptHash { log_n, r, p, salt, hash })
}

/// Parses a Firebase scrypt hash; `ln` is log2(N) here.
pub(crate) fn parse_firebase(hash: &str) -> Result<FirebaseHash, PasswordError> {
    let rest = hash.strip_prefix("$firescrypt$").ok_or(PasswordError::UnknownHashFormat)?;
    let [params, salt, digest, separator, signer_key] = fields::<5>(rest)?;
    let [ln, r, p] = key_values(params, ["ln", "r", "p"])?;
    let (log_n, r, p): (u32, u32, u32) = (number(ln)?, number(r)?, number(p)?);
    let mut salt = decode_std(salt).ok_or(PasswordError::UnparsableHash)?;
    let hash = decode_std(digest).ok_or(PasswordError::UnparsableHash)?;
    let separator = decode_std(separator).ok_or(PasswordError::UnparsableHash)?;
    let signer_key = decode_std(signer_key).ok_or(PasswordError::UnparsableHash)?;
    // AES-CTR keeps the length, so a hash of another length than the signer key can never match.
    if log_n == 0 || hash.is_empty() || hash.len() != signer_key.len() {
        return Err(PasswordError::UnparsableHash);
    }
    if log_n > MAX_FIREBASE_LOG_N {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    check_r_p(r, p)?;
    salt.extend_from_slice(&separator);
    let log_n = u8::try_from(log_n).map_err(|_| PasswordError::UnparsableHash)?;
    Ok(FirebaseHash { log_n, r, p, salt, hash, signer_key })
}

/// Runs scrypt into `out`; `None` if the library refuses the parameters.
fn derive(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, out: &mut [u8]) -> Option<()> {
    let params = Params::new(log_n, r, p).ok()?;
    scrypt::scrypt(password, salt, &params, out).ok()
}

impl ScryptHash {
    /// Derives a key as long as the stored one and compares in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        derive(password, &self.salt, self.log_n, self.r, self.p, &mut out).is_some() && ct_eq(&out, &self.hash)
    }
}

impl FirebaseHash {
    /// Derives the 32-byte scrypt key, encrypts the signer key with AES-256-CTR (zero IV) and compares.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let mut key = [0u8; 32];
        if derive(password, &self.salt, self.log_n, self.r, self.p, &mut key).is_none() {
            return false;
        }
        let Ok(mut cipher) = Ctr128BE::<Aes256>::new_from_slices(&key, &[0u8; 16]) else { return false };
        let mut out = self.signer_key.clone();
        cipher.apply_keystream(&mut out);
        ct_eq(&out, &self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: &str = "$scrypt$ln=1024,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=";

    #[test]
    fn ln_is_n_not_log2() {
        let h = parse(CHEAP).unwrap();
        assert_eq!(h.log_n, 10);
        assert!(h.verify(b"hunter2"));
        assert!(!h.verify(b"hunter3"));
    }

    #[test]
    fn refuses_malformed_and_costly() {
        for bad in [
            CHEAP.replace("ln=1024", "ln=1025"),
            CHEAP.replace("ln=1024", "ln=1"),
            CHEAP.replace("ln=1024", "ln=0"),
            CHEAP.replace("ln=1024", "N=1024"),
            CHEAP.replace("c2FsdHNhbHRzYWx0c2FsdA==", "c2FsdHNhbHRzYWx0c2FsdA"),
            CHEAP.replace("$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=", "$"),
        ] {
            assert_eq!(parse(&bad).unwrap_err(), PasswordError::UnparsableHash, "{bad}");
        }
        for costly in ["ln=262144,r=8,p=1", "ln=1024,r=9,p=1", "ln=1024,r=8,p=11", "ln=1024,r=0,p=1"] {
            let h = CHEAP.replace("ln=1024,r=8,p=1", costly);
            assert_eq!(parse(&h).unwrap_err(), PasswordError::HashCostOutOfBounds, "{costly}");
        }
        assert!(parse(&CHEAP.replace("ln=1024", "ln=131072")).is_ok());
    }
}
