//! JSON pointer helpers shared by the guard, the walker and the message translation.

use serde_json::Value;

/// Escapes one reference token (RFC 6901: `~` -> `~0`, `/` -> `~1`).
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape`].
pub(crate) fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Renders tokens as a URI-fragment pointer (`#/a/b`), the form Kratos prints in its messages.
pub(crate) fn render<S: AsRef<str>>(tokens: &[S]) -> String {
    let mut out = String::from("#");
    for t in tokens {
        out.push('/');
        out.push_str(&escape(t.as_ref()));
    }
    out
}

/// `#/traits/name/first` -> `traits.name.first`; the root -> `None` (a form-level message).
pub(crate) fn to_dotted(pointer: &str) -> Option<String> {
    let rest = pointer.trim_start_matches('#').trim_start_matches('/');
    if rest.is_empty() {
        return None;
    }
    Some(rest.split('/').map(unescape).collect::<Vec<_>>().join("."))
}

/// Resolves a same-document reference (`#`, `#/definitions/x`, `#anchor`) against the schema root.
/// Returns `None` for anything else or when nothing is there.
pub(crate) fn resolve_local<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    if fragment.is_empty() {
        return Some(root);
    }
    if let Some(path) = fragment.strip_prefix('/') {
        let mut node = root;
        for raw in path.split('/') {
            let token = unescape(&percent_decode(raw)?);
            node = match node {
                Value::Object(m) => m.get(&token)?,
                Value::Array(a) => a.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        return Some(node);
    }
    find_anchor(root, fragment, 0)
}

/// Finds a sub-schema declaring `$anchor: name` (2019-09+) or `$id: "#name"` (draft 7 and earlier).
fn find_anchor<'a>(node: &'a Value, name: &str, depth: usize) -> Option<&'a Value> {
    if depth > crate::MAX_SCHEMA_DEPTH {
        return None;
    }
    match node {
        Value::Object(m) => {
            let anchored = m.get("$anchor").and_then(Value::as_str) == Some(name)
                || m.get("$id").and_then(Value::as_str).and_then(|id| id.strip_prefix('#')) == Some(name);
            if anchored {
                return Some(node);
            }
            m.values().find_map(|v| find_anchor(v, name, depth + 1))
        }
        Value::Array(a) => a.iter().find_map(|v| find_anchor(v, name, depth + 1)),
        _ => None,
    }
}

/// Percent-decoding for pointer fragments (`#/definitions/a%20b`); `None` on malformed escapes or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_names_unescape_tokens() {
        assert_eq!(to_dotted("#/traits/name/first").as_deref(), Some("traits.name.first"));
        assert_eq!(to_dotted("#/traits/a~1b").as_deref(), Some("traits.a/b"));
        assert_eq!(to_dotted("#"), None);
        assert_eq!(to_dotted("#/"), None);
        assert_eq!(render(&["traits", "a/b"]), "#/traits/a~1b");
    }

    #[test]
    fn local_refs_resolve_pointers_and_anchors() {
        let root = json!({"definitions": {"a b": {"type": "string"}, "x": {"$id": "#x", "type": "number"}},
                          "items": [{"$anchor": "y"}]});
        assert_eq!(resolve_local(&root, "#/definitions/a%20b"), Some(&json!({"type": "string"})));
        assert_eq!(resolve_local(&root, "#x").and_then(|v| v.get("type")), Some(&json!("number")));
        assert_eq!(resolve_local(&root, "#y"), Some(&json!({"$anchor": "y"})));
        assert_eq!(resolve_local(&root, "#"), Some(&root));
        assert_eq!(resolve_local(&root, "#/definitions/missing"), None);
        assert_eq!(resolve_local(&root, "other.json#/x"), None);
    }
}
