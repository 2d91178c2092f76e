//! Checks that run before the JSON Schema compiler sees a tenant's document: shape, size, depth, and that no
//! reference or meta-schema could make us read a file or call a host.

use serde_json::Value;

use crate::error::SchemaError;
use crate::{MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, pointer};

/// Keywords whose string value is a reference the compiler would try to resolve.
const REF_KEYWORDS: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];

/// Runs every pre-compile check; the first failure wins.
pub(crate) fn check(raw: &Value) -> Result<(), SchemaError> {
    if !raw.is_object() {
        return Err(SchemaError::NotAnObject);
    }
    let mut path = Vec::new();
    walk(raw, 1, &mut path)?;
    check_size(raw)?;
    check_traits(raw)
}

/// Depth, references and `$schema`, in one pass. `path` holds the tokens of `node`'s location.
fn walk(node: &Value, depth: usize, path: &mut Vec<String>) -> Result<(), SchemaError> {
    let children: Box<dyn Iterator<Item = (String, &Value)>> = match node {
        Value::Object(m) => {
            if depth > MAX_SCHEMA_DEPTH {
                return Err(SchemaError::TooDeep { path: pointer::render(path), limit: MAX_SCHEMA_DEPTH });
            }
            for (key, value) in m {
                let Value::String(s) = value else { continue };
                if REF_KEYWORDS.contains(&key.as_str()) && !s.starts_with('#') {
                    path.push(key.clone());
                    let path = pointer::render(path);
                    return Err(SchemaError::ForeignRef { path, reference: s.clone() });
                }
                if key == "$schema" && jsonschema::Draft::from_schema_uri(s) == jsonschema::Draft::Unknown {
                    path.push(key.clone());
                    return Err(SchemaError::UnknownDraft { path: pointer::render(path), uri: s.clone() });
                }
            }
            Box::new(m.iter().map(|(k, v)| (k.clone(), v)))
        }
        Value::Array(a) => {
            if depth > MAX_SCHEMA_DEPTH {
                return Err(SchemaError::TooDeep { path: pointer::render(path), limit: MAX_SCHEMA_DEPTH });
            }
            Box::new(a.iter().enumerate().map(|(i, v)| (i.to_string(), v)))
        }
        _ => return Ok(()),
    };
    for (token, child) in children {
        path.push(token);
        walk(child, depth + 1, path)?;
        path.pop();
    }
    Ok(())
}

/// Serializes into a counter that gives up as soon as the limit is passed (no large allocation).
fn check_size(raw: &Value) -> Result<(), SchemaError> {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > MAX_SCHEMA_BYTES {
                return Err(std::io::Error::other("identity schema too large"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(&mut Counter(0), raw).map_err(|_| SchemaError::TooLarge { limit: MAX_SCHEMA_BYTES })
}

/// Kratos' identity meta-schema: `properties.traits` is an object schema with at least one property.
fn check_traits(raw: &Value) -> Result<(), SchemaError> {
    let traits_err =
        |path: &str, message: &str| SchemaError::Traits { path: path.to_owned(), message: message.to_owned() };
    let Some(properties) = raw.get("properties") else {
        return Err(traits_err("#/properties", "an identity schema needs `properties.traits`, the traits' schema"));
    };
    let Some(traits) = properties.as_object().and_then(|p| p.get("traits")) else {
        return Err(traits_err(
            "#/properties/traits",
            "an identity schema needs `properties.traits`, the traits' schema",
        ));
    };
    let Some(traits) = traits.as_object() else {
        return Err(traits_err("#/properties/traits", "must be an object (the traits' schema)"));
    };
    if let Some(t) = traits.get("type")
        && t != "object"
    {
        return Err(traits_err("#/properties/traits/type", "must be \"object\": traits are a JSON object"));
    }
    match traits.get("properties") {
        Some(Value::Object(p)) if !p.is_empty() => Ok(()),
        _ => Err(traits_err("#/properties/traits/properties", "must be an object declaring at least one trait")),
    }
}
