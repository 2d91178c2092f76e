//! The login flow.

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};

use super::api::FlowParams;
use super::flow::{Flow, FlowType};
use super::password::{self, LoginCheck};
use super::request::field;
use super::ui::{Message, text};
use super::{Ctx, Failure, see_other};
use crate::error::IdentityError;
use crate::model::{Aal, AuthMethod, IdentityState};
use crate::session::{CurrentSession, device_of};

/// Checks before a login flow is made; `Some` answers the request at once (a signed-in browser goes on).
pub async fn init(
    ctx: &Ctx<'_>,
    flow: &mut Flow,
    session: Option<&CurrentSession>,
    params: &FlowParams,
) -> Result<Option<HttpResponse>, Failure> {
    let refresh = params.refresh;
    match params.aal.as_deref() {
        None | Some("") | Some("aal1") => {}
        Some("aal2") => {
            return Err(IdentityError::BadRequest(
                "No second-factor method is enabled for this project, so aal2 cannot be requested.".into(),
            )
            .into());
        }
        Some(other) => {
            return Err(IdentityError::BadRequest(format!(
                "Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1, aal2] but got {other}"
            ))
            .into());
        }
    }
    if session.is_some() && !refresh {
        if flow.flow_type == FlowType::Browser && !ctx.json {
            let to = flow.return_to.clone().unwrap_or_else(|| ctx.default_return_url(Some(flow.kind)));
            return Ok(Some(see_other(&to)));
        }
        return Err(IdentityError::AlreadySignedIn { registration: false }.into());
    }
    flow.refresh = refresh && session.is_some();
    flow.requested_aal = Aal::Aal1;
    populate(ctx, flow, session)?;
    Ok(None)
}

/// Fills a login form.
pub fn populate(ctx: &Ctx<'_>, flow: &mut Flow, session: Option<&CurrentSession>) -> Result<(), Failure> {
    password::csrf_node(flow);
    let schemas = ctx.svc.schemas.for_tenant(ctx.tenant)?;
    let schema = schemas.default_schema().ok_or(IdentityError::Internal)?;
    if ctx.tenant.config().identity.selfservice.methods.password.enabled {
        let refresh_identifier =
            if flow.refresh { session.and_then(|s| s.identity_password_identifier()) } else { None };
        password::populate_login(flow, schema, refresh_identifier.as_deref());
    }
    if flow.refresh {
        flow.ui.messages.push(text::confirm_identity());
    }
    flow.ui.sort();
    Ok(())
}

impl CurrentSession {
    /// The first password identifier of the session's identity (for a refresh form).
    fn identity_password_identifier(&self) -> Option<String> {
        self.identity
            .credential("password")
            .and_then(|c| c.identifiers.first().cloned())
            .or_else(|| self.identity.verifiable_addresses.first().map(|a| a.value.clone()))
    }
}

/// Judges a login submission.
pub async fn submit(ctx: &Ctx<'_>, flow: &mut Flow, body: &Map<String, Value>) -> Result<HttpResponse, Failure> {
    let session = ctx.session().await?;
    if session.is_some() && !flow.refresh {
        if flow.flow_type == FlowType::Browser && !ctx.json {
            return Ok(see_other(&ctx.default_return_url(Some(flow.kind))));
        }
        flow.ui.clear_messages();
        let reason = IdentityError::AlreadySignedIn { registration: false }.reason().unwrap_or_default();
        flow.ui.messages.push(text::generic(&reason));
        ctx.save(flow).await?;
        return Err(Failure::Invalid(Box::new(flow.clone())));
    }
    let enabled = ctx.tenant.config().identity.selfservice.methods.password.enabled;
    if field(body, "method") != Some("password") || !enabled {
        flow.ui.clear_messages();
        flow.ui.messages.push(Message::error(
            4010002,
            "Could not find a strategy to log you in with. Did you fill out the form correctly?",
            json!({}),
        ));
        ctx.save(flow).await?;
        return Err(Failure::Invalid(Box::new(flow.clone())));
    }
    flow.ui.clear_messages();
    let identifier = password::submitted_identifier(body);
    let secret = field(body, "password").unwrap_or_default();
    if let Some(i) = &identifier {
        flow.ui.set_value("identifier", json!(i));
    }
    if identifier.is_none() {
        flow.ui.add_error(Some("identifier"), text::required("identifier"));
    }
    if secret.is_empty() {
        flow.ui.add_error(Some("password"), text::required("password"));
    }
    let Some(identifier) = identifier.filter(|_| !secret.is_empty()) else {
        ctx.save(flow).await?;
        return Err(Failure::Invalid(Box::new(flow.clone())));
    };
    let identity = match password::check_login(ctx.svc, ctx.tenant, &identifier, secret).await? {
        LoginCheck::Ok(identity) => identity,
        LoginCheck::Invalid => {
            flow.ui.messages.push(text::invalid_credentials());
            ctx.save(flow).await?;
            return Err(Failure::Invalid(Box::new(flow.clone())));
        }
    };
    if identity.state != IdentityState::Active {
        flow.ui.messages.push(text::disabled());
        ctx.save(flow).await?;
        return Err(Failure::Invalid(Box::new(flow.clone())));
    }
    if let Some(current) = &session
        && current.identity.id != identity.id
    {
        return Err(IdentityError::IdentityMismatch.into());
    }
    let methods = vec![AuthMethod { method: "password".into(), aal: Aal::Aal1, completed_at: ctx.svc.now() }];
    let device = device_of(ctx.req, client_ip(ctx));
    flow.state = "passed_challenge".into();
    ctx.save(flow).await?;
    let issued = ctx.svc.issue_session(ctx.tenant, &identity, methods, device).await?;
    if let Some(old) = session {
        // A refresh replaces the session it re-authenticated.
        if let Some(seq) = ctx.svc.store(ctx.tenant).revoke_session(old.stored.session.id, ctx.svc.now()).await? {
            ctx.svc.sessions.invalidate_now(old.stored.session.id.0, seq);
        }
    }
    Ok(ctx.signed_in(flow, &issued, &identity, false))
}

/// The client's address as the connection reports it (the worker's gate already resolved forwarding).
pub fn client_ip(ctx: &Ctx<'_>) -> Option<std::net::IpAddr> {
    ctx.req
        .connection_info()
        .realip_remote_addr()
        .and_then(|a| a.parse::<std::net::SocketAddr>().map(|s| s.ip()).or_else(|_| a.parse::<std::net::IpAddr>()).ok())
}
