//! Fixed vectors from the RFCs, proving our encodings agree with the specs
//! (signing input, base64url, raw `r || s` ECDSA signatures, Ed25519 keys).

use serde_json::{Value, json};
use tessera_jwk::{Algorithm, JwkError, KeyPair, PublicKeySet};

/// RFC 7515 Appendix A.3: the ES256 key (A.3.1) ...
fn rfc7515_a3_jwk() -> Value {
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
    })
}

/// ... and its JWS, whose header `{"alg":"ES256"}` has no kid.
const RFC7515_A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9\
    .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
    .DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 Appendix A.1/A.2: the Ed25519 key, and A.4: its JWS over the
/// (non-JSON) payload "Example of Ed25519 signing".
fn rfc8037_jwk() -> Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    })
}
const RFC8037_A4_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc\
    .hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn compact(text: &str) -> String {
    text.split_whitespace().collect()
}

#[test]
fn rfc7515_a3_es256_verifies() {
    let set = PublicKeySet::from_jwks(&json!({"keys": [rfc7515_a3_jwk()]})).unwrap();
    let claims = set.verify_jwt(&compact(RFC7515_A3_JWS), &[Algorithm::ES256]).unwrap();
    assert_eq!(claims, json!({"iss": "joe", "exp": 1_300_819_380, "http://example.com/is_root": true}));

    let mut tampered = compact(RFC7515_A3_JWS);
    tampered.pop();
    tampered.push('A');
    assert_eq!(set.verify_jwt(&tampered, &[Algorithm::ES256]), Err(JwkError::InvalidSignature));
}

#[test]
fn rfc7515_a3_private_key_imports_and_signs() {
    let mut jwk = rfc7515_a3_jwk();
    jwk["kid"] = json!("rfc7515");
    jwk["alg"] = json!("ES256");
    let key = KeyPair::from_jwk(&jwk).unwrap();
    assert_eq!(key.public_jwk()["x"], jwk["x"]);
    assert_eq!(key.private_jwk().unwrap()["d"], jwk["d"]);
    let token = key.sign_jwt(&json!({"sub": "joe"})).unwrap();
    // Selection is by kid, like Hydra (fosite): the RFC's public key needs it.
    let mut public = rfc7515_a3_jwk();
    public.as_object_mut().unwrap().remove("d");
    let set = PublicKeySet::from_jwks(&json!({"keys": [public.clone()]})).unwrap();
    assert_eq!(set.verify_jwt(&token, &[Algorithm::ES256]), Err(JwkError::NoMatchingKey));
    public["kid"] = json!("rfc7515");
    let set = PublicKeySet::from_jwks(&json!({"keys": [public]})).unwrap();
    assert_eq!(set.verify_jwt(&token, &[Algorithm::ES256]).unwrap(), json!({"sub": "joe"}));
}

#[test]
fn rfc8037_ed25519_signature_verifies() {
    let set = PublicKeySet::from_jwks(&json!({"keys": [rfc8037_jwk()]})).unwrap();
    // The signature is checked before the payload is parsed: the valid RFC
    // signature gets as far as refusing the non-JSON payload ...
    let err = set.verify_jwt(&compact(RFC8037_A4_JWS), &[Algorithm::EdDSA]).unwrap_err();
    assert_eq!(err, JwkError::MalformedToken("the payload is not base64url JSON"));
    // ... while a changed signature stops at the signature.
    let tampered = compact(RFC8037_A4_JWS).replace(".hgyY", ".hgyZ");
    assert_eq!(set.verify_jwt(&tampered, &[Algorithm::EdDSA]), Err(JwkError::InvalidSignature));
}

#[test]
fn rfc8037_private_key_imports() {
    let mut jwk = rfc8037_jwk();
    jwk["kid"] = json!("rfc8037");
    jwk["alg"] = json!("EdDSA");
    let key = KeyPair::from_jwk(&jwk).unwrap();
    assert_eq!(key.public_jwk()["x"], jwk["x"], "x is derived from d as RFC 8037 says");
    assert_eq!(key.private_jwk().unwrap()["d"], jwk["d"]);
}
