use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::{ApiKeyId, WorkspaceId};

use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::{CreateApiKeyBody, ProjectApiKey, WorkspaceApiKey};

/// List a workspace's API keys (without their values).
#[utoipa::path(get, path = "/workspaces/{workspace}/tokens", tag = "workspace", operation_id = "listWorkspaceApiKeys",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id")),
    responses((status = 200, body = Vec<WorkspaceApiKey>), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_workspace_api_keys(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
) -> Result<Json<Vec<WorkspaceApiKey>>, ApiError> {
    let keys = state.control_plane.workspace_key_list(&caller.0, path.into_inner()).await?;
    Ok(Json(keys.into_iter().map(|k| WorkspaceApiKey::new(k, None)).collect()))
}

/// Create a workspace API key; its value is in this response only.
#[utoipa::path(post, path = "/workspaces/{workspace}/tokens", tag = "workspace", operation_id = "createWorkspaceApiKey", request_body = CreateApiKeyBody,
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id")),
    responses((status = 201, body = WorkspaceApiKey), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_workspace_api_key(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    body: Json<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let created =
        state.control_plane.workspace_key_create(&caller.0, path.into_inner(), &body.name, body.expires_at).await?;
    Ok(HttpResponse::Created().json(WorkspaceApiKey::new(created.key, Some(created.secret))))
}

/// Delete a workspace API key.
#[utoipa::path(delete, path = "/workspaces/{workspace}/tokens/{token_id}", tag = "workspace", operation_id = "deleteWorkspaceApiKey",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id"), ("token_id" = ApiKeyId, Path, description = "The key's id")),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn delete_workspace_api_key(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(WorkspaceId, ApiKeyId)>,
) -> Result<HttpResponse, ApiError> {
    let (workspace, key) = path.into_inner();
    state.control_plane.workspace_key_delete(&caller.0, workspace, key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a project's API keys (without their values).
#[utoipa::path(get, path = "/projects/{project}/tokens", tag = "project", operation_id = "listProjectApiKeys",
    params(("project" = String, Path, description = "The project's id or slug")),
    responses((status = 200, body = Vec<ProjectApiKey>), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_project_api_keys(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<String>,
) -> Result<Json<Vec<ProjectApiKey>>, ApiError> {
    let project = state.control_plane.project_ref(&path.into_inner()).await?;
    let keys = state.control_plane.project_key_list(&caller.0, project).await?;
    Ok(Json(keys.into_iter().map(|k| ProjectApiKey::new(k, project, None)).collect()))
}

/// Create a project API key; its value is in this response only.
#[utoipa::path(post, path = "/projects/{project}/tokens", tag = "project", operation_id = "createProjectApiKey", request_body = CreateApiKeyBody,
    params(("project" = String, Path, description = "The project's id or slug")),
    responses((status = 201, body = ProjectApiKey), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_project_api_key(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<String>,
    body: Json<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let project = state.control_plane.project_ref(&path.into_inner()).await?;
    let created = state.control_plane.project_key_create(&caller.0, project, &body.name, body.expires_at).await?;
    Ok(HttpResponse::Created().json(ProjectApiKey::new(created.key, project, Some(created.secret))))
}

/// Delete a project API key.
#[utoipa::path(delete, path = "/projects/{project}/tokens/{token_id}", tag = "project", operation_id = "deleteProjectApiKey",
    params(("project" = String, Path, description = "The project's id or slug"), ("token_id" = ApiKeyId, Path, description = "The key's id")),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn delete_project_api_key(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(String, ApiKeyId)>,
) -> Result<HttpResponse, ApiError> {
    let (project, key) = path.into_inner();
    let project = state.control_plane.project_ref(&project).await?;
    state.control_plane.project_key_delete(&caller.0, project, key).await?;
    Ok(HttpResponse::NoContent().finish())
}
