//! Walks the traits' schema once at compile time, yielding every sub-schema that applies at each trait path.
//! Fields for UI forms and extension sites are both read off this list.
//!
//! Followed: `properties`, `items` (single schema), same-document `$ref`, `allOf`, `anyOf`, `oneOf`, `then`,
//! `else`. Not followed: `not`, `if` (conditions, not shapes), tuple `items`/`prefixItems`,
//! `additionalProperties`, `patternProperties` (no fixed name to build a form field from).

use serde_json::{Map, Value};

use crate::error::SchemaError;
use crate::pointer;

/// Most sub-schema visits one walk may make; `$ref` fan-out could otherwise grow exponentially.
const MAX_VISITS: usize = 10_000;
/// Deepest recursion one walk may reach (nesting plus `$ref` chains).
const MAX_WALK_DEPTH: usize = 128;

/// One step of a trait path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// An object property.
    Key(String),
    /// Every element of an array.
    Items,
}

/// A sub-schema that applies at `path` (which starts with `traits`).
#[derive(Debug, Clone)]
pub(crate) struct Visit<'a> {
    pub path: Vec<Segment>,
    pub node: &'a Map<String, Value>,
    /// Listed in the `required` of the schema that declared this property.
    pub required: bool,
}

struct Walker<'a> {
    root: &'a Value,
    visits: Vec<Visit<'a>>,
    refs: Vec<*const Value>,
}

/// Walks `properties.traits` of a schema that passed the guard.
pub(crate) fn walk_traits(root: &Value) -> Result<Vec<Visit<'_>>, SchemaError> {
    let mut w = Walker { root, visits: Vec::new(), refs: Vec::new() };
    let required = is_required(root.as_object(), "traits");
    if let Some(traits) = root.pointer("/properties/traits") {
        w.walk(traits, vec![Segment::Key("traits".to_owned())], required, 0)?;
    }
    Ok(w.visits)
}

fn is_required(schema: Option<&Map<String, Value>>, name: &str) -> bool {
    schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)))
}

impl<'a> Walker<'a> {
    fn walk(&mut self, node: &'a Value, path: Vec<Segment>, required: bool, depth: usize) -> Result<(), SchemaError> {
        let Value::Object(m) = node else { return Ok(()) };
        if depth > MAX_WALK_DEPTH || self.visits.len() >= MAX_VISITS {
            let path = pointer::render(&["properties", "traits"]);
            return Err(SchemaError::TooComplex { path, limit: MAX_VISITS });
        }
        self.visits.push(Visit { path: path.clone(), node: m, required });

        if let Some(target) = m.get("$ref").and_then(Value::as_str).and_then(|r| pointer::resolve_local(self.root, r)) {
            let key: *const Value = target;
            if !self.refs.contains(&key) {
                self.refs.push(key);
                self.walk(target, path.clone(), required, depth + 1)?;
                self.refs.pop();
            }
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            for sub in m.get(keyword).and_then(Value::as_array).into_iter().flatten() {
                self.walk(sub, path.clone(), required, depth + 1)?;
            }
        }
        for keyword in ["then", "else"] {
            if let Some(sub) = m.get(keyword) {
                self.walk(sub, path.clone(), required, depth + 1)?;
            }
        }
        if let Some(Value::Object(props)) = m.get("properties") {
            for (name, sub) in props {
                let mut p = path.clone();
                p.push(Segment::Key(name.clone()));
                self.walk(sub, p, is_required(Some(m), name), depth + 1)?;
            }
        }
        if let Some(items @ Value::Object(_)) = m.get("items") {
            let mut p = path;
            p.push(Segment::Items);
            self.walk(items, p, false, depth + 1)?;
        }
        Ok(())
    }
}
