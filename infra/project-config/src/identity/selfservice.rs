//! `selfservice`: the flows (login, registration, settings, recovery, verification, logout, error) and the
//! authentication methods.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::{Bounded, GoDuration, HttpUrl};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfService {
    pub default_browser_return_url: Option<HttpUrl>,
    pub allowed_return_urls: Vec<HttpUrl>,
    pub flows: Flows,
    pub methods: Methods,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Flows {
    pub login: LoginFlow,
    pub registration: ToggledFlow,
    pub settings: SettingsFlow,
    pub logout: LogoutFlow,
    pub recovery: ToggledFlow,
    pub verification: ToggledFlow,
    pub error: ErrorFlow,
}

const HOUR: GoDuration = GoDuration::secs(3600);

/// The login flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginFlow {
    pub ui_url: Option<HttpUrl>,
    pub lifespan: GoDuration,
    pub before: Hooks,
    pub after: AfterHooks,
}

impl Default for LoginFlow {
    fn default() -> Self {
        Self { ui_url: None, lifespan: HOUR, before: Hooks::default(), after: AfterHooks::default() }
    }
}

/// A flow that can be switched off (registration, recovery, verification).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToggledFlow {
    pub enabled: bool,
    pub ui_url: Option<HttpUrl>,
    pub lifespan: GoDuration,
    pub before: Hooks,
    pub after: AfterHooks,
    /// Recovery and verification: `code` or `link`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RecoveryStrategy>,
}

impl Default for ToggledFlow {
    fn default() -> Self {
        Self {
            enabled: true,
            ui_url: None,
            lifespan: HOUR,
            before: Hooks::default(),
            after: AfterHooks::default(),
            strategy: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryStrategy {
    Code,
    Link,
}

/// The settings flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsFlow {
    pub ui_url: Option<HttpUrl>,
    pub lifespan: GoDuration,
    pub privileged_session_max_age: GoDuration,
    pub required_aal: RequiredAal,
    pub before: Hooks,
    pub after: AfterHooks,
}

impl Default for SettingsFlow {
    fn default() -> Self {
        Self {
            ui_url: None,
            lifespan: HOUR,
            privileged_session_max_age: GoDuration::secs(15 * 60),
            required_aal: RequiredAal::HighestAvailable,
            before: Hooks::default(),
            after: AfterHooks::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogoutFlow {
    pub after: AfterHooks,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorFlow {
    pub ui_url: Option<HttpUrl>,
}

/// `before` hooks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hooks {
    pub hooks: Vec<Hook>,
}

/// `after` hooks, overall and per method (`after.password.hooks`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AfterHooks {
    pub default_browser_return_url: Option<HttpUrl>,
    pub hooks: Vec<Hook>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passkey: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup_secret: Option<MethodAfter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<MethodAfter>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MethodAfter {
    pub default_browser_return_url: Option<HttpUrl>,
    pub hooks: Vec<Hook>,
}

/// One hook; `config` is interpreted by the hook (webhooks arrive with a later issue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub hook: HookKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    Session,
    ShowVerificationUi,
    RequireVerifiedAddress,
    RevokeActiveSessions,
    WebHook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredAal {
    Aal1,
    HighestAvailable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Methods {
    pub password: PasswordMethod,
    pub totp: TotpMethod,
    pub lookup_secret: Toggle,
    pub webauthn: WebauthnMethod,
    pub passkey: PasskeyMethod,
    pub code: CodeMethod,
    pub link: LinkMethod,
    pub profile: Toggle,
}

impl Default for Methods {
    fn default() -> Self {
        Self {
            password: PasswordMethod::default(),
            totp: TotpMethod::default(),
            lookup_secret: Toggle { enabled: false },
            webauthn: WebauthnMethod::default(),
            passkey: PasskeyMethod::default(),
            code: CodeMethod::default(),
            link: LinkMethod::default(),
            profile: Toggle { enabled: true },
        }
    }
}

/// A method that is only switched on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Toggle {
    pub enabled: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordMethod {
    pub enabled: bool,
    pub config: PasswordConfig,
}

impl Default for PasswordMethod {
    fn default() -> Self {
        Self { enabled: true, config: PasswordConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordConfig {
    /// At least 6, as Kratos requires; the default is 8.
    pub min_password_length: Bounded<6, 1024>,
    pub identifier_similarity_check_enabled: bool,
    /// With no network, this switches the shipped list of common passwords.
    pub haveibeenpwned_enabled: bool,
    pub max_breaches: Bounded<0, 1_000_000>,
    pub ignore_network_errors: bool,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            min_password_length: Bounded(8),
            identifier_similarity_check_enabled: true,
            haveibeenpwned_enabled: true,
            max_breaches: Bounded(0),
            ignore_network_errors: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TotpMethod {
    pub enabled: bool,
    pub config: TotpConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TotpConfig {
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebauthnMethod {
    pub enabled: bool,
    pub config: WebauthnConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebauthnConfig {
    pub passwordless: bool,
    pub rp: RelyingParty,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasskeyMethod {
    pub enabled: bool,
    pub config: PasskeyConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasskeyConfig {
    pub rp: RelyingParty,
}

/// The WebAuthn relying party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelyingParty {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub origins: Vec<HttpUrl>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeMethod {
    pub enabled: bool,
    pub passwordless_enabled: bool,
    pub mfa_enabled: bool,
    pub config: CodeConfig,
}

impl Default for CodeMethod {
    fn default() -> Self {
        Self { enabled: true, passwordless_enabled: false, mfa_enabled: false, config: CodeConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeConfig {
    pub lifespan: GoDuration,
}

impl Default for CodeConfig {
    fn default() -> Self {
        Self { lifespan: GoDuration::secs(15 * 60) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkMethod {
    pub enabled: bool,
    pub config: LinkConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkConfig {
    pub lifespan: GoDuration,
    pub base_url: Option<HttpUrl>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self { lifespan: GoDuration::secs(15 * 60), base_url: None }
    }
}
