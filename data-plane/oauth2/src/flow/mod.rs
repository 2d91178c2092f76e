//! The authorization-code flow as Hydra runs it: an `/oauth2/auth` request becomes a flow that passes through
//! the project's login app (login challenge → accept/reject → login verifier) and consent app (consent
//! challenge → accept/reject → consent verifier) before a code is issued.
//!
//! State machine (each arrow is one request; a challenge or verifier is good for exactly one step):
//!
//! ```text
//! /oauth2/auth ──▶ LoginUnused ──accept/reject──▶ LoginHandled ──/oauth2/auth?login_verifier──▶ ConsentUnused
//!   ──accept/reject──▶ ConsentHandled ──/oauth2/auth?consent_verifier──▶ Done (code issued, or error sent)
//! ```
//!
//! Accepting or rejecting a challenge that was already handled answers 410 with the `redirect_to` given the
//! first time, as Hydra does; a verifier used twice, or from another browser (CSRF cookie), is refused.

pub mod authorize;
pub mod challenges;
mod cookies;
pub mod device;
pub mod logout;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::client::rfc3339;

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    LoginUnused,
    LoginHandled,
    ConsentUnused,
    ConsentHandled,
    Done,
}

/// What the client asked `/oauth2/auth` for, after validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the client sent `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_sent: bool,
    pub response_type: String,
    pub scope: Vec<String>,
    pub audience: Vec<String>,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: String,
    pub acr_values: Vec<String>,
    pub ui_locales: Vec<String>,
    pub display: String,
    /// The full URL the client sent, shown to the login and consent apps.
    pub request_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Set for a device flow (`/oauth2/device/verify`): the device request the consent approves, instead of a
    /// code sent to a redirect URI.
    #[serde(default)]
    pub device_request: Option<Uuid>,
}

/// A login app's or consent app's refusal, passed on to the client as an OAuth2 error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Denial {
    pub error: String,
    pub error_description: String,
    pub error_hint: String,
    pub error_debug: String,
    pub status_code: Option<u16>,
}

/// What the login app accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginResult {
    pub subject: String,
    pub remember: bool,
    pub remember_for: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub context: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub authenticated_at: OffsetDateTime,
}

/// What the consent app granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentResult {
    pub grant_scope: Vec<String>,
    pub grant_audience: Vec<String>,
    pub remember: bool,
    pub remember_for: i64,
    /// Extra claims for access tokens (introspection `ext`) and ID tokens / userinfo.
    pub access_token_claims: Value,
    pub id_token_claims: Value,
    pub context: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub handled_at: OffsetDateTime,
}

/// One `/oauth2/auth` request on its way through login and consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: Uuid,
    pub state: FlowState,
    pub request: AuthRequest,
    pub login_challenge: String,
    /// A remembered login session made the login request `skip`.
    pub login_skip: bool,
    /// The subject of the remembered session (when skipping) or the accepted one.
    pub subject: String,
    /// The browser's login session (`sid`).
    pub login_session_id: String,
    pub login: Option<LoginResult>,
    pub login_denied: Option<Denial>,
    /// Where the accept/reject answer pointed (given again, with 410, to a second accept/reject).
    pub login_redirect: String,
    pub consent_challenge: Option<String>,
    pub consent_skip: bool,
    pub consent: Option<ConsentResult>,
    pub consent_denied: Option<Denial>,
    pub consent_redirect: String,
    /// SHA-256 of the CSRF cookie set when the flow started; the verifiers must come back with it.
    pub csrf_digest: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Flow {
    /// A new flow waiting for the login app: a `skip` login request when the browser has a usable remembered
    /// login session, a fresh login session id otherwise.
    pub fn start(
        id: Uuid,
        request: AuthRequest,
        remembered: Option<&crate::store::LoginSession>,
        csrf: &str,
        expires_at: OffsetDateTime,
    ) -> Self {
        Flow {
            id,
            state: FlowState::LoginUnused,
            login_challenge: authorize::random_token(),
            login_skip: remembered.is_some(),
            subject: remembered.map(|s| s.subject.clone()).unwrap_or_default(),
            login_session_id: remembered.map_or_else(authorize::random_token, |s| s.id.clone()),
            login: None,
            login_denied: None,
            login_redirect: String::new(),
            consent_challenge: None,
            consent_skip: false,
            consent: None,
            consent_denied: None,
            consent_redirect: String::new(),
            csrf_digest: cookies::hex_digest(csrf),
            expires_at,
            request,
        }
    }

    /// Hydra's `oidc_context`.
    fn oidc_context(&self) -> Value {
        let r = &self.request;
        json!({
            "acr_values": r.acr_values,
            "display": r.display,
            "id_token_hint_claims": {},
            "login_hint": r.login_hint,
            "ui_locales": r.ui_locales,
        })
    }

    /// The login request as `GET /admin/oauth2/auth/requests/login` answers it.
    pub fn login_request_json(&self, client: Value) -> Value {
        json!({
            "challenge": self.login_challenge,
            "client": client,
            "oidc_context": self.oidc_context(),
            "request_url": self.request.request_url,
            "requested_access_token_audience": self.request.audience,
            "requested_scope": self.request.scope,
            "session_id": self.login_session_id,
            "skip": self.login_skip,
            "subject": self.subject,
        })
    }

    /// The consent request as `GET /admin/oauth2/auth/requests/consent` answers it.
    pub fn consent_request_json(&self, client: Value) -> Value {
        let login = self.login.as_ref();
        json!({
            "acr": login.map(|l| l.acr.clone()).unwrap_or_default(),
            "amr": login.map(|l| l.amr.clone()).unwrap_or_default(),
            "challenge": self.consent_challenge,
            "client": client,
            "context": login.map(|l| l.context.clone()).unwrap_or(Value::Object(Map::new())),
            "login_challenge": self.login_challenge,
            "login_session_id": self.login_session_id,
            "oidc_context": self.oidc_context(),
            "request_url": self.request.request_url,
            "requested_access_token_audience": self.request.audience,
            "requested_scope": self.request.scope,
            "skip": self.consent_skip,
            "subject": self.subject,
        })
    }

    /// A consent session as `GET /admin/oauth2/auth/sessions/consent` lists it.
    pub fn consent_session_json(&self, client: Value) -> Value {
        let c = self.consent.as_ref();
        json!({
            "consent_request": self.consent_request_json(client),
            "context": c.map(|c| c.context.clone()).unwrap_or(Value::Object(Map::new())),
            "grant_access_token_audience": c.map(|c| c.grant_audience.clone()).unwrap_or_default(),
            "grant_scope": c.map(|c| c.grant_scope.clone()).unwrap_or_default(),
            "handled_at": c.map(|c| rfc3339(c.handled_at)),
            "remember": c.is_some_and(|c| c.remember),
            "remember_for": c.map_or(0, |c| c.remember_for),
            "session": {
                "access_token": c.map(|c| c.access_token_claims.clone()).unwrap_or(Value::Object(Map::new())),
                "id_token": c.map(|c| c.id_token_claims.clone()).unwrap_or(Value::Object(Map::new())),
            },
        })
    }
}
