use tessera_platform::db::Transaction;
use tessera_platform::ids::{ApiKeyId, ProjectId, WorkspaceId};
use tessera_platform::secrets::{generate_token, hash_secret, last_characters};
use time::OffsetDateTime;

use super::ControlPlane;
use crate::auth::{Actor, PROJECT_KEY_PREFIX, ProjectAction, WORKSPACE_KEY_PREFIX, not_found_workspace};
use crate::error::{Error, Result};
use crate::model::{ApiKey, CreatedApiKey, KeyScope};
use crate::store::StoreError;
use tessera_project_config::validate_name;

/// Most keys one workspace or project may hold.
pub const MAX_KEYS_PER_SCOPE: i64 = 100;

impl ControlPlane {
    /// The scope of a workspace's own keys, after checking the caller may manage them.
    async fn workspace_key_scope(&self, actor: &Actor, workspace: WorkspaceId) -> Result<KeyScope> {
        actor.require_workspace(workspace)?;
        if self.store.workspace_get(workspace).await?.is_none() {
            return Err(not_found_workspace(workspace));
        }
        Ok(KeyScope::Workspace(workspace))
    }

    /// The scope of a project's keys, after checking the caller may manage them.
    async fn project_key_scope(&self, actor: &Actor, project: ProjectId) -> Result<KeyScope> {
        let p = self.project_for(actor, project, ProjectAction::Configure).await?;
        Ok(KeyScope::Project { workspace_id: p.project.workspace_id, project_id: project })
    }

    /// Creates a workspace key; the secret is returned this once.
    pub async fn workspace_key_create(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<CreatedApiKey> {
        let scope = self.workspace_key_scope(actor, workspace).await?;
        self.key_create(actor, scope, WORKSPACE_KEY_PREFIX, name, expires_at).await
    }

    /// Creates a project key; the secret is returned this once.
    pub async fn project_key_create(
        &self,
        actor: &Actor,
        project: ProjectId,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<CreatedApiKey> {
        let scope = self.project_key_scope(actor, project).await?;
        self.key_create(actor, scope, PROJECT_KEY_PREFIX, name, expires_at).await
    }

    /// A workspace's own keys (not its projects').
    pub async fn workspace_key_list(&self, actor: &Actor, workspace: WorkspaceId) -> Result<Vec<ApiKey>> {
        let scope = self.workspace_key_scope(actor, workspace).await?;
        Ok(self.store.api_key_list(scope).await?)
    }

    /// A project's keys.
    pub async fn project_key_list(&self, actor: &Actor, project: ProjectId) -> Result<Vec<ApiKey>> {
        let scope = self.project_key_scope(actor, project).await?;
        Ok(self.store.api_key_list(scope).await?)
    }

    /// Revokes one of a workspace's keys.
    pub async fn workspace_key_delete(&self, actor: &Actor, workspace: WorkspaceId, key: ApiKeyId) -> Result<()> {
        let scope = self.workspace_key_scope(actor, workspace).await?;
        self.key_delete(actor, scope, key).await
    }

    /// Revokes one of a project's keys.
    pub async fn project_key_delete(&self, actor: &Actor, project: ProjectId, key: ApiKeyId) -> Result<()> {
        let scope = self.project_key_scope(actor, project).await?;
        self.key_delete(actor, scope, key).await
    }

    /// Project keys are part of the directory record (regions authenticate admin calls with them).
    async fn publish_key_change_in_tx(&self, tx: &mut Transaction, scope: KeyScope) -> Result<Option<i64>> {
        match scope {
            KeyScope::Project { project_id, .. } => Ok(Some(self.publish_in_tx(tx, project_id).await?)),
            KeyScope::Workspace(_) => Ok(None),
        }
    }

    async fn key_create(
        &self,
        actor: &Actor,
        scope: KeyScope,
        prefix: &str,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<CreatedApiKey> {
        validate_name(name).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Invalid("expires_at must be in the future.".into()));
        }
        if self.store.api_key_count(scope).await? >= MAX_KEYS_PER_SCOPE {
            return Err(Error::Invalid(format!(
                "At most {MAX_KEYS_PER_SCOPE} API keys are allowed here; delete unused keys first."
            )));
        }
        let secret = generate_token(prefix);
        let key = ApiKey {
            id: ApiKeyId::new(),
            scope,
            name: name.to_owned(),
            owner_id: actor.owner_id(),
            last_characters: last_characters(&secret),
            expires_at,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        self.store.api_key_create_in_tx(&mut tx, &key, &hash_secret(&secret)).await?;
        let seq = self.publish_key_change_in_tx(&mut tx, scope).await?;
        tx.commit().await.map_err(StoreError::from)?;
        if let Some(seq) = seq {
            self.announce(seq);
        }
        tracing::info!(key = %key.id, actor = %actor.label(), "API key created");
        Ok(CreatedApiKey { key, secret })
    }

    async fn key_delete(&self, actor: &Actor, scope: KeyScope, key: ApiKeyId) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !self.store.api_key_delete_in_tx(&mut tx, scope, key).await? {
            return Err(Error::NotFound(format!("API key {key} does not exist.")));
        }
        let seq = self.publish_key_change_in_tx(&mut tx, scope).await?;
        tx.commit().await.map_err(StoreError::from)?;
        if let Some(seq) = seq {
            self.announce(seq);
        }
        tracing::info!(key = %key, actor = %actor.label(), "API key deleted");
        Ok(())
    }
}
