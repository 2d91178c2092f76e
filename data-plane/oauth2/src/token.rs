//! Opaque token formats and the keyed digests behind them.
//!
//! A token is `<prefix><key>.<signature>`: 32 random bytes (base64url) and their HMAC-SHA256 under a key derived
//! from the installation's secret and the project. Only the signature is stored, so the database alone yields no
//! usable token; the HMAC is checked before any read, so forged tokens and tokens of another project are refused
//! without touching the database. Client secrets are stored the same way: a keyed digest, fast to check on the
//! token endpoint (a slow KDF there would cap throughput, as it caps Hydra) yet worthless without the secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;
use tessera_platform::ids::ProjectId;
use tessera_platform::secrets::constant_time_eq;

type HmacSha256 = Hmac<Sha256>;

/// What a token is for; each has its own prefix, so one cannot be presented as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    AccessToken,
    RefreshToken,
    AuthorizeCode,
    /// RFC 8628's `device_code`, polled by the device at the token endpoint.
    DeviceCode,
}

impl TokenKind {
    /// The prefix Ory Network's tokens carry.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::AccessToken => "ory_at_",
            Self::RefreshToken => "ory_rt_",
            Self::AuthorizeCode => "ory_ac_",
            Self::DeviceCode => "ory_dc_",
        }
    }

    /// The name stored with the token and shown by introspection (`token_use`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::AuthorizeCode => "authorize_code",
            Self::DeviceCode => "device_code",
        }
    }
}

/// The installation's secret, from which per-project keys are derived. Never stored in a database.
#[derive(Clone)]
pub struct SystemSecret(Vec<u8>);

impl std::fmt::Debug for SystemSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemSecret(…)")
    }
}

impl SystemSecret {
    /// From configuration (at least 16 bytes, checked there).
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// The project's key for `purpose`: HMAC(system secret, purpose ‖ project id).
    fn project_key(&self, project: ProjectId, purpose: &str) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(project.0.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The keys one project's tokens and client secrets are signed with.
    pub fn for_project(&self, project: ProjectId) -> ProjectKeys {
        ProjectKeys {
            tokens: self.project_key(project, "tessera-oauth2-tokens"),
            client_secrets: self.project_key(project, "tessera-oauth2-client-secrets"),
        }
    }
}

/// One project's derived keys.
#[derive(Clone)]
pub struct ProjectKeys {
    tokens: [u8; 32],
    client_secrets: [u8; 32],
}

/// A freshly minted token: the text handed to the client and the signature stored for it.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    pub signature: String,
}

impl ProjectKeys {
    fn sign(&self, kind: TokenKind, key: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.tokens).expect("HMAC takes any key length");
        mac.update(kind.prefix().as_bytes());
        mac.update(key.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A new token of `kind`.
    pub fn mint(&self, kind: TokenKind) -> MintedToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = URL_SAFE_NO_PAD.encode(bytes);
        let signature = self.sign(kind, &key);
        MintedToken { token: format!("{}{key}.{signature}", kind.prefix()), signature }
    }

    /// The stored signature of `token` if it is a well-formed token of `kind` signed for this project; `None`
    /// for anything else (another kind, another project, a forgery, garbage).
    pub fn verify(&self, kind: TokenKind, token: &str) -> Option<String> {
        let rest = token.strip_prefix(kind.prefix())?;
        if rest.len() > 200 {
            return None;
        }
        let (key, signature) = rest.split_once('.')?;
        let expected = self.sign(kind, key);
        constant_time_eq(expected.as_bytes(), signature.as_bytes()).then_some(expected)
    }

    /// The signature of a login-session cookie value (keyed like tokens, with its own label).
    pub fn sign_cookie(&self, value: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.tokens).expect("HMAC takes any key length");
        mac.update(b"login-session-cookie\0");
        mac.update(value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The stored form of a device flow's user code (normalised): keyed like tokens, with its own label, so the
    /// short code cannot be recovered from the database by enumeration.
    pub fn user_code_digest(&self, user_code: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.tokens).expect("HMAC takes any key length");
        mac.update(b"device-user-code\0");
        mac.update(user_code.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The stored form of a client secret: HMAC(project key, client id ‖ secret), hex.
    pub fn client_secret_digest(&self, client_id: &str, secret: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.client_secrets).expect("HMAC takes any key length");
        mac.update(client_id.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A new client secret as Hydra generates them: 26 random bytes of printable text.
pub fn generate_client_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_project_and_kind() {
        let secret = SystemSecret::new(b"a test secret of some length");
        let (a, b) = (ProjectId::new(), ProjectId::new());
        let keys = secret.for_project(a);
        let minted = keys.mint(TokenKind::AccessToken);
        assert!(minted.token.starts_with("ory_at_"));
        assert_eq!(keys.verify(TokenKind::AccessToken, &minted.token), Some(minted.signature.clone()));
        assert_eq!(secret.for_project(b).verify(TokenKind::AccessToken, &minted.token), None, "other project");
        assert_eq!(keys.verify(TokenKind::RefreshToken, &minted.token), None, "other kind");
        let forged = format!("{}x", minted.token);
        assert_eq!(keys.verify(TokenKind::AccessToken, &forged), None);
        assert_eq!(keys.verify(TokenKind::AccessToken, "ory_at_nodot"), None);
        assert_eq!(keys.verify(TokenKind::AccessToken, ""), None);
        assert_ne!(keys.mint(TokenKind::AccessToken).token, minted.token);
    }

    #[test]
    fn client_secret_digests_depend_on_client_project_and_system_secret() {
        let secret = SystemSecret::new(b"a test secret of some length");
        let p = ProjectId::new();
        let d = secret.for_project(p).client_secret_digest("client", "s3cret");
        assert_eq!(d, secret.for_project(p).client_secret_digest("client", "s3cret"));
        assert_ne!(d, secret.for_project(p).client_secret_digest("client2", "s3cret"));
        assert_ne!(d, secret.for_project(ProjectId::new()).client_secret_digest("client", "s3cret"));
        assert_ne!(
            d,
            SystemSecret::new(b"another secret entirely").for_project(p).client_secret_digest("client", "s3cret")
        );
        assert_eq!(d.len(), 64);
    }
}
