//! The identity engine's domain: identities with their credentials and addresses, and sessions.
//!
//! These types carry no wire format; `wire` renders them as Kratos's JSON, which differs by endpoint (admin
//! responses show `metadata_admin` and credentials, the frontend never does).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

tessera_platform::typed_id!(
    /// An identity: one user of a tenant.
    IdentityId
);
tessera_platform::typed_id!(
    /// A session: proof that an identity signed in.
    SessionId
);
tessera_platform::typed_id!(
    /// A self-service flow (login, registration, settings).
    FlowId
);
tessera_platform::typed_id!(
    /// A verifiable or recovery address of an identity.
    AddressId
);
tessera_platform::typed_id!(
    /// An error stored for the project's error page.
    FlowErrorId
);

/// Whether an identity may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentityState {
    #[default]
    Active,
    Inactive,
}

impl IdentityState {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Parses the wire name; anything else is refused.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// Credential kinds an identity can hold. Only `password` has a sign-in method so far; the others can be
/// imported and are kept, so later methods find them.
pub const CREDENTIAL_KINDS: &[&str] = &[
    "password",
    "oidc",
    "saml",
    "totp",
    "lookup_secret",
    "webauthn",
    "code",
    "passkey",
    "link_recovery",
    "code_recovery",
    "deviceauthn",
];

/// One credential of an identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    /// `password`, `oidc`, ...
    pub kind: String,
    /// What the credential is found by (normalised), e.g. the email for a password.
    pub identifiers: Vec<String>,
    /// The kind's own data; for a password `{"hashed_password": "..."}`. Never shown unless asked for.
    pub config: Value,
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An address that can be verified (email or SMS).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiableAddress {
    pub id: AddressId,
    pub value: String,
    pub via: String,
    pub verified: bool,
    /// `pending`, `sent` or `completed`.
    pub status: String,
    pub verified_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An address account recovery can use.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryAddress {
    pub id: AddressId,
    pub value: String,
    pub via: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An identity with what was loaded of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: IdentityId,
    pub schema_id: String,
    pub state: IdentityState,
    pub state_changed_at: Option<OffsetDateTime>,
    pub traits: Value,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub organization_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Empty unless the caller loaded credentials.
    pub credentials: Vec<Credential>,
    pub verifiable_addresses: Vec<VerifiableAddress>,
    pub recovery_addresses: Vec<RecoveryAddress>,
}

impl Identity {
    /// The credential of `kind`, if the identity has one (and credentials were loaded).
    pub fn credential(&self, kind: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.kind == kind)
    }
}

/// Authenticator assurance levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aal {
    Aal0,
    Aal1,
    Aal2,
    Aal3,
}

impl Aal {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aal0 => "aal0",
            Self::Aal1 => "aal1",
            Self::Aal2 => "aal2",
            Self::Aal3 => "aal3",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aal0" => Some(Self::Aal0),
            "aal1" => Some(Self::Aal1),
            "aal2" => Some(Self::Aal2),
            "aal3" => Some(Self::Aal3),
            _ => None,
        }
    }
}

/// One completed authentication step of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthMethod {
    pub method: String,
    pub aal: Aal,
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
}

/// Where a session was used from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: Uuid,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub location: Option<String>,
}

/// A session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub identity_id: IdentityId,
    /// False once revoked; expiry is checked separately.
    pub active: bool,
    pub aal: Aal,
    pub methods: Vec<AuthMethod>,
    pub devices: Vec<Device>,
    pub authenticated_at: OffsetDateTime,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Session {
    /// Active as Kratos reports it: not revoked and not expired (the identity's state is checked by callers).
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.active && self.expires_at > now
    }

    /// The level the completed methods reach: none → aal0, a second factor on top of a first → aal2.
    pub fn compute_aal(methods: &[AuthMethod]) -> Aal {
        let first = methods.iter().any(|m| m.aal == Aal::Aal1);
        let second = methods.iter().any(|m| m.aal >= Aal::Aal2);
        match (first, second) {
            (false, false) => Aal::Aal0,
            (true, true) => Aal::Aal2,
            _ => Aal::Aal1,
        }
    }
}
