//! Trait form fields, following Kratos' rules for turning a schema property into a UI input node.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::extension::Site;
use crate::walk::{Segment, Visit};

/// Kratos caps `enum` options per field so a pathological schema cannot inflate every flow response.
const MAX_OPTIONS: usize = 500;

/// One trait input for registration/settings forms. The identity engine turns it into a UI node
/// (`attributes.name`, `type`, `autocomplete`, `required`, `pattern`, `options`, and a 1070002 label from `title`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitField {
    /// Dotted name: `traits.email`, `traits.name.first`.
    pub name: String,
    /// HTML input type: `text`, `email`, `tel`, `number`, `checkbox`, `datetime-local`, `date` or `url`.
    pub input_type: &'static str,
    /// HTML autocomplete hint (`email`, `tel`, `url`) where Kratos sets one.
    pub autocomplete: Option<&'static str>,
    /// The property's `title`; the node gets a label only when this is set.
    pub title: Option<String>,
    /// Listed in the enclosing object's `required`.
    pub required: bool,
    /// The property's `pattern`, copied to the input.
    pub pattern: Option<String>,
    /// The property's `enum` values (at most 500), rendered as selectable options.
    pub options: Vec<Value>,
    /// Credential kinds this trait is a login identifier for (`password`, `webauthn`, `code`).
    pub identifier_for: Vec<String>,
}

/// The input type Kratos derives from a sub-schema's `const` or single `type`; `None` for objects, arrays of
/// non-scalars, multi-type and untyped schemas (Kratos renders no node for those).
fn base_type(node: &Map<String, Value>) -> Option<&'static str> {
    if let Some(c) = node.get("const") {
        return match c {
            Value::Number(_) => Some("number"),
            Value::String(_) => Some("text"),
            Value::Bool(_) => Some("checkbox"),
            _ => None,
        };
    }
    match node.get("type")?.as_str()? {
        "string" => Some("text"),
        "number" | "integer" => Some("number"),
        "boolean" => Some("checkbox"),
        // An array of one scalar type becomes a free-text input, as in Kratos.
        "array" => match node.get("items")?.get("type")?.as_str()? {
            "string" | "number" | "integer" | "boolean" => Some("text"),
            _ => None,
        },
        _ => None,
    }
}

/// Format overrides, exactly Kratos' table.
fn format_type(format: &str) -> Option<(&'static str, Option<&'static str>)> {
    match format {
        "date-time" => Some(("datetime-local", None)),
        "email" => Some(("email", Some("email"))),
        "tel" => Some(("tel", Some("tel"))),
        "date" => Some(("date", None)),
        "uri" => Some(("url", Some("url"))),
        "regex" => Some(("text", None)),
        _ => None,
    }
}

fn dotted(path: &[Segment]) -> Option<String> {
    let mut parts = Vec::with_capacity(path.len());
    for s in path {
        match s {
            Segment::Key(k) => parts.push(k.as_str()),
            Segment::Items => return None,
        }
    }
    Some(parts.join("."))
}

/// Builds the fields from the walked sub-schemas. Several sub-schemas can apply at one path (`$ref`, `allOf`);
/// the first that gives a type creates the field and later ones only fill in what is still missing.
pub(crate) fn build(visits: &[Visit<'_>], sites: &[Site]) -> Vec<TraitField> {
    let mut fields: Vec<TraitField> = Vec::new();
    for v in visits {
        // Only properties below `traits` (never `traits` itself) and never inside arrays.
        let Some(name) = dotted(&v.path).filter(|_| v.path.len() > 1) else { continue };
        let index = match fields.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                let Some(input_type) = base_type(v.node) else { continue };
                fields.push(TraitField {
                    name,
                    input_type,
                    autocomplete: None,
                    title: None,
                    required: false,
                    pattern: None,
                    options: Vec::new(),
                    identifier_for: identifier_kinds(&v.path, sites),
                });
                fields.len() - 1
            }
        };
        let f = &mut fields[index];
        f.required |= v.required;
        if let Some((t, auto)) = v.node.get("format").and_then(Value::as_str).and_then(format_type) {
            f.input_type = t;
            f.autocomplete = f.autocomplete.or(auto);
        }
        if f.title.is_none() {
            f.title = v.node.get("title").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
        }
        if f.pattern.is_none() {
            f.pattern = v.node.get("pattern").and_then(Value::as_str).map(str::to_owned);
        }
        if f.options.is_empty()
            && let Some(Value::Array(e)) = v.node.get("enum")
        {
            f.options = e.iter().take(MAX_OPTIONS).cloned().collect();
        }
    }
    fields
}

/// Kinds from extension sites at this path or at its array items (`emails` with `items` carrying the extension).
fn identifier_kinds(path: &[Segment], sites: &[Site]) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for site in sites {
        let mut p = site.path.as_slice();
        while let Some((Segment::Items, rest)) = p.split_last() {
            p = rest;
        }
        if p == path {
            for k in &site.config.identifier_for {
                if !kinds.iter().any(|x| x == k) {
                    kinds.push((*k).to_owned());
                }
            }
        }
    }
    kinds
}
