//! A self-service flow: what every kind shares (id, type, expiry, request URL, return_to, the form, state),
//! how it is stored, and how it is rendered as Kratos's JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tessera_platform::tenant::TenantContext;
use time::OffsetDateTime;

use super::csrf;
use super::ui::Ui;
use crate::error::IdentityError;
use crate::model::{Aal, FlowId, Identity, IdentityId};
use crate::store::FlowRecord;
use crate::urls::PublicUrls;
use crate::wire::{Audience, identity_json, timestamp};

/// Which flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowKind {
    Login,
    Registration,
    Settings,
}

impl FlowKind {
    /// The name in paths and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Registration => "registration",
            Self::Settings => "settings",
        }
    }

    /// The id of the "flow expired" message.
    pub fn expired_message_id(self) -> u32 {
        match self {
            Self::Login => 4010001,
            Self::Registration => 4040001,
            Self::Settings => 4050001,
        }
    }

    /// The project's UI page for this flow.
    pub fn ui_url(self, tenant: &TenantContext, urls: &PublicUrls) -> String {
        let flows = &tenant.config().identity.selfservice.flows;
        let configured = match self {
            Self::Login => flows.login.ui_url.as_ref(),
            Self::Registration => flows.registration.ui_url.as_ref(),
            Self::Settings => flows.settings.ui_url.as_ref(),
        };
        configured.map(|u| u.0.to_string()).unwrap_or_else(|| urls.url(&format!("/ui/{}", self.as_str())))
    }

    /// How long a new flow lives.
    pub fn lifespan(self, tenant: &TenantContext) -> time::Duration {
        let flows = &tenant.config().identity.selfservice.flows;
        let d = match self {
            Self::Login => flows.login.lifespan.0,
            Self::Registration => flows.registration.lifespan.0,
            Self::Settings => flows.settings.lifespan.0,
        };
        time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
    }
}

/// `api` (native apps: no cookies, no CSRF) or `browser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowType {
    Api,
    Browser,
}

impl FlowType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Browser => "browser",
        }
    }
}

/// A flow as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: FlowId,
    pub kind: FlowKind,
    pub flow_type: FlowType,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub request_url: String,
    pub return_to: Option<String>,
    pub ui: Ui,
    /// `choose_method` → `passed_challenge` (login, registration); `show_form` → `success` (settings).
    pub state: String,
    /// Login: re-authentication of a signed-in identity.
    #[serde(default)]
    pub refresh: bool,
    #[serde(default = "default_aal")]
    pub requested_aal: Aal,
    /// Settings: whose flow it is.
    #[serde(default)]
    pub identity_id: Option<IdentityId>,
    /// The raw CSRF token (browser flows); never rendered unmasked.
    #[serde(default)]
    pub csrf_token: String,
}

fn default_aal() -> Aal {
    Aal::Aal1
}

impl Flow {
    /// A new flow with an empty form posting to the kind's submit URL.
    pub fn new(
        kind: FlowKind,
        flow_type: FlowType,
        urls: &PublicUrls,
        request_url: String,
        return_to: Option<String>,
        now: OffsetDateTime,
        lifespan: time::Duration,
        csrf_token: String,
    ) -> Self {
        let id = FlowId::new();
        Self {
            id,
            kind,
            flow_type,
            expires_at: now + lifespan,
            issued_at: now,
            created_at: now,
            updated_at: now,
            request_url,
            return_to,
            ui: Ui::new(urls.url(&format!("/self-service/{}?flow={id}", kind.as_str()))),
            state: if kind == FlowKind::Settings { "show_form".into() } else { "choose_method".into() },
            refresh: false,
            requested_aal: Aal::Aal1,
            identity_id: None,
            csrf_token,
        }
    }

    /// Whether the flow can no longer be submitted.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }

    /// The stored form.
    pub fn record(&self) -> FlowRecord {
        FlowRecord {
            id: self.id,
            kind: self.kind.as_str().into(),
            flow_type: self.flow_type.as_str().into(),
            csrf_token: self.csrf_token.clone(),
            identity_id: self.identity_id,
            document: serde_json::to_value(self).unwrap_or(Value::Null),
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Back from storage.
    pub fn from_record(r: &FlowRecord) -> Result<Self, IdentityError> {
        serde_json::from_value(r.document.clone()).map_err(|e| {
            tracing::error!(error = %e, flow = %r.id, "a stored flow does not parse");
            IdentityError::Internal
        })
    }

    /// Kratos's JSON, with a freshly masked CSRF token and (settings) the identity.
    pub fn render(&self, urls: &PublicUrls, identity: Option<&Identity>) -> Value {
        let mut ui = self.ui.clone();
        let masked = if self.csrf_token.is_empty() { String::new() } else { csrf::mask(&self.csrf_token) };
        ui.set_value("csrf_token", json!(masked));
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        if self.kind == FlowKind::Login {
            o.insert("organization_id".into(), Value::Null);
        }
        o.insert("type".into(), json!(self.flow_type.as_str()));
        o.insert("expires_at".into(), json!(timestamp(self.expires_at)));
        o.insert("issued_at".into(), json!(timestamp(self.issued_at)));
        o.insert("request_url".into(), json!(self.request_url));
        if let Some(r) = &self.return_to {
            o.insert("return_to".into(), json!(r));
        }
        o.insert("ui".into(), serde_json::to_value(&ui).unwrap_or(Value::Null));
        match self.kind {
            FlowKind::Login => {
                o.insert("created_at".into(), json!(timestamp(self.created_at)));
                o.insert("updated_at".into(), json!(timestamp(self.updated_at)));
                o.insert("refresh".into(), json!(self.refresh));
                o.insert("requested_aal".into(), json!(self.requested_aal.as_str()));
            }
            FlowKind::Registration => {
                o.insert("organization_id".into(), Value::Null);
            }
            FlowKind::Settings => {
                if let Some(i) = identity {
                    o.insert("identity".into(), identity_json(i, urls, Audience::Frontend));
                }
                o.insert("organization_id".into(), Value::Null);
            }
        }
        o.insert("state".into(), json!(self.state));
        Value::Object(o)
    }
}
