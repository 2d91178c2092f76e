//! Identity rules shared by the admin API and the flows: traits validated against the schema, identifiers
//! and addresses derived from them, credentials imported or hashed.
//!
//! Identifiers and addresses are never taken from the client: they are recomputed from the traits on every
//! write, so what a user signs in with is always what the schema says it is.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use tessera_identity_schema::{Extracted, IdentitySchema};
use tessera_password::{HashParams, check_imported_hash};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::IdentityError;
use crate::model::{
    AddressId, CREDENTIAL_KINDS, Credential, Identity, IdentityId, IdentityState, RecoveryAddress, VerifiableAddress,
};
use crate::service::IdentityService;

/// Largest accepted traits or metadata document, serialized.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// `POST /admin/identities` (and each item of a batch import). Unknown fields are refused, as Kratos does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIdentityBody {
    #[serde(default)]
    pub schema_id: String,
    pub traits: Value,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub metadata_public: Option<Value>,
    #[serde(default)]
    pub metadata_admin: Option<Value>,
    #[serde(default)]
    pub verifiable_addresses: Option<Vec<AddressBody>>,
    #[serde(default)]
    pub recovery_addresses: Option<Vec<AddressBody>>,
    #[serde(default)]
    pub credentials: Option<CredentialsBody>,
}

/// An address as an admin supplies it (to import its verification status).
#[derive(Debug, Clone, Deserialize)]
pub struct AddressBody {
    pub value: String,
    #[serde(default)]
    pub via: Option<String>,
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub verified_at: Option<String>,
    #[serde(default, flatten)]
    pub rest: serde_json::Map<String, Value>,
}

/// Credentials an admin imports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    #[serde(default)]
    pub password: Option<PasswordCredentialBody>,
    #[serde(default)]
    pub oidc: Option<Value>,
    #[serde(default)]
    pub saml: Option<Value>,
}

/// `credentials.password`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordCredentialBody {
    #[serde(default)]
    pub config: PasswordConfigBody,
}

/// `credentials.password.config`: a plaintext password (hashed here) or an existing hash.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfigBody {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub hashed_password: Option<String>,
    #[serde(default)]
    pub use_password_migration_hook: Option<bool>,
}

/// `PUT /admin/identities/{id}`: replaces traits, state, metadata and external id.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateIdentityBody {
    #[serde(default)]
    pub schema_id: String,
    pub traits: Value,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub metadata_public: Option<Value>,
    #[serde(default)]
    pub metadata_admin: Option<Value>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub credentials: Option<CredentialsBody>,
}

/// The hashing parameters a tenant's configuration names.
pub fn hash_params(tenant: &TenantContext) -> HashParams {
    use tessera_project_config::identity::HashAlgorithm;
    let h = &tenant.config().identity.hashers;
    match h.algorithm {
        HashAlgorithm::Argon2 => HashParams::Argon2id {
            memory_kib: u32::try_from(h.argon2.memory.0 / 1024).unwrap_or(u32::MAX),
            iterations: h.argon2.iterations.0 as u32,
            parallelism: h.argon2.parallelism.0 as u32,
            salt_len: h.argon2.salt_length.0 as usize,
            key_len: h.argon2.key_length.0 as usize,
        },
        HashAlgorithm::Bcrypt => HashParams::Bcrypt { cost: h.bcrypt.cost.0 as u32 },
    }
}

/// Parses a state; Kratos's text for anything else.
pub fn parse_state(state: Option<&str>) -> Result<IdentityState, IdentityError> {
    match state {
        None | Some("") => Ok(IdentityState::Active),
        Some(s) => IdentityState::parse(s).ok_or_else(|| {
            IdentityError::BadRequest(format!(
                "The supplied state ('{s}') was not valid. Valid states are ('active', 'inactive')."
            ))
        }),
    }
}

fn check_size(what: &str, v: &Value) -> Result<(), IdentityError> {
    if v.to_string().len() > MAX_DOCUMENT_BYTES {
        return Err(IdentityError::BadRequest(format!("{what} must not exceed {MAX_DOCUMENT_BYTES} bytes.")));
    }
    Ok(())
}

/// Validates traits against `schema`; the first violation becomes a 400 in Kratos's admin style.
pub fn validate_traits(schema: &IdentitySchema, traits: &Value) -> Result<Extracted, IdentityError> {
    check_size("traits", traits)?;
    schema.validate_traits(traits).map_err(|errors| {
        let reason = errors.first().map(|e| e.reason()).unwrap_or_else(|| "the traits are not valid".into());
        IdentityError::BadRequest(reason)
    })
}

/// Sets `identity`'s identifiers and addresses from `extracted`, keeping the ids and verification state of
/// addresses that did not change.
pub fn apply_extracted(identity: &mut Identity, extracted: &Extracted, now: OffsetDateTime) {
    for c in &mut identity.credentials {
        if matches!(c.kind.as_str(), "password" | "code" | "webauthn" | "passkey") {
            c.identifiers = extracted.identifiers.get(&c.kind).cloned().unwrap_or_default();
        }
    }
    let old_verifiable = std::mem::take(&mut identity.verifiable_addresses);
    identity.verifiable_addresses = extracted
        .verifiable_addresses
        .iter()
        .map(|a| {
            old_verifiable.iter().find(|o| o.value == a.value && o.via == a.via).cloned().unwrap_or(VerifiableAddress {
                id: AddressId::new(),
                value: a.value.clone(),
                via: a.via.clone(),
                verified: false,
                status: "pending".into(),
                verified_at: None,
                created_at: now,
                updated_at: now,
            })
        })
        .collect();
    let old_recovery = std::mem::take(&mut identity.recovery_addresses);
    identity.recovery_addresses = extracted
        .recovery_addresses
        .iter()
        .map(|a| {
            old_recovery.iter().find(|o| o.value == a.value && o.via == a.via).cloned().unwrap_or(RecoveryAddress {
                id: AddressId::new(),
                value: a.value.clone(),
                via: a.via.clone(),
                created_at: now,
                updated_at: now,
            })
        })
        .collect();
}

/// Imports verification status an admin supplied for addresses the traits produced.
fn import_address_status(identity: &mut Identity, supplied: &[AddressBody]) -> Result<(), IdentityError> {
    for s in supplied {
        let value = s.value.trim().to_lowercase();
        let Some(a) = identity.verifiable_addresses.iter_mut().find(|a| a.value == value) else { continue };
        if let Some(verified) = s.verified {
            a.verified = verified;
            a.status = if verified { "completed".into() } else { "pending".into() };
        }
        if let Some(status) = &s.status {
            if !matches!(status.as_str(), "pending" | "sent" | "completed") {
                return Err(IdentityError::BadRequest(format!(
                    "verifiable address status `{status}` is not one of pending, sent, completed"
                )));
            }
            a.status = status.clone();
        }
        if a.verified {
            a.verified_at = Some(match s.verified_at.as_deref() {
                Some(t) => OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|_| {
                    IdentityError::BadRequest(format!("verified_at `{t}` is not an RFC 3339 timestamp"))
                })?,
                None => a.created_at,
            });
        }
    }
    Ok(())
}

/// What a credentials body becomes: the credentials to store (identifiers set later from the traits).
/// A plaintext password is hashed here; an imported hash must be of a known format within cost bounds.
async fn import_credentials(
    svc: &IdentityService,
    tenant: &TenantContext,
    body: &CredentialsBody,
    now: OffsetDateTime,
) -> Result<Vec<Credential>, IdentityError> {
    let mut out = Vec::new();
    if let Some(p) = &body.password {
        let config = match (&p.config.password, &p.config.hashed_password) {
            (Some(_), Some(_)) => {
                return Err(IdentityError::BadRequest(
                    "Give either password or hashed_password in credentials.password.config, not both.".into(),
                ));
            }
            (Some(plain), None) => {
                let hash = svc
                    .hasher
                    .hash(&hash_params(tenant), plain)
                    .await
                    .map_err(|e| IdentityError::BadRequest(format!("The password cannot be hashed: {e}")))?;
                json!({"hashed_password": hash})
            }
            (None, Some(hash)) => {
                check_imported_hash(hash).map_err(|e| IdentityError::BadRequest(e.reason().to_owned()))?;
                json!({"hashed_password": hash})
            }
            (None, None) if p.config.use_password_migration_hook == Some(true) => {
                return Err(IdentityError::BadRequest(
                    "use_password_migration_hook needs a password migration webhook, which this project does not have."
                        .into(),
                ));
            }
            (None, None) => json!({}),
        };
        out.push(Credential {
            kind: "password".into(),
            identifiers: Vec::new(),
            config,
            version: 0,
            created_at: now,
            updated_at: now,
        });
    }
    for (kind, value) in [("oidc", &body.oidc), ("saml", &body.saml)] {
        let Some(value) = value else { continue };
        out.push(federated_credential(kind, value, now)?);
    }
    Ok(out)
}

/// `credentials.oidc` / `saml`: `{"config": {"providers": [{"provider", "subject"}]}}`; identifiers are
/// `provider:subject`.
fn federated_credential(kind: &str, value: &Value, now: OffsetDateTime) -> Result<Credential, IdentityError> {
    let bad = || {
        IdentityError::BadRequest(format!(
            "credentials.{kind} must be {{\"config\": {{\"providers\": [{{\"provider\": ..., \"subject\": ...}}]}}}}"
        ))
    };
    let providers = value.pointer("/config/providers").and_then(Value::as_array).ok_or_else(bad)?;
    let mut identifiers = Vec::new();
    let mut stored = Vec::new();
    for p in providers {
        let provider = p.get("provider").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(bad)?;
        let subject = p.get("subject").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(bad)?;
        identifiers.push(format!("{provider}:{subject}"));
        stored.push(json!({"provider": provider, "subject": subject}));
    }
    Ok(Credential {
        kind: kind.into(),
        identifiers,
        config: json!({"providers": stored}),
        version: 0,
        created_at: now,
        updated_at: now,
    })
}

/// Checks that every password credential can be found by something.
fn check_identifiers(identity: &Identity) -> Result<(), IdentityError> {
    if let Some(c) = identity.credential("password")
        && c.identifiers.is_empty()
    {
        return Err(IdentityError::BadRequest(
            "A password credential needs an identifier, but no trait marked as a password identifier in the schema has a value."
                .into(),
        ));
    }
    Ok(())
}

impl IdentityService {
    /// Builds a new identity from an admin body (not yet stored).
    pub async fn identity_from_body(
        &self,
        tenant: &TenantContext,
        body: &CreateIdentityBody,
    ) -> Result<Identity, IdentityError> {
        let schemas = self.schemas.for_tenant(tenant)?;
        let schema = schemas.resolve(&body.schema_id)?;
        let extracted = validate_traits(schema, &body.traits)?;
        let state = parse_state(body.state.as_deref())?;
        for (what, v) in [("metadata_public", &body.metadata_public), ("metadata_admin", &body.metadata_admin)] {
            if let Some(v) = v {
                check_size(what, v)?;
            }
        }
        let now = self.now();
        let credentials = match &body.credentials {
            Some(c) => import_credentials(self, tenant, c, now).await?,
            None => Vec::new(),
        };
        let mut identity = Identity {
            id: IdentityId::new(),
            schema_id: schema.id().to_owned(),
            state,
            state_changed_at: Some(now),
            traits: body.traits.clone(),
            metadata_public: body.metadata_public.clone().filter(|v| !v.is_null()),
            metadata_admin: body.metadata_admin.clone().filter(|v| !v.is_null()),
            external_id: body.external_id.clone().filter(|e| !e.is_empty()),
            organization_id: body.organization_id,
            created_at: now,
            updated_at: now,
            credentials,
            verifiable_addresses: Vec::new(),
            recovery_addresses: Vec::new(),
        };
        apply_extracted(&mut identity, &extracted, now);
        if let Some(supplied) = &body.verifiable_addresses {
            import_address_status(&mut identity, supplied)?;
        }
        check_identifiers(&identity)?;
        Ok(identity)
    }

    /// Applies a replacement body to a stored identity (loaded with credentials).
    pub async fn apply_update(
        &self,
        tenant: &TenantContext,
        identity: &mut Identity,
        body: &UpdateIdentityBody,
    ) -> Result<(), IdentityError> {
        let schemas = self.schemas.for_tenant(tenant)?;
        let schema_id = if body.schema_id.is_empty() { identity.schema_id.clone() } else { body.schema_id.clone() };
        let schema = schemas.resolve(&schema_id)?;
        let extracted = validate_traits(schema, &body.traits)?;
        let now = self.now();
        let state = match body.state.as_deref() {
            None | Some("") => identity.state,
            Some(_) => parse_state(body.state.as_deref())?,
        };
        if state != identity.state {
            identity.state_changed_at = Some(now);
        }
        for (what, v) in [("metadata_public", &body.metadata_public), ("metadata_admin", &body.metadata_admin)] {
            if let Some(v) = v {
                check_size(what, v)?;
            }
        }
        identity.schema_id = schema.id().to_owned();
        identity.state = state;
        identity.traits = body.traits.clone();
        identity.metadata_public = body.metadata_public.clone().filter(|v| !v.is_null());
        identity.metadata_admin = body.metadata_admin.clone().filter(|v| !v.is_null());
        identity.external_id = body.external_id.clone().filter(|e| !e.is_empty());
        identity.updated_at = now;
        if let Some(c) = &body.credentials {
            for imported in import_credentials(self, tenant, c, now).await? {
                match identity.credentials.iter_mut().find(|e| e.kind == imported.kind) {
                    Some(existing) if imported.kind == "password" => {
                        existing.config = imported.config;
                        existing.updated_at = now;
                    }
                    Some(existing) => {
                        merge_providers(existing, imported);
                        existing.updated_at = now;
                    }
                    None => identity.credentials.push(imported),
                }
            }
        }
        apply_extracted(identity, &extracted, now);
        check_identifiers(identity)?;
        Ok(())
    }
}

/// Federated credentials are appended to, not replaced (Kratos's rule).
fn merge_providers(existing: &mut Credential, imported: Credential) {
    let mut providers: Vec<Value> =
        existing.config.get("providers").and_then(Value::as_array).cloned().unwrap_or_default();
    for p in imported.config.get("providers").and_then(Value::as_array).cloned().unwrap_or_default() {
        if !providers.contains(&p) {
            providers.push(p);
        }
    }
    for id in imported.identifiers {
        if !existing.identifiers.contains(&id) {
            existing.identifiers.push(id);
        }
    }
    existing.config = json!({"providers": providers});
}

/// The credential kinds `include_credential` may name; anything else is a 400 in Kratos's words.
pub fn parse_include_credential(values: &[String]) -> Result<Vec<String>, IdentityError> {
    let mut out = Vec::new();
    for v in values {
        if !CREDENTIAL_KINDS.contains(&v.as_str()) {
            return Err(IdentityError::BadRequest(format!("Invalid value `{v}` for parameter `include_credential`.")));
        }
        out.push(v.clone());
    }
    Ok(out)
}

/// Identifiers by kind, for tests and diagnostics.
pub fn identifiers_by_kind(identity: &Identity) -> BTreeMap<String, Vec<String>> {
    identity.credentials.iter().map(|c| (c.kind.clone(), c.identifiers.clone())).collect()
}
