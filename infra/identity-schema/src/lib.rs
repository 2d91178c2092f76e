//! Identity schemas: a tenant's JSON Schema for identity traits, with Kratos' `ory.sh/kratos` extension.
//!
//! Compiling never touches the network or the file system: references must stay inside the document, `$schema`
//! must name a built-in draft, and the validator is built without its HTTP/file resolvers. Size and nesting are
//! bounded because schemas are tenant input evaluated on every identity write.
//!
//! A compiled [`IdentitySchema`] validates traits into Kratos' message vocabulary ([`TraitError`]), extracts
//! credential identifiers and addresses ([`Extracted`]), and lists form fields ([`TraitField`]).

mod error;
mod extension;
mod fields;
mod guard;
mod messages;
mod pointer;
mod walk;

use base64::Engine;
use serde_json::{Value, json};

pub use error::SchemaError;
pub use extension::{Address, EXTENSION_KEY, Extracted, normalize_identifier};
pub use fields::TraitField;
pub use messages::*;

/// Largest accepted schema, in bytes of compact JSON.
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Deepest accepted nesting of objects and arrays (the root object is level 1).
pub const MAX_SCHEMA_DEPTH: usize = 32;

/// A compiled identity schema: the raw JSON (served at `/schemas/{id}`), the validator, and the extension facts.
/// Immutable after compile, so it is shared across requests behind an `Arc`.
pub struct IdentitySchema {
    id: String,
    raw: Value,
    validator: jsonschema::Validator,
    sites: Vec<extension::Site>,
    fields: Vec<TraitField>,
}

impl std::fmt::Debug for IdentitySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySchema").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Refuses every retrieval: the guard already rejects foreign references, this makes sure nothing slips through.
struct NoRetrieval;

impl jsonschema::Retrieve for NoRetrieval {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("{uri} is not fetched: identity schemas may only reference themselves").into())
    }
}

/// `format: tel` check (chosen rule; Kratos uses libphonenumber): international form, `+` then 7 to 15 digits,
/// spaces, dots, dashes and parentheses ignored.
fn is_phone_number(s: &str) -> bool {
    let Some(rest) = s.trim().strip_prefix('+') else { return false };
    let mut digits = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return false,
        }
    }
    (7..=15).contains(&digits) && !rest.trim_start().starts_with('0')
}

impl IdentitySchema {
    /// Compiles a tenant's schema. Refuses: not an object; a `$ref` (anywhere) that is not a same-document
    /// reference starting with `#`; a `$schema` that is not a known draft (nothing is ever fetched); no
    /// `properties.traits` object with properties; more than [`MAX_SCHEMA_BYTES`] or nesting deeper than
    /// [`MAX_SCHEMA_DEPTH`]; a malformed `ory.sh/kratos` extension; invalid JSON Schema. The error text names
    /// the JSON pointer. Without `$schema`, draft-07 applies (Kratos' default).
    pub fn compile(id: &str, raw: &Value) -> Result<Self, SchemaError> {
        guard::check(raw)?;
        extension::check_all(raw, &mut Vec::new())?;
        extension::check_verification_formats(raw)?;

        let mut options = jsonschema::options()
            .with_retriever(NoRetrieval)
            .should_validate_formats(true)
            .with_format("tel", is_phone_number)
            // RE2-like linear-time matching: Kratos uses Go's regexp, and a tenant's pattern must not backtrack.
            .with_pattern_options(jsonschema::PatternOptions::regex().size_limit(1 << 20));
        if raw.get("$schema").is_none() {
            options = options.with_draft(jsonschema::Draft::Draft7);
        }
        let validator = options.build(raw).map_err(|e| SchemaError::Invalid {
            path: format!("#{}", e.instance_path().as_str()),
            message: e.to_string(),
        })?;

        let visits = walk::walk_traits(raw)?;
        let sites = extension::sites(&visits);
        let fields = fields::build(&visits, &sites);
        Ok(Self { id: id.to_owned(), raw: raw.clone(), validator, sites, fields })
    }

    /// The schema id (`preset://email`, `default`, ...).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The schema document exactly as configured.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Validates an identity's traits (as `{"traits": traits}` against the whole schema). `Ok` carries the
    /// extracted identifiers and addresses; `Err` every violation, in Kratos' message vocabulary.
    pub fn validate_traits(&self, traits: &Value) -> Result<Extracted, Vec<TraitError>> {
        let document = json!({ "traits": traits });
        let mut errors = Vec::new();
        for e in self.validator.iter_errors(&document) {
            messages::translate(&e, &mut errors);
        }
        if errors.is_empty() { Ok(extension::extract(&self.sites, traits)) } else { Err(errors) }
    }

    /// The trait form fields for UI nodes, in schema order (nested objects flattened to `traits.name.first`).
    pub fn trait_fields(&self) -> Vec<TraitField> {
        self.fields.clone()
    }

    /// Does any trait carry `credentials.<kind>.identifier: true` (`password`, `code`, `webauthn`)?
    pub fn has_identifier(&self, credential_kind: &str) -> bool {
        self.sites.iter().any(|s| s.config.identifier_for.contains(&credential_kind))
    }
}

/// The path segment Kratos uses for a schema in `schema_url`: base64url without padding of the id
/// (`default` -> `ZGVmYXVsdA`).
pub fn schema_url_id(id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// Reverses [`schema_url_id`]; `None` when `s` is not base64url of UTF-8 (then it may be a plain id).
pub fn decode_schema_url_id(s: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()
}
