//! Self-service flows: login, registration, settings and logout, in browser and api modes.
//!
//! Every flow follows one life cycle: *init* (checks, a new flow with a form each enabled method fills in),
//! *fetch* (the form, for the UI to render), *submit* (the chosen method judges the form; errors go back into
//! the form with Kratos's message ids; success completes the flow). Methods are the unit of extension: a
//! method adds nodes to forms and handles submissions naming it (`method=password`), so MFA and passkeys
//! arrive as more methods, not as special cases in the flows.

pub mod api;
pub mod csrf;
pub mod flow;
mod login;
mod logout;
mod password;
mod profile;
mod registration;
pub mod request;
pub mod return_to;
mod settings;
pub mod ui;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use tessera_platform::tenant::TenantContext;

use crate::error::IdentityError;
use crate::model::FlowErrorId;
use crate::service::IdentityService;
use crate::session::{CurrentSession, IssuedSession};
use crate::urls::PublicUrls;
use crate::wire::{SessionView, session_json};
use flow::{Flow, FlowKind, FlowType};

/// Everything a flow handler works with.
pub struct Ctx<'a> {
    pub svc: &'a IdentityService,
    pub tenant: &'a TenantContext,
    pub req: &'a HttpRequest,
    pub urls: PublicUrls,
    /// The client wants JSON (api flows always get JSON).
    pub json: bool,
}

impl<'a> Ctx<'a> {
    /// For a request.
    pub fn new(svc: &'a IdentityService, tenant: &'a TenantContext, req: &'a HttpRequest) -> Self {
        Self { svc, tenant, req, urls: PublicUrls::from_request(req, tenant), json: request::wants_json(req) }
    }

    /// The request's session, if any.
    pub async fn session(&self) -> Result<Option<CurrentSession>, IdentityError> {
        self.svc.current_session(self.tenant, self.req).await
    }

    /// Where a browser goes after success when no `return_to` was given.
    pub fn default_return_url(&self, kind: Option<FlowKind>) -> String {
        let ss = &self.tenant.config().identity.selfservice;
        let per_flow = match kind {
            Some(FlowKind::Login) => ss.flows.login.after.default_browser_return_url.as_ref(),
            Some(FlowKind::Registration) => ss.flows.registration.after.default_browser_return_url.as_ref(),
            Some(FlowKind::Settings) => ss.flows.settings.after.default_browser_return_url.as_ref(),
            None => ss.flows.logout.after.default_browser_return_url.as_ref(),
        };
        per_flow
            .or(ss.default_browser_return_url.as_ref())
            .map(|u| u.0.to_string())
            .unwrap_or_else(|| self.urls.url("/"))
    }

    /// The project's error page for a stored error.
    fn error_ui(&self, id: FlowErrorId) -> String {
        let configured = self.tenant.config().identity.selfservice.flows.error.ui_url.as_ref();
        let base = configured.map(|u| u.0.to_string()).unwrap_or_else(|| self.urls.url("/ui/error"));
        with_query(&base, "id", &id.to_string())
    }
}

/// `url` with `key=value` appended to its query.
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair(key, value);
            u.to_string()
        }
        Err(_) => format!("{url}{}{key}={value}", if url.contains('?') { '&' } else { '?' }),
    }
}

/// A 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("location", location)).finish()
}

/// JSON with Kratos's content type.
pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    crate::api::json(status, body)
}

/// How a flow request failed.
#[derive(Debug)]
pub enum Failure {
    /// An error outside the form (CSRF, expired, forbidden return_to ...).
    Error(IdentityError),
    /// The form was judged and carries messages: 400 with the flow (JSON), or back to the UI (HTML).
    Invalid(Box<Flow>),
}

impl From<IdentityError> for Failure {
    fn from(e: IdentityError) -> Self {
        Self::Error(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Error(e.into())
    }
}

impl Ctx<'_> {
    /// Answers a failure the way the client can use it.
    pub async fn fail(&self, failure: Failure, flow_type: FlowType) -> HttpResponse {
        let html = flow_type == FlowType::Browser && !self.json;
        match failure {
            Failure::Invalid(flow) => {
                if html {
                    see_other(&with_query(&flow.kind.ui_url(self.tenant, &self.urls), "flow", &flow.id.to_string()))
                } else {
                    let identity = self.settings_identity(&flow).await;
                    json_response(StatusCode::BAD_REQUEST, &flow.render(&self.urls, identity.as_ref()))
                }
            }
            Failure::Error(e) if html => {
                // A browser navigation cannot show JSON: keep the error for the project's error page.
                let id = FlowErrorId::new();
                if let Err(store_err) = self.svc.store(self.tenant).insert_error(id, &e.object(), self.svc.now()).await
                {
                    tracing::error!(error = %store_err, "cannot store a self-service error");
                    return actix_web::ResponseError::error_response(&e);
                }
                see_other(&self.error_ui(id))
            }
            Failure::Error(e) => actix_web::ResponseError::error_response(&e),
        }
    }

    /// The identity a settings flow shows.
    async fn settings_identity(&self, flow: &Flow) -> Option<crate::model::Identity> {
        let id = flow.identity_id?;
        self.svc.store(self.tenant).get(id, false).await.ok().flatten()
    }

    /// Saves a changed flow; a concurrent submission that got there first makes this one fail.
    pub async fn save(&self, flow: &mut Flow) -> Result<(), Failure> {
        let seen = flow.updated_at;
        flow.updated_at = self.svc.now().max(seen + time::Duration::microseconds(1));
        let saved =
            self.svc.store(self.tenant).update_flow(flow.id, &flow.record().document, seen, flow.updated_at).await?;
        if !saved {
            flow.updated_at = seen;
            return Err(Failure::Error(IdentityError::BadRequest(
                "The flow was changed by another request at the same time; fetch it again.".into(),
            )));
        }
        Ok(())
    }

    /// The success response for a flow that issued a session.
    pub fn signed_in(
        &self,
        flow: &Flow,
        issued: &IssuedSession,
        identity: &crate::model::Identity,
        include_identity: bool,
    ) -> HttpResponse {
        let now = self.svc.now();
        let session = session_json(
            &issued.session,
            &self.urls,
            SessionView { identity: Some(identity), show_identity: true, admin: false, devices: true, now },
        );
        let return_to = flow.return_to.clone().unwrap_or_else(|| self.default_return_url(Some(flow.kind)));
        let identity_json = || crate::wire::identity_json(identity, &self.urls, crate::wire::Audience::Frontend);
        match flow.flow_type {
            FlowType::Api => {
                let mut body = json!({"session_token": issued.token, "session": session});
                if include_identity {
                    body["identity"] = identity_json();
                    body["continue_with"] =
                        json!([{"action": "set_ory_session_token", "ory_session_token": issued.token}]);
                } else {
                    body["continue_with"] = Value::Null;
                }
                json_response(StatusCode::OK, &body)
            }
            FlowType::Browser => {
                let cookie = crate::session::session_cookie(self.tenant, &self.urls, &issued.token, &issued.session);
                // A new anti-CSRF secret with every new session, as Kratos does: a token planted or read before
                // sign-in is worthless after it.
                let fresh_csrf = csrf::cookie(&self.urls, &csrf::generate());
                if self.json {
                    let mut body = json!({"session": session});
                    if include_identity {
                        body["identity"] = identity_json();
                    }
                    body["continue_with"] =
                        json!([{"action": "redirect_browser_to", "redirect_browser_to": return_to}]);
                    let mut resp = json_response(StatusCode::OK, &body);
                    add_cookie(&mut resp, cookie);
                    add_cookie(&mut resp, fresh_csrf);
                    resp
                } else {
                    let mut resp = see_other(&return_to);
                    add_cookie(&mut resp, cookie);
                    add_cookie(&mut resp, fresh_csrf);
                    resp
                }
            }
        }
    }
}

/// Adds a `Set-Cookie`.
pub fn add_cookie(resp: &mut HttpResponse, cookie: Cookie<'static>) {
    if let Err(e) = resp.add_cookie(&cookie) {
        tracing::error!(error = %e, "cannot set a cookie");
    }
}
