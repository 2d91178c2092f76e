//! Sessions: issuing them, finding the one a request carries, and answering whoami from the cache.

pub mod cache;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::web::Bytes;
use sha2::{Digest, Sha256};
use tessera_platform::secrets::generate_token;
use tessera_platform::tenant::TenantContext;
use tessera_platform::usage::meter;
use uuid::Uuid;

use crate::error::IdentityError;
use crate::model::{AuthMethod, Device, Identity, IdentityState, Session, SessionId};
use crate::service::IdentityService;
use crate::store::StoredSession;
use crate::urls::PublicUrls;
use crate::wire::{SessionView, session_json};
use cache::TokenDigest;

/// Prefix of session tokens, as Ory's.
pub const SESSION_TOKEN_PREFIX: &str = "ory_st_";
/// Prefix of logout tokens.
pub const LOGOUT_TOKEN_PREFIX: &str = "ory_lo_";
/// The header Kratos sets on a successful whoami.
pub const IDENTITY_HEADER: &str = "x-kratos-authenticated-identity-id";

/// The digest as stored (hex).
pub fn digest_hex(token: &str) -> String {
    tessera_platform::secrets::hash_secret(token)
}

/// The session cookie's name for a project: `ory_session_` and the slug without dashes, as on Ory Network.
pub fn cookie_name(tenant: &TenantContext) -> String {
    format!("ory_session_{}", tenant.slug().replace('-', ""))
}

/// Where a request's session token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Header,
    Cookie,
    Bearer,
}

/// The session token a request carries: `X-Session-Token`, then the session cookie, then
/// `Authorization: Bearer`, in Kratos's order.
pub fn request_token(req: &HttpRequest, tenant: &TenantContext) -> Option<(String, TokenSource)> {
    if let Some(v) = req.headers().get("x-session-token").and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()) {
        return Some((v.trim().to_owned(), TokenSource::Header));
    }
    if let Some(c) = req.cookie(&cookie_name(tenant)).filter(|c| !c.value().is_empty()) {
        return Some((c.value().to_owned(), TokenSource::Cookie));
    }
    let auth = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let mut parts = auth.split(' ');
    let (scheme, token, rest) = (parts.next()?, parts.next()?, parts.next());
    (scheme.eq_ignore_ascii_case("bearer") && rest.is_none() && !token.is_empty())
        .then(|| (token.to_owned(), TokenSource::Bearer))
}

/// The cookie that carries a session to the browser.
pub fn session_cookie(tenant: &TenantContext, urls: &PublicUrls, token: &str, session: &Session) -> Cookie<'static> {
    let cfg = &tenant.config().identity.session.cookie;
    let mut c = Cookie::build(cookie_name(tenant), token.to_owned())
        .path(cfg.path.clone().unwrap_or_else(|| "/".into()))
        .http_only(true)
        .secure(urls.is_https())
        .same_site(same_site(cfg.same_site))
        .finish();
    if let Some(domain) = &cfg.domain {
        c.set_domain(domain.clone());
    }
    if cfg.persistent {
        let secs = (session.expires_at - session.issued_at).whole_seconds().max(0);
        c.set_max_age(CookieDuration::seconds(secs));
    }
    c
}

/// A cookie that removes the session cookie.
pub fn expired_session_cookie(tenant: &TenantContext, urls: &PublicUrls) -> Cookie<'static> {
    let mut c = Cookie::build(cookie_name(tenant), "").path("/").http_only(true).secure(urls.is_https()).finish();
    c.make_removal();
    c
}

fn same_site(s: tessera_project_config::identity::SameSite) -> SameSite {
    match s {
        tessera_project_config::identity::SameSite::Strict => SameSite::Strict,
        tessera_project_config::identity::SameSite::Lax => SameSite::Lax,
        tessera_project_config::identity::SameSite::None => SameSite::None,
    }
}

/// A freshly issued session and its secrets (shown once).
#[derive(Debug)]
pub struct IssuedSession {
    pub session: Session,
    pub token: String,
    pub logout_token: String,
}

/// The device a request comes from.
pub fn device_of(req: &HttpRequest, client_ip: Option<std::net::IpAddr>) -> Device {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let location = match (header("cf-ipcity"), header("cf-ipcountry")) {
        (Some(city), Some(country)) => format!("{city}, {country}"),
        (None, Some(country)) => country,
        _ => String::new(),
    };
    Device {
        id: Uuid::now_v7(),
        ip_address: client_ip.map(|ip| ip.to_string()),
        user_agent: header("user-agent"),
        location: Some(location),
    }
}

impl IdentityService {
    /// Issues a session for `identity`, authenticated by `methods`.
    pub async fn issue_session(
        &self,
        tenant: &TenantContext,
        identity: &Identity,
        methods: Vec<AuthMethod>,
        device: Device,
    ) -> Result<IssuedSession, IdentityError> {
        if tenant.over_quota(meter::ACTIVE_IDENTITIES) {
            return Err(IdentityError::QuotaExceeded(meter::ACTIVE_IDENTITIES));
        }
        let now = self.now();
        let lifespan =
            time::Duration::try_from(tenant.config().identity.session.lifespan.0).unwrap_or(time::Duration::days(3));
        let session = Session {
            id: SessionId::new(),
            identity_id: identity.id,
            active: true,
            aal: Session::compute_aal(&methods),
            methods,
            devices: vec![device],
            authenticated_at: now,
            issued_at: now,
            expires_at: now + lifespan,
            created_at: now,
            updated_at: now,
        };
        let token = generate_token(SESSION_TOKEN_PREFIX);
        let logout_token = logout_token_for(&token);
        self.store(tenant).insert_session(&session, &digest_hex(&token), &digest_hex(&logout_token)).await?;
        self.metrics.sessions_issued.with_label_values(&[&tenant.project_id().to_string()]).inc();
        tenant.usage().active_identity(&identity.id.to_string());
        Ok(IssuedSession { session, token, logout_token })
    }

    /// The active session (and its identity) a token names in this project, read from the database.
    pub async fn active_session(
        &self,
        tenant: &TenantContext,
        token: &str,
    ) -> Result<Option<(StoredSession, Identity)>, IdentityError> {
        let store = self.store(tenant);
        let Some(stored) = store.session_by_token(&digest_hex(token)).await? else { return Ok(None) };
        if !stored.session.is_active_at(self.now()) {
            return Ok(None);
        }
        let Some(identity) = store.get(stored.session.identity_id, false).await? else { return Ok(None) };
        if identity.state != IdentityState::Active {
            return Ok(None);
        }
        Ok(Some((stored, identity)))
    }

    /// The whoami answer for a token: from the cache, or read, rendered and cached. `None`: no valid session.
    pub async fn whoami(
        &self,
        tenant: &TenantContext,
        urls: &PublicUrls,
        token: &str,
    ) -> Result<Option<(Bytes, crate::model::IdentityId)>, IdentityError> {
        let key = cache_key(urls, token);
        let now = self.now();
        if let Some(hit) = self.sessions.get(&key, tenant.project_id(), now) {
            self.metrics.whoami.with_label_values(&["hit"]).inc();
            return Ok(Some((hit.body.clone(), hit.identity_id)));
        }
        let seen = self.sessions.applied();
        let Some((stored, identity)) = self.active_session(tenant, token).await? else {
            self.metrics.whoami.with_label_values(&["none"]).inc();
            return Ok(None);
        };
        self.metrics.whoami.with_label_values(&["miss"]).inc();
        let s = &stored.session;
        let body = session_json(
            s,
            urls,
            SessionView { identity: Some(&identity), show_identity: true, admin: false, devices: true, now },
        );
        let bytes = Bytes::from(serde_json::to_vec(&body).map_err(|_| IdentityError::Internal)?);
        self.sessions.insert(key, tenant.project_id(), s.id, identity.id, s.expires_at, bytes.clone(), seen);
        Ok(Some((bytes, identity.id)))
    }
}

/// The logout token of a session: derived from the session token, so it can be shown again to whoever holds
/// the session (the logout URL endpoint) without storing it, and is unguessable without the session token.
pub fn logout_token_for(session_token: &str) -> String {
    let digest = Sha256::digest(format!("tessera-logout\0{session_token}").as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("{LOGOUT_TOKEN_PREFIX}{hex}")
}

/// The cache key of a whoami answer: the token and the public URL it was asked at (the answer links to
/// the schema under that URL, so answers for different hosts differ).
fn cache_key(urls: &PublicUrls, token: &str) -> TokenDigest {
    let mut h = Sha256::new();
    h.update(urls.base().as_bytes());
    h.update([0]);
    h.update(token.as_bytes());
    h.finalize().into()
}

/// The session a request carries, read from the database: what flows and session management act on.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub stored: StoredSession,
    pub identity: Identity,
    pub token: String,
    pub source: TokenSource,
}

impl IdentityService {
    /// The request's active session in this project, if any.
    pub async fn current_session(
        &self,
        tenant: &TenantContext,
        req: &HttpRequest,
    ) -> Result<Option<CurrentSession>, IdentityError> {
        let Some((token, source)) = request_token(req, tenant) else { return Ok(None) };
        Ok(self.active_session(tenant, &token).await?.map(|(stored, identity)| CurrentSession {
            stored,
            identity,
            token,
            source,
        }))
    }
}
