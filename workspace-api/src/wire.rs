//! The JSON this API speaks, shaped exactly as Ory Network's Project and Workspace API.
//!
//! Every type here is a wire type; domain types are converted in one `From` each. Rules the SDKs enforce:
//! required keys are always present (`organizations: []`, `warnings: []`), enums stay inside Ory's closed
//! lists, absent optionals are omitted rather than sent as `""`, and times are RFC 3339.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_control_plane::model::{self as m, ConfigWarning, KeyScope};
use tessera_platform::ids::{AccountId, ApiKeyId, ProjectId, RevisionId, WorkspaceId};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A workspace.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = workspace)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub access_policy: Option<&'static str>,
    /// The billing plan the workspace is on.
    pub subscription_plan: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<m::Workspace> for Workspace {
    fn from(w: m::Workspace) -> Self {
        Self {
            id: w.id,
            name: w.name,
            access_policy: w.access_policy.map(|p| p.as_str()),
            subscription_plan: w.subscription_plan,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// `POST /workspaces`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createWorkspaceBody)]
pub struct CreateWorkspaceBody {
    pub name: String,
}

/// `PUT /workspaces/{workspace}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = updateWorkspaceBody)]
pub struct UpdateWorkspaceBody {
    pub name: String,
    /// `CHECK_ORGANIZATION_AND_WORKSPACE_MEMBERSHIP` or `CHECK_ACCESS_PERMISSION`.
    #[serde(default)]
    pub access_policy: Option<String>,
}

/// A page of workspaces.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = listWorkspaces)]
pub struct ListWorkspaces {
    pub workspaces: Vec<Workspace>,
    /// Empty when this is the last page.
    pub next_page_token: String,
    pub has_next_page: bool,
}

/// A project as lists show it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = projectMetadata)]
pub struct ProjectMetadata {
    pub id: ProjectId,
    pub name: String,
    pub slug: String,
    /// `prod`, `stage` or `dev`.
    pub environment: &'static str,
    pub home_region: String,
    /// `running`, `halted` or `deleted`.
    pub state: &'static str,
    pub hosts: Vec<String>,
    pub workspace_id: WorkspaceId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl ProjectMetadata {
    /// Converts a project, given the hosts it answers on.
    pub fn new(p: m::Project, hosts: Vec<String>) -> Self {
        Self {
            id: p.id,
            name: p.name,
            slug: p.slug,
            environment: p.environment.as_str(),
            home_region: p.home_region,
            state: p.state.as_str(),
            hosts,
            workspace_id: p.workspace_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of a workspace's projects.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = listWorkspaceProjects)]
pub struct ListWorkspaceProjects {
    pub projects: Vec<ProjectMetadata>,
    /// Empty when this is the last page.
    pub next_page: String,
    pub has_next_page: bool,
}

/// A project with its current configuration revision.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = project)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub slug: String,
    pub environment: &'static str,
    pub home_region: String,
    pub state: &'static str,
    pub revision_id: RevisionId,
    pub workspace_id: WorkspaceId,
    pub hosts: Vec<String>,
    /// `identity`, `permission` and `oauth2`, each `{"config": {...}}`, exactly as last written.
    #[schema(value_type = Object)]
    pub services: m::Services,
    pub cors_public: Cors,
    pub cors_admin: Cors,
    #[schema(value_type = Vec<Object>)]
    pub organizations: Vec<Value>,
}

impl Project {
    /// Converts a project and its settings, given the hosts it answers on.
    pub fn new(p: m::ProjectWithSettings, hosts: Vec<String>) -> Self {
        let s = p.settings;
        Self {
            id: p.project.id,
            name: s.name,
            slug: p.project.slug,
            environment: p.project.environment.as_str(),
            home_region: p.project.home_region,
            state: p.project.state.as_str(),
            revision_id: p.project.revision_id,
            workspace_id: p.project.workspace_id,
            hosts,
            services: s.services,
            cors_public: s.cors_public.into(),
            cors_admin: s.cors_admin.into(),
            organizations: s.organizations,
        }
    }
}

/// CORS settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = projectCors)]
pub struct Cors {
    pub enabled: bool,
    pub origins: Vec<String>,
}

impl From<m::Cors> for Cors {
    fn from(c: m::Cors) -> Self {
        Self { enabled: c.enabled, origins: c.origins }
    }
}

/// A configuration key kept but not acted on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Warning)]
pub struct Warning {
    pub code: i64,
    pub message: String,
}

impl From<ConfigWarning> for Warning {
    fn from(w: ConfigWarning) -> Self {
        Self { code: w.code, message: w.message }
    }
}

/// The answer to `PUT` and `PATCH` of a project.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = successfulProjectUpdate)]
pub struct SuccessfulProjectUpdate {
    pub project: Project,
    /// Keys that are kept but have no effect; always present, often empty.
    pub warnings: Vec<Warning>,
}

/// `POST /projects`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createProjectBody)]
pub struct CreateProjectBody {
    pub name: String,
    /// `prod`, `stage` or `dev`.
    pub environment: String,
    /// An Ory region name configured on this installation; the default region when omitted.
    #[serde(default)]
    pub home_region: Option<String>,
    /// Required for the platform operator; a workspace key's own workspace otherwise.
    #[serde(default)]
    pub workspace_id: Option<WorkspaceId>,
}

/// `POST /workspaces/{workspace}/tokens` and `POST /projects/{project}/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = createApiKeyBody)]
pub struct CreateApiKeyBody {
    pub name: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

/// What every API key shows; `value` only in the answer that creates it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = apiKeyFields)]
pub struct ApiKeyFields {
    pub id: ApiKeyId,
    pub name: String,
    pub owner_id: AccountId,
    pub last_characters: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl ApiKeyFields {
    fn new(k: m::ApiKey, value: Option<String>) -> Self {
        Self {
            id: k.id,
            name: k.name,
            owner_id: k.owner_id,
            last_characters: k.last_characters,
            value,
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

/// A workspace API key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = workspaceApiKey)]
pub struct WorkspaceApiKey {
    #[serde(flatten)]
    pub key: ApiKeyFields,
    pub workspace_id: WorkspaceId,
}

/// A project API key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = projectApiKey)]
pub struct ProjectApiKey {
    #[serde(flatten)]
    pub key: ApiKeyFields,
    pub project_id: ProjectId,
}

impl WorkspaceApiKey {
    /// Converts a key of workspace scope, with its secret when just created.
    pub fn new(k: m::ApiKey, value: Option<String>) -> Self {
        let workspace_id = match k.scope {
            KeyScope::Workspace(w) => w,
            KeyScope::Project { workspace_id, .. } => workspace_id,
        };
        Self { key: ApiKeyFields::new(k, value), workspace_id }
    }
}

impl ProjectApiKey {
    /// Converts a key of project scope, with its secret when just created.
    pub fn new(k: m::ApiKey, project_id: ProjectId, value: Option<String>) -> Self {
        Self { key: ApiKeyFields::new(k, value), project_id }
    }
}

/// A member of a project.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = projectMember)]
pub struct ProjectMember {
    pub id: AccountId,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    /// `owner`, `developer` or `viewer`.
    pub role: &'static str,
    /// Always `project` today: workspace-level membership is not modelled yet.
    pub source: &'static str,
}

impl From<m::Member> for ProjectMember {
    fn from(mm: m::Member) -> Self {
        Self {
            id: mm.account_id,
            email: mm.email,
            name: mm.name,
            email_verified: mm.email_verified,
            role: mm.role.as_str(),
            source: "project",
        }
    }
}

/// `POST /projects/{project}/members` (a Tessera extension: Ory invites through its console).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = addProjectMemberBody)]
pub struct AddProjectMemberBody {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `owner`, `developer` or `viewer`.
    pub role: String,
}

/// A region of this installation (a Tessera extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = region)]
pub struct Region {
    /// The Ory region name, e.g. `eu-central`.
    pub name: String,
    /// Base URL of the region's data-plane workers.
    pub url: String,
    /// Whether new projects land here when they name no region.
    pub default: bool,
}

/// One configuration revision (a Tessera extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = projectRevision)]
pub struct Revision {
    pub id: RevisionId,
    pub project_id: ProjectId,
    #[schema(value_type = Object)]
    pub settings: Value,
    pub warnings: Vec<Warning>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<m::Revision> for Revision {
    fn from(r: m::Revision) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            settings: serde_json::to_value(&r.settings).unwrap_or_else(|_| Value::Object(Map::new())),
            warnings: r.warnings.into_iter().map(Warning::from).collect(),
            created_at: r.created_at,
        }
    }
}

/// `POST /projects/{project_id}/custom-domains` (a Tessera extension).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = addCustomDomainBody)]
pub struct AddCustomDomainBody {
    /// A DNS name such as `login.example.com`.
    pub hostname: String,
}

/// How to prove control of a custom domain.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = customDomainVerification)]
pub struct DomainVerification {
    /// Publish this token, alone, as the body of `url`.
    pub token: String,
    pub url: String,
}

/// A project's custom domain (a Tessera extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = customDomain)]
pub struct CustomDomain {
    pub id: uuid::Uuid,
    pub project_id: ProjectId,
    pub hostname: String,
    /// Only verified domains route to the project.
    pub verified: bool,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<OffsetDateTime>,
    pub verification: DomainVerification,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<tessera_control_plane::store::CustomDomain> for CustomDomain {
    fn from(d: tessera_control_plane::store::CustomDomain) -> Self {
        let url = format!("http://{}{}", d.hostname, tessera_control_plane::app::VERIFICATION_PATH);
        Self {
            id: d.id,
            project_id: d.project_id,
            hostname: d.hostname,
            verified: d.verified_at.is_some(),
            verified_at: d.verified_at,
            verification: DomainVerification { token: d.verification_token, url },
            created_at: d.created_at,
        }
    }
}

/// `PUT /projects/{project_id}/state` (a Tessera extension, platform operator only).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = setProjectStateBody)]
pub struct SetProjectStateBody {
    /// `running` or `halted`.
    pub state: String,
}

/// A position in an OPL document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = oplSourcePosition)]
pub struct OplSourcePosition {
    pub line: u32,
    pub column: u32,
}

/// One OPL error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = oplParseError)]
pub struct OplParseError {
    pub message: String,
    pub start: OplSourcePosition,
    pub end: OplSourcePosition,
}

/// The answer to `POST /projects/{project_id}/opl/validate`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = oplValidateResult)]
pub struct OplValidateResult {
    pub errors: Vec<OplParseError>,
}
