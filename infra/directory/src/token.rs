//! Region tokens: short-lived JWTs a region's workers sign with the key the control plane issued to that region.
//!
//! Keys are Ed25519. The control plane keeps only the public half, so a copy of its database cannot be used to
//! impersonate a region; the private half lives in the region's configuration as `tessera_rk_<key id>_<pkcs8>`.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const KEY_PREFIX: &str = "tessera_rk_";
const AUDIENCE: &str = "tessera-control-plane";
/// The longest lifetime a region token may have; the control plane refuses longer ones.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// A region's private signing key and its id.
#[derive(Clone)]
pub struct RegionKey {
    /// The key id, sent as the JWT `kid`.
    pub id: Uuid,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for RegionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegionKey({}, **redacted**)", self.id)
    }
}

/// The claims of a region token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionClaims {
    /// `region:<name>`.
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The region name.
    pub region: String,
}

/// Why a token or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegionTokenError {
    #[error("the region key is malformed")]
    MalformedKey,
    #[error("the token has no key id")]
    MissingKeyId,
    #[error("the token's key is unknown or revoked")]
    UnknownKey,
    #[error("the token is for region `{claimed}` but its key belongs to `{owner}`")]
    WrongRegion { claimed: String, owner: String },
    #[error("the token lives longer than allowed")]
    TooLong,
    #[error("the token is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Generates a key pair: the private key (as the string a region is configured with) and the raw public key.
pub fn generate_region_key() -> (String, RegionKey, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("the system RNG works").as_ref().to_vec();
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).expect("a freshly generated key parses");
    let public = pair.public_key().as_ref().to_vec();
    let key = RegionKey { id: Uuid::now_v7(), pkcs8 };
    (key.encode(), key, public)
}

impl RegionKey {
    /// The configuration string: `tessera_rk_<key id>_<base64url pkcs8>`.
    pub fn encode(&self) -> String {
        format!("{KEY_PREFIX}{}_{}", self.id.simple(), URL_SAFE_NO_PAD.encode(&self.pkcs8))
    }

    /// Parses the configuration string.
    pub fn decode(text: &str) -> Result<Self, RegionTokenError> {
        let rest = text.trim().strip_prefix(KEY_PREFIX).ok_or(RegionTokenError::MalformedKey)?;
        let (id, key) = rest.split_once('_').ok_or(RegionTokenError::MalformedKey)?;
        let id = Uuid::parse_str(id).map_err(|_| RegionTokenError::MalformedKey)?;
        let pkcs8 = URL_SAFE_NO_PAD.decode(key).map_err(|_| RegionTokenError::MalformedKey)?;
        Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| RegionTokenError::MalformedKey)?;
        Ok(Self { id, pkcs8 })
    }

    /// The raw public key.
    pub fn public_key(&self) -> Vec<u8> {
        Ed25519KeyPair::from_pkcs8(&self.pkcs8).expect("validated at decode").public_key().as_ref().to_vec()
    }
}

/// Signs a token for `region`, valid for `lifetime` from `now` (unix seconds).
pub fn region_token(key: &RegionKey, region: &str, now: i64, lifetime: Duration) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.id.simple().to_string());
    let claims = RegionClaims {
        iss: format!("region:{region}"),
        aud: AUDIENCE.to_owned(),
        iat: now,
        exp: now + lifetime.as_secs() as i64,
        region: region.to_owned(),
    };
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.pkcs8)).expect("Ed25519 signing cannot fail")
}

/// Verifies region tokens against the public keys the control plane issued.
pub struct RegionVerifier;

impl RegionVerifier {
    /// The key id a token claims, before verification (to look up its public key).
    pub fn key_id(token: &str) -> Result<Uuid, RegionTokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.ok_or(RegionTokenError::MissingKeyId)?;
        Uuid::parse_str(&kid).map_err(|_| RegionTokenError::MissingKeyId)
    }

    /// Verifies signature, audience, expiry and lifetime, and that the key belongs to the claimed region.
    pub fn verify(token: &str, public_key: &[u8], key_region: &str) -> Result<RegionClaims, RegionTokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.leeway = 5;
        let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public_key))?;
        let claims = jsonwebtoken::decode::<RegionClaims>(token, &key, &validation)?.claims;
        if claims.exp - claims.iat > MAX_TOKEN_LIFETIME.as_secs() as i64 {
            return Err(RegionTokenError::TooLong);
        }
        if claims.region != key_region || claims.iss != format!("region:{key_region}") {
            return Err(RegionTokenError::WrongRegion { claimed: claims.region, owner: key_region.to_owned() });
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        // Tokens are checked against the real clock by jsonwebtoken; sign with it too.
        #[allow(clippy::disallowed_methods)]
        let t = time::OffsetDateTime::now_utc().unix_timestamp();
        t
    }

    #[test]
    fn tokens_verify_only_with_the_right_key_and_region() {
        let (text, key, public) = generate_region_key();
        let decoded = RegionKey::decode(&text).unwrap();
        assert_eq!(decoded.id, key.id);
        assert_eq!(decoded.public_key(), public);

        let token = region_token(&key, "eu-central", now(), Duration::from_secs(60));
        assert_eq!(RegionVerifier::key_id(&token).unwrap(), key.id);
        let claims = RegionVerifier::verify(&token, &public, "eu-central").unwrap();
        assert_eq!(claims.region, "eu-central");

        assert!(matches!(
            RegionVerifier::verify(&token, &public, "us-east"),
            Err(RegionTokenError::WrongRegion { .. })
        ));
        let (_, _, other_public) = generate_region_key();
        assert!(matches!(
            RegionVerifier::verify(&token, &other_public, "eu-central"),
            Err(RegionTokenError::Invalid(_))
        ));
        let expired = region_token(&key, "eu-central", now() - 600, Duration::from_secs(60));
        assert!(RegionVerifier::verify(&expired, &public, "eu-central").is_err());
        let long = region_token(&key, "eu-central", now(), Duration::from_secs(3600));
        assert!(matches!(RegionVerifier::verify(&long, &public, "eu-central"), Err(RegionTokenError::TooLong)));
        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert!(RegionVerifier::verify(&tampered, &public, "eu-central").is_err());
        assert!(RegionKey::decode("tessera_rk_nonsense").is_err());
    }
}
