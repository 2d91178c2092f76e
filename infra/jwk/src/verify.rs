//! Verifying compact JWS tokens (JWTs) against public keys, for example a
//! client's registered `jwks` (`private_key_jwt`, request objects) or our
//! own keys.
//!
//! Safety rules, whatever the token says:
//! - only ES256, RS256 and EdDSA exist here: `none` and every HMAC algorithm
//!   are refused before any key is looked at, so a public key can never be
//!   used as an HMAC secret (the RS/HS confusion attack);
//! - the header `alg` must be one the caller allows, and must fit the key's
//!   `kty`/`crv` and its `alg` member when it has one;
//! - keys are only ever taken from the set: keys embedded in or pointed to by
//!   the header (`jwk`, `jku`, `x5c`, `x5u`) are ignored;
//! - tokens are bounded in size and parsed without panics.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{Map, Value};

use crate::error::echo;
use crate::members::Members;
use crate::{Algorithm, JwkError, b64_decode_strict};

/// The longest token [`PublicKeySet::verify_jwt`] reads: 16 KiB, far above
/// any legitimate client assertion or ID token, low enough to bound work.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One public key able to verify signatures of exactly one [`Algorithm`].
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<String>,
    /// The algorithm implied by `kty`/`crv` (each maps to exactly one here).
    alg: Algorithm,
    key: ParsedPublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Parses a public JWK (private members, if any, are ignored).
    ///
    /// Refuses symmetric and unsupported key types or curves, a `use` other
    /// than `sig`, `key_ops` without `verify`, an `alg` other than the one the
    /// key type implies, RSA moduli outside 2048..=8192 bits and EC points
    /// off the curve.
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, JwkError> {
        let members = Members::new(jwk)?;
        let alg = members.key_family()?;
        members.alg_for(alg)?;
        let kid = members.str_opt("kid")?.map(str::to_owned);
        if let Some(key_use) = members.str_opt("use")?
            && key_use != "sig"
        {
            return Err(JwkError::UnsupportedJwk(format!(
                "a key with use {:?} cannot verify signatures",
                echo(key_use)
            )));
        }
        if let Some(ops) = jwk.get("key_ops")
            && !ops.as_array().is_some_and(|ops| ops.iter().any(|op| op == "verify"))
        {
            return Err(JwkError::UnsupportedJwk("the key's key_ops do not include \"verify\"".into()));
        }
        let key = match alg {
            Algorithm::ES256 => {
                let x = members.bytes_exact("x", 32, "P-256")?;
                let y = members.bytes_exact("y", 32, "P-256")?;
                let point = [&[0x04][..], &x, &y].concat();
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                    .map_err(|_| JwkError::InvalidKeyMaterial("the point (x, y) is not on the P-256 curve"))?
            }
            Algorithm::EdDSA => {
                let x = members.bytes_exact("x", 32, "Ed25519")?;
                ParsedPublicKey::new(&ED25519, &x)
                    .map_err(|_| JwkError::InvalidKeyMaterial("x is not an Ed25519 public key"))?
            }
            Algorithm::RS256 => {
                let n = members.uint("n")?;
                Members::check_rsa_modulus(&n)?;
                let e = members.uint("e")?;
                aws_lc_rs::rsa::PublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                    .map_err(|_| JwkError::InvalidKeyMaterial("n and e are not a valid RSA public key"))?
            }
        };
        Ok(PublicKey { kid, alg, key })
    }

    /// The key id, when the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The only algorithm this key verifies.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
}

/// A verified token: its protected header and its claims.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The decoded JOSE header, for callers that check `typ` (RFC 9068's
    /// `at+jwt`, DPoP's `dpop+jwt`) or other members.
    pub header: Map<String, Value>,
    /// The algorithm the signature was verified with.
    pub alg: Algorithm,
    /// The claims (a JSON object). Not validated: `exp`, `aud`, `iss` and the
    /// rest are the caller's job.
    pub claims: Value,
}

/// The public keys a token may be signed with, such as a client's `jwks`.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
}

impl FromIterator<PublicKey> for PublicKeySet {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        PublicKeySet { keys: iter.into_iter().collect() }
    }
}

impl PublicKeySet {
    /// A set of already parsed keys.
    pub fn new(keys: Vec<PublicKey>) -> PublicKeySet {
        PublicKeySet { keys }
    }

    /// Reads a JWK Set (`{"keys": [...]}`). Keys that cannot verify
    /// signatures here (unsupported, symmetric, `use: enc`, malformed) are
    /// skipped, as RFC 7517 §5 asks; validate keys one by one with
    /// [`PublicKey::from_jwk`] where an error must be reported instead.
    pub fn from_jwks(jwks: &Value) -> Result<PublicKeySet, JwkError> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwkError::InvalidJwk("a JWK Set must be an object with a \"keys\" array".into()))?;
        Ok(keys.iter().filter_map(|jwk| PublicKey::from_jwk(jwk).ok()).collect())
    }

    /// The usable keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no usable key is present (every token will then be refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a compact JWS signed with one of `allowed` and returns its
    /// claims; see [`PublicKeySet::verify_jwt_full`].
    pub fn verify_jwt(&self, token: &str, allowed: &[Algorithm]) -> Result<Value, JwkError> {
        self.verify_jwt_full(token, allowed).map(|jwt| jwt.claims)
    }

    /// Verifies a compact JWS and returns its header and claims.
    ///
    /// The key is chosen by the header `kid` (a key without a `kid` never
    /// matches a token that has one, as in Hydra); without a `kid`, the one
    /// key fitting the algorithm is used, and several candidates are an error.
    /// Tokens with `crit` header parameters are refused (we implement none).
    pub fn verify_jwt_full(&self, token: &str, allowed: &[Algorithm]) -> Result<VerifiedJwt, JwkError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwkError::TokenTooLarge(MAX_TOKEN_LEN));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(JwkError::MalformedToken("a JWT has three dot-separated parts"));
        };
        match parts.count() {
            0 => {}
            2 => return Err(JwkError::MalformedToken("encrypted JWTs (JWE) are not supported")),
            _ => return Err(JwkError::MalformedToken("a JWT has three dot-separated parts")),
        }
        let header = decode_json(header_b64).ok_or(JwkError::MalformedToken("the header is not base64url JSON"))?;
        let Value::Object(header) = header else {
            return Err(JwkError::MalformedToken("the header is not a JSON object"));
        };
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.parse::<Algorithm>()?,
            _ => return Err(JwkError::MalformedToken("the header has no alg")),
        };
        if !allowed.contains(&alg) {
            return Err(JwkError::AlgorithmNotAllowed(alg.as_str().to_owned()));
        }
        if header.contains_key("crit") {
            return Err(JwkError::MalformedToken("critical header parameters (crit) are not supported"));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => return Err(JwkError::MalformedToken("the header kid is not a string")),
        };
        let key = self.select(kid, alg)?;
        let signature =
            b64_decode_strict(signature_b64).ok_or(JwkError::MalformedToken("the signature is not base64url"))?;
        let signed_len = header_b64.len() + 1 + payload_b64.len();
        key.key.verify_sig(&token.as_bytes()[..signed_len], &signature).map_err(|_| JwkError::InvalidSignature)?;
        let claims = decode_json(payload_b64).ok_or(JwkError::MalformedToken("the payload is not base64url JSON"))?;
        if !claims.is_object() {
            return Err(JwkError::MalformedToken("the payload is not a JSON object"));
        }
        Ok(VerifiedJwt { header, alg, claims })
    }

    /// Picks the key for a header: by `kid` when given, else the single key
    /// of the right type. A key never verifies an algorithm other than its own.
    fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<&PublicKey, JwkError> {
        let mut candidates = self.keys.iter().filter(|key| key.alg == alg);
        match kid {
            Some(kid) => candidates.find(|key| key.kid.as_deref() == Some(kid)).ok_or(JwkError::NoMatchingKey),
            None => {
                let key = candidates.next().ok_or(JwkError::NoMatchingKey)?;
                match candidates.next() {
                    None => Ok(key),
                    Some(_) => Err(JwkError::AmbiguousKey),
                }
            }
        }
    }
}

/// Decodes one base64url JWT segment holding JSON.
fn decode_json(segment: &str) -> Option<Value> {
    let bytes = b64_decode_strict(segment)?;
    serde_json::from_slice(&bytes).ok()
}
