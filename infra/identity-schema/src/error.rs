//! Why a schema was refused. Every variant names the JSON pointer (into the schema) it is about, so a tenant
//! editing a large schema can find the offending spot.

/// A reason an identity schema cannot be used. Returned by [`crate::IdentitySchema::compile`]; the text is shown to
/// whoever wrote the schema (config API, console), so it names the place in the schema as a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The document is not a JSON object (e.g. an array, a string, `true`).
    #[error("#: the identity schema must be a JSON object")]
    NotAnObject,
    /// The serialized schema exceeds [`crate::MAX_SCHEMA_BYTES`]; large schemas make every validation slow.
    #[error("#: the identity schema is larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// Objects/arrays nest deeper than [`crate::MAX_SCHEMA_DEPTH`].
    #[error("{path}: the identity schema nests deeper than {limit} levels")]
    TooDeep {
        /// JSON pointer of the first value beyond the limit.
        path: String,
        /// The depth limit.
        limit: usize,
    },
    /// A `$ref` (or `$dynamicRef`/`$recursiveRef`) that would leave the document: nothing is ever fetched.
    #[error(
        "{path}: reference `{reference}` is not allowed; only references within the schema itself \
         (starting with `#`) are resolved, files and URLs are never fetched"
    )]
    ForeignRef {
        /// JSON pointer of the reference.
        path: String,
        /// The reference as written.
        reference: String,
    },
    /// A `$schema` naming a meta-schema that is not a built-in JSON Schema draft (it would have to be fetched).
    #[error("{path}: `{uri}` is not a known JSON Schema draft; meta-schemas are never fetched")]
    UnknownDraft {
        /// JSON pointer of the `$schema` keyword.
        path: String,
        /// The URI as written.
        uri: String,
    },
    /// The identity-specific shape is wrong: no `properties.traits` object, no trait properties, and the like.
    #[error("{path}: {message}")]
    Traits {
        /// JSON pointer of the offending value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The `ory.sh/kratos` extension has an unknown key or a value of the wrong type.
    #[error("{path}: {message}")]
    Extension {
        /// JSON pointer of the offending value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Not a valid JSON Schema (as judged by the validator and the draft's meta-schema).
    #[error("{path}: invalid JSON Schema: {message}")]
    Invalid {
        /// JSON pointer of the offending value.
        path: String,
        /// The validator's explanation.
        message: String,
    },
    /// `$ref`s expand the trait tree into more paths than we are willing to walk.
    #[error("{path}: the identity schema expands to more than {limit} trait sub-schemas")]
    TooComplex {
        /// JSON pointer where the limit was hit.
        path: String,
        /// The limit.
        limit: usize,
    },
}
