//! The form a flow describes (`ui`): nodes grouped by method, with labels and messages carrying Kratos's
//! numeric text ids, so Ory's UI components render them and translate by id.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A message: a label, an error on a field, or a note on the whole form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

impl Message {
    /// An informational text (labels, hints).
    pub fn info(id: u32, text: impl Into<String>) -> Self {
        Self { id, text: text.into(), kind: "info".into(), context: None }
    }

    /// An error.
    pub fn error(id: u32, text: impl Into<String>, context: Value) -> Self {
        Self { id, text: text.into(), kind: "error".into(), context: Some(context) }
    }

    /// A success notice.
    pub fn success(id: u32, text: impl Into<String>) -> Self {
        Self { id, text: text.into(), kind: "success".into(), context: None }
    }

    /// With a context object.
    pub fn with_context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }
}

/// An `<input>` node's attributes, in Kratos's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAttributes {
    pub name: String,
    #[serde(rename = "type")]
    pub input_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Value>,
    pub disabled: bool,
    pub node_type: String,
}

/// A node's metadata: its label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Message>,
}

/// One form node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    #[serde(rename = "type")]
    pub node_type: String,
    pub group: String,
    pub attributes: InputAttributes,
    pub messages: Vec<Message>,
    pub meta: Meta,
}

impl Node {
    /// An input node in `group`.
    pub fn input(group: &str, name: &str, input_type: &str) -> Self {
        Self {
            node_type: "input".into(),
            group: group.into(),
            attributes: InputAttributes {
                name: name.into(),
                input_type: input_type.into(),
                value: None,
                required: false,
                autocomplete: None,
                pattern: None,
                options: Vec::new(),
                disabled: false,
                node_type: "input".into(),
            },
            messages: Vec::new(),
            meta: Meta::default(),
        }
    }

    /// Marks it required.
    pub fn required(mut self) -> Self {
        self.attributes.required = true;
        self
    }

    /// Sets the value.
    pub fn value(mut self, v: Value) -> Self {
        self.attributes.value = Some(v);
        self
    }

    /// Sets the autocomplete hint.
    pub fn autocomplete(mut self, a: &str) -> Self {
        self.attributes.autocomplete = Some(a.into());
        self
    }

    /// Sets the label.
    pub fn label(mut self, m: Message) -> Self {
        self.meta.label = Some(m);
        self
    }

    /// The submit button of a method.
    pub fn submit(group: &str, method: &str, label: Message) -> Self {
        Self::input(group, "method", "submit").value(json!(method)).label(label)
    }
}

/// The form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ui {
    pub action: String,
    pub method: String,
    pub nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

impl Ui {
    /// An empty POST form to `action`.
    pub fn new(action: String) -> Self {
        Self { action, method: "POST".into(), nodes: Vec::new(), messages: Vec::new() }
    }

    /// The node named `name` (first match).
    pub fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.attributes.name == name)
    }

    /// Sets a node's value, if the node exists.
    pub fn set_value(&mut self, name: &str, value: Value) {
        if let Some(n) = self.node_mut(name) {
            n.attributes.value = Some(value);
        }
    }

    /// Clears all messages (before a new submission is judged).
    pub fn clear_messages(&mut self) {
        self.messages.clear();
        for n in &mut self.nodes {
            n.messages.clear();
        }
    }

    /// Puts an error on the node named `field`, or on the form when there is no such node.
    pub fn add_error(&mut self, field: Option<&str>, m: Message) {
        match field.and_then(|f| self.nodes.iter_mut().find(|n| n.attributes.name == f)) {
            Some(n) => n.messages.push(m),
            None => self.messages.push(m),
        }
    }

    /// Sorts nodes in Kratos's order: by group, then csrf, identifier and password first, submit buttons last.
    pub fn sort(&mut self) {
        const GROUPS: &[&str] =
            &["oidc", "saml", "default", "profile", "webauthn", "passkey", "code", "password", "totp", "lookup_secret"];
        let group_rank = |g: &str| GROUPS.iter().position(|x| *x == g).unwrap_or(GROUPS.len());
        let name_rank = |n: &Node| match n.attributes.name.as_str() {
            "csrf_token" => 0,
            "identifier" => 1,
            "password" => 3,
            _ if n.attributes.input_type == "submit" => 9,
            _ => 5,
        };
        // Stable: traits keep their schema order within a group.
        self.nodes.sort_by_key(|n| {
            let csrf = n.attributes.name != "csrf_token";
            (csrf, group_rank(&n.group), name_rank(n))
        });
    }
}

/// Kratos's text catalogue for what the password and profile methods say.
pub mod text {
    use super::Message;

    /// Label of the password field.
    pub fn password_label() -> Message {
        Message::info(1070001, "Password")
    }
    /// Label of a field named after its schema title.
    pub fn field_label(title: &str, name: &str) -> Message {
        Message::info(1070002, title).with_context(serde_json::json!({"title": title, "name": name}))
    }
    /// Label of the identifier when the schema gives no single title.
    pub fn id_label() -> Message {
        Message::info(1070004, "ID")
    }
    /// "Sign in with password".
    pub fn sign_in_with_password() -> Message {
        Message::info(1010022, "Sign in with password")
    }
    /// "Sign in" (refresh).
    pub fn sign_in() -> Message {
        Message::info(1010001, "Sign in")
    }
    /// "Sign up".
    pub fn sign_up() -> Message {
        Message::info(1040001, "Sign up")
    }
    /// "Save".
    pub fn save() -> Message {
        Message::info(1070003, "Save")
    }
    /// Asking to confirm identity on a refresh login.
    pub fn confirm_identity() -> Message {
        Message::info(1010003, "Please confirm this action by verifying that it is you.")
    }
    /// Settings saved.
    pub fn saved() -> Message {
        Message::success(1050001, "Your changes have been saved!")
    }
    /// Wrong identifier or password (one text for both, so accounts cannot be enumerated).
    pub fn invalid_credentials() -> Message {
        Message::error(
            4000006,
            "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
            serde_json::json!({}),
        )
    }
    /// The identifier is taken.
    pub fn duplicate() -> Message {
        Message::error(
            4000007,
            "An account with the same identifier (email, phone, username, ...) exists already.",
            serde_json::json!({}),
        )
    }
    /// A required field is missing.
    pub fn required(property: &str) -> Message {
        Message::error(4000002, format!("Property {property} is missing."), serde_json::json!({"property": property}))
    }
    /// The account is disabled.
    pub fn disabled() -> Message {
        Message::error(
            4010011,
            "This account has been disabled. Please contact support for assistance.",
            serde_json::json!({}),
        )
    }
    /// A generic error, with its reason.
    pub fn generic(reason: &str) -> Message {
        Message::error(4000001, reason, serde_json::json!({"reason": reason}))
    }
    /// The flow expired; `kind_id` is 4010001 (login), 4040001 (registration) or 4050001 (settings).
    pub fn expired(kind_id: u32, kind: &str, minutes: f64, expired_at: &str, unix: i64) -> Message {
        Message::error(
            kind_id,
            format!("The {kind} flow expired {minutes:.2} minutes ago, please try again."),
            serde_json::json!({"expired_at": expired_at, "expired_at_unix": unix}),
        )
    }
}
