//! `services.identity.config`: the subset of Kratos' configuration that Tessera's identity engine reads.
//!
//! Keys outside this subset are kept in the revision and reported as warnings by the caller.
//! Schemas are accepted only inline (`base64://`); a schema URL pointing at a file or the network is refused,
//! because resolving it would let a tenant make our servers read files or call arbitrary hosts.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_identity_schema::IdentitySchema;

mod selfservice;

pub use selfservice::*;

use crate::types::{Bounded, ByteSize, GoDuration, HttpUrl};
use crate::{Invalid, RenderContext};

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

/// Checks what types cannot: schema references, their ids, the default schema's presence, and that every schema
/// compiles as an identity schema (local references only, a `traits` object, valid JSON Schema), so a bad schema
/// is refused when the configuration is written rather than on the first registration.
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
    // Compiling is the expensive check, so it runs once the cheap ones passed.
    for (i, schema) in c.identity.schemas.iter().enumerate() {
        let path = format!("identity.schemas.{i}.url");
        let raw = decode_inline_schema(&schema.url).map_err(|m| Invalid::at(&path, m))?;
        IdentitySchema::compile(&schema.id, &raw).map_err(|e| Invalid::at(&path, e.to_string()))?;
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
