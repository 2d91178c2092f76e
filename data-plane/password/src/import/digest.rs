//! Fast-digest formats migrated from older systems: LDAP `{SSHA}`, salted SHA / MD5 with a salt template, and HMAC.
//! They are cheap to brute-force, which is why a successful login re-hashes them with the configured hasher.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::digest::Digest;

use crate::PasswordError;
use crate::encoding::{decode_std, decode_std_lenient};
use crate::import::{ct_eq, fields};

/// The plain digests these formats use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Md4,
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Alg {
    /// Output size in bytes, used to reject hashes that could never match.
    fn size(self) -> usize {
        match self {
            Alg::Md4 | Alg::Md5 => 16,
            Alg::Sha1 => 20,
            Alg::Sha224 => 28,
            Alg::Sha256 => 32,
            Alg::Sha384 => 48,
            Alg::Sha512 => 64,
        }
    }

    /// The digest of `parts` concatenated.
    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Alg::Md4 => run::<md4::Md4>(parts),
            Alg::Md5 => run::<md5::Md5>(parts),
            Alg::Sha1 => run::<sha1::Sha1>(parts),
            Alg::Sha224 => run::<sha2::Sha224>(parts),
            Alg::Sha256 => run::<sha2::Sha256>(parts),
            Alg::Sha384 => run::<sha2::Sha384>(parts),
            Alg::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// HMAC of `message` under `key` (real SHA-2 for sha224/sha384 here, unlike PBKDF2's quirk).
    fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        macro_rules! mac {
            ($d:ty) => {
                match Hmac::<$d>::new_from_slice(key) {
                    Ok(mut m) => {
                        m.update(message);
                        m.finalize().into_bytes().to_vec()
                    }
                    Err(_) => Vec::new(),
                }
            };
        }
        match self {
            Alg::Md4 => mac!(md4::Md4),
            Alg::Md5 => mac!(md5::Md5),
            Alg::Sha1 => mac!(sha1::Sha1),
            Alg::Sha224 => mac!(sha2::Sha224),
            Alg::Sha256 => mac!(sha2::Sha256),
            Alg::Sha384 => mac!(sha2::Sha384),
            Alg::Sha512 => mac!(sha2::Sha512),
        }
    }
}

/// `{SSHA}` / `{SSHA256}` / `{SSHA512}`: base64(digest(password ‖ salt) ‖ salt).
#[derive(Debug, Clone)]
pub(crate) struct SshaHash {
    alg: Alg,
    digest: Vec<u8>,
    salt: Vec<u8>,
}

/// Parses an LDAP salted SHA value; the salt is whatever follows the digest and must not be empty.
pub(crate) fn parse_ssha(hash: &str) -> Result<SshaHash, PasswordError> {
    let (alg, encoded) = if let Some(rest) = hash.strip_prefix("{SSHA256}") {
        (Alg::Sha256, rest)
    } else if let Some(rest) = hash.strip_prefix("{SSHA512}") {
        (Alg::Sha512, rest)
    } else if let Some(rest) = hash.strip_prefix("{SSHA}") {
        (Alg::Sha1, rest)
    } else {
        return Err(PasswordError::UnknownHashFormat);
    };
    let mut decoded = decode_std_lenient(encoded).ok_or(PasswordError::UnparsableHash)?;
    if decoded.len() <= alg.size() {
        return Err(PasswordError::UnparsableHash);
    }
    let salt = decoded.split_off(alg.size());
    Ok(SshaHash { alg, digest: decoded, salt })
}

impl SshaHash {
    /// Compares digest(password ‖ salt) in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        ct_eq(&self.alg.digest(&[password, &self.salt]), &self.digest)
    }
}

/// `$sha1$`, `$sha256$`, `$sha512$` (always templated) and `$md5$` (plain or templated).
#[derive(Debug, Clone)]
pub(crate) struct TemplateHash {
    alg: Alg,
    /// `{SALT}` / `{PASSWORD}` template; `None` means the digest of the bare password.
    template: Option<Vec<u8>>,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Parses `pf=<b64 template>$<b64 salt>$<b64 hash>`. The template must mention `{PASSWORD}`, otherwise every
/// password would match the stored hash.
fn parse_templated(alg: Alg, rest: &str) -> Result<TemplateHash, PasswordError> {
    let [pf, salt, hash] = fields::<3>(rest)?;
    let template = pf.strip_prefix("pf=").and_then(decode_std).ok_or(PasswordError::UnparsableHash)?;
    if !template.windows(b"{PASSWORD}".len()).any(|w| w == b"{PASSWORD}") {
        return Err(PasswordError::UnparsableHash);
    }
    let salt = decode_std(salt).ok_or(PasswordError::UnparsableHash)?;
    let hash = decode_std(hash).ok_or(PasswordError::UnparsableHash)?;
    if hash.len() != alg.size() {
        return Err(PasswordError::UnparsableHash);
    }
    Ok(TemplateHash { alg, template: Some(template), salt, hash })
}

/// Parses `$sha1$…`, `$sha256$…`, `$sha512$…`.
pub(crate) fn parse_salted_sha(hash: &str) -> Result<TemplateHash, PasswordError> {
    let rest = hash.strip_prefix("$sha").ok_or(PasswordError::UnknownHashFormat)?;
    let (bits, rest) = rest.split_once('$').ok_or(PasswordError::UnknownHashFormat)?;
    let alg = match bits {
        "1" => Alg::Sha1,
        "256" => Alg::Sha256,
        "512" => Alg::Sha512,
        _ => return Err(PasswordError::UnknownHashFormat),
    };
    parse_templated(alg, rest)
}

/// Parses `$md5$<b64 hash>` or `$md5$pf=…$<salt>$<hash>`.
pub(crate) fn parse_md5(hash: &str) -> Result<TemplateHash, PasswordError> {
    let rest = hash.strip_prefix("$md5$").ok_or(PasswordError::UnknownHashFormat)?;
    if rest.contains('$') {
        return parse_templated(Alg::Md5, rest);
    }
    let hash = decode_std(rest).ok_or(PasswordError::UnparsableHash)?;
    if hash.len() != Alg::Md5.size() {
        return Err(PasswordError::UnparsableHash);
    }
    Ok(TemplateHash { alg: Alg::Md5, template: None, salt: Vec::new(), hash })
}

/// Replaces `{SALT}` and `{PASSWORD}` in one left-to-right pass (substituted text is not rescanned).
fn fill_template(template: &[u8], salt: &[u8], password: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len() + salt.len() + password.len());
    let mut i = 0;
    while i < template.len() {
        if template[i..].starts_with(b"{SALT}") {
            out.extend_from_slice(salt);
            i += b"{SALT}".len();
        } else if template[i..].starts_with(b"{PASSWORD}") {
            out.extend_from_slice(password);
            i += b"{PASSWORD}".len();
        } else {
            out.push(template[i]);
            i += 1;
        }
    }
    out
}

impl TemplateHash {
    /// Compares the digest of the filled template (or the bare password) in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        let computed = match &self.template {
            Some(template) => self.alg.digest(&[&fill_template(template, &self.salt, password)]),
            None => self.alg.digest(&[password]),
        };
        ct_eq(&computed, &self.hash)
    }
}

/// `$hmac-<alg>$<b64 of lowercase hex mac>$<b64 key>`.
#[derive(Debug, Clone)]
pub(crate) struct HmacHash {
    alg: Alg,
    mac: Vec<u8>,
    key: Vec<u8>,
}

/// The algorithm and remainder of an `$hmac-<alg>$` hash, if the algorithm is one we know.
pub(crate) fn hmac_prefix(hash: &str) -> Option<(&str, &str)> {
    let rest = hash.strip_prefix("$hmac-")?;
    let (alg, rest) = rest.split_once('$')?;
    matches!(alg, "md4" | "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512").then_some((alg, rest))
}

/// Parses an HMAC hash; the MAC is stored hex-encoded inside the base64.
pub(crate) fn parse_hmac(hash: &str) -> Result<HmacHash, PasswordError> {
    let (alg, rest) = hmac_prefix(hash).ok_or(PasswordError::UnknownHashFormat)?;
    let alg = match alg {
        "md4" => Alg::Md4,
        "md5" => Alg::Md5,
        "sha1" => Alg::Sha1,
        "sha224" => Alg::Sha224,
        "sha256" => Alg::Sha256,
        "sha384" => Alg::Sha384,
        _ => Alg::Sha512,
    };
    let [hex, key] = fields::<2>(rest)?;
    let hex = decode_std(hex).ok_or(PasswordError::UnparsableHash)?;
    let key = decode_std(key).ok_or(PasswordError::UnparsableHash)?;
    let mac = decode_hex(&hex).ok_or(PasswordError::UnparsableHash)?;
    if mac.len() != alg.size() {
        return Err(PasswordError::UnparsableHash);
    }
    Ok(HmacHash { alg, mac, key })
}

/// Decodes hexadecimal text (either case).
fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

impl HmacHash {
    /// Compares the MAC of the password in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        ct_eq(&self.alg.hmac(&self.key, password), &self.mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_filled_in_one_pass() {
        assert_eq!(fill_template(b"{SALT}{PASSWORD}", b"s", b"p"), b"sp");
        assert_eq!(fill_template(b"x{PASSWORD}-{SALT}{SALT}", b"s", b"{SALT}"), b"x{SALT}-ss");
        assert_eq!(fill_template(b"{SALT", b"s", b"p"), b"{SALT");
    }

    #[test]
    fn template_without_password_is_refused() {
        // pf = "{SALT}" only: every password would produce the same digest.
        let h = "$sha1$pf=e1NBTFR9$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ=";
        assert_eq!(parse_salted_sha(h).unwrap_err(), PasswordError::UnparsableHash);
    }

    #[test]
    fn digest_lengths_are_checked() {
        assert_eq!(parse_md5("$md5$MTIz").unwrap_err(), PasswordError::UnparsableHash);
        assert_eq!(parse_ssha("{SSHA}MTIz").unwrap_err(), PasswordError::UnparsableHash);
        assert_eq!(parse_hmac("$hmac-md5$MTIz$MTIzNDU=").unwrap_err(), PasswordError::UnparsableHash);
        assert_eq!(decode_hex(b"0aFf").unwrap(), [0x0a, 0xff]);
        assert!(decode_hex(b"0g").is_none());
    }
}
