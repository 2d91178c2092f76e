//! JSON Patch (RFC 6902) on a project's settings, as `ory patch project` sends it.
//!
//! Patches apply to the writable document (`name`, `services`, `cors_public`, `cors_admin`,
//! `organizations`). Paths into read-only fields are refused by name rather than with a confusing
//! "path not found". A patch applies all or nothing.

use serde_json::Value;

use crate::error::{Error, Result};

const READ_ONLY: &[&str] = &[
    "id",
    "slug",
    "state",
    "revision_id",
    "environment",
    "home_region",
    "workspace_id",
    "hosts",
    "created_at",
    "updated_at",
];

/// Largest number of operations in one patch.
pub const MAX_OPERATIONS: usize = 1000;

/// Applies `ops` (a JSON array of operations) to `doc`.
pub fn apply(mut doc: Value, ops: &Value) -> Result<Value> {
    let Value::Array(list) = ops else {
        return Err(Error::Invalid("A JSON Patch must be an array of operations.".into()));
    };
    if list.len() > MAX_OPERATIONS {
        return Err(Error::Invalid(format!("A JSON Patch may have at most {MAX_OPERATIONS} operations.")));
    }
    let patch: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| Error::Invalid(format!("The JSON Patch is malformed: {e}")))?;
    for (i, op) in list.iter().enumerate() {
        for key in ["path", "from"] {
            if let Some(path) = op.get(key).and_then(Value::as_str) {
                let top = path.trim_start_matches('/').split('/').next().unwrap_or_default();
                if READ_ONLY.contains(&top) {
                    return Err(Error::Invalid(format!("Operation {i}: `/{top}` cannot be changed with a patch.")));
                }
            }
        }
    }
    json_patch::patch(&mut doc, &patch)
        .map_err(|e| Error::Invalid(format!("The JSON Patch cannot be applied: {e}")))?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn add_replace_remove_apply_in_order() {
        let doc = json!({"name": "a", "services": {"identity": {"config": {"x": 1}}}});
        let out = apply(
            doc,
            &json!([
                {"op": "replace", "path": "/name", "value": "b"},
                {"op": "add", "path": "/services/identity/config/y", "value": {"z": true}},
                {"op": "remove", "path": "/services/identity/config/x"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"name": "b", "services": {"identity": {"config": {"y": {"z": true}}}}}));
    }

    #[test]
    fn bad_patches_are_refused_whole() {
        let doc = json!({"name": "a"});
        for (ops, needle) in [
            (json!({"op": "add"}), "array"),
            (json!([{"op": "jump", "path": "/name"}]), "malformed"),
            (json!([{"op": "replace", "path": "/slug", "value": "x"}]), "/slug"),
            (
                json!([{"op": "replace", "path": "/name", "value": "b"}, {"op": "remove", "path": "/nope"}]),
                "cannot be applied",
            ),
            (json!([{"op": "test", "path": "/name", "value": "zzz"}]), "cannot be applied"),
        ] {
            let err = apply(doc.clone(), &ops).unwrap_err().to_string();
            assert!(err.contains(needle), "{ops} gave {err}");
        }
    }
}
