//! Route table of the workspace API. Handlers are thin: extract, call the control plane, map to wire JSON.

pub mod api_keys;
pub mod billing;
pub mod domains;
pub mod members;
pub mod projects;
pub mod regions;
pub mod workspaces;

use actix_web::web;
use serde::Deserialize;
use tessera_platform::ApiError;
use tessera_platform::pagination::PageRequest;
use utoipa::IntoParams;

/// Registers every route of the workspace API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/workspaces", web::get().to(workspaces::list_workspaces))
        .route("/workspaces", web::post().to(workspaces::create_workspace))
        .route("/workspaces/{workspace}", web::get().to(workspaces::get_workspace))
        .route("/workspaces/{workspace}", web::put().to(workspaces::update_workspace))
        .route("/workspaces/{workspace}/projects", web::get().to(workspaces::list_workspace_projects))
        .route("/workspaces/{workspace}/usage", web::get().to(billing::get_workspace_usage))
        .route("/workspaces/{workspace}/invoices", web::get().to(billing::list_workspace_invoices))
        .route("/workspaces/{workspace}/subscription", web::put().to(billing::update_workspace_subscription))
        .route("/workspaces/{workspace}/tokens", web::get().to(api_keys::list_workspace_api_keys))
        .route("/workspaces/{workspace}/tokens", web::post().to(api_keys::create_workspace_api_key))
        .route("/workspaces/{workspace}/tokens/{token_id}", web::delete().to(api_keys::delete_workspace_api_key))
        .route("/projects", web::get().to(projects::list_projects))
        .route("/projects", web::post().to(projects::create_project))
        .route("/projects/{project_id}", web::get().to(projects::get_project))
        .route("/projects/{project_id}", web::put().to(projects::set_project))
        .route("/projects/{project_id}", web::patch().to(projects::patch_project))
        .route("/projects/{project_id}", web::delete().to(projects::purge_project))
        .route("/projects/{project_id}/revision/{revision_id}", web::patch().to(projects::patch_project_with_revision))
        .route("/projects/{project_id}/revisions", web::get().to(projects::list_project_revisions))
        .route("/projects/{project_id}/state", web::put().to(projects::set_project_state))
        .route("/projects/{project_id}/opl/validate", web::post().to(projects::validate_opl))
        .route("/projects/{project_id}/custom-domains", web::get().to(domains::list_custom_domains))
        .route("/projects/{project_id}/custom-domains", web::post().to(domains::add_custom_domain))
        .route("/projects/{project_id}/custom-domains/{domain_id}", web::delete().to(domains::remove_custom_domain))
        .route(
            "/projects/{project_id}/custom-domains/{domain_id}/verify",
            web::post().to(domains::verify_custom_domain),
        )
        .route("/projects/{project}/tokens", web::get().to(api_keys::list_project_api_keys))
        .route("/projects/{project}/tokens", web::post().to(api_keys::create_project_api_key))
        .route("/projects/{project}/tokens/{token_id}", web::delete().to(api_keys::delete_project_api_key))
        .route("/projects/{project}/members", web::get().to(members::get_project_members))
        .route("/projects/{project}/members", web::post().to(members::add_project_member))
        .route("/projects/{project}/members/{member}", web::delete().to(members::remove_project_member))
        .route("/regions", web::get().to(regions::list_regions));
}

/// `page_size` and `page_token`, as Ory's paginated lists take them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 1000.
    pub page_size: Option<i64>,
    /// The token from the previous page.
    pub page_token: Option<String>,
}

impl PageQuery {
    /// Validates the query into a page request.
    pub fn page(&self, default_size: Option<u32>) -> Result<PageRequest, ApiError> {
        let mut req = PageRequest::parse(self.page_size, self.page_token.as_deref())?;
        if self.page_size.is_none()
            && let Some(size) = default_size
        {
            req.size = size;
        }
        Ok(req)
    }
}
