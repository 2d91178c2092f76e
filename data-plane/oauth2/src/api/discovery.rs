//! `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server` (RFC 8414): what
//! relying-party libraries read first. Endpoints are listed as this request reached the project.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::json;
use tessera_platform::tenant::TenantContext;

use super::json;
use crate::error::OAuth2Error;
use crate::issuer;

/// Registers discovery.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/openid-configuration").route(web::get().to(discovery)))
        .service(web::resource("/.well-known/oauth-authorization-server").route(web::get().to(discovery)));
}

async fn discovery(tenant: TenantContext, req: HttpRequest) -> Result<HttpResponse, OAuth2Error> {
    let base = tenant.public_base_url(&req);
    let config = &tenant.config().oauth2;
    let subject_types: Vec<serde_json::Value> =
        config.oidc.subject_identifiers.supported_types.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
    let body = json!({
        "issuer": issuer(&tenant, &req),
        "authorization_endpoint": format!("{base}/oauth2/auth"),
        "device_authorization_endpoint": format!("{base}/oauth2/device/auth"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/oauth2/sessions/logout"),
        "subject_types_supported": subject_types,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"],
        "scopes_supported": ["offline_access", "offline", "openid"],
        "claims_supported": ["sub"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "id_token_signed_response_alg": ["RS256"],
        "userinfo_signing_alg_values_supported": ["none", "RS256"],
        "userinfo_signed_response_alg": ["RS256"],
        "request_object_signing_alg_values_supported": ["none", "RS256", "ES256"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": true,
        "claims_parameter_supported": false,
        "backchannel_logout_supported": false,
        "backchannel_logout_session_supported": false,
        "frontchannel_logout_supported": false,
        "frontchannel_logout_session_supported": false,
    });
    Ok(json(StatusCode::OK, &body))
}
