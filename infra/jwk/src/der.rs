//! Just enough DER to read RSA components out of the PKCS#8 and PKCS#1
//! documents aws-lc-rs produces, since aws-lc-rs has no accessor for them
//! (without its optional `ring-io` feature, and never for private ones).
//!
//! Input only ever comes from aws-lc-rs itself, but the reader still checks
//! every length and never panics.

/// The eight RSA private key integers of RFC 8017 §A.1.2, big-endian without
/// leading zeros (the Base64urlUInt form JWK wants).
pub(crate) struct RsaPrivateParts {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub d: Vec<u8>,
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub dp: Vec<u8>,
    pub dq: Vec<u8>,
    pub qi: Vec<u8>,
}

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;

/// Reads one TLV with the expected tag; returns (contents, rest).
fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 3 || rest.len() < count {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(count);
        let len = len_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// Reads a non-negative INTEGER and strips its leading zero bytes.
fn read_uint(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let (value, rest) = read(input, TAG_INTEGER)?;
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    Some((value[start..].to_vec(), rest))
}

/// Parses a PKCS#1 `RSAPublicKey { n, e }` and returns (n, e).
pub(crate) fn rsa_public_parts(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (key, _) = read(der, TAG_SEQUENCE)?;
    let (n, key) = read_uint(key)?;
    let (e, _) = read_uint(key)?;
    Some((n, e))
}

/// Parses `PrivateKeyInfo { version, AlgorithmIdentifier, OCTET STRING {
/// RSAPrivateKey } }` and returns the components of the inner key.
pub(crate) fn rsa_private_parts(pkcs8: &[u8]) -> Option<RsaPrivateParts> {
    let (info, _) = read(pkcs8, TAG_SEQUENCE)?;
    let (_version, info) = read(info, TAG_INTEGER)?;
    let (_algorithm, info) = read(info, TAG_SEQUENCE)?;
    let (key, _) = read(info, TAG_OCTET_STRING)?;
    let (key, _) = read(key, TAG_SEQUENCE)?;
    let (version, key) = read_uint(key)?;
    if !version.is_empty() {
        // Version 1 means multi-prime, which JWK's p/q/dp/dq/qi cannot carry.
        return None;
    }
    let (n, key) = read_uint(key)?;
    let (e, key) = read_uint(key)?;
    let (d, key) = read_uint(key)?;
    let (p, key) = read_uint(key)?;
    let (q, key) = read_uint(key)?;
    let (dp, key) = read_uint(key)?;
    let (dq, key) = read_uint(key)?;
    let (qi, _) = read_uint(key)?;
    Some(RsaPrivateParts { n, e, d, p, q, dp, dq, qi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rejected_without_panic() {
        for input in [&[][..], &[0x30], &[0x30, 0x85, 0, 0, 0, 0, 0], &[0x30, 0x82, 0xff], &[0x02, 0x01]] {
            assert!(rsa_private_parts(input).is_none());
        }
    }

    #[test]
    fn integers_lose_leading_zeros() {
        let (value, rest) = read_uint(&[0x02, 0x03, 0x00, 0x80, 0x01, 0xaa]).unwrap();
        assert_eq!(value, vec![0x80, 0x01]);
        assert_eq!(rest, &[0xaa]);
        assert!(read_uint(&[0x02, 0x01, 0x80]).is_none(), "negative integers are refused");
    }
}
