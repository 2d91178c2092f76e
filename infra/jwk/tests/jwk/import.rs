//! Importing private JWKs (`KeyPair::from_jwk`) and parsing public ones
//! (`PublicKey::from_jwk`, `PublicKeySet::from_jwks`).

use serde_json::{Value, json};
use tessera_jwk::{Algorithm, JwkError, KeyPair, KeyUse, PublicKey, PublicKeySet};

use super::{claims, key, set_of};

/// A private JWK with one member replaced (or removed when `value` is null).
fn with(jwk: &Value, member: &str, value: Value) -> Value {
    let mut jwk = jwk.clone();
    let object = jwk.as_object_mut().unwrap();
    if value.is_null() {
        object.remove(member);
    } else {
        object.insert(member.to_owned(), value);
    }
    jwk
}

fn import_err(jwk: &Value) -> JwkError {
    KeyPair::from_jwk(jwk).expect_err("import must fail")
}

#[test]
fn exported_keys_import_back() {
    for alg in Algorithm::ALL {
        let original = key(alg, "imported");
        let imported = KeyPair::from_jwk(&original.private_jwk().unwrap()).unwrap();
        assert_eq!(imported.public_jwk(), original.public_jwk());
        assert_eq!(imported.private_jwk().unwrap(), original.private_jwk().unwrap());
        let token = imported.sign_jwt(&claims()).unwrap();
        assert_eq!(set_of(&[&original]).verify_jwt(&token, &[alg]).unwrap(), claims());
    }
}

#[test]
fn use_defaults_to_sig_and_enc_is_kept() {
    let jwk = key(Algorithm::ES256, "k").private_jwk().unwrap();
    assert_eq!(KeyPair::from_jwk(&with(&jwk, "use", Value::Null)).unwrap().key_use(), KeyUse::Sig);
    assert_eq!(KeyPair::from_jwk(&with(&jwk, "use", json!("enc"))).unwrap().key_use(), KeyUse::Enc);
    assert!(matches!(import_err(&with(&jwk, "use", json!("wrap"))), JwkError::UnsupportedKeyUse(_)));
}

#[test]
fn padded_members_are_tolerated() {
    let jwk = key(Algorithm::ES256, "k").private_jwk().unwrap();
    let padded = format!("{}=", jwk["x"].as_str().unwrap());
    KeyPair::from_jwk(&with(&jwk, "x", json!(padded))).unwrap();
}

#[test]
fn symmetric_and_unknown_keys_are_refused() {
    let oct = json!({"kty": "oct", "kid": "h", "alg": "HS256", "use": "sig", "k": "GawgguFyGrWKav7AX4VKUg"});
    let err = import_err(&oct);
    assert!(matches!(err, JwkError::UnsupportedJwk(_)), "{err}");
    assert!(err.to_string().contains("oct"));
    assert!(matches!(PublicKey::from_jwk(&oct), Err(JwkError::UnsupportedJwk(_))));

    let ec = key(Algorithm::ES256, "k").private_jwk().unwrap();
    assert!(matches!(import_err(&with(&ec, "kty", json!("XYZ"))), JwkError::UnsupportedJwk(_)));
    assert!(matches!(import_err(&with(&ec, "alg", json!("HS256"))), JwkError::UnsupportedAlgorithm(_)));
    assert!(matches!(import_err(&with(&ec, "alg", json!("ES384"))), JwkError::UnsupportedAlgorithm(_)));
    assert!(matches!(import_err(&json!([1])), JwkError::InvalidJwk(_)));
    assert!(matches!(import_err(&json!("x")), JwkError::InvalidJwk(_)));
}

#[test]
fn mismatched_alg_kty_and_crv_are_refused() {
    let ec = key(Algorithm::ES256, "k").private_jwk().unwrap();
    let ed = key(Algorithm::EdDSA, "k").private_jwk().unwrap();
    let rsa = key(Algorithm::RS256, "k").private_jwk().unwrap();
    let cases = [
        with(&ec, "crv", json!("P-384")),
        with(&ec, "crv", json!("Ed25519")),
        with(&ed, "crv", json!("X25519")),
        with(&ed, "crv", json!("P-256")),
        with(&ec, "alg", json!("RS256")),
        with(&ec, "alg", json!("EdDSA")),
        with(&rsa, "alg", json!("ES256")),
        with(&ed, "kty", json!("EC")),
        with(&ec, "crv", Value::Null),
    ];
    for jwk in &cases {
        let err = import_err(jwk);
        assert!(matches!(err, JwkError::InvalidJwk(_) | JwkError::UnsupportedJwk(_)), "{jwk}: {err}");
    }
    let err = import_err(&with(&ec, "alg", json!("RS256")));
    assert_eq!(err.to_string(), "invalid JSON Web Key: alg RS256 cannot be used with a key of kty EC with crv P-256");
}

#[test]
fn required_members_and_encodings_are_checked() {
    let ec = key(Algorithm::ES256, "k").private_jwk().unwrap();
    let missing = |m: &str| import_err(&with(&ec, m, Value::Null)).to_string();
    assert_eq!(missing("d"), "invalid JSON Web Key: member \"d\" is missing: a private key is required");
    assert_eq!(missing("kid"), "invalid JSON Web Key: member \"kid\" is missing");
    assert_eq!(missing("alg"), "invalid JSON Web Key: member \"alg\" is missing");
    assert_eq!(missing("y"), "invalid JSON Web Key: member \"y\" is missing");
    assert!(matches!(import_err(&with(&ec, "kid", json!(""))), JwkError::InvalidJwk(_)));
    assert!(matches!(import_err(&with(&ec, "kid", json!(7))), JwkError::InvalidJwk(_)));

    let bad_b64 = import_err(&with(&ec, "x", json!("not*base64!")));
    assert_eq!(bad_b64.to_string(), "invalid JSON Web Key: member \"x\" is not valid base64url");
    let std_alphabet = ec["x"].as_str().unwrap().replace('-', "+").replace('_', "/");
    if std_alphabet != ec["x"] {
        assert!(matches!(import_err(&with(&ec, "x", json!(std_alphabet))), JwkError::InvalidJwk(_)));
    }
    let short = import_err(&with(&ec, "x", json!("AAAA")));
    assert_eq!(short.to_string(), "invalid JSON Web Key: member \"x\" must be 32 bytes for P-256");
}

#[test]
fn ec_point_off_the_curve_is_refused() {
    let ec = key(Algorithm::ES256, "k").private_jwk().unwrap();
    // (x, y+1) is not on the curve when (x, y) is.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut y = b64.decode(ec["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    let err = import_err(&with(&ec, "y", json!(b64.encode(&y))));
    assert_eq!(err, JwkError::InvalidKeyMaterial("the point (x, y) is not on the P-256 curve"));
    let public = with(&ec.clone(), "y", json!(b64.encode(&y)));
    assert!(matches!(PublicKey::from_jwk(&public), Err(JwkError::InvalidKeyMaterial(_))));
}

#[test]
fn private_part_must_match_public_part() {
    for alg in Algorithm::ALL {
        let a = key(alg, "a").private_jwk().unwrap();
        let b = key(alg, "b").private_jwk().unwrap();
        let err = import_err(&with(&a, "d", b["d"].clone()));
        assert!(matches!(err, JwkError::InvalidKeyMaterial(_)), "{alg}: {err}");
        if alg == Algorithm::RS256 {
            for member in ["dp", "qi", "p", "q"] {
                let err = import_err(&with(&a, member, b[member].clone()));
                assert!(matches!(err, JwkError::InvalidKeyMaterial(_)), "{member}: {err}");
            }
            let err = import_err(&with(&a, "dq", Value::Null));
            assert_eq!(err.to_string(), "invalid JSON Web Key: RSA private keys must include p, q, dp, dq and qi");
            assert!(matches!(import_err(&with(&a, "oth", json!([]))), JwkError::UnsupportedJwk(_)));
        }
    }
}

#[test]
fn small_rsa_keys_are_refused() {
    let rsa = key(Algorithm::RS256, "k").public_jwk();
    use base64::Engine as _;
    let n_1024 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
    let err = PublicKey::from_jwk(&with(&rsa, "n", json!(n_1024))).unwrap_err();
    assert_eq!(err.to_string(), "unsupported JSON Web Key: RSA keys must be 2048 to 8192 bits long, this one has 1024");
}

#[test]
fn public_keys_respect_use_and_key_ops() {
    let jwk = key(Algorithm::ES256, "k").public_jwk();
    assert!(PublicKey::from_jwk(&jwk).is_ok());
    assert!(PublicKey::from_jwk(&with(&jwk, "use", Value::Null)).is_ok());
    assert!(PublicKey::from_jwk(&with(&jwk, "alg", Value::Null)).is_ok());
    assert!(PublicKey::from_jwk(&with(&jwk, "kid", Value::Null)).unwrap().kid().is_none());
    assert!(PublicKey::from_jwk(&with(&jwk, "key_ops", json!(["verify"]))).is_ok());
    assert!(matches!(PublicKey::from_jwk(&with(&jwk, "use", json!("enc"))), Err(JwkError::UnsupportedJwk(_))));
    assert!(matches!(
        PublicKey::from_jwk(&with(&jwk, "key_ops", json!(["encrypt"]))),
        Err(JwkError::UnsupportedJwk(_))
    ));
}

#[test]
fn jwk_sets_skip_unusable_keys() {
    let good = key(Algorithm::ES256, "good");
    let jwks = json!({"keys": [
        {"kty": "oct", "k": "AAAA", "kid": "secret"},
        {"kty": "RSA", "kid": "rsa-enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
        "not an object",
        good.public_jwk(),
    ]});
    let set = PublicKeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys()[0].kid(), Some("good"));
    assert_eq!(set.keys()[0].alg(), Algorithm::ES256);
    assert!(PublicKeySet::from_jwks(&json!({"keys": []})).unwrap().is_empty());
    assert!(matches!(PublicKeySet::from_jwks(&json!([good.public_jwk()])), Err(JwkError::InvalidJwk(_))));
}
