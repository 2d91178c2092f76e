//! Recognising, parsing and verifying every hash format an admin may import (Kratos's `hash_comparator`).
//!
//! Parsing enforces the cost bounds both at import time and at every verification, so rows stored before the
//! bounds existed cannot be used to exhaust CPU or memory at login either.

pub(crate) mod argon2;
pub(crate) mod bcrypt;
pub(crate) mod crypt;
pub(crate) mod digest;
pub(crate) mod pbkdf2;
pub(crate) mod scrypt;

use crate::{HashParams, PasswordError};

/// The hash formats Tessera can verify, named so the identity engine can log or report what was imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashFormat {
    /// `$2a$`, `$2b$`, `$2y$`, `$2z$`, `$2$` bcrypt.
    Bcrypt,
    /// `$argon2id$` PHC string.
    Argon2id,
    /// `$argon2i$` PHC string.
    Argon2i,
    /// `$pbkdf2-shaNNN$` PHC-like string.
    Pbkdf2,
    /// `$scrypt$` with N given directly (not log2).
    Scrypt,
    /// `$firescrypt$`: Firebase's scrypt variant (scrypt key encrypting a signer key with AES-CTR).
    FirebaseScrypt,
    /// `$md5-crypt$`, i.e. crypt(3) `$1$`.
    Md5Crypt,
    /// `$sha256-crypt$`, i.e. crypt(3) `$5$`.
    Sha256Crypt,
    /// `$sha512-crypt$`, i.e. crypt(3) `$6$`.
    Sha512Crypt,
    /// LDAP `{SSHA}`, `{SSHA256}`, `{SSHA512}`.
    Ssha,
    /// `$sha1$`, `$sha256$`, `$sha512$` with a salt template.
    SaltedSha,
    /// `$md5$`, plain or with a salt template.
    Md5,
    /// `$hmac-<alg>$`.
    Hmac,
}

impl HashFormat {
    /// A short stable name for logs and metrics (never the hash itself).
    pub fn as_str(self) -> &'static str {
        match self {
            HashFormat::Bcrypt => "bcrypt",
            HashFormat::Argon2id => "argon2id",
            HashFormat::Argon2i => "argon2i",
            HashFormat::Pbkdf2 => "pbkdf2",
            HashFormat::Scrypt => "scrypt",
            HashFormat::FirebaseScrypt => "firescrypt",
            HashFormat::Md5Crypt => "md5-crypt",
            HashFormat::Sha256Crypt => "sha256-crypt",
            HashFormat::Sha512Crypt => "sha512-crypt",
            HashFormat::Ssha => "ssha",
            HashFormat::SaltedSha => "salted-sha",
            HashFormat::Md5 => "md5",
            HashFormat::Hmac => "hmac",
        }
    }
}

/// Recognises the format by prefix, in Kratos's order (first match wins).
pub(crate) fn detect(hash: &str) -> Option<HashFormat> {
    let after_sha = |rest: &str| matches!(rest.split_once('$'), Some(("1" | "256" | "512", _)));
    if hash.starts_with("$md5-crypt$") {
        Some(HashFormat::Md5Crypt)
    } else if bcrypt::has_prefix(hash) {
        Some(HashFormat::Bcrypt)
    } else if hash.starts_with("$sha256-crypt$") {
        Some(HashFormat::Sha256Crypt)
    } else if hash.starts_with("$sha512-crypt$") {
        Some(HashFormat::Sha512Crypt)
    } else if hash.starts_with("$argon2id$") {
        Some(HashFormat::Argon2id)
    } else if hash.starts_with("$argon2i$") {
        Some(HashFormat::Argon2i)
    } else if pbkdf2::has_prefix(hash) {
        Some(HashFormat::Pbkdf2)
    } else if hash.starts_with("$scrypt$") {
        Some(HashFormat::Scrypt)
    } else if hash.starts_with("{SSHA}") || hash.starts_with("{SSHA256}") || hash.starts_with("{SSHA512}") {
        Some(HashFormat::Ssha)
    } else if hash.strip_prefix("$sha").is_some_and(after_sha) {
        Some(HashFormat::SaltedSha)
    } else if hash.starts_with("$firescrypt$") {
        Some(HashFormat::FirebaseScrypt)
    } else if hash.starts_with("$md5$") {
        Some(HashFormat::Md5)
    } else if digest::hmac_prefix(hash).is_some() {
        Some(HashFormat::Hmac)
    } else {
        None
    }
}

/// A fully parsed stored hash, ready to be compared with a candidate password.
#[derive(Debug, Clone)]
pub(crate) enum Parsed {
    Bcrypt(bcrypt::BcryptHash),
    Argon2(argon2::Argon2Hash),
    Pbkdf2(pbkdf2::Pbkdf2Hash),
    Scrypt(scrypt::ScryptHash),
    FirebaseScrypt(scrypt::FirebaseHash),
    Crypt(crypt::CryptHash),
    Ssha(digest::SshaHash),
    SaltedSha(digest::TemplateHash),
    Md5(digest::TemplateHash),
    Hmac(digest::HmacHash),
}

/// Detects and parses `hash`, enforcing cost bounds.
pub(crate) fn parse(hash: &str) -> Result<Parsed, PasswordError> {
    let format = detect(hash).ok_or(PasswordError::UnknownHashFormat)?;
    Ok(match format {
        HashFormat::Bcrypt => Parsed::Bcrypt(bcrypt::parse(hash)?),
        HashFormat::Argon2id | HashFormat::Argon2i => Parsed::Argon2(argon2::parse(hash)?),
        HashFormat::Pbkdf2 => Parsed::Pbkdf2(pbkdf2::parse(hash)?),
        HashFormat::Scrypt => Parsed::Scrypt(scrypt::parse(hash)?),
        HashFormat::FirebaseScrypt => Parsed::FirebaseScrypt(scrypt::parse_firebase(hash)?),
        HashFormat::Md5Crypt | HashFormat::Sha256Crypt | HashFormat::Sha512Crypt => {
            Parsed::Crypt(crypt::parse(format, hash)?)
        }
        HashFormat::Ssha => Parsed::Ssha(digest::parse_ssha(hash)?),
        HashFormat::SaltedSha => Parsed::SaltedSha(digest::parse_salted_sha(hash)?),
        HashFormat::Md5 => Parsed::Md5(digest::parse_md5(hash)?),
        HashFormat::Hmac => Parsed::Hmac(digest::parse_hmac(hash)?),
    })
}

/// Import-time check of a hash given by an admin (`credentials.password.config.hashed_password`): recognises the
/// format (Kratos's detection order), parses it fully, and enforces cost bounds so a hostile import cannot exhaust
/// CPU or memory at login. The error's [`PasswordError::reason`] is Kratos's exact text.
pub fn check_imported_hash(hash: &str) -> Result<HashFormat, crate::ImportError> {
    parse(hash).map(|parsed| parsed.format())
}

impl Parsed {
    /// The format this hash was parsed as.
    pub(crate) fn format(&self) -> HashFormat {
        match self {
            Parsed::Bcrypt(_) => HashFormat::Bcrypt,
            Parsed::Argon2(h) => h.format(),
            Parsed::Pbkdf2(_) => HashFormat::Pbkdf2,
            Parsed::Scrypt(_) => HashFormat::Scrypt,
            Parsed::FirebaseScrypt(_) => HashFormat::FirebaseScrypt,
            Parsed::Crypt(h) => h.format(),
            Parsed::Ssha(_) => HashFormat::Ssha,
            Parsed::SaltedSha(_) => HashFormat::SaltedSha,
            Parsed::Md5(_) => HashFormat::Md5,
            Parsed::Hmac(_) => HashFormat::Hmac,
        }
    }

    /// Recomputes the hash of `password` and compares in constant time. This is the expensive part: call it on the
    /// pool, never on an async worker.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        match self {
            Parsed::Bcrypt(h) => h.verify(password),
            Parsed::Argon2(h) => h.verify(password),
            Parsed::Pbkdf2(h) => h.verify(password),
            Parsed::Scrypt(h) => h.verify(password),
            Parsed::FirebaseScrypt(h) => h.verify(password),
            Parsed::Crypt(h) => h.verify(password),
            Parsed::Ssha(h) => h.verify(password),
            Parsed::SaltedSha(h) | Parsed::Md5(h) => h.verify(password),
            Parsed::Hmac(h) => h.verify(password),
        }
    }

    /// Whether this hash was made exactly as `params` would make it today (so no re-hash is needed).
    pub(crate) fn is_current(&self, params: &HashParams) -> bool {
        match (self, params) {
            (Parsed::Argon2(h), HashParams::Argon2id { .. }) => h.matches_params(params),
            (Parsed::Bcrypt(h), HashParams::Bcrypt { cost }) => h.cost() == *cost,
            _ => false,
        }
    }
}

/// Splits `rest` (already stripped of its prefix) into exactly `N` `$`-separated fields.
pub(crate) fn fields<const N: usize>(rest: &str) -> Result<[&str; N], PasswordError> {
    let parts: Vec<&str> = rest.split('$').collect();
    parts.try_into().map_err(|_| PasswordError::UnparsableHash)
}

/// Parses a decimal parameter the way Go's `%d` does for sane input (optional `+`, digits only).
pub(crate) fn number<T: std::str::FromStr>(s: &str) -> Result<T, PasswordError> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PasswordError::UnparsableHash);
    }
    digits.parse().map_err(|_| PasswordError::UnparsableHash)
}

/// Parses `k1=v1,k2=v2,...` with exactly the given keys in that order (case-sensitive, like Kratos's `Sscanf`).
pub(crate) fn key_values<'a, const N: usize>(s: &'a str, keys: [&str; N]) -> Result<[&'a str; N], PasswordError> {
    let mut out = [""; N];
    let mut items = s.split(',');
    for (slot, key) in out.iter_mut().zip(keys) {
        let item = items.next().ok_or(PasswordError::UnparsableHash)?;
        let value = item.strip_prefix(key).and_then(|v| v.strip_prefix('=')).ok_or(PasswordError::UnparsableHash)?;
        *slot = value;
    }
    if items.next().is_some() {
        return Err(PasswordError::UnparsableHash);
    }
    Ok(out)
}

/// Constant-time equality of two byte strings (length is not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_order_and_prefixes() {
        let cases = [
            ("$md5-crypt$x$y", Some(HashFormat::Md5Crypt)),
            ("$2$04$x", Some(HashFormat::Bcrypt)),
            ("$2a$04$x", Some(HashFormat::Bcrypt)),
            ("$2z$04$x", Some(HashFormat::Bcrypt)),
            ("$2x$04$x", None),
            ("$sha256-crypt$x", Some(HashFormat::Sha256Crypt)),
            ("$sha512-crypt$x", Some(HashFormat::Sha512Crypt)),
            ("$argon2id$x", Some(HashFormat::Argon2id)),
            ("$argon2i$x", Some(HashFormat::Argon2i)),
            ("$argon2d$x", None),
            ("$pbkdf2-sha1$x", Some(HashFormat::Pbkdf2)),
            ("$pbkdf2-sha9999$x", None),
            ("$pbkdf2-md5$x", None),
            ("$scrypt$x", Some(HashFormat::Scrypt)),
            ("{SSHA}x", Some(HashFormat::Ssha)),
            ("{SSHA512}x", Some(HashFormat::Ssha)),
            ("{SSHA384}x", None),
            ("$sha1$x", Some(HashFormat::SaltedSha)),
            ("$sha512$x", Some(HashFormat::SaltedSha)),
            ("$sha384$x", None),
            ("$firescrypt$x", Some(HashFormat::FirebaseScrypt)),
            ("$md5$x", Some(HashFormat::Md5)),
            ("$hmac-md4$x", Some(HashFormat::Hmac)),
            ("$hmac$x", None),
            ("$hmac-invalid$x", None),
            ("$5$rounds=5000$abc$def", None),
            ("$1$abc$def", None),
            ("plaintext", None),
            ("", None),
        ];
        for (hash, want) in cases {
            assert_eq!(detect(hash), want, "{hash}");
        }
    }

    #[test]
    fn key_values_are_exact_and_ordered() {
        assert_eq!(key_values("i=1,l=2", ["i", "l"]).unwrap(), ["1", "2"]);
        assert!(key_values("I=1,l=2", ["i", "l"]).is_err());
        assert!(key_values("l=2,i=1", ["i", "l"]).is_err());
        assert!(key_values("i=1", ["i", "l"]).is_err());
        assert!(key_values("i=1,l=2,x=3", ["i", "l"]).is_err());
        assert_eq!(number::<u32>("+12").unwrap(), 12);
        assert!(number::<u32>("-1").is_err());
        assert!(number::<u32>("1e3").is_err());
        assert!(number::<u32>("").is_err());
        assert!(number::<u32>("99999999999").is_err());
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
