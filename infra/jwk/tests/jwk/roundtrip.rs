//! Generate → sign → verify, JWK shapes, persistence, and interop with the
//! independent `jsonwebtoken` implementation.

use serde_json::{Value, json};
use tessera_jwk::{Algorithm, JwkError, KeyPair, KeyUse};

use super::{claims, key, set_of};

#[test]
fn sign_and_verify_each_algorithm() {
    for alg in Algorithm::ALL {
        let key = key(alg, "k1");
        let token = key.sign_jwt(&claims()).unwrap();
        let set = set_of(&[&key]);
        assert_eq!(set.verify_jwt(&token, &[alg]).unwrap(), claims(), "{alg}");

        let full = set.verify_jwt_full(&token, &Algorithm::ALL).unwrap();
        assert_eq!(full.alg, alg);
        assert_eq!(Value::Object(full.header), json!({"alg": alg.as_str(), "kid": "k1", "typ": "JWT"}));

        // The key's own public key verifies too.
        let own: tessera_jwk::PublicKeySet = [key.public_key().unwrap()].into_iter().collect();
        assert_eq!(own.verify_jwt(&token, &[alg]).unwrap(), claims());
    }
}

#[test]
fn typ_can_be_overridden() {
    let key = key(Algorithm::ES256, "k1");
    let token = key.sign_jwt_with_typ(&claims(), "at+jwt").unwrap();
    let full = set_of(&[&key]).verify_jwt_full(&token, &[Algorithm::ES256]).unwrap();
    assert_eq!(full.header["typ"], "at+jwt");
    assert_eq!(full.claims, claims());
}

#[test]
fn typed_claims_serialize_like_values() {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        exp: u64,
    }
    let key = key(Algorithm::EdDSA, "k1");
    let token = key.sign_jwt(&Claims { sub: "bob", exp: 5 }).unwrap();
    assert_eq!(set_of(&[&key]).verify_jwt(&token, &[Algorithm::EdDSA]).unwrap(), json!({"sub": "bob", "exp": 5}));
    assert_eq!(key.sign_jwt(&json!([1, 2])), Err(JwkError::InvalidClaims));
    assert_eq!(key.sign_jwt("text"), Err(JwkError::InvalidClaims));
}

fn member_names(jwk: &Value) -> Vec<&str> {
    jwk.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn jwk_shapes_match_hydra() {
    let ec = key(Algorithm::ES256, "ec");
    assert_eq!(member_names(&ec.public_jwk()), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    assert_eq!(member_names(&ec.private_jwk().unwrap()), ["use", "kty", "kid", "crv", "alg", "x", "y", "d"]);
    let public = ec.public_jwk();
    assert_eq!(
        (&public["use"], &public["kty"], &public["crv"], &public["alg"]),
        (&json!("sig"), &json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    assert_eq!(public["x"].as_str().unwrap().len(), 43, "32 bytes, unpadded base64url");

    let rsa = key(Algorithm::RS256, "rsa");
    assert_eq!(member_names(&rsa.public_jwk()), ["use", "kty", "kid", "alg", "n", "e"]);
    let private = rsa.private_jwk().unwrap();
    assert_eq!(member_names(&private), ["use", "kty", "kid", "alg", "n", "e", "d", "p", "q", "dp", "dq", "qi"]);
    assert_eq!(private["e"], "AQAB");
    assert_eq!(private["n"].as_str().unwrap().len(), 342, "2048 bits");
    assert_eq!(private["n"], rsa.public_jwk()["n"]);

    let ed = KeyPair::generate(Algorithm::EdDSA, Some("ed".into()), KeyUse::Enc).unwrap();
    assert_eq!(member_names(&ed.public_jwk()), ["use", "kty", "kid", "crv", "alg", "x"]);
    assert_eq!(member_names(&ed.private_jwk().unwrap()), ["use", "kty", "kid", "crv", "alg", "x", "d"]);
    assert_eq!(ed.public_jwk()["use"], "enc");
    assert_eq!(ed.public_jwk()["crv"], "Ed25519");

    for jwk in [ec.private_jwk().unwrap(), private, ed.private_jwk().unwrap()] {
        for value in jwk.as_object().unwrap().values() {
            let text = value.as_str().expect("every member is a string, never null");
            assert!(!text.contains(['=', '+', '/']), "base64url without padding");
        }
    }
}

#[test]
fn default_kid_is_a_random_uuid() {
    let a = KeyPair::generate(Algorithm::ES256, None, KeyUse::Sig).unwrap();
    let b = KeyPair::generate(Algorithm::ES256, None, KeyUse::Sig).unwrap();
    assert_ne!(a.kid(), b.kid());
    let uuid = uuid::Uuid::parse_str(a.kid()).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(a.kid(), uuid.hyphenated().to_string());
    assert!(matches!(
        KeyPair::generate(Algorithm::ES256, Some(String::new()), KeyUse::Sig),
        Err(JwkError::InvalidJwk(_))
    ));
}

#[test]
fn encryption_keys_do_not_sign() {
    let key = KeyPair::generate(Algorithm::ES256, Some("e".into()), KeyUse::Enc).unwrap();
    assert_eq!(key.key_use(), KeyUse::Enc);
    assert_eq!(key.sign_jwt(&claims()), Err(JwkError::NotASigningKey("e".into())));
}

#[test]
fn debug_output_has_no_key_material() {
    for alg in Algorithm::ALL {
        let key = key(alg, "k1");
        let debug = format!("{key:?}");
        assert_eq!(debug, format!("KeyPair {{ kid: \"k1\", alg: {alg}, use: Sig, .. }}"));
        let private = key.private_jwk().unwrap();
        assert!(!debug.contains(private["d"].as_str().unwrap()));
    }
}

#[test]
fn stored_form_round_trips() {
    for alg in Algorithm::ALL {
        let key = key(alg, "stored");
        let loaded = KeyPair::from_stored(&key.to_stored().unwrap()).unwrap();
        assert_eq!(loaded.public_jwk(), key.public_jwk());
        assert_eq!((loaded.kid(), loaded.alg(), loaded.key_use()), ("stored", alg, KeyUse::Sig));
        let token = loaded.sign_jwt(&claims()).unwrap();
        assert_eq!(set_of(&[&key]).verify_jwt(&token, &[alg]).unwrap(), claims());
    }
    assert!(matches!(KeyPair::from_stored(b"not json"), Err(JwkError::InvalidStored(_))));
    assert!(matches!(KeyPair::from_stored(br#"{"kty":"oct","k":"AAAA"}"#), Err(JwkError::InvalidStored(_))));
}

#[test]
fn names_parse_and_print() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.as_str());
    }
    for bad in ["es256", "HS256", "none", "RS512", ""] {
        assert!(matches!(bad.parse::<Algorithm>(), Err(JwkError::UnsupportedAlgorithm(_))), "{bad}");
    }
    assert_eq!("sig".parse::<KeyUse>().unwrap(), KeyUse::Sig);
    assert_eq!("enc".parse::<KeyUse>().unwrap(), KeyUse::Enc);
    assert!("SIG".parse::<KeyUse>().is_err());
}

/// `jsonwebtoken` (its own JWK parsing and JWS code) accepts our keys and tokens.
#[test]
fn jsonwebtoken_verifies_our_tokens() {
    for (alg, theirs) in [
        (Algorithm::ES256, jsonwebtoken::Algorithm::ES256),
        (Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
        (Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA),
    ] {
        let key = key(alg, "interop");
        let token = key.sign_jwt(&claims()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(theirs);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims, claims(), "{alg}");
        assert_eq!(data.header.kid.as_deref(), Some("interop"));
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));

        // And the other way round: a tampered token fails there too.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = super::tamper_payload();
        parts[1] = &other;
        assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &decoding, &validation).is_err());
    }
}
