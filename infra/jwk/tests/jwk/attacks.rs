//! Hostile tokens: every one must be refused, none may panic.

use aws_lc_rs::encoding::AsDer;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tessera_jwk::{Algorithm, JwkError, MAX_TOKEN_LEN};

use super::{claims, key, set_of, tamper_payload};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

#[test]
fn alg_none_is_refused() {
    let key = key(Algorithm::RS256, "k1");
    let set = set_of(&[&key]);
    let real = key.sign_jwt(&claims()).unwrap();
    let real_signature = real.rsplit('.').next().unwrap();
    let body = b64_json(&claims());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64_json(&json!({"alg": alg, "kid": "k1"}));
        for signature in ["", real_signature] {
            let token = format!("{header}.{body}.{signature}");
            let err = set.verify_jwt(&token, &Algorithm::ALL).unwrap_err();
            assert!(matches!(err, JwkError::UnsupportedAlgorithm(_)), "{alg}: {err}");
        }
    }
}

/// The RS/HS confusion attack: an HS256 token whose "secret" is the RSA public
/// key in a form a naive verifier would feed to HMAC.
#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    let key = key(Algorithm::RS256, "k1");
    let set = set_of(&[&key]);
    let public = key.public_jwk();
    let n = URL_SAFE_NO_PAD.decode(public["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(public["e"].as_str().unwrap()).unwrap();
    let spki = aws_lc_rs::rsa::PublicKeyComponents { n: n.as_slice(), e: e.as_slice() }.as_der().unwrap();
    let body = STANDARD.encode(spki.as_ref());
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));

    let jwk_text = public.to_string();
    let secrets: [&[u8]; 4] = [pem.as_bytes(), &n, spki.as_ref(), jwk_text.as_bytes()];
    for (hs, theirs) in [
        ("HS256", jsonwebtoken::Algorithm::HS256),
        ("HS384", jsonwebtoken::Algorithm::HS384),
        ("HS512", jsonwebtoken::Algorithm::HS512),
    ] {
        for secret in secrets {
            let mut header = jsonwebtoken::Header::new(theirs);
            header.kid = Some("k1".into());
            let token =
                jsonwebtoken::encode(&header, &claims(), &jsonwebtoken::EncodingKey::from_secret(secret).unwrap())
                    .unwrap();
            let err = set.verify_jwt(&token, &Algorithm::ALL).unwrap_err();
            assert_eq!(err, JwkError::UnsupportedAlgorithm(hs.into()));
        }
    }
}

#[test]
fn header_alg_must_fit_the_kid_key() {
    // The set has an EC key "k1"; the attacker signs RS256 with their own RSA
    // key also named "k1".
    let ec = key(Algorithm::ES256, "k1");
    let rsa_attacker = key(Algorithm::RS256, "k1");
    let set = set_of(&[&ec]);
    let token = rsa_attacker.sign_jwt(&claims()).unwrap();
    assert_eq!(set.verify_jwt(&token, &Algorithm::ALL), Err(JwkError::NoMatchingKey));

    // And the other way round, with both keys known: kid "ed" holds an
    // Ed25519 key, a token claiming ES256 with kid "ed" fits no key.
    let ed = key(Algorithm::EdDSA, "ed");
    let ec_named_ed = key(Algorithm::ES256, "ed");
    let set = set_of(&[&ed, &ec]);
    let token = ec_named_ed.sign_jwt(&claims()).unwrap();
    assert_eq!(set.verify_jwt(&token, &Algorithm::ALL), Err(JwkError::NoMatchingKey));
}

#[test]
fn algorithm_must_be_allowed() {
    let key = key(Algorithm::ES256, "k1");
    let token = key.sign_jwt(&claims()).unwrap();
    let set = set_of(&[&key]);
    assert_eq!(set.verify_jwt(&token, &[Algorithm::RS256]), Err(JwkError::AlgorithmNotAllowed("ES256".into())));
    assert_eq!(set.verify_jwt(&token, &[]), Err(JwkError::AlgorithmNotAllowed("ES256".into())));
}

#[test]
fn tampering_is_detected() {
    for alg in Algorithm::ALL {
        let key = key(alg, "k1");
        let set = set_of(&[&key]);
        let token = key.sign_jwt(&claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], tamper_payload(), parts[2]);
        assert_eq!(set.verify_jwt(&forged, &[alg]), Err(JwkError::InvalidSignature), "{alg}");
        // Another key's signature over the same input does not verify either.
        let other = super::key(alg, "k1").sign_jwt(&claims()).unwrap();
        let swapped = format!("{}.{}.{}", parts[0], parts[1], other.rsplit('.').next().unwrap());
        assert_eq!(set.verify_jwt(&swapped, &[alg]), Err(JwkError::InvalidSignature), "{alg}");
    }
}

#[test]
fn unknown_kid_is_refused() {
    let key = key(Algorithm::ES256, "k1");
    let stranger = super::key(Algorithm::ES256, "k2");
    let set = set_of(&[&key]);
    let token = stranger.sign_jwt(&claims()).unwrap();
    assert_eq!(set.verify_jwt(&token, &Algorithm::ALL), Err(JwkError::NoMatchingKey));
    assert_eq!(tessera_jwk::PublicKeySet::default().verify_jwt(&token, &Algorithm::ALL), Err(JwkError::NoMatchingKey));
}

#[test]
fn oversize_tokens_are_refused() {
    let key = key(Algorithm::ES256, "k1");
    let set = set_of(&[&key]);
    let big = json!({"sub": "x".repeat(MAX_TOKEN_LEN)});
    let token = key.sign_jwt(&big).unwrap();
    assert_eq!(set.verify_jwt(&token, &Algorithm::ALL), Err(JwkError::TokenTooLarge(MAX_TOKEN_LEN)));
    let near = json!({"sub": "x".repeat(MAX_TOKEN_LEN / 2)});
    assert!(set.verify_jwt(&key.sign_jwt(&near).unwrap(), &Algorithm::ALL).is_ok());
}

#[test]
fn garbage_is_refused_without_panics() {
    let key = key(Algorithm::ES256, "k1");
    let set = set_of(&[&key]);
    let body = b64_json(&claims());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b".into(),
        "a.b.c".into(),
        "a.b.c.d".into(),
        "a.b.c.d.e".into(),
        "é.é.é".into(),
        "\0.\0.\0".into(),
        format!("{}.{body}.", b64(b"not json")),
        format!("{}.{body}.", b64(b"[\"alg\",\"ES256\"]")),
        format!("{}.{body}.", b64_json(&json!({"alg": 256}))),
        format!("{}.{body}.", b64_json(&json!({"kid": "k1"}))),
        format!("{}.{body}.", b64_json(&json!({"alg": "ES256", "kid": 1}))),
        format!("{}.{body}.", b64_json(&json!({"alg": "ES256", "kid": "k1", "crit": ["exp"]}))),
        format!("{}.{body}.!!!", b64_json(&json!({"alg": "ES256", "kid": "k1"}))),
        format!("{}.{body}.AAAA", b64_json(&json!({"alg": "ES256", "kid": "k1"}))),
        format!("{}=.{body}.", b64_json(&json!({"alg": "ES256", "kid": "k1"}))),
        format!("{}.{body}.", b64(deep.as_bytes())),
        "x".repeat(MAX_TOKEN_LEN + 1),
    ];
    for token in &cases {
        assert!(set.verify_jwt(token, &Algorithm::ALL).is_err(), "{token:.80}");
    }
    let five = set.verify_jwt("a.b.c.d.e", &Algorithm::ALL).unwrap_err();
    assert_eq!(five.to_string(), "malformed JWT: encrypted JWTs (JWE) are not supported");
}

/// Every truncation and every single-character change of a valid token fails.
#[test]
fn mutations_of_a_valid_token_fail() {
    let key = key(Algorithm::ES256, "k1");
    let set = set_of(&[&key]);
    let token = key.sign_jwt(&json!({"sub": "a"})).unwrap();
    assert!(set.verify_jwt(&token, &Algorithm::ALL).is_ok());
    for end in 0..token.len() {
        assert!(set.verify_jwt(&token[..end], &Algorithm::ALL).is_err(), "truncated at {end}");
    }
    let bytes = token.as_bytes();
    for at in 0..bytes.len() {
        for replacement in [b'A', b'B', b'.', b'=', b'-'] {
            if bytes[at] == replacement {
                continue;
            }
            let mut mutated = bytes.to_vec();
            mutated[at] = replacement;
            let mutated = String::from_utf8(mutated).unwrap();
            assert!(set.verify_jwt(&mutated, &Algorithm::ALL).is_err(), "changed byte {at}");
        }
    }
}
