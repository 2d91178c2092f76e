//! Integration tests for tessera-jwk, one test binary (faster to link) with a
//! module per concern.

mod attacks;
mod import;
mod known_answer;
mod roundtrip;
mod seal;

use serde_json::{Value, json};
use tessera_jwk::{Algorithm, KeyPair, KeyUse, PublicKeySet};

/// A typical small claim set.
fn claims() -> Value {
    json!({"iss": "https://auth.example.com", "sub": "alice", "aud": ["app"], "iat": 1_700_000_000, "exp": 1_700_003_600})
}

/// A fresh signing key with a fixed kid.
fn key(alg: Algorithm, kid: &str) -> KeyPair {
    KeyPair::generate(alg, Some(kid.to_owned()), KeyUse::Sig).unwrap()
}

/// The public set of some key pairs, built from their public JWKs the way a
/// client's registered `jwks` would be.
fn set_of(keys: &[&KeyPair]) -> PublicKeySet {
    let jwks = json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()});
    let set = PublicKeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), keys.len());
    set
}

/// A base64url payload an attacker would like to substitute.
fn tamper_payload() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory","admin":true}"#)
}
