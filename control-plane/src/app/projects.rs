use serde_json::Value;
use tessera_platform::ids::{ProjectId, RevisionId, WorkspaceId};
use tessera_platform::pagination::PageRequest;

use super::ControlPlane;
use crate::auth::{Actor, ProjectAction, not_found_project, not_found_workspace};
use crate::error::{Error, Result};
use crate::model::{
    ConfigWarning, Environment, KeyScope, Project, ProjectSettings, ProjectState, ProjectWithSettings, Revision,
};
use crate::store::{ProjectFilter, StoreError};
use crate::{patch, slug};
use tessera_project_config::{self as service_config, RenderContext};

/// How many times a write retries when another writer advanced the revision first.
const MAX_WRITE_ATTEMPTS: usize = 5;

/// A request to create a project.
#[derive(Debug, Clone)]
pub struct CreateProject {
    pub name: String,
    pub environment: Environment,
    pub home_region: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
}

/// How a project's settings change.
#[derive(Debug, Clone)]
pub enum ProjectUpdate {
    /// Replace them with this document (`PUT`).
    Replace(Value),
    /// Apply this JSON Patch to them (`PATCH`).
    Patch(Value),
}

impl ControlPlane {
    /// Creates a project with default settings in the caller's (or the named) workspace.
    pub async fn project_create(
        &self,
        actor: &Actor,
        req: CreateProject,
    ) -> Result<(ProjectWithSettings, Vec<ConfigWarning>)> {
        let workspace_id = match (actor, req.workspace_id) {
            (_, Some(w)) => w,
            (Actor::Key { scope: KeyScope::Workspace(w), .. }, None) => *w,
            (Actor::Operator, None) => {
                return Err(Error::Invalid(
                    "workspace_id is required when the platform operator creates a project.".into(),
                ));
            }
            (Actor::Key { .. }, None) => {
                return Err(Error::Forbidden("A project API key cannot create projects.".into()));
            }
        };
        actor.require_workspace(workspace_id)?;
        if self.store.workspace_get(workspace_id).await?.is_none() {
            return Err(not_found_workspace(workspace_id));
        }
        service_config::validate_name(&req.name).map_err(|e| Error::Invalid(e.to_string()))?;
        let home_region = req.home_region.unwrap_or_else(|| self.settings.default_region.clone());
        if !self.settings.regions.contains_key(&home_region) {
            return Err(Error::Invalid(format!(
                "home_region `{home_region}` is not a region of this installation (available: {}).",
                self.settings.regions.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }

        for _ in 0..MAX_WRITE_ATTEMPTS {
            let slug = slug::generate(&req.name);
            let ctx = RenderContext { project_url: self.project_url(&slug) };
            let settings = service_config::default_settings(&req.name, &ctx);
            let rendered = service_config::render(&settings).map_err(|e| Error::Invalid(e.to_string()))?;
            let now = self.clock.now();
            let project = Project {
                id: ProjectId::new(),
                workspace_id,
                slug,
                name: req.name.clone(),
                environment: req.environment,
                home_region: home_region.clone(),
                state: ProjectState::Running,
                revision_id: RevisionId::new(),
                created_at: now,
                updated_at: now,
            };
            let revision = new_revision(&project, settings.clone(), rendered, now)?;
            let mut tx = self.store.begin().await?;
            match self.store.project_create_in_tx(&mut tx, &project, &revision).await {
                Ok(()) => {
                    let seq = self.publish_in_tx(&mut tx, project.id).await?;
                    tx.commit().await.map_err(StoreError::from)?;
                    self.announce(seq);
                    tracing::info!(project = %project.id, slug = %project.slug, actor = %actor.label(), "project created");
                    return Ok((ProjectWithSettings { project, settings }, revision.warnings));
                }
                // A slug collision: draw another suffix.
                Err(StoreError::Duplicate) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict("Could not allocate a unique project slug; try again.".into()))
    }

    /// A project the caller can reach.
    pub async fn project_get(&self, actor: &Actor, id: ProjectId) -> Result<ProjectWithSettings> {
        self.project_for(actor, id, ProjectAction::Configure).await
    }

    /// Resolves a `{project}` path segment, which Ory's API lets be an id or a slug.
    pub async fn project_ref(&self, reference: &str) -> Result<ProjectId> {
        if let Ok(id) = reference.parse::<ProjectId>() {
            return Ok(id);
        }
        let not_found =
            || Error::NotFound(format!("Project {reference} does not exist or you do not have access to it."));
        if !slug::is_valid(reference) {
            return Err(not_found());
        }
        self.store.project_id_by_slug(reference).await?.ok_or_else(not_found)
    }

    /// Loads a project and checks the caller may do `action` on it; absent and out of scope look the same.
    pub(super) async fn project_for(
        &self,
        actor: &Actor,
        id: ProjectId,
        action: ProjectAction,
    ) -> Result<ProjectWithSettings> {
        if let Actor::Key { scope: KeyScope::Project { project_id, .. }, .. } = actor
            && *project_id != id
        {
            return Err(not_found_project(id));
        }
        let project = self.store.project_get(id).await?.ok_or_else(|| not_found_project(id))?;
        actor.require_project(project.project.workspace_id, id, action)?;
        Ok(project)
    }

    /// Projects the caller can see: all (operator), a workspace's, or the key's own project.
    pub async fn project_list(&self, actor: &Actor, page: &PageRequest) -> Result<Vec<Project>> {
        let filter = match actor {
            Actor::Operator => ProjectFilter::All,
            Actor::Key { scope: KeyScope::Workspace(w), .. } => ProjectFilter::Workspace(*w),
            Actor::Key { scope: KeyScope::Project { project_id, .. }, .. } => ProjectFilter::Project(*project_id),
        };
        Ok(self.store.project_list(filter, page).await?)
    }

    /// A workspace's projects.
    pub async fn workspace_projects(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        page: &PageRequest,
    ) -> Result<Vec<Project>> {
        actor.require_workspace(workspace)?;
        if self.store.workspace_get(workspace).await?.is_none() {
            return Err(not_found_workspace(workspace));
        }
        Ok(self.store.project_list(ProjectFilter::Workspace(workspace), page).await?)
    }

    /// Writes a new revision. With `expected_revision`, fails with 409 unless it is still current;
    /// without, retries on a concurrent write (re-applying a patch to the newer settings).
    pub async fn project_update(
        &self,
        actor: &Actor,
        id: ProjectId,
        update: ProjectUpdate,
        expected_revision: Option<RevisionId>,
    ) -> Result<(ProjectWithSettings, Vec<ConfigWarning>)> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let current = self.project_for(actor, id, ProjectAction::Configure).await?;
            if let Some(expected) = expected_revision
                && expected != current.project.revision_id
            {
                return Err(Error::Conflict(format!(
                    "Revision {expected} is not the project's current revision ({}); fetch the project and retry.",
                    current.project.revision_id
                )));
            }
            let settings = match &update {
                ProjectUpdate::Replace(doc) => parse_settings(doc.clone())?,
                ProjectUpdate::Patch(ops) => {
                    let doc = serde_json::to_value(&current.settings).map_err(|e| Error::Invalid(e.to_string()))?;
                    parse_settings(patch::apply(doc, ops)?)?
                }
            };
            if !settings.organizations.is_empty() {
                return Err(Error::FeatureNotAvailable(
                    "Organizations (B2B SSO) are not available on Tessera yet; send `organizations: []`.".into(),
                ));
            }
            let rendered = service_config::render(&settings).map_err(|e| Error::Invalid(e.to_string()))?;
            let now = self.clock.now();
            let mut project = current.project.clone();
            project.revision_id = RevisionId::new();
            project.name = settings.name.clone();
            project.updated_at = now;
            let revision = new_revision(&project, settings.clone(), rendered, now)?;
            let mut tx = self.store.begin().await?;
            if self.store.project_advance_revision_in_tx(&mut tx, current.project.revision_id, &revision).await? {
                let seq = self.publish_in_tx(&mut tx, id).await?;
                tx.commit().await.map_err(StoreError::from)?;
                self.announce(seq);
                tracing::info!(project = %id, revision = %revision.id, actor = %actor.label(), "project configuration revised");
                return Ok((ProjectWithSettings { project, settings }, revision.warnings));
            }
            if expected_revision.is_some() {
                return Err(Error::Conflict("The project was changed concurrently; fetch it and retry.".into()));
            }
        }
        Err(Error::Conflict("The project is being changed concurrently; retry.".into()))
    }

    /// Halts or resumes a project (platform operator only): a halted project is refused in every region.
    pub async fn project_set_state(
        &self,
        actor: &Actor,
        id: ProjectId,
        state: ProjectState,
    ) -> Result<ProjectWithSettings> {
        actor.require_operator("halt or resume projects")?;
        if state == ProjectState::Deleted {
            return Err(Error::Invalid("Use DELETE /projects/{project_id} to purge a project.".into()));
        }
        let mut tx = self.store.begin().await?;
        if !self.store.project_set_state_in_tx(&mut tx, id, state, self.clock.now()).await? {
            return Err(not_found_project(id));
        }
        let seq = self.publish_in_tx(&mut tx, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.announce(seq);
        tracing::info!(project = %id, state = %state, actor = %actor.label(), "project state changed");
        self.project_for(actor, id, ProjectAction::Configure).await
    }

    /// Checks an OPL document for a project without saving it; the errors carry positions.
    pub async fn project_validate_opl(
        &self,
        actor: &Actor,
        id: ProjectId,
        source: &str,
    ) -> Result<Vec<tessera_opl::ParseError>> {
        self.project_for(actor, id, ProjectAction::Configure).await?;
        Ok(tessera_opl::check_syntax(source))
    }

    /// Every revision of a project, newest first.
    pub async fn project_revisions(&self, actor: &Actor, id: ProjectId) -> Result<Vec<Revision>> {
        self.project_for(actor, id, ProjectAction::Configure).await?;
        Ok(self.store.revision_list(id).await?)
    }

    /// Purges a project irrecoverably; its slug stays reserved.
    pub async fn project_purge(&self, actor: &Actor, id: ProjectId) -> Result<()> {
        self.project_for(actor, id, ProjectAction::Administer).await?;
        let mut tx = self.store.begin().await?;
        if !self.store.project_purge_in_tx(&mut tx, id, self.clock.now()).await? {
            return Err(not_found_project(id));
        }
        let seq = self.publish_in_tx(&mut tx, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.announce(seq);
        tracing::info!(project = %id, actor = %actor.label(), "project purged");
        Ok(())
    }
}

/// Parses a settings document, naming the offending key on failure.
fn parse_settings(doc: Value) -> Result<ProjectSettings> {
    if !doc.is_object() {
        return Err(Error::Invalid("The project must be a JSON object.".into()));
    }
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." { Error::Invalid(inner.to_string()) } else { Error::Invalid(format!("{path}: {inner}")) }
    })
}

fn new_revision(
    project: &Project,
    settings: ProjectSettings,
    rendered: service_config::Rendered,
    now: time::OffsetDateTime,
) -> Result<Revision> {
    Ok(Revision {
        project_id: project.id,
        id: project.revision_id,
        settings,
        rendered: serde_json::to_value(&rendered.config).map_err(|e| Error::Invalid(e.to_string()))?,
        warnings: rendered.warnings,
        created_at: now,
    })
}
