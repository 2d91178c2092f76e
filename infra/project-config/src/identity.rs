//! `services.identity.config`: the subset of Kratos' configuration that Tessera's identity engine reads.
//!
//! Keys outside this subset are kept in the revision and reported as warnings by the caller.
//! Schemas are accepted only inline (`base64://`); a schema URL pointing at a file or the network is refused,
//! because resolving it would let a tenant make our servers read files or call arbitrary hosts.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::types::{Bounded, ByteSize, GoDuration, HttpUrl};
use super::{Invalid, RenderContext};

/// The identity engine's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityConfig {
    pub identity: IdentitySection,
    pub selfservice: SelfService,
    pub session: Session,
    pub hashers: Hashers,
    pub courier: Courier,
    pub cookies: Cookies,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentitySection {
    pub default_schema_id: String,
    pub schemas: Vec<SchemaRef>,
}

/// An identity schema, inline as `base64://<json>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaRef {
    pub id: String,
    pub url: String,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub lifespan: GoDuration,
    pub earliest_possible_extend: Option<GoDuration>,
    pub cookie: SessionCookie,
    pub whoami: Whoami,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            lifespan: GoDuration::secs(72 * 3600),
            earliest_possible_extend: None,
            cookie: SessionCookie::default(),
            whoami: Whoami::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionCookie {
    pub persistent: bool,
    pub same_site: SameSite,
    pub domain: Option<String>,
    pub path: Option<String>,
}

impl Default for SessionCookie {
    fn default() -> Self {
        Self { persistent: true, same_site: SameSite::Lax, domain: None, path: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Whoami {
    pub required_aal: RequiredAal,
}

impl Default for Whoami {
    fn default() -> Self {
        Self { required_aal: RequiredAal::HighestAvailable }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cookies {
    pub domain: Option<String>,
    pub path: Option<String>,
    pub same_site: Option<SameSite>,
}

/// Password hashing. Defaults exceed OWASP's argon2id minimum (19 MiB, t=2, p=1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hashers {
    pub algorithm: HashAlgorithm,
    pub argon2: Argon2Params,
    pub bcrypt: BcryptParams,
}

impl Default for Hashers {
    fn default() -> Self {
        Self { algorithm: HashAlgorithm::Argon2, argon2: Argon2Params::default(), bcrypt: BcryptParams::default() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    Argon2,
    Bcrypt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Argon2Params {
    pub memory: ByteSize,
    pub iterations: Bounded<1, 64>,
    pub parallelism: Bounded<1, 64>,
    pub salt_length: Bounded<16, 1024>,
    pub key_length: Bounded<16, 1024>,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory: ByteSize(64 * 1024 * 1024),
            iterations: Bounded(2),
            parallelism: Bounded(1),
            salt_length: Bounded(16),
            key_length: Bounded(32),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BcryptParams {
    pub cost: Bounded<10, 31>,
}

impl Default for BcryptParams {
    fn default() -> Self {
        Self { cost: Bounded(12) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Courier {
    pub smtp: Smtp,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Smtp {
    pub connection_uri: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
}

impl Default for IdentitySection {
    fn default() -> Self {
        Self {
            default_schema_id: DEFAULT_SCHEMA_ID.to_owned(),
            schemas: vec![SchemaRef { id: DEFAULT_SCHEMA_ID.to_owned(), url: default_schema_url() }],
        }
    }
}

/// The id of the schema new projects start with.
pub const DEFAULT_SCHEMA_ID: &str = "preset://email";

/// The email + password identity schema new projects start with.
pub fn default_schema() -> Value {
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Person",
        "type": "object",
        "properties": {
            "traits": {
                "type": "object",
                "properties": {
                    "email": {
                        "type": "string",
                        "format": "email",
                        "title": "Email address",
                        "minLength": 3,
                        "maxLength": 320,
                        "ory.sh/kratos": {
                            "credentials": {
                                "password": {"identifier": true},
                                "webauthn": {"identifier": true},
                                "passkey": {"display_name": true},
                                "totp": {"account_name": true},
                                "code": {"identifier": true, "via": "email"}
                            },
                            "verification": {"via": "email"},
                            "recovery": {"via": "email"}
                        }
                    }
                },
                "required": ["email"],
                "additionalProperties": false
            }
        }
    })
}

fn default_schema_url() -> String {
    let text = serde_json::to_string(&default_schema()).expect("static schema serializes");
    format!("base64://{}", base64::engine::general_purpose::STANDARD.encode(text))
}

/// The configuration a new project starts with: UI pages on the project's own host.
pub fn default_config(ctx: &RenderContext) -> IdentityConfig {
    let page = |p: &str| HttpUrl::parse(&format!("{}/ui/{p}", ctx.project_url)).ok();
    let mut c = IdentityConfig::default();
    c.selfservice.default_browser_return_url = page("welcome");
    c.selfservice.allowed_return_urls = page("").into_iter().collect();
    c.selfservice.flows.login.ui_url = page("login");
    c.selfservice.flows.registration.ui_url = page("registration");
    c.selfservice.flows.settings.ui_url = page("settings");
    c.selfservice.flows.recovery.ui_url = page("recovery");
    c.selfservice.flows.recovery.strategy = Some(RecoveryStrategy::Code);
    c.selfservice.flows.verification.ui_url = page("verification");
    c.selfservice.flows.verification.strategy = Some(RecoveryStrategy::Code);
    c.selfservice.flows.error.ui_url = page("error");
    c.selfservice.flows.registration.after.password = Some(MethodAfter {
        default_browser_return_url: None,
        hooks: vec![Hook { hook: HookKind::Session, config: None }],
    });
    c
}

/// Checks what types cannot: schema references, their ids, and the default schema's presence.
pub fn validate(c: &IdentityConfig) -> Result<(), Invalid> {
    if c.identity.schemas.is_empty() {
        return Err(Invalid::at("identity.schemas", "at least one identity schema is required"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, schema) in c.identity.schemas.iter().enumerate() {
        let path = format!("identity.schemas.{i}");
        if schema.id.is_empty() || schema.id.len() > 256 {
            return Err(Invalid::at(format!("{path}.id"), "must be 1 to 256 characters"));
        }
        if !seen.insert(schema.id.as_str()) {
            return Err(Invalid::at(format!("{path}.id"), format!("`{}` is used by two schemas", schema.id)));
        }
        decode_inline_schema(&schema.url).map_err(|m| Invalid::at(format!("{path}.url"), m))?;
    }
    if !seen.contains(c.identity.default_schema_id.as_str()) {
        return Err(Invalid::at(
            "identity.default_schema_id",
            format!("`{}` is not the id of any schema in identity.schemas", c.identity.default_schema_id),
        ));
    }
    Ok(())
}

/// Decodes a `base64://` schema into JSON; any other scheme is refused.
pub fn decode_inline_schema(url: &str) -> Result<Value, String> {
    let Some(encoded) = url.strip_prefix("base64://") else {
        return Err("schemas must be inline as base64://<json>; file, http and other URLs are not fetched".to_owned());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded.trim()))
        .map_err(|_| "the base64 after base64:// does not decode".to_owned())?;
    let schema: Value = serde_json::from_slice(&bytes).map_err(|e| format!("the schema is not valid JSON: {e}"))?;
    if !schema.is_object() {
        return Err("the schema must be a JSON object".to_owned());
    }
    Ok(schema)
}
