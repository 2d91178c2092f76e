//! Who is calling, and what they may reach.
//!
//! Three kinds of caller: the platform operator (a key from configuration), a workspace key (everything in
//! one workspace) and a project key (one project). Scope is checked before anything is read on the caller's
//! behalf, and anything outside it is reported as absent (404), so keys cannot probe for other tenants.

use tessera_platform::ids::{AccountId, ApiKeyId, ProjectId, WorkspaceId};

use crate::error::{Error, Result};
use crate::model::KeyScope;

/// Prefix of workspace API keys.
pub const WORKSPACE_KEY_PREFIX: &str = "ory_wak_";
/// Prefix of project API keys.
pub const PROJECT_KEY_PREFIX: &str = "ory_pat_";

/// The account that owns what the operator creates; a fixed, well-known id rather than a database row.
pub const OPERATOR_ACCOUNT: AccountId = AccountId(uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001));

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The platform operator: every workspace.
    Operator,
    /// An API key.
    Key { id: ApiKeyId, scope: KeyScope, owner_id: AccountId },
}

/// What a caller may do with a resource it asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// May manage it.
    Manage,
    /// Knows it exists but may not do this.
    Forbidden,
    /// Must not learn it exists.
    Hidden,
}

/// What a caller wants to do with a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// Read it, change its configuration, manage its own API keys.
    Configure,
    /// Purge it or manage its members: workspace-level powers.
    Administer,
}

impl Actor {
    /// The account recorded as owner of what this caller creates.
    pub fn owner_id(&self) -> AccountId {
        match self {
            Actor::Operator => OPERATOR_ACCOUNT,
            Actor::Key { owner_id, .. } => *owner_id,
        }
    }

    /// A label for logs and metrics; never a secret.
    pub fn label(&self) -> String {
        match self {
            Actor::Operator => "operator".to_owned(),
            Actor::Key { id, .. } => format!("key:{id}"),
        }
    }

    fn workspace_reach(&self, workspace: WorkspaceId) -> Reach {
        match self {
            Actor::Operator => Reach::Manage,
            Actor::Key { scope: KeyScope::Workspace(w), .. } if *w == workspace => Reach::Manage,
            Actor::Key { scope: KeyScope::Project { workspace_id, .. }, .. } if *workspace_id == workspace => {
                Reach::Forbidden
            }
            Actor::Key { .. } => Reach::Hidden,
        }
    }

    /// Checks that the caller may manage `workspace`.
    pub fn require_workspace(&self, workspace: WorkspaceId) -> Result<()> {
        match self.workspace_reach(workspace) {
            Reach::Manage => Ok(()),
            Reach::Forbidden => Err(Error::Forbidden("A project API key cannot manage its workspace.".into())),
            Reach::Hidden => Err(not_found_workspace(workspace)),
        }
    }

    /// Checks that the caller may do `action` on `project` of `workspace`.
    pub fn require_project(&self, workspace: WorkspaceId, project: ProjectId, action: ProjectAction) -> Result<()> {
        let reach = match self {
            Actor::Operator => Reach::Manage,
            Actor::Key { scope: KeyScope::Workspace(w), .. } if *w == workspace => Reach::Manage,
            Actor::Key { scope: KeyScope::Project { project_id, .. }, .. } if *project_id == project => match action {
                ProjectAction::Configure => Reach::Manage,
                ProjectAction::Administer => Reach::Forbidden,
            },
            Actor::Key { .. } => Reach::Hidden,
        };
        match reach {
            Reach::Manage => Ok(()),
            Reach::Forbidden => {
                Err(Error::Forbidden("This needs a workspace API key; a project API key cannot do it.".into()))
            }
            Reach::Hidden => Err(not_found_project(project)),
        }
    }

    /// Checks that the caller is the operator.
    pub fn require_operator(&self, what: &str) -> Result<()> {
        match self {
            Actor::Operator => Ok(()),
            Actor::Key { .. } => Err(Error::Forbidden(format!("Only the platform operator can {what}."))),
        }
    }
}

/// The 404 for a workspace that is absent or out of scope.
pub fn not_found_workspace(id: WorkspaceId) -> Error {
    Error::NotFound(format!("Workspace {id} does not exist or you do not have access to it."))
}

/// The 404 for a project that is absent or out of scope.
pub fn not_found_project(id: ProjectId) -> Error {
    Error::NotFound(format!("Project {id} does not exist or you do not have access to it."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_enforced_and_other_tenants_are_hidden() {
        let (w1, w2) = (WorkspaceId::new(), WorkspaceId::new());
        let (p1, p2) = (ProjectId::new(), ProjectId::new());
        let ws_key = Actor::Key { id: ApiKeyId::new(), scope: KeyScope::Workspace(w1), owner_id: OPERATOR_ACCOUNT };
        let p_key = Actor::Key {
            id: ApiKeyId::new(),
            scope: KeyScope::Project { workspace_id: w1, project_id: p1 },
            owner_id: OPERATOR_ACCOUNT,
        };
        assert!(ws_key.require_workspace(w1).is_ok());
        assert!(matches!(ws_key.require_workspace(w2), Err(Error::NotFound(_))));
        assert!(ws_key.require_project(w1, p1, ProjectAction::Administer).is_ok());
        assert!(matches!(ws_key.require_project(w2, p2, ProjectAction::Configure), Err(Error::NotFound(_))));
        assert!(matches!(p_key.require_workspace(w1), Err(Error::Forbidden(_))));
        assert!(matches!(p_key.require_workspace(w2), Err(Error::NotFound(_))));
        assert!(p_key.require_project(w1, p1, ProjectAction::Configure).is_ok());
        assert!(matches!(p_key.require_project(w1, p1, ProjectAction::Administer), Err(Error::Forbidden(_))));
        assert!(matches!(p_key.require_project(w1, p2, ProjectAction::Configure), Err(Error::NotFound(_))));
        assert!(Actor::Operator.require_project(w2, p2, ProjectAction::Administer).is_ok());
        assert!(ws_key.require_operator("create workspaces").is_err());
    }
}
