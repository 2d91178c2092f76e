use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use tessera_control_plane::model::Role;
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::AccountId;

use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::{AddProjectMemberBody, ProjectMember};

/// List a project's members.
#[utoipa::path(get, path = "/projects/{project}/members", tag = "project", operation_id = "getProjectMembers",
    params(("project" = String, Path, description = "The project's id or slug")),
    responses((status = 200, body = Vec<ProjectMember>), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn get_project_members(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<String>,
) -> Result<Json<Vec<ProjectMember>>, ApiError> {
    let project = state.control_plane.project_ref(&path.into_inner()).await?;
    let members = state.control_plane.project_members(&caller.0, project).await?;
    Ok(Json(members.into_iter().map(ProjectMember::from).collect()))
}

/// Add a member by email, or change their role (a Tessera extension; Ory invites through its console).
#[utoipa::path(post, path = "/projects/{project}/members", tag = "project", operation_id = "addProjectMember", request_body = AddProjectMemberBody,
    params(("project" = String, Path, description = "The project's id or slug")),
    responses((status = 201, body = ProjectMember), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn add_project_member(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<String>,
    body: Json<AddProjectMemberBody>,
) -> Result<HttpResponse, ApiError> {
    let role: Role = body.role.parse().map_err(|e| ApiError::bad_request(format!("role: {e}")))?;
    let project = state.control_plane.project_ref(&path.into_inner()).await?;
    let member =
        state.control_plane.project_member_add(&caller.0, project, &body.email, body.name.as_deref(), role).await?;
    Ok(HttpResponse::Created().json(ProjectMember::from(member)))
}

/// Remove a member from a project; the last owner cannot be removed (406).
#[utoipa::path(delete, path = "/projects/{project}/members/{member}", tag = "project", operation_id = "removeProjectMember",
    params(("project" = String, Path, description = "The project's id or slug"), ("member" = AccountId, Path, description = "The member's account id")),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 406, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn remove_project_member(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(String, AccountId)>,
) -> Result<HttpResponse, ApiError> {
    let (project, member) = path.into_inner();
    let project = state.control_plane.project_ref(&project).await?;
    state.control_plane.project_member_remove(&caller.0, project, member).await?;
    Ok(HttpResponse::NoContent().finish())
}
