//! crypt(3) families stored under Kratos's prefixes: `$md5-crypt$<salt>$<hash>` (= `$1$`),
//! `$sha256-crypt$[rounds=N$]<salt>$<hash>` (= `$5$`) and `$sha512-crypt$…` (= `$6$`).
//!
//! No maintained crate covers md5-crypt on the digest 0.11 stack, and both algorithms are short, so they are
//! implemented here from their published descriptions (Kamp's md5-crypt, Drepper's "Unix crypt using SHA-256 and
//! SHA-512") and pinned by the reference test vectors.

use md5::Md5;
use sha2::digest::Digest;
use sha2::{Sha256, Sha512};

use crate::PasswordError;
use crate::encoding::{crypt_b64_push, is_crypt_alphabet};
use crate::import::{HashFormat, ct_eq, fields, number};

/// sha-crypt's rounds when the hash names none.
const DEFAULT_ROUNDS: u32 = 5_000;
/// sha-crypt clamps smaller round counts up to this.
const MIN_ROUNDS: u32 = 1_000;
/// Largest sha-crypt round count we verify. crypt(3) itself allows 999,999,999 (minutes of CPU per login); this is
/// Tessera's own bound, in line with the PBKDF2 iteration bound, so one tenant's import cannot stall shared nodes.
const MAX_ROUNDS: u32 = 10_000_000;

/// Which crypt(3) algorithm a hash uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Md5,
    Sha256,
    Sha512,
}

/// A parsed crypt(3) hash; the hash part stays encoded since crypt compares encoded strings.
#[derive(Debug, Clone)]
pub(crate) struct CryptHash {
    kind: Kind,
    rounds: u32,
    salt: Vec<u8>,
    hash: String,
}

/// Parses one of the three crypt formats detected as `format`.
pub(crate) fn parse(format: HashFormat, hash: &str) -> Result<CryptHash, PasswordError> {
    let (kind, prefix) = match format {
        HashFormat::Md5Crypt => (Kind::Md5, "$md5-crypt$"),
        HashFormat::Sha256Crypt => (Kind::Sha256, "$sha256-crypt$"),
        HashFormat::Sha512Crypt => (Kind::Sha512, "$sha512-crypt$"),
        _ => return Err(PasswordError::UnknownHashFormat),
    };
    let rest = hash.strip_prefix(prefix).ok_or(PasswordError::UnknownHashFormat)?;
    let (rounds, salt, digest) = match kind {
        Kind::Md5 => {
            let [salt, digest] = fields::<2>(rest)?;
            (1_000, salt, digest)
        }
        Kind::Sha256 | Kind::Sha512 => match rest.split('$').collect::<Vec<_>>()[..] {
            [spec, salt, digest] => {
                let n = spec.strip_prefix("rounds=").ok_or(PasswordError::UnparsableHash)?;
                (number::<u32>(n)?.max(MIN_ROUNDS), salt, digest)
            }
            [salt, digest] => (DEFAULT_ROUNDS, salt, digest),
            _ => return Err(PasswordError::UnparsableHash),
        },
    };
    let (max_salt, hash_len) = match kind {
        Kind::Md5 => (8, 22),
        Kind::Sha256 => (16, 43),
        Kind::Sha512 => (16, 86),
    };
    if digest.len() != hash_len || !is_crypt_alphabet(digest) {
        return Err(PasswordError::UnparsableHash);
    }
    if rounds > MAX_ROUNDS {
        return Err(PasswordError::HashCostOutOfBounds);
    }
    let salt = salt.as_bytes()[..salt.len().min(max_salt)].to_vec();
    Ok(CryptHash { kind, rounds, salt, hash: digest.to_owned() })
}

impl CryptHash {
    /// The format this hash was stored as.
    pub(crate) fn format(&self) -> HashFormat {
        match self.kind {
            Kind::Md5 => HashFormat::Md5Crypt,
            Kind::Sha256 => HashFormat::Sha256Crypt,
            Kind::Sha512 => HashFormat::Sha512Crypt,
        }
    }

    /// Recomputes the encoded hash and compares in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let computed = match self.kind {
            Kind::Md5 => encode(&md5_crypt(password, &self.salt), MD5_ORDER, &[11]),
            Kind::Sha256 => encode(&sha_crypt::<Sha256>(password, &self.salt, self.rounds), SHA256_ORDER, &[31, 30]),
            Kind::Sha512 => encode(&sha_crypt::<Sha512>(password, &self.salt, self.rounds), SHA512_ORDER, &[63]),
        };
        ct_eq(computed.as_bytes(), self.hash.as_bytes())
    }
}

/// md5-crypt's byte groups (4 characters each), then byte 11 alone (2 characters).
const MD5_ORDER: &[[usize; 3]] = &[[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]];
/// sha256-crypt's byte groups, then bytes 31, 30 (3 characters).
const SHA256_ORDER: &[[usize; 3]] = &[
    [0, 10, 20],
    [21, 1, 11],
    [12, 22, 2],
    [3, 13, 23],
    [24, 4, 14],
    [15, 25, 5],
    [6, 16, 26],
    [27, 7, 17],
    [18, 28, 8],
    [9, 19, 29],
];
/// sha512-crypt's byte groups, then byte 63 (2 characters).
const SHA512_ORDER: &[[usize; 3]] = &[
    [0, 21, 42],
    [22, 43, 1],
    [44, 2, 23],
    [3, 24, 45],
    [25, 46, 4],
    [47, 5, 26],
    [6, 27, 48],
    [28, 49, 7],
    [50, 8, 29],
    [9, 30, 51],
    [31, 52, 10],
    [53, 11, 32],
    [12, 33, 54],
    [34, 55, 13],
    [56, 14, 35],
    [15, 36, 57],
    [37, 58, 16],
    [59, 17, 38],
    [18, 39, 60],
    [40, 61, 19],
    [62, 20, 41],
];

/// Encodes a crypt digest: full groups of three bytes, then the 1 or 2 leftover bytes (high byte first).
fn encode(digest: &[u8], order: &[[usize; 3]], tail: &[usize]) -> String {
    let mut out = String::with_capacity(order.len() * 4 + 3);
    for &[a, b, c] in order {
        crypt_b64_push(&mut out, digest[a], digest[b], digest[c], 4);
    }
    match *tail {
        [hi, lo] => crypt_b64_push(&mut out, 0, digest[hi], digest[lo], 3),
        [lo] => crypt_b64_push(&mut out, 0, 0, digest[lo], 2),
        _ => {}
    }
    out
}

/// Poul-Henning Kamp's md5-crypt (`$1$`), 1000 fixed rounds.
fn md5_crypt(password: &[u8], salt: &[u8]) -> Vec<u8> {
    let alternate = Md5::new().chain_update(password).chain_update(salt).chain_update(password).finalize();
    let mut ctx = Md5::new().chain_update(password).chain_update(b"$1$").chain_update(salt);
    for chunk in password.chunks(16) {
        ctx.update(&alternate[..chunk.len()]);
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut result = ctx.finalize();
    for round in 0..1000 {
        let mut ctx = Md5::new();
        if round & 1 == 1 {
            ctx.update(password);
        } else {
            ctx.update(result);
        }
        if round % 3 != 0 {
            ctx.update(salt);
        }
        if round % 7 != 0 {
            ctx.update(password);
        }
        if round & 1 == 1 {
            ctx.update(result);
        } else {
            ctx.update(password);
        }
        result = ctx.finalize();
    }
    result.to_vec()
}

/// Ulrich Drepper's SHA-crypt (`$5$` / `$6$`), generic over the digest.
fn sha_crypt<D: Digest + Clone>(password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
    let size = <D as Digest>::output_size();
    let b = D::new().chain_update(password).chain_update(salt).chain_update(password).finalize();
    let mut a = D::new().chain_update(password).chain_update(salt);
    let mut remaining = password.len();
    while remaining > size {
        a.update(&b);
        remaining -= size;
    }
    a.update(&b[..remaining]);
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            a.update(&b);
        } else {
            a.update(password);
        }
        bits >>= 1;
    }
    let a = a.finalize();

    let mut dp = D::new();
    for _ in 0..password.len() {
        dp.update(password);
    }
    let p: Vec<u8> = dp.finalize().iter().copied().cycle().take(password.len()).collect();
    let mut ds = D::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(salt);
    }
    let s: Vec<u8> = ds.finalize().iter().copied().cycle().take(salt.len()).collect();

    let mut c = a.to_vec();
    for round in 0..rounds {
        let mut ctx = D::new();
        if round & 1 == 1 {
            ctx.update(&p);
        } else {
            ctx.update(&c);
        }
        if round % 3 != 0 {
            ctx.update(&s);
        }
        if round % 7 != 0 {
            ctx.update(&p);
        }
        if round & 1 == 1 {
            ctx.update(&c);
        } else {
            ctx.update(&p);
        }
        c.copy_from_slice(&ctx.finalize());
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors computed with the system's crypt(3) (libxcrypt): default and explicit rounds, salts truncated to
    /// 8/16 bytes, and a 100-byte password longer than every digest block.
    #[test]
    fn libxcrypt_vectors() {
        let long = "x".repeat(100);
        let cases: [(Kind, &str, &str, u32, &str); 9] = [
            (Kind::Sha256, "Hello world!", "saltstring", 5000, "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
            (
                Kind::Sha256,
                "Hello world!",
                "saltstringsaltstring",
                10000,
                "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
            ),
            (Kind::Sha256, "Hello world!", "saltstring", 1000, "z/y8l95GSjij6uHx2xAJer7YCODLtrhIxItWC13D4g5"),
            (
                Kind::Sha512,
                "Hello world!",
                "saltstring",
                5000,
                "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
            ),
            (
                Kind::Sha512,
                "Hello world!",
                "saltstringsaltstring",
                10000,
                "OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
            ),
            (
                Kind::Sha512,
                &long,
                "longpw",
                1000,
                "7wDP4lkI27LGQYxGA5T6tSSCeq9qYUYvd5VxtEdOOf9EtuO39OvyrmA4eCX2ZGbsgOcefSM1zttAV2OUOqCNn1",
            ),
            (Kind::Md5, "Hello world!", "", 1000, "rpmA4u0GZbZzsddc1wzCB0"),
            (Kind::Md5, "Hello world!", "abcdefghijk", 1000, "fzmjzFdo5nMtBG8gtud5e0"),
            (Kind::Md5, &long, "longpw", 1000, "OT8TUeMFGjQvYQ5Igfne71"),
        ];
        for (kind, password, salt, rounds, want) in cases {
            let max_salt = if kind == Kind::Md5 { 8 } else { 16 };
            let salt = &salt.as_bytes()[..salt.len().min(max_salt)];
            let hash = CryptHash { kind, rounds, salt: salt.to_vec(), hash: want.to_owned() };
            assert!(hash.verify(password.as_bytes()), "{kind:?} {rounds} {want}");
            assert!(!hash.verify(b"Hello world?"));
        }
    }

    #[test]
    fn rounds_are_optional_clamped_and_bounded() {
        let tail = "$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5";
        let h = parse(HashFormat::Sha256Crypt, &format!("$sha256-crypt{tail}")).unwrap();
        assert_eq!(h.rounds, 5000);
        assert!(h.verify(b"Hello world!"));
        let h = parse(HashFormat::Sha256Crypt, &format!("$sha256-crypt$rounds=10{tail}")).unwrap();
        assert_eq!(h.rounds, 1000);
        let err = parse(HashFormat::Sha256Crypt, &format!("$sha256-crypt$rounds=10000001{tail}")).unwrap_err();
        assert_eq!(err, PasswordError::HashCostOutOfBounds);
        for bad in [
            format!("$sha256-crypt$rounds=x{tail}"),
            format!("$sha256-crypt$round=5000{tail}"),
            format!("$sha256-crypt$a$b{tail}"),
        ] {
            assert_eq!(parse(HashFormat::Sha256Crypt, &bad).unwrap_err(), PasswordError::UnparsableHash, "{bad}");
        }
        assert!(parse(HashFormat::Sha256Crypt, "$sha256-crypt$saltstring$5B8vYYiY").is_err());
        assert!(parse(HashFormat::Md5Crypt, "$md5-crypt$salt$tooshort").is_err());
        assert!(parse(HashFormat::Md5Crypt, "$md5-crypt$TVEiiKNb$SN6/pUaRQS/E8Jh46As2C/$").is_err());
    }
}
