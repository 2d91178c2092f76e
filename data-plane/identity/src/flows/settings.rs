//! The settings flow: a signed-in identity changes its password or its profile.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::flow::{Flow, FlowKind, FlowType};
use super::request::field;
use super::ui::{Message, text};
use super::{Ctx, Failure, json_response, password, profile, see_other, with_query};
use crate::error::IdentityError;
use crate::identities::{apply_extracted, hash_params};
use crate::model::{Credential, Identity};
use crate::session::CurrentSession;

const NO_SESSION: IdentityError =
    IdentityError::SessionInactive { reason: "No active session was found in this request." };

/// Where a browser without a session is sent: login, coming back here afterwards.
fn login_redirect(ctx: &Ctx<'_>, return_to: Option<&str>) -> String {
    let login = ctx.urls.url("/self-service/login/browser");
    match return_to {
        Some(r) => with_query(&login, "return_to", r),
        None => login,
    }
}

/// Checks before a settings flow is made: it needs a session.
pub fn init(ctx: &Ctx<'_>, flow: &mut Flow, session: Option<&CurrentSession>) -> Result<Option<HttpResponse>, Failure> {
    let Some(session) = session else {
        if flow.flow_type == FlowType::Browser && !ctx.json {
            return Ok(Some(see_other(&login_redirect(ctx, flow.return_to.as_deref()))));
        }
        return Err(NO_SESSION.into());
    };
    flow.identity_id = Some(session.identity.id);
    populate(ctx, flow, &session.identity)?;
    Ok(None)
}

/// Fills a settings form for `identity`.
pub fn populate(ctx: &Ctx<'_>, flow: &mut Flow, identity: &Identity) -> Result<(), Failure> {
    flow.ui.nodes.clear();
    password::csrf_node(flow);
    let methods = &ctx.tenant.config().identity.selfservice.methods;
    let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
    let schema =
        schemas.get(&identity.schema_id).or_else(|| schemas.default_schema()).ok_or(IdentityError::Internal)?;
    if methods.profile.enabled {
        profile::populate_settings(flow, schema, identity);
    }
    if methods.password.enabled {
        password::populate_settings(flow);
    }
    flow.ui.sort();
    Ok(())
}

/// The session and identity a settings request acts for; the flow must be theirs.
pub async fn owner(ctx: &Ctx<'_>, flow: &Flow) -> Result<CurrentSession, Failure> {
    let session = ctx.session().await?.ok_or(NO_SESSION)?;
    if flow.identity_id != Some(session.identity.id) {
        return Err(IdentityError::IdentityMismatch.into());
    }
    Ok(session)
}

/// Changes to credentials and identifiers need a recent sign-in.
fn require_privileged(ctx: &Ctx<'_>, flow: &Flow, session: &CurrentSession) -> Result<(), Failure> {
    let max_age =
        time::Duration::try_from(ctx.tenant.config().identity.selfservice.flows.settings.privileged_session_max_age.0)
            .unwrap_or(time::Duration::minutes(15));
    if ctx.svc.now() - session.stored.session.authenticated_at <= max_age {
        return Ok(());
    }
    let back = with_query(&FlowKind::Settings.ui_url(ctx.tenant, &ctx.urls), "flow", &flow.id.to_string());
    let login = with_query(&ctx.urls.url("/self-service/login/browser?refresh=true"), "return_to", &back);
    Err(IdentityError::RefreshRequired { redirect_browser_to: login }.into())
}

fn invalid(flow: &Flow) -> Failure {
    Failure::Invalid(Box::new(flow.clone()))
}

/// Judges a settings submission.
pub async fn submit(ctx: &Ctx<'_>, flow: &mut Flow, body: &Map<String, Value>) -> Result<HttpResponse, Failure> {
    let session = match owner(ctx, flow).await {
        Ok(s) => s,
        Err(Failure::Error(IdentityError::SessionInactive { .. }))
            if flow.flow_type == FlowType::Browser && !ctx.json =>
        {
            return Ok(see_other(&login_redirect(ctx, flow.return_to.as_deref())));
        }
        Err(e) => return Err(e),
    };
    let store = ctx.svc.store(ctx.tenant);
    let mut identity = store.get(session.identity.id, true).await?.ok_or(NO_SESSION)?;
    let methods = &ctx.tenant.config().identity.selfservice.methods;
    flow.ui.clear_messages();
    let now = ctx.svc.now();
    match field(body, "method") {
        Some("password") if methods.password.enabled => {
            let secret = field(body, "password").unwrap_or_default();
            if secret.is_empty() {
                flow.ui.add_error(Some("password"), text::required("password"));
                ctx.save(flow).await?;
                return Err(invalid(flow));
            }
            if let Err(f) = require_privileged(ctx, flow, &session) {
                return privileged_failure(ctx, flow, f);
            }
            let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
            let schema = schemas.resolve(&identity.schema_id)?;
            let extracted = schema.validate_traits(&identity.traits).map_err(|_| IdentityError::Internal)?;
            let identifiers: Vec<&str> = extracted
                .identifiers
                .get("password")
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            if let Err(v) = password::policy(ctx.tenant).check(secret, &identifiers) {
                flow.ui.add_error(Some("password"), password::violation_message(v));
                ctx.save(flow).await?;
                return Err(invalid(flow));
            }
            let hash = ctx.svc.hasher.hash(&hash_params(ctx.tenant), secret).await.map_err(|e| {
                tracing::error!(error = %e, "cannot hash a new password");
                IdentityError::Internal
            })?;
            let config = json!({"hashed_password": hash});
            match identity.credentials.iter_mut().find(|c| c.kind == "password") {
                Some(c) => {
                    c.config = config;
                    c.updated_at = now;
                }
                None => identity.credentials.push(Credential {
                    kind: "password".into(),
                    identifiers: Vec::new(),
                    config,
                    version: 0,
                    created_at: now,
                    updated_at: now,
                }),
            }
            apply_extracted(&mut identity, &extracted, now);
        }
        Some("profile") if methods.profile.enabled => {
            let Some(traits) = profile::submitted_traits(body) else {
                flow.ui.add_error(Some("traits"), text::required("traits"));
                ctx.save(flow).await?;
                return Err(invalid(flow));
            };
            let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
            let schema = schemas.resolve(&identity.schema_id)?;
            password::echo_traits(flow, &traits);
            let extracted = match schema.validate_traits(&traits) {
                Ok(e) => e,
                Err(errors) => {
                    password::place_trait_errors(flow, errors);
                    ctx.save(flow).await?;
                    return Err(invalid(flow));
                }
            };
            // Changing what the identity signs in with needs a recent sign-in, like changing the password.
            let mut before: Vec<String> = identity.credentials.iter().flat_map(|c| c.identifiers.clone()).collect();
            let mut after: Vec<String> = identity
                .credentials
                .iter()
                .flat_map(|c| match c.kind.as_str() {
                    "password" | "code" | "webauthn" | "passkey" => {
                        extracted.identifiers.get(&c.kind).cloned().unwrap_or_default()
                    }
                    _ => c.identifiers.clone(),
                })
                .collect();
            before.sort();
            after.sort();
            if before != after
                && let Err(f) = require_privileged(ctx, flow, &session)
            {
                return privileged_failure(ctx, flow, f);
            }
            identity.traits = traits;
            apply_extracted(&mut identity, &extracted, now);
        }
        _ => {
            flow.ui.messages.push(Message::error(
                4010004,
                "Could not find a strategy to update your settings. Did you fill out the form correctly?",
                json!({}),
            ));
            ctx.save(flow).await?;
            return Err(invalid(flow));
        }
    }
    identity.updated_at = now;
    match store.replace(&identity, now).await {
        Ok(Some(seq)) => ctx.svc.sessions.invalidate_now(identity.id.0, seq),
        Ok(None) => return Err(NO_SESSION.into()),
        Err(crate::store::StoreError::Conflict) => {
            flow.ui.messages.push(text::duplicate());
            ctx.save(flow).await?;
            return Err(invalid(flow));
        }
        Err(e) => return Err(e.into()),
    }
    populate(ctx, flow, &identity)?;
    flow.state = "success".into();
    flow.ui.messages = vec![text::saved()];
    ctx.save(flow).await?;
    if flow.flow_type == FlowType::Browser && !ctx.json {
        return Ok(see_other(&with_query(
            &FlowKind::Settings.ui_url(ctx.tenant, &ctx.urls),
            "flow",
            &flow.id.to_string(),
        )));
    }
    let stripped = strip_credentials(identity);
    Ok(json_response(StatusCode::OK, &flow.render(&ctx.urls, Some(&stripped))))
}

/// A browser navigation that needs a fresh sign-in goes straight to the login page.
fn privileged_failure(ctx: &Ctx<'_>, flow: &Flow, f: Failure) -> Result<HttpResponse, Failure> {
    match f {
        Failure::Error(IdentityError::RefreshRequired { redirect_browser_to })
            if flow.flow_type == FlowType::Browser && !ctx.json =>
        {
            Ok(see_other(&redirect_browser_to))
        }
        other => Err(other),
    }
}

fn strip_credentials(mut identity: Identity) -> Identity {
    identity.credentials.clear();
    identity
}
