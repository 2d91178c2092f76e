//! The project's public URLs, as the client reached it: scheme and host of the request, plus the `/p/<slug>`
//! prefix when the project was reached through the path prefix. Links we hand out (flow actions, schema
//! URLs, logout URLs) are built from it, so they work through whichever address the client used.

use actix_web::HttpRequest;
use tessera_platform::tenant::TenantContext;

/// The project's public base URL for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrls {
    base: String,
    https: bool,
}

impl PublicUrls {
    /// From the request (scheme and `Host`) and the tenant's base path.
    pub fn from_request(req: &HttpRequest, tenant: &TenantContext) -> Self {
        let base = tenant.public_base_url(req);
        Self { https: base.starts_with("https://"), base }
    }

    /// For tests and tools: a fixed base such as `https://acme.projects.example.com`.
    pub fn fixed(base: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), https: base.starts_with("https://") }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Whether cookies must be `Secure` (the project is served over https).
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Where an identity schema is served: its id base64url-encoded, as Kratos links it.
    pub fn schema_url(&self, schema_id: &str) -> String {
        self.url(&format!("/schemas/{}", tessera_identity_schema::schema_url_id(schema_id)))
    }
}
