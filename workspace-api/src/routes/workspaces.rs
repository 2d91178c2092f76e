use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path, Query};
use tessera_control_plane::model::AccessPolicy;
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::WorkspaceId;
use tessera_platform::pagination::split_page;

use super::PageQuery;
use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::{
    CreateWorkspaceBody, ListWorkspaceProjects, ListWorkspaces, ProjectMetadata, UpdateWorkspaceBody, Workspace,
};

/// List the workspaces the key can see.
#[utoipa::path(get, path = "/workspaces", tag = "workspace", operation_id = "listWorkspaces", params(PageQuery),
    responses((status = 200, body = ListWorkspaces), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_workspaces(
    caller: Caller,
    state: Data<ApiState>,
    query: Query<PageQuery>,
) -> Result<Json<ListWorkspaces>, ApiError> {
    let page = query.page(None)?;
    let items = state.control_plane.workspace_list(&caller.0, &page).await?;
    let (items, next) = split_page(items, &page, |w| w.id.0);
    Ok(Json(ListWorkspaces {
        workspaces: items.into_iter().map(Workspace::from).collect(),
        has_next_page: next.is_some(),
        next_page_token: next.unwrap_or_default(),
    }))
}

/// Create a workspace (platform operator only).
#[utoipa::path(post, path = "/workspaces", tag = "workspace", operation_id = "createWorkspace", request_body = CreateWorkspaceBody,
    responses((status = 201, body = Workspace), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_workspace(
    caller: Caller,
    state: Data<ApiState>,
    body: Json<CreateWorkspaceBody>,
) -> Result<HttpResponse, ApiError> {
    let w = state.control_plane.workspace_create(&caller.0, &body.name).await?;
    Ok(HttpResponse::Created().json(Workspace::from(w)))
}

/// Get a workspace.
#[utoipa::path(get, path = "/workspaces/{workspace}", tag = "workspace", operation_id = "getWorkspace",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id")),
    responses((status = 200, body = Workspace), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn get_workspace(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
) -> Result<Json<Workspace>, ApiError> {
    let w = state.control_plane.workspace_get(&caller.0, path.into_inner()).await?;
    Ok(Json(w.into()))
}

/// Rename a workspace or change its access policy.
#[utoipa::path(put, path = "/workspaces/{workspace}", tag = "workspace", operation_id = "updateWorkspace", request_body = UpdateWorkspaceBody,
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id")),
    responses((status = 200, body = Workspace), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn update_workspace(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    body: Json<UpdateWorkspaceBody>,
) -> Result<Json<Workspace>, ApiError> {
    let body = body.into_inner();
    let policy = body
        .access_policy
        .as_deref()
        .map(|p| p.parse::<AccessPolicy>().map_err(|e| ApiError::bad_request(format!("access_policy: {e}"))))
        .transpose()?;
    let w = state.control_plane.workspace_update(&caller.0, path.into_inner(), &body.name, policy).await?;
    Ok(Json(w.into()))
}

/// List a workspace's projects.
#[utoipa::path(get, path = "/workspaces/{workspace}/projects", tag = "workspace", operation_id = "listWorkspaceProjects",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id"), PageQuery),
    responses((status = 200, body = ListWorkspaceProjects), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_workspace_projects(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    query: Query<PageQuery>,
) -> Result<Json<ListWorkspaceProjects>, ApiError> {
    let page = query.page(None)?;
    let cp = &state.control_plane;
    let items = cp.workspace_projects(&caller.0, path.into_inner(), &page).await?;
    let (items, next) = split_page(items, &page, |p| p.id.0);
    Ok(Json(ListWorkspaceProjects {
        projects: items
            .into_iter()
            .map(|p| {
                let hosts = cp.project_hosts(&p.slug);
                ProjectMetadata::new(p, hosts)
            })
            .collect(),
        has_next_page: next.is_some(),
        next_page: next.unwrap_or_default(),
    }))
}
