//! The profile method (settings only): the identity's traits as a form, and changing them.

use serde_json::Value;
use tessera_identity_schema::IdentitySchema;

use super::flow::Flow;
use super::password::trait_nodes;
use super::ui::{Node, text};
use crate::model::Identity;

/// Settings form, profile part: the traits with their current values.
pub fn populate_settings(flow: &mut Flow, schema: &IdentitySchema, identity: &Identity) {
    flow.ui.nodes.extend(trait_nodes(schema, "profile", Some(&identity.traits)));
    flow.ui.nodes.push(Node::submit("profile", "profile", text::save()));
}

/// The submitted traits (an object), or `None` when the body has none.
pub fn submitted_traits(body: &serde_json::Map<String, Value>) -> Option<Value> {
    match body.get("traits") {
        Some(Value::Object(t)) => Some(Value::Object(t.clone())),
        _ => None,
    }
}
