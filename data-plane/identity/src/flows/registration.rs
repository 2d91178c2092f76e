//! The registration flow.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};
use tessera_project_config::identity::HookKind;

use super::flow::{Flow, FlowType};
use super::password;
use super::request::field;
use super::ui::{Message, text};
use super::{Ctx, Failure, json_response, see_other};
use crate::error::IdentityError;
use crate::identities::{apply_extracted, hash_params};
use crate::model::{Aal, AuthMethod, Credential, Identity, IdentityId, IdentityState};
use crate::session::{CurrentSession, device_of};

/// Checks before a registration flow is made.
pub fn init(ctx: &Ctx<'_>, flow: &mut Flow, session: Option<&CurrentSession>) -> Result<Option<HttpResponse>, Failure> {
    if !ctx.tenant.config().identity.selfservice.flows.registration.enabled {
        return Err(IdentityError::FlowDisabled("Registration").into());
    }
    if session.is_some() {
        if flow.flow_type == FlowType::Browser && !ctx.json {
            let to = flow.return_to.clone().unwrap_or_else(|| ctx.default_return_url(Some(flow.kind)));
            return Ok(Some(see_other(&to)));
        }
        return Err(IdentityError::AlreadySignedIn { registration: true }.into());
    }
    populate(ctx, flow)?;
    Ok(None)
}

/// Fills a registration form.
pub fn populate(ctx: &Ctx<'_>, flow: &mut Flow) -> Result<(), Failure> {
    password::csrf_node(flow);
    let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
    let schema = schemas.default_schema().ok_or(IdentityError::Internal)?;
    if ctx.tenant.config().identity.selfservice.methods.password.enabled {
        password::populate_registration(flow, schema);
    }
    flow.ui.sort();
    Ok(())
}

fn invalid(flow: &Flow) -> Failure {
    Failure::Invalid(Box::new(flow.clone()))
}

/// Whether a session is issued right after registration (the `session` hook).
fn issues_session(ctx: &Ctx<'_>) -> bool {
    let after = &ctx.tenant.config().identity.selfservice.flows.registration.after;
    let hooks = after.password.as_ref().map(|m| &m.hooks).unwrap_or(&after.hooks);
    hooks.iter().any(|h| h.hook == HookKind::Session)
}

/// Judges a registration submission.
pub async fn submit(ctx: &Ctx<'_>, flow: &mut Flow, body: &Map<String, Value>) -> Result<HttpResponse, Failure> {
    if ctx.session().await?.is_some() {
        if flow.flow_type == FlowType::Browser && !ctx.json {
            return Ok(see_other(&ctx.default_return_url(Some(flow.kind))));
        }
        return Err(IdentityError::AlreadySignedIn { registration: true }.into());
    }
    let enabled = ctx.tenant.config().identity.selfservice.methods.password.enabled;
    flow.ui.clear_messages();
    if field(body, "method") != Some("password") || !enabled {
        flow.ui.messages.push(Message::error(
            4010003,
            "Could not find a strategy to sign you up with. Did you fill out the form correctly?",
            json!({}),
        ));
        ctx.save(flow).await?;
        return Err(invalid(flow));
    }
    let traits = match body.get("traits") {
        Some(Value::Object(t)) => Value::Object(t.clone()),
        _ => json!({}),
    };
    password::echo_traits(flow, &traits);
    let secret = field(body, "password").unwrap_or_default().to_owned();
    let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
    let schema = schemas.default_schema().ok_or(IdentityError::Internal)?;
    let extracted = match schema.validate_traits(&traits) {
        Ok(e) => Some(e),
        Err(errors) => {
            password::place_trait_errors(flow, errors);
            None
        }
    };
    if secret.is_empty() {
        flow.ui.add_error(Some("password"), text::required("password"));
    } else if let Some(e) = &extracted {
        let identifiers: Vec<&str> =
            e.identifiers.get("password").map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
        if let Err(v) = password::policy(ctx.tenant).check(&secret, &identifiers) {
            flow.ui.add_error(Some("password"), password::violation_message(v));
        }
    }
    let Some(extracted) = extracted.filter(|_| !has_errors(flow)) else {
        ctx.save(flow).await?;
        return Err(invalid(flow));
    };
    if extracted.identifiers.get("password").is_none_or(Vec::is_empty) {
        flow.ui.messages.push(Message::error(
            4000009,
            "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.",
            json!({}),
        ));
        ctx.save(flow).await?;
        return Err(invalid(flow));
    }
    let hash = ctx.svc.hasher.hash(&hash_params(ctx.tenant), &secret).await.map_err(|e| {
        tracing::error!(error = %e, "cannot hash a new password");
        IdentityError::Internal
    })?;
    let now = ctx.svc.now();
    let mut identity = Identity {
        id: IdentityId::new(),
        schema_id: schema.id().to_owned(),
        state: IdentityState::Active,
        state_changed_at: Some(now),
        traits,
        metadata_public: None,
        metadata_admin: None,
        external_id: None,
        organization_id: None,
        created_at: now,
        updated_at: now,
        credentials: vec![Credential {
            kind: "password".into(),
            identifiers: Vec::new(),
            config: json!({"hashed_password": hash}),
            version: 0,
            created_at: now,
            updated_at: now,
        }],
        verifiable_addresses: Vec::new(),
        recovery_addresses: Vec::new(),
    };
    apply_extracted(&mut identity, &extracted, now);
    match ctx.svc.store(ctx.tenant).create(&identity).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => {
            flow.ui.messages.push(text::duplicate());
            if let Some(n) = flow.ui.node_mut("password") {
                n.attributes.value = None;
            }
            ctx.save(flow).await?;
            return Err(invalid(flow));
        }
        Err(e) => return Err(e.into()),
    }
    flow.state = "passed_challenge".into();
    ctx.save(flow).await?;
    if issues_session(ctx) {
        let methods = vec![AuthMethod { method: "password".into(), aal: Aal::Aal1, completed_at: now }];
        let device = device_of(ctx.req, super::login::client_ip(ctx));
        let issued = ctx.svc.issue_session(ctx.tenant, &identity, methods, device).await?;
        return Ok(ctx.signed_in(flow, &issued, &identity, true));
    }
    let identity_json = crate::wire::identity_json(&identity, &ctx.urls, crate::wire::Audience::Frontend);
    let return_to = flow.return_to.clone().unwrap_or_else(|| ctx.default_return_url(Some(flow.kind)));
    Ok(match flow.flow_type {
        FlowType::Api => json_response(StatusCode::OK, &json!({"identity": identity_json, "continue_with": null})),
        FlowType::Browser if ctx.json => json_response(
            StatusCode::OK,
            &json!({"identity": identity_json, "continue_with": [{"action": "redirect_browser_to", "redirect_browser_to": return_to}]}),
        ),
        FlowType::Browser => see_other(&return_to),
    })
}

fn has_errors(flow: &Flow) -> bool {
    !flow.ui.messages.is_empty() || flow.ui.nodes.iter().any(|n| !n.messages.is_empty())
}
