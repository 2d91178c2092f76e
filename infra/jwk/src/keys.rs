//! Private signing keys: generation, JWK export/import, persistence, signing.

use std::fmt;

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin, EcPrivateKeyBin, Pkcs8V1Der};
use aws_lc_rs::rand::{SystemRandom, fill};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    ParsedPublicKey, RSA_PKCS1_SHA256, RsaKeyPair, RsaSubjectPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::der::{rsa_private_parts, rsa_public_parts};
use crate::members::Members;
use crate::verify::PublicKey;
use crate::{Algorithm, JwkError, KeyUse, b64_encode};

/// The aws-lc-rs key, parsed once so that signing never re-reads DER.
enum Signer {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// An asymmetric private key with its JWK metadata (`kid`, `alg`, `use`).
///
/// This is what a Hydra key set holds: it signs ID tokens, JWT access tokens
/// and logout tokens, and is exported as a JWK (public part on the JWKS
/// endpoint, private part on the admin API). Share it behind an `Arc`; every
/// method takes `&self` and is safe to call from many threads.
pub struct KeyPair {
    kid: String,
    alg: Algorithm,
    key_use: KeyUse,
    signer: Signer,
    /// The public JWK, built once: the JWKS endpoint serves it constantly.
    public_jwk: Value,
    /// base64url of `{"alg":…,"kid":…,"typ":"JWT"}`, the usual JWS header.
    jwt_header: String,
}

impl fmt::Debug for KeyPair {
    /// Shows the metadata only; private material never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .finish_non_exhaustive()
    }
}

/// A random UUID (version 4 layout, like Hydra's key ids) from the system RNG.
fn random_kid() -> Result<String, JwkError> {
    let mut bytes = [0u8; 16];
    fill(&mut bytes).map_err(|_| JwkError::KeyGeneration)?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
}

/// Splits an uncompressed SEC1 P-256 point `04 || x || y` into x and y.
fn split_point(point: &[u8]) -> Option<(&[u8], &[u8])> {
    match point {
        [0x04, coords @ ..] if coords.len() == 64 => Some(coords.split_at(32)),
        _ => None,
    }
}

impl KeyPair {
    /// Generates a new key: P-256 for ES256, 2048-bit RSA for RS256, Ed25519
    /// for EdDSA. Without a `kid`, a random UUID is used, as Hydra does.
    pub fn generate(alg: Algorithm, kid: Option<String>, key_use: KeyUse) -> Result<KeyPair, JwkError> {
        let kid = match kid {
            Some(kid) if kid.is_empty() => {
                return Err(JwkError::InvalidJwk("member \"kid\" must not be empty".into()));
            }
            Some(kid) => kid,
            None => random_kid()?,
        };
        let signer = match alg {
            Algorithm::ES256 => Signer::Es256(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| JwkError::KeyGeneration)?,
            ),
            Algorithm::RS256 => {
                Signer::Rs256(RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JwkError::KeyGeneration)?)
            }
            Algorithm::EdDSA => Signer::EdDsa(Ed25519KeyPair::generate().map_err(|_| JwkError::KeyGeneration)?),
        };
        Self::assemble(kid, alg, key_use, signer)
    }

    /// Builds the cached public JWK and JWS header around a parsed key.
    fn assemble(kid: String, alg: Algorithm, key_use: KeyUse, signer: Signer) -> Result<KeyPair, JwkError> {
        let mut key = KeyPair { kid, alg, key_use, signer, public_jwk: Value::Null, jwt_header: String::new() };
        key.public_jwk = Value::Object(key.jwk(false)?);
        key.jwt_header = key.header("JWT");
        Ok(key)
    }

    /// The key id (`kid`), which verifiers use to pick this key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signature algorithm (`alg`) this key signs with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The intended use (`use`); only `sig` keys may sign.
    pub fn key_use(&self) -> KeyUse {
        self.key_use
    }

    /// The public JWK in Hydra's `jsonWebKey` shape (`use`, `kty`, `kid`,
    /// `crv`, `alg`, then the key members), as served on `/.well-known/jwks.json`.
    pub fn public_jwk(&self) -> Value {
        self.public_jwk.clone()
    }

    /// The private JWK in Hydra's `jsonWebKey` shape, including `d` (and `p`,
    /// `q`, `dp`, `dq`, `qi` for RSA), as returned by the admin keys API.
    pub fn private_jwk(&self) -> Result<Value, JwkError> {
        self.jwk(true).map(Value::Object)
    }

    /// The public key alone, for verifying tokens this key signed.
    pub fn public_key(&self) -> Result<PublicKey, JwkError> {
        PublicKey::from_jwk(&self.public_jwk)
    }

    /// Writes the JWK members in go-jose's order so output matches Hydra's.
    fn jwk(&self, private: bool) -> Result<Map<String, Value>, JwkError> {
        let mut jwk = Map::new();
        let mut put = |name: &str, value: String| {
            jwk.insert(name.to_owned(), Value::String(value));
        };
        put("use", self.key_use.as_str().to_owned());
        put("kty", self.alg.key_type().to_owned());
        put("kid", self.kid.clone());
        if let Some(crv) = self.alg.curve() {
            put("crv", crv.to_owned());
        }
        put("alg", self.alg.as_str().to_owned());
        match &self.signer {
            Signer::Es256(key) => {
                let (x, y) = split_point(key.public_key().as_ref()).ok_or(JwkError::Export)?;
                put("x", b64_encode(x));
                put("y", b64_encode(y));
                if private {
                    let d: EcPrivateKeyBin<'_> = key.private_key().as_be_bytes().map_err(|_| JwkError::Export)?;
                    put("d", b64_encode(d.as_ref()));
                }
            }
            Signer::EdDsa(key) => {
                put("x", b64_encode(key.public_key().as_ref()));
                if private {
                    let seed: Curve25519SeedBin<'_> =
                        key.seed().and_then(|s| s.as_be_bytes()).map_err(|_| JwkError::Export)?;
                    put("d", b64_encode(seed.as_ref()));
                }
            }
            Signer::Rs256(key) => {
                if private {
                    let der: Pkcs8V1Der<'_> = key.as_der().map_err(|_| JwkError::Export)?;
                    let parts = rsa_private_parts(der.as_ref()).ok_or(JwkError::Export)?;
                    for (name, value) in [
                        ("n", &parts.n),
                        ("e", &parts.e),
                        ("d", &parts.d),
                        ("p", &parts.p),
                        ("q", &parts.q),
                        ("dp", &parts.dp),
                        ("dq", &parts.dq),
                        ("qi", &parts.qi),
                    ] {
                        put(name, b64_encode(value));
                    }
                } else {
                    let public: &RsaSubjectPublicKey = key.public_key();
                    let (n, e) = rsa_public_parts(public.as_ref()).ok_or(JwkError::Export)?;
                    put("n", b64_encode(&n));
                    put("e", b64_encode(&e));
                }
            }
        }
        Ok(jwk)
    }

    /// Imports a private JWK (`PUT /admin/keys/{set}/{kid}`).
    ///
    /// Requires `kty`, `kid`, `alg` and the private members; `use` defaults
    /// to `sig`. Refuses symmetric keys, algorithms other than ES256, RS256
    /// and EdDSA, an `alg` that contradicts `kty`/`crv`, and key material that
    /// does not load or whose public part does not match the private part.
    pub fn from_jwk(jwk: &Value) -> Result<KeyPair, JwkError> {
        let members = Members::new(jwk)?;
        let family = members.key_family()?;
        let alg = members.alg_for(family)?.ok_or_else(|| JwkError::InvalidJwk("member \"alg\" is missing".into()))?;
        let kid = members.str_req("kid")?;
        if kid.is_empty() {
            return Err(JwkError::InvalidJwk("member \"kid\" must not be empty".into()));
        }
        let key_use = members.str_opt("use")?.map(str::parse).transpose()?.unwrap_or_default();
        if !members.has("d") {
            return Err(JwkError::InvalidJwk("member \"d\" is missing: a private key is required".into()));
        }
        let signer = match alg {
            Algorithm::ES256 => {
                let x = members.bytes_exact("x", 32, "P-256")?;
                let y = members.bytes_exact("y", 32, "P-256")?;
                let d = members.bytes_exact("d", 32, "P-256")?;
                let point = [&[0x04][..], &x, &y].concat();
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                    .map_err(|_| JwkError::InvalidKeyMaterial("the point (x, y) is not on the P-256 curve"))?;
                Signer::Es256(
                    EcdsaKeyPair::from_private_key_and_public_key(&ECDSA_P256_SHA256_FIXED_SIGNING, &d, &point)
                        .map_err(|_| JwkError::InvalidKeyMaterial("the private key d does not match x and y"))?,
                )
            }
            Algorithm::EdDSA => {
                let x = members.bytes_exact("x", 32, "Ed25519")?;
                let d = members.bytes_exact("d", 32, "Ed25519")?;
                Signer::EdDsa(
                    Ed25519KeyPair::from_seed_and_public_key(&d, &x)
                        .map_err(|_| JwkError::InvalidKeyMaterial("the private key d does not match x"))?,
                )
            }
            Algorithm::RS256 => Signer::Rs256(import_rsa(&members)?),
        };
        Self::assemble(kid.to_owned(), alg, key_use, signer)
    }

    /// The persisted form: the private JWK as JSON. Encrypt it with
    /// [`crate::Sealer`] before it is written anywhere.
    pub fn to_stored(&self) -> Result<Vec<u8>, JwkError> {
        let jwk = self.private_jwk()?;
        serde_json::to_vec(&jwk).map_err(|_| JwkError::Export)
    }

    /// Loads a key written by [`KeyPair::to_stored`], validating it again.
    pub fn from_stored(stored: &[u8]) -> Result<KeyPair, JwkError> {
        let jwk: Value =
            serde_json::from_slice(stored).map_err(|_| JwkError::InvalidStored("not a JSON Web Key".into()))?;
        Self::from_jwk(&jwk).map_err(|e| JwkError::InvalidStored(e.to_string()))
    }

    /// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ": "JWT"}`.
    ///
    /// `claims` is anything that serializes to a JSON object (a
    /// `serde_json::Value` or a typed struct, which avoids building a `Value`).
    pub fn sign_jwt<T: Serialize + ?Sized>(&self, claims: &T) -> Result<String, JwkError> {
        self.sign_with_header(&self.jwt_header, claims)
    }

    /// Like [`KeyPair::sign_jwt`] with another `typ`, such as `at+jwt`
    /// (RFC 9068 access tokens) or `logout+jwt` (back-channel logout).
    pub fn sign_jwt_with_typ<T: Serialize + ?Sized>(&self, claims: &T, typ: &str) -> Result<String, JwkError> {
        if typ == "JWT" {
            return self.sign_jwt(claims);
        }
        self.sign_with_header(&self.header(typ), claims)
    }

    /// The base64url-encoded protected header for a given `typ`.
    fn header(&self, typ: &str) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), Value::String(self.alg.as_str().into()));
        header.insert("kid".into(), Value::String(self.kid.clone()));
        header.insert("typ".into(), Value::String(typ.into()));
        b64_encode(Value::Object(header).to_string().as_bytes())
    }

    fn sign_with_header<T: Serialize + ?Sized>(&self, header_b64: &str, claims: &T) -> Result<String, JwkError> {
        if self.key_use != KeyUse::Sig {
            return Err(JwkError::NotASigningKey(self.kid.clone()));
        }
        let payload = serde_json::to_vec(claims).map_err(|_| JwkError::InvalidClaims)?;
        if payload.first() != Some(&b'{') {
            return Err(JwkError::InvalidClaims);
        }
        let mut token = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 8 + 344);
        token.push_str(header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let input = token.as_bytes();
        match &self.signer {
            Signer::Es256(key) => {
                let signature = key.sign(&SystemRandom::new(), input).map_err(|_| JwkError::Signing)?;
                append_signature(&mut token, signature.as_ref());
            }
            Signer::EdDsa(key) => {
                let signature = key.try_sign(input).map_err(|_| JwkError::Signing)?;
                append_signature(&mut token, signature.as_ref());
            }
            Signer::Rs256(key) => {
                let mut signature = vec![0u8; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input, &mut signature)
                    .map_err(|_| JwkError::Signing)?;
                append_signature(&mut token, &signature);
            }
        }
        Ok(token)
    }
}

/// Completes `header.payload` into `header.payload.signature`.
fn append_signature(token: &mut String, signature: &[u8]) {
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, token);
}

/// Builds an RSA key from all eight JWK members; aws-lc-rs checks that they
/// are mutually consistent (n = p·q, CRT values, d against e).
fn import_rsa(members: &Members<'_>) -> Result<RsaKeyPair, JwkError> {
    if members.has("oth") {
        return Err(JwkError::UnsupportedJwk("multi-prime RSA keys (oth) are not supported".into()));
    }
    let n = members.uint("n")?;
    Members::check_rsa_modulus(&n)?;
    let e = members.uint("e")?;
    let d = members.uint("d")?;
    if ["p", "q", "dp", "dq", "qi"].iter().any(|m| !members.has(m)) {
        return Err(JwkError::InvalidJwk("RSA private keys must include p, q, dp, dq and qi".into()));
    }
    let (p, q) = (members.uint("p")?, members.uint("q")?);
    let (dp, dq, qi) = (members.uint("dp")?, members.uint("dq")?, members.uint("qi")?);
    let components = aws_lc_rs::rsa::KeyPairComponents {
        public_key: aws_lc_rs::rsa::PublicKeyComponents { n: n.as_slice(), e: e.as_slice() },
        d: d.as_slice(),
        p: p.as_slice(),
        q: q.as_slice(),
        dP: dp.as_slice(),
        dQ: dq.as_slice(),
        qInv: qi.as_slice(),
    };
    RsaKeyPair::from_components(&components)
        .map_err(|_| JwkError::InvalidKeyMaterial("the RSA key members are not a consistent RSA key"))
}
