use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::ProjectId;
use uuid::Uuid;

use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::{AddCustomDomainBody, CustomDomain};

/// List a project's custom domains (a Tessera extension).
#[utoipa::path(get, path = "/projects/{project_id}/custom-domains", tag = "project", operation_id = "listCustomDomains",
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, body = Vec<CustomDomain>), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_custom_domains(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
) -> Result<Json<Vec<CustomDomain>>, ApiError> {
    let domains = state.control_plane.domain_list(&caller.0, path.into_inner()).await?;
    Ok(Json(domains.into_iter().map(CustomDomain::from).collect()))
}

/// Add a custom domain; it routes once verified (a Tessera extension).
#[utoipa::path(post, path = "/projects/{project_id}/custom-domains", tag = "project", operation_id = "addCustomDomain", request_body = AddCustomDomainBody,
    params(("project_id" = ProjectId, Path, description = "The project's id")),
    responses((status = 201, body = CustomDomain), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn add_custom_domain(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<ProjectId>,
    body: Json<AddCustomDomainBody>,
) -> Result<HttpResponse, ApiError> {
    let domain = state.control_plane.domain_add(&caller.0, path.into_inner(), &body.hostname).await?;
    Ok(HttpResponse::Created().json(CustomDomain::from(domain)))
}

/// Check that the verification token is published on the domain, and route it (a Tessera extension).
#[utoipa::path(post, path = "/projects/{project_id}/custom-domains/{domain_id}/verify", tag = "project", operation_id = "verifyCustomDomain",
    params(("project_id" = ProjectId, Path, description = "The project's id"), ("domain_id" = Uuid, Path, description = "The custom domain's id")),
    responses((status = 200, body = CustomDomain), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn verify_custom_domain(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(ProjectId, Uuid)>,
) -> Result<Json<CustomDomain>, ApiError> {
    let (project, id) = path.into_inner();
    let domain = state.control_plane.domain_verify(&caller.0, project, id).await?;
    Ok(Json(domain.into()))
}

/// Remove a custom domain (a Tessera extension).
#[utoipa::path(delete, path = "/projects/{project_id}/custom-domains/{domain_id}", tag = "project", operation_id = "removeCustomDomain",
    params(("project_id" = ProjectId, Path, description = "The project's id"), ("domain_id" = Uuid, Path, description = "The custom domain's id")),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn remove_custom_domain(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    state.control_plane.domain_remove(&caller.0, project, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
