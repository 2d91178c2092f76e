//! Our OpenAPI document, generated from the handlers and wire types.
//!
//! Served at `/openapi.json`; the committed copy in `workspace-api/openapi.json` is checked by a test so that
//! a change to the API cannot land without the document changing with it.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{api_keys, billing, domains, members, projects, regions, workspaces};

/// The workspace API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera workspace API",
        description = "Workspaces, projects, configuration revisions, API keys and members: Ory Network's Project and Workspace API, served by Tessera's control plane.",
        license(name = "Apache-2.0")
    ),
    paths(
        workspaces::list_workspaces,
        workspaces::create_workspace,
        workspaces::get_workspace,
        workspaces::update_workspace,
        workspaces::list_workspace_projects,
        billing::get_workspace_usage,
        billing::list_workspace_invoices,
        billing::update_workspace_subscription,
        api_keys::list_workspace_api_keys,
        api_keys::create_workspace_api_key,
        api_keys::delete_workspace_api_key,
        projects::list_projects,
        projects::create_project,
        projects::get_project,
        projects::set_project,
        projects::patch_project,
        projects::patch_project_with_revision,
        projects::purge_project,
        projects::list_project_revisions,
        projects::set_project_state,
        projects::validate_opl,
        domains::list_custom_domains,
        domains::add_custom_domain,
        domains::verify_custom_domain,
        domains::remove_custom_domain,
        api_keys::list_project_api_keys,
        api_keys::create_project_api_key,
        api_keys::delete_project_api_key,
        members::get_project_members,
        members::add_project_member,
        members::remove_project_member,
        regions::list_regions,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "workspace", description = "Workspaces and their API keys"),
        (name = "project", description = "Projects, their configuration revisions, API keys and members"),
        (name = "region", description = "The regions of this installation")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A workspace key (`ory_wak_…`), a project key (`ory_pat_…`) or the operator key"))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON, exactly as committed.
pub fn document() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// Fails when `workspace-api/openapi.json` is stale; `UPDATE_OPENAPI=1 cargo test -p tessera-workspace-api` rewrites it.
    #[test]
    fn committed_openapi_document_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let current = super::document();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &current).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == current,
            "workspace-api/openapi.json is stale; run `UPDATE_OPENAPI=1 cargo test -p tessera-workspace-api` and commit it"
        );
    }
}
