//! The one error type of the crate.
//!
//! Messages are written to be shown to an API client as they are: they name
//! the JWK member or JWT part that is wrong, and never include key material.
//! Values echoed back from the input (an `alg`, a `kty`) are shortened first.

/// Why a key could not be generated, imported, used, or a token verified.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwkError {
    /// An `alg` value we do not implement: only ES256, RS256 and EdDSA are
    /// supported, and never a symmetric or `none` algorithm.
    #[error("unsupported algorithm {0:?}: expected one of ES256, RS256, EdDSA")]
    UnsupportedAlgorithm(String),

    /// A `use` value other than `sig` or `enc`.
    #[error("unsupported key use {0:?}: expected \"sig\" or \"enc\"")]
    UnsupportedKeyUse(String),

    /// The JWK is structurally wrong: a missing or mistyped member, bad
    /// base64url, or members that contradict each other.
    #[error("invalid JSON Web Key: {0}")]
    InvalidJwk(String),

    /// The JWK is well formed but describes a key type we refuse, such as a
    /// symmetric (`oct`) key.
    #[error("unsupported JSON Web Key: {0}")]
    UnsupportedJwk(String),

    /// The key material does not form a usable key (a point off the curve, a
    /// private key that does not match its public key, an inconsistent RSA key).
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(&'static str),

    /// The random number generator or the key generator failed.
    #[error("key generation failed")]
    KeyGeneration,

    /// The key is marked `use: enc` and so must not sign.
    #[error("key {0:?} is an encryption key (use \"enc\") and cannot sign")]
    NotASigningKey(String),

    /// The key could not be serialized (not expected with a valid key).
    #[error("the key could not be exported")]
    Export,

    /// The claims given to sign do not serialize to a JSON object.
    #[error("JWT claims must serialize to a JSON object")]
    InvalidClaims,

    /// The signer failed (not expected with a valid key).
    #[error("signing failed")]
    Signing,

    /// A persisted key could not be read back.
    #[error("stored key could not be loaded: {0}")]
    InvalidStored(String),

    /// The token is longer than we accept.
    #[error("token is longer than {0} bytes")]
    TokenTooLarge(usize),

    /// The token is not a well-formed compact JWS.
    #[error("malformed JWT: {0}")]
    MalformedToken(&'static str),

    /// The token's `alg` is valid but not in the caller's allowed list.
    #[error("JWT algorithm {0:?} is not allowed here")]
    AlgorithmNotAllowed(String),

    /// No key of the set fits the token header (`kid`, `alg`, key type).
    #[error("no key matches the JWT header (kid and alg)")]
    NoMatchingKey,

    /// The header has no `kid` and several keys could have signed it.
    #[error("the JWT header has no kid and several keys match its alg")]
    AmbiguousKey,

    /// The signature does not verify with the selected key.
    #[error("JWT signature is invalid")]
    InvalidSignature,

    /// The sealing secret is shorter than [`crate::MIN_SECRET_LEN`] bytes.
    #[error("the sealing secret must be at least {0} bytes long")]
    SecretTooShort(usize),

    /// Sealed data failed to open: wrong secret, wrong context (AAD),
    /// unknown format version or corruption. Deliberately not more precise.
    #[error("sealed data could not be opened")]
    Unseal,
}

/// Shortens a value taken from untrusted input before it goes into a message.
pub(crate) fn echo(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let mut short: String = value.chars().take(MAX).collect();
        short.push('…');
        short
    }
}
