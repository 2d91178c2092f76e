//! The OAuth2 and OpenID Connect engine: what Ory Hydra serves on an Ory Network project.
//!
//! Clients are registered through the admin API and stored per project; the token endpoint authenticates them
//! with a keyed digest of their secret (fast on the hot path, useless to whoever steals the database without
//! the installation's secret) and issues opaque `ory_at_` tokens whose HMAC signature is checked before any
//! database read, so forged or foreign tokens cost nothing. Everything is scoped to the request's project.

pub mod api;
pub mod client;
pub mod error;
pub mod flow;
pub mod grant;
pub mod id_token;
pub mod jwt;
pub mod keys;
pub mod service;
pub mod store;
pub mod token;
mod writer;

pub use error::OAuth2Error;
pub use service::{OAuth2Service, OAuth2Settings};

/// The project's issuer: `urls.self.issuer` when configured, else the project's URL as this request reached
/// it. Discovery, tokens and introspection all use this one value, as OIDC requires.
pub fn issuer(tenant: &tessera_platform::tenant::TenantContext, req: &actix_web::HttpRequest) -> String {
    match &tenant.config().oauth2.urls.self_.issuer {
        Some(url) => url.0.as_str().trim_end_matches('/').to_owned(),
        None => tenant.public_base_url(req),
    }
}
