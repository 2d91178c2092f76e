//! JSON Web Keys for Tessera's OAuth2 / OpenID Connect engine (Ory Hydra
//! compatible).
//!
//! - [`KeyPair`]: an asymmetric signing key (ES256, RS256 or EdDSA) with its
//!   `kid` and `use`; generated, exported as a Hydra-shaped JWK, imported from
//!   a private JWK, persisted, and used to sign compact JWTs.
//! - [`PublicKeySet`]: public keys (for example a client's registered `jwks`)
//!   that verify JWT signatures without ever accepting a symmetric or `none`
//!   algorithm.
//! - [`Sealer`]: AES-256-GCM encryption of private keys at rest, bound to the
//!   row they belong to through associated data.
//!
//! All cryptography is done by `aws-lc-rs`. Expiry, audience and issuer checks
//! are left to callers, who each have their own rules.
//!
//! ```
//! use serde_json::json;
//! use tessera_jwk::{Algorithm, KeyPair, KeyUse, PublicKeySet, Sealer};
//!
//! let key = KeyPair::generate(Algorithm::ES256, None, KeyUse::Sig)?;
//! let token = key.sign_jwt(&json!({"sub": "alice"}))?;
//!
//! let jwks = json!({"keys": [key.public_jwk()]});
//! let claims = PublicKeySet::from_jwks(&jwks)?.verify_jwt(&token, &[Algorithm::ES256])?;
//! assert_eq!(claims["sub"], "alice");
//!
//! // At rest: the private JWK, sealed to the row it belongs to.
//! let sealer = Sealer::new(b"installation secret, 16+ bytes")?;
//! let sealed = sealer.seal(&key.to_stored()?, b"project/set/kid");
//! let loaded = KeyPair::from_stored(&sealer.open(&sealed, b"project/set/kid")?)?;
//! assert_eq!(loaded.public_jwk(), key.public_jwk());
//! # Ok::<(), tessera_jwk::JwkError>(())
//! ```

// Every public item says what it is for (the workspace allows undocumented items).
#![warn(missing_docs)]

mod der;
mod error;
mod keys;
mod members;
mod seal;
mod verify;

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};

pub use error::JwkError;
pub use keys::KeyPair;
pub use seal::{MIN_SECRET_LEN, Sealer};
pub use verify::{MAX_TOKEN_LEN, PublicKey, PublicKeySet, VerifiedJwt};

/// A JWS signature algorithm this crate implements.
///
/// Deliberately asymmetric only: there is no HS* variant, so a public key can
/// never be misused as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4); the default for fast signing.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3); Hydra's default.
    RS256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm, for callers that accept any of them.
    pub const ALL: [Algorithm; 3] = [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA];

    /// The JOSE name, as written in `alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The JWK `kty` that keys of this algorithm have.
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::ES256 => "EC",
            Algorithm::RS256 => "RSA",
            Algorithm::EdDSA => "OKP",
        }
    }

    /// The JWK `crv` of keys of this algorithm, for curve-based keys.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            Algorithm::ES256 => Some("P-256"),
            Algorithm::RS256 => None,
            Algorithm::EdDSA => Some("Ed25519"),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = JwkError;

    /// Parses a JOSE `alg` name, case-sensitively as JOSE requires.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Algorithm::ES256),
            "RS256" => Ok(Algorithm::RS256),
            "EdDSA" => Ok(Algorithm::EdDSA),
            other => Err(JwkError::UnsupportedAlgorithm(error::echo(other))),
        }
    }
}

/// The JWK `use` member: what the public key is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyUse {
    /// Signatures (`"sig"`); the default, and the only use that may sign.
    #[default]
    Sig,
    /// Encryption (`"enc"`); accepted so Hydra key sets round-trip.
    Enc,
}

impl KeyUse {
    /// The JWK name, as written in `use`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUse::Sig => "sig",
            KeyUse::Enc => "enc",
        }
    }
}

impl fmt::Display for KeyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyUse {
    type Err = JwkError;

    /// Parses a JWK `use` value ("sig" or "enc").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sig" => Ok(KeyUse::Sig),
            "enc" => Ok(KeyUse::Enc),
            other => Err(JwkError::UnsupportedKeyUse(error::echo(other))),
        }
    }
}

/// Base64url without padding, as JWS and JWK require (RFC 7515 §2).
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict decoding for JWT segments: no padding, canonical trailing bits.
pub(crate) fn b64_decode_strict(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Decoding for JWK members: padding tolerated (some producers add it), the
/// url-safe alphabet and canonical trailing bits still required.
pub(crate) fn b64_decode_member(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}
