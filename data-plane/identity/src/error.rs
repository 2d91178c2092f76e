//! The identity engine's one error type and its mapping to Kratos's error JSON, in one place.
//!
//! Kratos's errors are `{"error": {"id"?, "code", "status", "reason"?, "details"?, "message"}}`, sometimes with
//! fields next to `error` (`use_flow_id`, `redirect_browser_to`). The SDKs branch on `error.id`, so ids and
//! status codes here follow Kratos exactly; texts follow it where clients are known to match on them.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::store::StoreError;
use crate::wire::timestamp;

/// What went wrong, as the client must learn it.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// 400 with a reason (malformed input, an unknown schema, a rule broken).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401 without an error id: whoami and the session list answer this way.
    #[error("no valid session: {0}")]
    NoSession(&'static str),
    /// 401 `session_inactive`: an endpoint that needs a session got none.
    #[error("an active session is required")]
    SessionInactive { reason: &'static str },
    /// 403 with a reason.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 with a reason.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: an identifier, address or external id is taken.
    #[error("the identity conflicts with an existing one")]
    Conflict,
    /// 400 `session_already_available`.
    #[error("already signed in")]
    AlreadySignedIn { registration: bool },
    /// 403 `security_csrf_violation`.
    #[error("CSRF check failed: {reject_reason}")]
    Csrf { reject_reason: &'static str },
    /// 410 `self_service_flow_expired` on submit: a new flow was made for the client to continue with.
    #[error("the flow expired")]
    FlowExpired { expired_at: OffsetDateTime, since_nanos: i128, use_flow_id: Option<String> },
    /// 410 `self_service_flow_expired` on fetch: the client must start a new flow at `details`.
    #[error("the flow expired")]
    FlowExpiredFetch { reason: String, details: Value },
    /// 400 `self_service_flow_return_to_forbidden`.
    #[error("return_to is not allowed: {0}")]
    ReturnToForbidden(String),
    /// 422 `browser_location_change_required`.
    #[error("the browser must go to {0}")]
    BrowserLocationChange(String),
    /// 403 `security_identity_mismatch`: a flow of another identity.
    #[error("the flow belongs to another identity")]
    IdentityMismatch,
    /// 403 `session_refresh_required`: the session is too old for this change.
    #[error("the session must be refreshed")]
    RefreshRequired { redirect_browser_to: String },
    /// 400 `self_service_flow_disabled`.
    #[error("this flow is disabled")]
    FlowDisabled(&'static str),
    /// 402 `quota_exceeded`: the project used up its plan's hard limit of this meter for the period.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// 500; the cause is logged where this is built and never shown.
    #[error("internal error")]
    Internal,
}

impl From<StoreError> for IdentityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            StoreError::Db(source) => {
                tracing::error!(error = %source, cause = ?std::error::Error::source(&source), "identity storage failure");
                Self::Internal
            }
        }
    }
}

const CSRF_REASON: &str = "Please retry the flow and optionally clear your cookies. The request was rejected to \
protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal \
information, and other serious security issues.";

/// The parts of an error body.
struct Body {
    status: StatusCode,
    id: Option<&'static str>,
    reason: Option<String>,
    details: Option<Value>,
    message: String,
    extra: Map<String, Value>,
}

impl Body {
    fn new(status: StatusCode, message: &str) -> Self {
        Self { status, id: None, reason: None, details: None, message: message.to_owned(), extra: Map::new() }
    }
    fn id(mut self, id: &'static str) -> Self {
        self.id = Some(id);
        self
    }
    fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

impl IdentityError {
    fn body(&self) -> Body {
        use StatusCode as S;
        const BAD: &str = "The request was malformed or contained invalid parameters";
        match self {
            Self::BadRequest(r) => Body::new(S::BAD_REQUEST, BAD).reason(r),
            Self::NoSession(r) => Body::new(S::UNAUTHORIZED, "The request could not be authorized").reason(*r),
            Self::SessionInactive { reason } => {
                Body::new(S::UNAUTHORIZED, "request does not have a valid authentication session")
                    .id("session_inactive")
                    .reason(*reason)
            }
            Self::Forbidden(r) => Body::new(S::FORBIDDEN, "The requested action was forbidden").reason(r),
            Self::NotFound(r) => Body::new(S::NOT_FOUND, "The requested resource could not be found").reason(r),
            Self::Conflict => Body::new(
                S::CONFLICT,
                "Unable to insert or update resource because a resource with that value exists already",
            )
            .reason("This identity conflicts with another identity that already exists."),
            Self::AlreadySignedIn { registration } => {
                Body::new(S::BAD_REQUEST, "you are already logged in").id("session_already_available").reason(
                    if *registration {
                        "A valid session was detected and thus registration is not possible."
                    } else {
                        "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?"
                    },
                )
            }
            Self::Csrf { reject_reason } => {
                let mut b = Body::new(S::FORBIDDEN, "the request was rejected to protect you from Cross-Site-Request-Forgery")
                    .id("security_csrf_violation")
                    .reason(CSRF_REASON);
                b.details = Some(json!({
                    "docs": "https://www.ory.sh/kratos/docs/debug/csrf",
                    "hint": "The anti-CSRF cookie and the csrf_token sent with the form must come from the same browser session; make sure the UI and the API share a domain.",
                    "reject_reason": reject_reason,
                }));
                b
            }
            Self::FlowExpired { expired_at, since_nanos, use_flow_id } => {
                let minutes = *since_nanos as f64 / 60e9;
                let mut b = Body::new(S::GONE, "self-service flow expired")
                    .id("self_service_flow_expired")
                    .reason(format!("The self-service flow expired {minutes:.2} minutes ago, initialize a new one."));
                b.extra.insert("expired_at".into(), json!(timestamp(*expired_at)));
                b.extra.insert("since".into(), json!(since_nanos));
                if let Some(id) = use_flow_id {
                    b.extra.insert("use_flow_id".into(), json!(id));
                }
                b
            }
            Self::FlowExpiredFetch { reason, details } => {
                let mut b = Body::new(S::GONE, "self-service flow expired").id("self_service_flow_expired").reason(reason);
                b.details = Some(details.clone());
                b
            }
            Self::ReturnToForbidden(url) => Body::new(S::BAD_REQUEST, BAD)
                .id("self_service_flow_return_to_forbidden")
                .reason(format!("Requested return_to URL \"{url}\" is not allowed.")),
            Self::BrowserLocationChange(url) => {
                let mut b = Body::new(S::UNPROCESSABLE_ENTITY, "browser location change required")
                    .id("browser_location_change_required")
                    .reason(format!("In order to complete this flow please redirect the browser to: {url}"));
                b.extra.insert("redirect_browser_to".into(), json!(url));
                b
            }
            Self::IdentityMismatch => Body::new(S::FORBIDDEN, "The requested action was forbidden")
                .id("security_identity_mismatch")
                .reason("The request was initiated by someone else and has been blocked for security reasons. Please go back and try again."),
            Self::RefreshRequired { redirect_browser_to } => {
                let mut b = Body::new(S::FORBIDDEN, "The requested action was forbidden")
                    .id("session_refresh_required")
                    .reason("The login session is too old and thus not allowed to update these fields. Please re-authenticate.");
                b.extra.insert("redirect_browser_to".into(), json!(redirect_browser_to));
                b
            }
            Self::QuotaExceeded(meter) => Body::new(S::PAYMENT_REQUIRED, "Quota exceeded").id("quota_exceeded").reason(
                format!("This project used all of its plan's `{meter}` for this billing period; upgrade the workspace's plan to continue."),
            ),
            Self::FlowDisabled(what) => Body::new(S::BAD_REQUEST, BAD)
                .id("self_service_flow_disabled")
                .reason(format!("{what} is not allowed because it was disabled.")),
            Self::Internal => {
                Body::new(S::INTERNAL_SERVER_ERROR, "An internal server error occurred, please contact the system administrator")
            }
        }
    }

    /// The inner error object (`{"id", "code", ...}`), as stored for the error page and used in batch results.
    pub fn object(&self) -> Value {
        render_object(&self.body())
    }

    /// The whole response body.
    pub fn to_json(&self) -> Value {
        let body = self.body();
        let mut out = Map::new();
        out.insert("error".into(), render_object(&body));
        out.extend(body.extra);
        Value::Object(out)
    }

    /// The specific reason, as the body would carry it.
    pub fn reason(&self) -> Option<String> {
        self.body().reason
    }

    /// The error's machine id, when Kratos defines one.
    pub fn id(&self) -> Option<&'static str> {
        self.body().id
    }
}

fn render_object(b: &Body) -> Value {
    let mut e = Map::new();
    if let Some(id) = b.id {
        e.insert("id".into(), json!(id));
    }
    e.insert("code".into(), json!(b.status.as_u16()));
    e.insert("status".into(), json!(b.status.canonical_reason().unwrap_or("")));
    if let Some(r) = &b.reason {
        e.insert("reason".into(), json!(r));
    }
    if let Some(d) = &b.details {
        e.insert("details".into(), d.clone());
    }
    e.insert("message".into(), json!(b.message));
    Value::Object(e)
}

impl ResponseError for IdentityError {
    fn status_code(&self) -> StatusCode {
        self.body().status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(id) = self.id() {
            resp.insert_header(("ory-error-id", id));
        }
        resp.insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store, must-revalidate"),
        ));
        resp.json(self.to_json())
    }
}
