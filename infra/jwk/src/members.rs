//! Reading JWK members with precise error messages; shared by private key
//! import ([`crate::KeyPair::from_jwk`]) and public key parsing
//! ([`crate::PublicKey::from_jwk`]).

use serde_json::{Map, Value};

use crate::error::echo;
use crate::{Algorithm, JwkError, b64_decode_member};

/// A JWK object whose members are read one by one.
pub(crate) struct Members<'a>(&'a Map<String, Value>);

impl<'a> Members<'a> {
    pub fn new(jwk: &'a Value) -> Result<Self, JwkError> {
        jwk.as_object().map(Members).ok_or_else(|| JwkError::InvalidJwk("a JWK must be a JSON object".into()))
    }

    /// An optional string member; present but not a string is an error.
    pub fn str_opt(&self, name: &'static str) -> Result<Option<&'a str>, JwkError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JwkError::InvalidJwk(format!("member \"{name}\" must be a string"))),
        }
    }

    /// A required string member.
    pub fn str_req(&self, name: &'static str) -> Result<&'a str, JwkError> {
        self.str_opt(name)?.ok_or_else(|| JwkError::InvalidJwk(format!("member \"{name}\" is missing")))
    }

    /// Whether a member is present at all (whatever its type).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// A required base64url member, decoded.
    pub fn bytes(&self, name: &'static str) -> Result<Vec<u8>, JwkError> {
        let text = self.str_req(name)?;
        b64_decode_member(text).ok_or_else(|| JwkError::InvalidJwk(format!("member \"{name}\" is not valid base64url")))
    }

    /// A required base64url member that must decode to exactly `len` bytes.
    pub fn bytes_exact(&self, name: &'static str, len: usize, what: &str) -> Result<Vec<u8>, JwkError> {
        let bytes = self.bytes(name)?;
        if bytes.len() != len {
            return Err(JwkError::InvalidJwk(format!("member \"{name}\" must be {len} bytes for {what}")));
        }
        Ok(bytes)
    }

    /// A required unsigned big-endian integer (Base64urlUInt), with leading
    /// zero bytes removed; zero itself is refused.
    pub fn uint(&self, name: &'static str) -> Result<Vec<u8>, JwkError> {
        let mut bytes = self.bytes(name)?;
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        if start == bytes.len() {
            return Err(JwkError::InvalidJwk(format!("member \"{name}\" must not be zero")));
        }
        bytes.drain(..start);
        Ok(bytes)
    }

    /// Reads `kty`, refusing symmetric and unknown key types, and returns the
    /// algorithm family it implies, checking `crv` for curve keys.
    pub fn key_family(&self) -> Result<Algorithm, JwkError> {
        let family = match self.str_req("kty")? {
            "EC" => Algorithm::ES256,
            "RSA" => Algorithm::RS256,
            "OKP" => Algorithm::EdDSA,
            "oct" => {
                return Err(JwkError::UnsupportedJwk(
                    "symmetric keys (kty \"oct\") are not accepted; use an EC, RSA or OKP key".into(),
                ));
            }
            other => {
                return Err(JwkError::UnsupportedJwk(format!(
                    "key type {:?} is not supported; expected EC, RSA or OKP",
                    echo(other)
                )));
            }
        };
        if let Some(expected) = family.curve() {
            let crv = self.str_req("crv")?;
            if crv != expected {
                return Err(JwkError::UnsupportedJwk(format!(
                    "curve {:?} is not supported for kty {}; expected {expected}",
                    echo(crv),
                    family.key_type()
                )));
            }
        }
        Ok(family)
    }

    /// Reads `alg` and checks it agrees with the key family from `kty`/`crv`.
    pub fn alg_for(&self, family: Algorithm) -> Result<Option<Algorithm>, JwkError> {
        let Some(name) = self.str_opt("alg")? else {
            return Ok(None);
        };
        let alg: Algorithm = name.parse()?;
        if alg != family {
            let key = match family.curve() {
                Some(crv) => format!("kty {} with crv {crv}", family.key_type()),
                None => format!("kty {}", family.key_type()),
            };
            return Err(JwkError::InvalidJwk(format!("alg {alg} cannot be used with a key of {key}")));
        }
        Ok(Some(alg))
    }

    /// RSA moduli must be 2048 to 8192 bits; returns a clear error otherwise.
    pub fn check_rsa_modulus(n: &[u8]) -> Result<(), JwkError> {
        // `n` has no leading zero bytes, so its bit length follows from the first byte.
        let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
        if !(2048..=8192).contains(&bits) {
            return Err(JwkError::UnsupportedJwk(format!(
                "RSA keys must be 2048 to 8192 bits long, this one has {bits}"
            )));
        }
        Ok(())
    }
}
