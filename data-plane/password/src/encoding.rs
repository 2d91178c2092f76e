//! Base64 flavours used by the imported hash formats, each decoding exactly as the system that wrote the hashes did.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard alphabet, `=` padding required, non-zero trailing bits tolerated: what Go's `base64.StdEncoding`
/// accepts, so hashes exported from Go-based systems (scrypt, salted SHA, HMAC, ...) decode the same way here.
const STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Standard alphabet with or without padding: LDAP `{SSHA}` values come from many tools, not all of which pad.
const STD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard alphabet without padding, strict about trailing bits: the PHC string format (argon2, pbkdf2).
const RAW: GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// The bcrypt alphabet (`./A-Za-z0-9`) without padding; trailing bits tolerated like OpenBSD's decoder.
const BCRYPT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Decodes padded standard base64 (Go's `StdEncoding`).
pub(crate) fn decode_std(s: &str) -> Option<Vec<u8>> {
    STD.decode(s).ok()
}

/// Decodes standard base64, padded or not.
pub(crate) fn decode_std_lenient(s: &str) -> Option<Vec<u8>> {
    STD_LENIENT.decode(s).ok()
}

/// Decodes unpadded strict standard base64 (PHC strings).
pub(crate) fn decode_raw(s: &str) -> Option<Vec<u8>> {
    RAW.decode(s).ok()
}

/// Encodes unpadded standard base64 (PHC strings written by [`crate::PasswordHasher::hash`]).
pub(crate) fn encode_raw(bytes: &[u8]) -> String {
    RAW.encode(bytes)
}

/// Decodes bcrypt-alphabet base64 into exactly `N` bytes.
pub(crate) fn decode_bcrypt<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = BCRYPT.decode(s).ok()?;
    bytes.try_into().ok()
}

/// The crypt(3) alphabet: md5-crypt and sha-crypt encode their output with it, least significant bits first.
const CRYPT_ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `s` only uses the crypt(3) alphabet (salts and hash parts of md5-crypt / sha-crypt).
pub(crate) fn is_crypt_alphabet(s: &str) -> bool {
    s.bytes().all(|b| CRYPT_ALPHABET.contains(&b))
}

/// Appends `chars` crypt(3) characters of the 24-bit group `b2 b1 b0`, low six bits first (crypt's `b64_from_24bit`).
pub(crate) fn crypt_b64_push(out: &mut String, b2: u8, b1: u8, b0: u8, chars: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..chars {
        out.push(char::from(CRYPT_ALPHABET[(w & 0x3f) as usize]));
        w >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_requires_padding_but_lenient_does_not() {
        assert_eq!(decode_std("MTIz").unwrap(), b"123");
        assert!(decode_std("MTI").is_none());
        assert_eq!(decode_std("MTI=").unwrap(), b"12");
        assert_eq!(decode_std_lenient("MTI").unwrap(), b"12");
    }

    #[test]
    fn raw_is_strict_about_padding_and_trailing_bits() {
        assert_eq!(decode_raw("MTI").unwrap(), b"12");
        assert!(decode_raw("MTI=").is_none());
        // "MTJ" carries non-zero trailing bits after "12".
        assert!(decode_raw("MTJ").is_none());
        assert_eq!(encode_raw(b"12"), "MTI");
    }

    #[test]
    fn crypt_group_encodes_low_bits_first() {
        let mut s = String::new();
        crypt_b64_push(&mut s, 0, 0, 1, 4);
        assert_eq!(s, "/...");
        assert!(is_crypt_alphabet("abcXYZ./09"));
        assert!(!is_crypt_alphabet("a+b"));
    }
}
