//! Kratos's JSON for identities and sessions. Which fields appear depends on who asks: admin responses carry
//! `metadata_admin` and (when loaded) credentials; the frontend (whoami, flows) never does.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{Identity, Session};
use crate::urls::PublicUrls;

/// A timestamp as Go prints it: RFC 3339, fractional seconds without trailing zeros, `Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// How much of an identity a response shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// Whoami, sessions, flows: no credentials, no `metadata_admin`.
    Frontend,
    /// Admin API: `metadata_admin`, credentials without their config except the kinds listed.
    Admin { declassify: &'a [String] },
    /// Admin lists without a credential filter: `metadata_admin`, no credentials at all.
    AdminList,
}

/// An identity as JSON for `audience`.
pub fn identity_json(i: &Identity, urls: &PublicUrls, audience: Audience<'_>) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(i.id));
    if let Some(ext) = i.external_id.as_deref().filter(|e| !e.is_empty()) {
        o.insert("external_id".into(), json!(ext));
    }
    if let Audience::Admin { declassify } = audience {
        let mut creds = Map::new();
        for c in &i.credentials {
            let mut cj = Map::new();
            cj.insert("type".into(), json!(c.kind));
            cj.insert("identifiers".into(), json!(c.identifiers));
            if declassify.iter().any(|k| k == &c.kind) {
                cj.insert("config".into(), c.config.clone());
            }
            cj.insert("version".into(), json!(c.version));
            cj.insert("created_at".into(), json!(timestamp(c.created_at)));
            cj.insert("updated_at".into(), json!(timestamp(c.updated_at)));
            creds.insert(c.kind.clone(), Value::Object(cj));
        }
        o.insert("credentials".into(), Value::Object(creds));
    }
    o.insert("schema_id".into(), json!(i.schema_id));
    o.insert("schema_url".into(), json!(urls.schema_url(&i.schema_id)));
    o.insert("state".into(), json!(i.state.as_str()));
    if let Some(at) = i.state_changed_at {
        o.insert("state_changed_at".into(), json!(timestamp(at)));
    }
    o.insert("traits".into(), i.traits.clone());
    if !i.verifiable_addresses.is_empty() {
        let list: Vec<Value> = i
            .verifiable_addresses
            .iter()
            .map(|a| {
                let mut m = Map::new();
                m.insert("id".into(), json!(a.id));
                m.insert("value".into(), json!(a.value));
                m.insert("verified".into(), json!(a.verified));
                m.insert("via".into(), json!(a.via));
                m.insert("status".into(), json!(a.status));
                if let Some(at) = a.verified_at {
                    m.insert("verified_at".into(), json!(timestamp(at)));
                }
                m.insert("created_at".into(), json!(timestamp(a.created_at)));
                m.insert("updated_at".into(), json!(timestamp(a.updated_at)));
                Value::Object(m)
            })
            .collect();
        o.insert("verifiable_addresses".into(), Value::Array(list));
    }
    if !i.recovery_addresses.is_empty() {
        let list: Vec<Value> = i
            .recovery_addresses
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "value": a.value,
                    "via": a.via,
                    "created_at": timestamp(a.created_at),
                    "updated_at": timestamp(a.updated_at),
                })
            })
            .collect();
        o.insert("recovery_addresses".into(), Value::Array(list));
    }
    o.insert("metadata_public".into(), i.metadata_public.clone().unwrap_or(Value::Null));
    if audience != Audience::Frontend {
        o.insert("metadata_admin".into(), i.metadata_admin.clone().unwrap_or(Value::Null));
    }
    o.insert("created_at".into(), json!(timestamp(i.created_at)));
    o.insert("updated_at".into(), json!(timestamp(i.updated_at)));
    o.insert("organization_id".into(), json!(i.organization_id));
    Value::Object(o)
}

/// What a session response includes.
#[derive(Debug, Clone, Copy)]
pub struct SessionView<'a> {
    /// The session's identity when known: it decides `active` even when it is not shown.
    pub identity: Option<&'a Identity>,
    /// Whether `identity` is included in the body (`expand=identity`).
    pub show_identity: bool,
    /// Whether `identity` is shown as the admin sees it.
    pub admin: bool,
    /// Whether devices are expanded (else `null`).
    pub devices: bool,
    pub now: OffsetDateTime,
}

/// A session as JSON.
pub fn session_json(s: &Session, urls: &PublicUrls, view: SessionView<'_>) -> Value {
    let identity_active = view.identity.is_none_or(|i| i.state == crate::model::IdentityState::Active);
    let methods: Vec<Value> = s
        .methods
        .iter()
        .map(|m| json!({"method": m.method, "aal": m.aal.as_str(), "completed_at": timestamp(m.completed_at)}))
        .collect();
    let mut o = Map::new();
    o.insert("id".into(), json!(s.id));
    o.insert("active".into(), json!(s.is_active_at(view.now) && identity_active));
    o.insert("expires_at".into(), json!(timestamp(s.expires_at)));
    o.insert("authenticated_at".into(), json!(timestamp(s.authenticated_at)));
    o.insert("authenticator_assurance_level".into(), json!(s.aal.as_str()));
    o.insert("authentication_methods".into(), Value::Array(methods));
    o.insert("issued_at".into(), json!(timestamp(s.issued_at)));
    let audience = if view.admin { Audience::AdminList } else { Audience::Frontend };
    let shown = view.identity.filter(|_| view.show_identity);
    o.insert("identity".into(), shown.map_or(Value::Null, |i| identity_json(i, urls, audience)));
    o.insert(
        "devices".into(),
        if view.devices {
            Value::Array(
                s.devices
                    .iter()
                    .map(|d| {
                        json!({"id": d.id, "ip_address": d.ip_address, "user_agent": d.user_agent, "location": d.location.clone().unwrap_or_default()})
                    })
                    .collect(),
            )
        } else {
            Value::Null
        },
    );
    Value::Object(o)
}
