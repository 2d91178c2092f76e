//! Sealing private keys at rest.

use tessera_jwk::{Algorithm, JwkError, KeyPair, MIN_SECRET_LEN, Sealer};

const SECRET: &[u8] = b"an installation secret of 32 b.";
const AAD: &[u8] = b"project=p1/set=hydra.openid.id-token/kid=k1";

#[test]
fn round_trip() {
    let sealer = Sealer::new(SECRET).unwrap();
    for plaintext in [&b""[..], b"x", &[7u8; 5000]] {
        let sealed = sealer.seal(plaintext, AAD);
        assert_eq!(sealed.len(), 1 + 12 + plaintext.len() + 16);
        assert_eq!(sealed[0], 1, "format version");
        assert_eq!(sealer.open(&sealed, AAD).unwrap(), plaintext);
    }
    // The same secret gives the same key in another instance.
    let sealed = sealer.seal(b"key", AAD);
    assert_eq!(Sealer::new(SECRET).unwrap().open(&sealed, AAD).unwrap(), b"key");
}

#[test]
fn sealed_private_key_round_trip() {
    let sealer = Sealer::new(SECRET).unwrap();
    let key = KeyPair::generate(Algorithm::ES256, None, tessera_jwk::KeyUse::Sig).unwrap();
    let stored = key.to_stored().unwrap();
    let sealed = sealer.seal(&stored, AAD);
    let d = key.private_jwk().unwrap()["d"].as_str().unwrap().to_owned();
    assert!(!sealed.windows(d.len()).any(|w| w == d.as_bytes()), "no plaintext in the sealed form");
    let loaded = KeyPair::from_stored(&sealer.open(&sealed, AAD).unwrap()).unwrap();
    assert_eq!(loaded.public_jwk(), key.public_jwk());
}

#[test]
fn wrong_aad_fails() {
    let sealer = Sealer::new(SECRET).unwrap();
    let sealed = sealer.seal(b"private key", AAD);
    for aad in [&b""[..], b"project=p2/set=hydra.openid.id-token/kid=k1", &AAD[..AAD.len() - 1]] {
        assert_eq!(sealer.open(&sealed, aad), Err(JwkError::Unseal));
    }
}

#[test]
fn any_flipped_byte_fails() {
    let sealer = Sealer::new(SECRET).unwrap();
    let sealed = sealer.seal(b"private key", AAD);
    for at in 0..sealed.len() {
        let mut corrupt = sealed.clone();
        corrupt[at] ^= 0x01;
        assert_eq!(sealer.open(&corrupt, AAD), Err(JwkError::Unseal), "byte {at}");
    }
    for end in 0..sealed.len() {
        assert_eq!(sealer.open(&sealed[..end], AAD), Err(JwkError::Unseal), "truncated at {end}");
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(sealer.open(&longer, AAD), Err(JwkError::Unseal));
}

#[test]
fn different_secret_fails() {
    let sealed = Sealer::new(SECRET).unwrap().seal(b"private key", AAD);
    let other = Sealer::new(b"another installation secret....!").unwrap();
    assert_eq!(other.open(&sealed, AAD), Err(JwkError::Unseal));
}

#[test]
fn seals_are_randomized() {
    let sealer = Sealer::new(SECRET).unwrap();
    let a = sealer.seal(b"private key", AAD);
    let b = sealer.seal(b"private key", AAD);
    assert_ne!(a, b);
    assert_ne!(a[1..13], b[1..13], "fresh nonce");
}

#[test]
fn short_secrets_are_refused() {
    assert_eq!(Sealer::new(&[1u8; MIN_SECRET_LEN - 1]).unwrap_err(), JwkError::SecretTooShort(MIN_SECRET_LEN));
    assert!(Sealer::new(b"").is_err());
    assert!(Sealer::new(&[1u8; MIN_SECRET_LEN]).is_ok());
    assert_eq!(format!("{:?}", Sealer::new(SECRET).unwrap()), "Sealer(..)");
}
