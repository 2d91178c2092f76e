//! The browser cookies of the authorization flow: a CSRF cookie that binds the login and consent verifiers to
//! the browser that started the flow, and the login-session cookie that remembers who signed in.
//!
//! Names carry a per-project suffix so two projects on one host (`/p/<slug>` in development) never share them.
//! The session cookie's value is `<sid>.<HMAC>`, so a client cannot name another browser's session.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use sha2::{Digest, Sha256};
use tessera_platform::secrets::constant_time_eq;

use crate::token::ProjectKeys;

/// Cookie names and attributes for one project as reached by one request.
#[derive(Debug, Clone)]
pub struct FlowCookies {
    suffix: String,
    path: String,
    secure: bool,
}

impl FlowCookies {
    /// For the project's public base URL (scheme, host and path prefix).
    pub fn new(base_url: &str, base_path: &str) -> Self {
        let digest = Sha256::digest(base_url.as_bytes());
        let suffix: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let path = if base_path.is_empty() { "/".to_owned() } else { base_path.to_owned() };
        Self { suffix, path, secure: base_url.starts_with("https://") }
    }

    fn build(&self, name: String, value: String, max_age: Option<CookieDuration>) -> Cookie<'static> {
        let mut c = Cookie::build(name, value)
            .path(self.path.clone())
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        if let Some(age) = max_age {
            c.set_max_age(age);
        }
        c
    }

    /// The CSRF cookie's name.
    pub fn csrf_name(&self) -> String {
        format!("ory_hydra_csrf_{}", self.suffix)
    }

    /// The CSRF cookie for a new flow.
    pub fn csrf(&self, value: &str) -> Cookie<'static> {
        self.build(self.csrf_name(), value.to_owned(), Some(CookieDuration::hours(1)))
    }

    /// Whether the request carries the CSRF cookie whose digest the flow stored.
    pub fn csrf_matches(&self, req: &HttpRequest, digest: &str) -> bool {
        req.cookie(&self.csrf_name())
            .map(|c| hex_digest(c.value()))
            .is_some_and(|d| constant_time_eq(d.as_bytes(), digest.as_bytes()))
    }

    /// The login-session cookie's name.
    pub fn session_name(&self) -> String {
        format!("ory_hydra_session_{}", self.suffix)
    }

    /// A login-session cookie for `sid`, kept `max_age` (a remembered login) or for the browser session.
    pub fn session(&self, keys: &ProjectKeys, sid: &str, max_age: Option<CookieDuration>) -> Cookie<'static> {
        self.build(self.session_name(), format!("{sid}.{}", keys.sign_cookie(sid)), max_age)
    }

    /// The login session id the request's cookie names, if its signature holds.
    pub fn session_id(&self, req: &HttpRequest, keys: &ProjectKeys) -> Option<String> {
        let cookie = req.cookie(&self.session_name())?;
        let (sid, signature) = cookie.value().rsplit_once('.')?;
        constant_time_eq(keys.sign_cookie(sid).as_bytes(), signature.as_bytes()).then(|| sid.to_owned())
    }

    /// A cookie that removes the login session.
    pub fn clear_session(&self) -> Cookie<'static> {
        self.build(self.session_name(), String::new(), Some(CookieDuration::ZERO))
    }
}

/// SHA-256 hex of a secret value (CSRF cookies, verifiers): what is stored.
pub fn hex_digest(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
