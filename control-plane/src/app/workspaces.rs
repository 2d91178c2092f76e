use tessera_platform::ids::WorkspaceId;
use tessera_platform::pagination::PageRequest;

use super::ControlPlane;
use crate::auth::{Actor, not_found_workspace};
use crate::error::{Error, Result};
use crate::model::{AccessPolicy, KeyScope, Workspace};
use tessera_project_config::validate_name;

impl ControlPlane {
    /// Creates a workspace on the default plan; only the operator can.
    pub async fn workspace_create(&self, actor: &Actor, name: &str) -> Result<Workspace> {
        actor.require_operator("create workspaces")?;
        validate_name(name).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = self.clock.now();
        let workspace = Workspace {
            id: WorkspaceId::new(),
            name: name.to_owned(),
            access_policy: None,
            subscription_plan: self.settings.catalogue.default_plan().id.clone(),
            created_at: now,
            updated_at: now,
        };
        self.store.workspace_create(&workspace).await?;
        tracing::info!(workspace = %workspace.id, actor = %actor.label(), "workspace created");
        Ok(workspace)
    }

    /// The workspaces the caller can see, a page at a time.
    pub async fn workspace_list(&self, actor: &Actor, page: &PageRequest) -> Result<Vec<Workspace>> {
        let only = match actor {
            Actor::Operator => None,
            Actor::Key { scope: KeyScope::Workspace(w), .. } => Some(*w),
            Actor::Key { scope: KeyScope::Project { .. }, .. } => {
                return Err(Error::Forbidden("A project API key cannot list workspaces.".into()));
            }
        };
        Ok(self.store.workspace_list(only, page).await?)
    }

    /// One workspace.
    pub async fn workspace_get(&self, actor: &Actor, id: WorkspaceId) -> Result<Workspace> {
        actor.require_workspace(id)?;
        self.store.workspace_get(id).await?.ok_or_else(|| not_found_workspace(id))
    }

    /// Renames a workspace and sets its access policy.
    pub async fn workspace_update(
        &self,
        actor: &Actor,
        id: WorkspaceId,
        name: &str,
        access_policy: Option<AccessPolicy>,
    ) -> Result<Workspace> {
        let mut workspace = self.workspace_get(actor, id).await?;
        validate_name(name).map_err(|e| Error::Invalid(e.to_string()))?;
        workspace.name = name.to_owned();
        if access_policy.is_some() {
            workspace.access_policy = access_policy;
        }
        workspace.updated_at = self.clock.now();
        if !self.store.workspace_update(&workspace).await? {
            return Err(not_found_workspace(id));
        }
        Ok(workspace)
    }
}
