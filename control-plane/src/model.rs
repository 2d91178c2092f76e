//! The control plane's domain types.
//!
//! These are what the store returns and the app layer reasons about. They are not the wire format:
//! the workspace API maps them to Ory's JSON in its own `wire` module.

use std::fmt;
use std::str::FromStr;

use tessera_platform::ids::{AccountId, ApiKeyId, ProjectId, RevisionId, WorkspaceId};
use time::OffsetDateTime;

use serde_json::Value;
pub use tessera_project_config::settings::{ConfigWarning, Cors, ProjectSettings, ServiceConfig, Services};

/// Declares a closed set of string values with parsing and display, for enums stored as TEXT.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// A project's environment, which decides its limits.
    Environment { Prod = "prod", Stage = "stage", Dev = "dev" }
);

string_enum!(
    /// A project's lifecycle state.
    ProjectState {
        /// Serving traffic.
        Running = "running",
        /// Kept but not serving (for example after a billing failure).
        Halted = "halted",
        /// Purged; only a tombstone remains so the slug is never reused.
        Deleted = "deleted"
    }
);

string_enum!(
    /// What a member may do in a project.
    Role { Owner = "owner", Developer = "developer", Viewer = "viewer" }
);

string_enum!(
    /// Who may access a workspace at all (Ory's workspace access policy).
    AccessPolicy {
        CheckOrganizationAndWorkspaceMembership = "CHECK_ORGANIZATION_AND_WORKSPACE_MEMBERSHIP",
        CheckAccessPermission = "CHECK_ACCESS_PERMISSION"
    }
);

/// A workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub access_policy: Option<AccessPolicy>,
    /// Id of the plan in the billing catalogue.
    pub subscription_plan: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A project and its current revision's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub environment: Environment,
    pub home_region: String,
    pub state: ProjectState,
    pub revision_id: RevisionId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A project with the settings of its current revision.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectWithSettings {
    pub project: Project,
    pub settings: ProjectSettings,
}

/// One immutable configuration revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub project_id: ProjectId,
    pub id: RevisionId,
    /// The settings as their author wrote them.
    pub settings: ProjectSettings,
    /// The normalized configuration the engines run on.
    pub rendered: Value,
    /// What the author wrote that Tessera keeps but does not act on.
    pub warnings: Vec<ConfigWarning>,
    pub created_at: OffsetDateTime,
}

/// What an API key may manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// Everything in one workspace.
    Workspace(WorkspaceId),
    /// One project.
    Project { workspace_id: WorkspaceId, project_id: ProjectId },
}

/// An API key as listed; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub scope: KeyScope,
    pub name: String,
    pub owner_id: AccountId,
    pub last_characters: String,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A freshly created key together with its secret, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// A person with access to a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub account_id: AccountId,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub role: Role,
}

/// A region of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_enums_parse_and_print() {
        assert_eq!("stage".parse::<Environment>().unwrap(), Environment::Stage);
        assert_eq!(ProjectState::Halted.to_string(), "halted");
        let err = "production".parse::<Environment>().unwrap_err();
        assert!(err.contains("prod, stage, dev"), "{err}");
    }
}
