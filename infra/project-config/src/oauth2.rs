//! `services.oauth2.config`: the subset of Hydra's configuration Tessera's OAuth2 engine reads.
//!
//! Server-level keys (`serve`, `dsn`, `log`, `secrets`, ...) make no sense on a hosted, multi-tenant
//! service; they fall outside this subset and are reported as warnings by the caller.

use serde::{Deserialize, Serialize};

use super::types::{GoDuration, HttpUrl};
use super::{Invalid, RenderContext};

/// The OAuth2 engine's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuth2Config {
    pub urls: Urls,
    pub ttl: Ttl,
    pub strategies: Strategies,
    pub oauth2: OAuth2Section,
    pub oidc: Oidc,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Urls {
    #[serde(rename = "self")]
    pub self_: SelfUrls,
    pub login: Option<HttpUrl>,
    pub consent: Option<HttpUrl>,
    pub logout: Option<HttpUrl>,
    pub error: Option<HttpUrl>,
    pub post_logout_redirect: Option<HttpUrl>,
    pub registration: Option<HttpUrl>,
    pub device: DeviceUrls,
}

/// The device authorization grant's pages: where `/oauth2/device/verify` sends a browser that brought no user
/// code (the UI collects it), and where it sends the browser once the device is approved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceUrls {
    pub verification: Option<HttpUrl>,
    pub success: Option<HttpUrl>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfUrls {
    pub issuer: Option<HttpUrl>,
    pub public: Option<HttpUrl>,
    pub admin: Option<HttpUrl>,
}

/// Token and request lifespans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ttl {
    pub access_token: GoDuration,
    pub refresh_token: GoDuration,
    pub id_token: GoDuration,
    pub auth_code: GoDuration,
    pub login_consent_request: GoDuration,
    pub device_user_code: GoDuration,
}

impl Default for Ttl {
    fn default() -> Self {
        Self {
            access_token: GoDuration::secs(3600),
            refresh_token: GoDuration::secs(720 * 3600),
            id_token: GoDuration::secs(3600),
            auth_code: GoDuration::secs(10 * 60),
            login_consent_request: GoDuration::secs(30 * 60),
            device_user_code: GoDuration::secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Strategies {
    pub access_token: AccessTokenStrategy,
    pub scope: ScopeStrategy,
    pub jwt: JwtStrategy,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenStrategy {
    #[default]
    Opaque,
    Jwt,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeStrategy {
    #[default]
    Exact,
    Wildcard,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JwtStrategy {
    pub scope_claim: ScopeClaim,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeClaim {
    #[default]
    List,
    String,
    Both,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuth2Section {
    pub pkce: Pkce,
    pub client_credentials: ClientCredentials,
    pub grant: Grant,
    pub allowed_top_level_claims: Vec<String>,
    pub mirror_top_level_claims: bool,
    pub expose_internal_errors: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pkce {
    pub enforced: bool,
    pub enforced_for_public_clients: bool,
}

impl Default for Pkce {
    fn default() -> Self {
        Self { enforced: false, enforced_for_public_clients: true }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientCredentials {
    pub default_grant_allowed_scope: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Grant {
    pub jwt: JwtGrant,
    pub refresh_token: RefreshTokenGrant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JwtGrant {
    pub jti_optional: bool,
    pub iat_optional: bool,
    pub max_ttl: GoDuration,
}

impl Default for JwtGrant {
    fn default() -> Self {
        Self { jti_optional: false, iat_optional: false, max_ttl: GoDuration::secs(720 * 3600) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefreshTokenGrant {
    pub rotation_grace_period: Option<GoDuration>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Oidc {
    pub subject_identifiers: SubjectIdentifiers,
    pub dynamic_client_registration: DynamicClientRegistration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubjectIdentifiers {
    pub supported_types: Vec<SubjectType>,
    pub pairwise: Pairwise,
}

impl Default for SubjectIdentifiers {
    fn default() -> Self {
        Self { supported_types: vec![SubjectType::Public], pairwise: Pairwise::default() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    Public,
    Pairwise,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pairwise {
    pub salt: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DynamicClientRegistration {
    pub enabled: bool,
    pub default_scope: Vec<String>,
}

/// The configuration a new project starts with: login and consent on the project's own UI pages.
pub fn default_config(ctx: &RenderContext) -> OAuth2Config {
    let page = |p: &str| HttpUrl::parse(&format!("{}/ui/{p}", ctx.project_url)).ok();
    let mut c = OAuth2Config::default();
    c.urls.login = page("login");
    c.urls.consent = page("consent");
    c.urls.logout = page("logout");
    c.urls.error = page("error");
    c.urls.post_logout_redirect = page("welcome");
    c
}

/// Checks what types cannot.
pub fn validate(c: &OAuth2Config) -> Result<(), Invalid> {
    let ids = &c.oidc.subject_identifiers;
    if ids.supported_types.is_empty() {
        return Err(Invalid::at("oidc.subject_identifiers.supported_types", "must name at least one subject type"));
    }
    if ids.supported_types.contains(&SubjectType::Pairwise) && ids.pairwise.salt.as_deref().is_none_or(|s| s.len() < 8)
    {
        return Err(Invalid::at(
            "oidc.subject_identifiers.pairwise.salt",
            "pairwise subjects need a salt of at least 8 characters",
        ));
    }
    if c.ttl.access_token.0.is_zero() {
        return Err(Invalid::at("ttl.access_token", "must be longer than zero"));
    }
    Ok(())
}
