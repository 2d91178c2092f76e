use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{Data, Json, Path, Query};
use serde_json::Value;
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::model::{Environment, ProjectState, ProjectWithSettings};
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::{ProjectId, RevisionId};
use tessera_platform::pagination::{MAX_PAGE_SIZE, split_page};

use super::PageQuery;
use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::{
    CreateProjectBody, OplParseError, OplSourcePosition, OplValidateResult, Project, ProjectMetadata, Revision,
    SetProjectStateBody, SuccessfulProjectUpdate, Warning,
};

fn project_json(state: &ApiState, p: ProjectWithSettings) -> Project {
    let hosts = state.control_plane.project_hosts(&p.project.slug);
    Project::new(p, hosts)
}

/// List the projects the key can see. Without `page_size`, up to 1000 are returned, as Ory's SDKs expect
/// one bare array; a `Link: <...>; rel="next"` header points at the rest.
#[utoipa::path(get, path = "/projects", tag = "project", operation_id = "listProjects", params(PageQuery),
    responses((status = 200, body = Vec<ProjectMetadata>), (status = 401, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_projects(
    caller: Caller,
    state: Data<ApiState>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page(Some(MAX_PAGE_SIZE))?;
    let cp = &state.control_plane;
    let items = cp.project_list(&caller.0, &page).await?;
    let (items, next) = split_page(items, &page, |p| p.id.0);
    let body: Vec<ProjectMetadata> = items
        .into_iter()
        .map(|p| {
            let hosts = cp.project_hosts(&p.slug);
            ProjectMetadata::new(p, hosts)
        })
        .collect();
    let mut resp = HttpResponse::Ok();
    if let Some(token) = next {
        resp.insert_header((
            header::LINK,
            format!("</projects?page_size={}&page_token={token}>; rel=\"next\"", page.size),
        ));
    }
    Ok(resp.json(body))
}

/// Create a project with default configuration.
#[utoipa::path(post, path = "/projects", tag = "project", operation_id = "createProject", request_body = CreateProjectBody,
    responses((status = 201, body = Project), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_project(
    caller: Caller,
    state: Data<ApiState>,
    body: Json<CreateProjectBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let environment: Environment =
        body.environment.parse().map_err(|e| ApiError::bad_request(format!("environment: {e}")))?;
    let (project, _warnings) = state
        .control_plane
        .project_create(
            &caller.0,
            CreateProject {
                name: body.name,
                environment,
                home_region: body.home_region,
                workspace_id: body.workspace_id,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(project_json(&state, project)))
}

/// Get a project with its current configuration.
#[utoipa::path(get, path = "/projects/{project_id}", tag = "project", operation_id = "getProject",
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = Project), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn get_project(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
) -> Result<Json<Project>, ApiError> {
    let p = state.control_plane.project_get(&caller.0, path.into_inner()).await?;
    Ok(Json(project_json(&state, p)))
}

async fn update(
    caller: Caller,
    state: &ApiState,
    id: ProjectId,
    update: ProjectUpdate,
    expected: Option<RevisionId>,
) -> Result<Json<SuccessfulProjectUpdate>, ApiError> {
    let (project, warnings) = state.control_plane.project_update(&caller.0, id, update, expected).await?;
    Ok(Json(SuccessfulProjectUpdate {
        project: project_json(state, project),
        warnings: warnings.into_iter().map(Warning::from).collect(),
    }))
}

/// Replace a project's configuration; makes a new revision.
#[utoipa::path(put, path = "/projects/{project_id}", tag = "project", operation_id = "setProject",
    request_body(content = Object, description = "`name`, `services`, `cors_public`, `cors_admin`, `organizations`"),
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = SuccessfulProjectUpdate), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn set_project(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
    body: Json<Value>,
) -> Result<Json<SuccessfulProjectUpdate>, ApiError> {
    update(caller, &state, path.into_inner(), ProjectUpdate::Replace(body.into_inner()), None).await
}

/// Apply a JSON Patch to a project's configuration; makes a new revision.
#[utoipa::path(patch, path = "/projects/{project_id}", tag = "project", operation_id = "patchProject",
    request_body(content = Vec<Object>, description = "RFC 6902 operations"),
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = SuccessfulProjectUpdate), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn patch_project(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
    body: Json<Value>,
) -> Result<Json<SuccessfulProjectUpdate>, ApiError> {
    update(caller, &state, path.into_inner(), ProjectUpdate::Patch(body.into_inner()), None).await
}

/// Apply a JSON Patch only if `revision_id` is still the current revision (409 otherwise).
#[utoipa::path(patch, path = "/projects/{project_id}/revision/{revision_id}", tag = "project", operation_id = "patchProjectWithRevision",
    request_body(content = Vec<Object>, description = "RFC 6902 operations"),
    params(("project_id" = ProjectId, Path, description = "The project's id"), ("revision_id" = RevisionId, Path, description = "The revision the patch was written against")),
    responses((status = 200, body = SuccessfulProjectUpdate), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn patch_project_with_revision(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(ProjectId, RevisionId)>,
    body: Json<Value>,
) -> Result<Json<SuccessfulProjectUpdate>, ApiError> {
    let (id, revision) = path.into_inner();
    update(caller, &state, id, ProjectUpdate::Patch(body.into_inner()), Some(revision)).await
}

/// Purge a project irrecoverably.
#[utoipa::path(delete, path = "/projects/{project_id}", tag = "project", operation_id = "purgeProject",
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn purge_project(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    state.control_plane.project_purge(&caller.0, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Halt or resume a project in every region (a Tessera extension, platform operator only).
#[utoipa::path(put, path = "/projects/{project_id}/state", tag = "project", operation_id = "setProjectState", request_body = SetProjectStateBody,
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = Project), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn set_project_state(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
    body: Json<SetProjectStateBody>,
) -> Result<Json<Project>, ApiError> {
    let target: ProjectState = body.state.parse().map_err(|e| ApiError::bad_request(format!("state: {e}")))?;
    let project = state.control_plane.project_set_state(&caller.0, path.into_inner(), target).await?;
    Ok(Json(project_json(&state, project)))
}

/// Check an OPL document for the project without saving it.
#[utoipa::path(post, path = "/projects/{project_id}/opl/validate", tag = "project", operation_id = "validateOpl",
    request_body(content = String, content_type = "text/plain", description = "The OPL document"),
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = OplValidateResult), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn validate_opl(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
    body: actix_web::web::Bytes,
) -> Result<Json<OplValidateResult>, ApiError> {
    let source =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The OPL document must be UTF-8 text."))?;
    let errors = state.control_plane.project_validate_opl(&caller.0, path.into_inner(), source).await?;
    let position = |p: tessera_opl::Position| OplSourcePosition { line: p.line, column: p.column };
    Ok(Json(OplValidateResult {
        errors: errors
            .into_iter()
            .map(|e| OplParseError { message: e.message, start: position(e.start), end: position(e.end) })
            .collect(),
    }))
}

/// The project's configuration history, newest first (a Tessera extension).
#[utoipa::path(get, path = "/projects/{project_id}/revisions", tag = "project", operation_id = "listProjectRevisions",
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = Vec<Revision>), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_project_revisions(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
) -> Result<Json<Vec<Revision>>, ApiError> {
    let revisions = state.control_plane.project_revisions(&caller.0, path.into_inner()).await?;
    Ok(Json(revisions.into_iter().map(Revision::from).collect()))
}
