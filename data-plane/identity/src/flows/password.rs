//! The password method: its form nodes in each flow, and what a submission naming it does.
//!
//! Login answers wrong passwords and unknown accounts with the same message, after the same amount of
//! hashing work (a dummy verification for unknown accounts), so neither the body nor the time tells them
//! apart. A disabled account is only revealed after its password was proven.

use serde_json::{Map, Value, json};
use tessera_identity_schema::{IdentitySchema, TraitError, normalize_identifier};
use tessera_password::{Policy, PolicyViolation};
use tessera_platform::tenant::TenantContext;

use super::flow::Flow;
use super::ui::{Message, Node, text};
use crate::identities::hash_params;
use crate::model::Identity;

/// Adds the hidden CSRF node every form starts with.
pub fn csrf_node(flow: &mut Flow) {
    flow.ui.nodes.push(Node::input("default", "csrf_token", "hidden").required().value(json!("")));
}

/// The identifier field's label: the title of the schema's only password identifier, else "ID".
fn identifier_label(schema: &IdentitySchema) -> Message {
    let ids: Vec<_> =
        schema.trait_fields().into_iter().filter(|f| f.identifier_for.iter().any(|k| k == "password")).collect();
    match ids.as_slice() {
        [only] => match &only.title {
            Some(title) => text::field_label(title, &only.name),
            None => text::id_label(),
        },
        _ => text::id_label(),
    }
}

/// Login form: identifier (hidden and fixed on a refresh), password, submit.
pub fn populate_login(flow: &mut Flow, schema: &IdentitySchema, refresh_identifier: Option<&str>) {
    let identifier = match refresh_identifier {
        Some(v) => Node::input("default", "identifier", "hidden").required().value(json!(v)),
        None => {
            Node::input("default", "identifier", "text").required().value(json!("")).label(identifier_label(schema))
        }
    };
    flow.ui.nodes.push(identifier);
    flow.ui.nodes.push(
        Node::input("password", "password", "password")
            .required()
            .autocomplete("current-password")
            .label(text::password_label()),
    );
    let label = if refresh_identifier.is_some() { text::sign_in() } else { text::sign_in_with_password() };
    flow.ui.nodes.push(Node::submit("password", "password", label));
}

/// The nodes for a schema's traits in `group`, with values from `traits` where given.
pub fn trait_nodes(schema: &IdentitySchema, group: &str, traits: Option<&Value>) -> Vec<Node> {
    schema
        .trait_fields()
        .into_iter()
        .map(|f| {
            let mut n = Node::input(group, &f.name, f.input_type);
            n.attributes.required = f.required;
            n.attributes.autocomplete = f.autocomplete.map(str::to_owned);
            n.attributes.pattern = f.pattern.clone();
            n.attributes.options = f.options.iter().map(|v| json!({"value": v})).collect();
            if let Some(title) = &f.title {
                n = n.label(text::field_label(title, &f.name));
            }
            if let Some(v) = traits.and_then(|t| value_at(t, &f.name)) {
                n.attributes.value = Some(v.clone());
            }
            n
        })
        .collect()
}

/// The value at a dotted form name (`traits.name.first`) inside the traits object.
pub fn value_at<'a>(traits: &'a Value, name: &str) -> Option<&'a Value> {
    let path = name.strip_prefix("traits.")?;
    path.split('.').try_fold(traits, |v, key| v.get(key))
}

/// Registration form: traits, password, submit.
pub fn populate_registration(flow: &mut Flow, schema: &IdentitySchema) {
    flow.ui.nodes.extend(trait_nodes(schema, "default", None));
    flow.ui.nodes.push(
        Node::input("password", "password", "password")
            .required()
            .autocomplete("new-password")
            .label(text::password_label()),
    );
    flow.ui.nodes.push(Node::submit("password", "password", text::sign_up()));
}

/// Settings form, password part.
pub fn populate_settings(flow: &mut Flow) {
    flow.ui.nodes.push(
        Node::input("password", "password", "password")
            .required()
            .autocomplete("new-password")
            .label(text::password_label()),
    );
    flow.ui.nodes.push(Node::submit("password", "password", text::save()));
}

/// The tenant's password policy.
pub fn policy(tenant: &TenantContext) -> Policy {
    let cfg = &tenant.config().identity;
    let password = &cfg.selfservice.methods.password.config;
    let bcrypt = matches!(cfg.hashers.algorithm, tessera_project_config::identity::HashAlgorithm::Bcrypt);
    Policy {
        min_length: password.min_password_length.0 as usize,
        identifier_similarity_check: password.identifier_similarity_check_enabled,
        max_length_bytes: bcrypt.then_some(72),
    }
}

/// A policy violation as the message on the password node.
pub fn violation_message(v: PolicyViolation) -> Message {
    Message::error(v.id, v.text, v.context)
}

/// Places trait validation errors into the form (on their fields, or on the form).
pub fn place_trait_errors(flow: &mut Flow, errors: Vec<TraitError>) {
    for e in errors {
        let context = if e.context.is_null() { json!({}) } else { e.context.clone() };
        flow.ui.add_error(e.field.as_deref(), Message::error(e.id, e.text.clone(), context));
    }
}

/// Echoes submitted trait values into the form so the user does not retype them.
pub fn echo_traits(flow: &mut Flow, traits: &Value) {
    for n in &mut flow.ui.nodes {
        if n.attributes.name.starts_with("traits.")
            && let Some(v) = value_at(traits, &n.attributes.name)
        {
            n.attributes.value = Some(v.clone());
        }
    }
}

/// The identifier a login submission names, normalised as identifiers are stored.
pub fn submitted_identifier(body: &Map<String, Value>) -> Option<String> {
    body.get("identifier")
        .or_else(|| body.get("password_identifier"))
        .and_then(Value::as_str)
        .map(normalize_identifier)
        .filter(|s| !s.is_empty())
}

/// What checking a login's password found.
pub enum LoginCheck {
    /// The password is right for this identity (loaded with credentials).
    Ok(Box<Identity>),
    /// Unknown account or wrong password; indistinguishable to the client.
    Invalid,
}

/// Verifies `password` for the account `identifier` names, spending the same work when there is none.
pub async fn check_login(
    svc: &crate::service::IdentityService,
    tenant: &TenantContext,
    identifier: &str,
    password: &str,
) -> Result<LoginCheck, crate::error::IdentityError> {
    let params = hash_params(tenant);
    let store = svc.store(tenant);
    let identity = match store.find_by_identifier("password", identifier).await? {
        Some(id) => store.get(id, true).await?,
        None => None,
    };
    let stored_hash = identity
        .as_ref()
        .and_then(|i| i.credential("password"))
        .and_then(|c| c.config.get("hashed_password"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (Some(identity), Some(hash)) = (identity, stored_hash) else {
        svc.hasher.verify_dummy(&params, password).await;
        return Ok(LoginCheck::Invalid);
    };
    let verified = svc.hasher.verify(&params, password, &hash).await.map_err(|e| {
        tracing::error!(error = %e, "password verification failed to run");
        crate::error::IdentityError::Internal
    })?;
    if !verified.matches {
        return Ok(LoginCheck::Invalid);
    }
    if verified.needs_rehash {
        match svc.hasher.hash(&params, password).await {
            Ok(new_hash) => {
                let config = json!({"hashed_password": new_hash});
                if let Err(e) = store.set_credential_config(identity.id, "password", &config, svc.now()).await {
                    tracing::warn!(error = %e, "cannot store a re-hashed password");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot re-hash a password"),
        }
    }
    Ok(LoginCheck::Ok(Box::new(identity)))
}
