//! Compile refusals and acceptance, the schema URL id, and sharing.
mod common;

use serde_json::{Value, json};
use tessera_identity_schema::{
    IdentitySchema, MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, SchemaError, decode_schema_url_id, schema_url_id,
};

fn with_email_prop(prop: Value) -> Value {
    common::traits_schema(json!({"email": prop}), json!([]))
}

/// Nests `levels` objects inside the `email` property's `default`.
fn nested(levels: usize) -> Value {
    let mut v = json!("leaf");
    for _ in 0..levels {
        v = json!({ "x": v });
    }
    with_email_prop(json!({"type": "string", "default": v}))
}

/// (case name, schema, expected variant, text the error must contain)
type Refusal = (&'static str, Value, fn(&SchemaError) -> bool, &'static str);

#[test]
fn refusals_name_the_reason_and_the_json_path() {
    let huge_description = "x".repeat(MAX_SCHEMA_BYTES);
    let cases: Vec<Refusal> = vec![
        ("not an object", json!([1, 2]), |e| matches!(e, SchemaError::NotAnObject), "#: "),
        (
            "remote https $ref",
            with_email_prop(json!({"$ref": "https://example.com/email.json"})),
            |e| matches!(e, SchemaError::ForeignRef { reference, .. } if reference == "https://example.com/email.json"),
            "#/properties/traits/properties/email/$ref: reference `https://example.com/email.json` is not allowed",
        ),
        (
            "file $ref",
            with_email_prop(json!({"$ref": "file:///etc/passwd"})),
            |e| matches!(e, SchemaError::ForeignRef { .. }),
            "#/properties/traits/properties/email/$ref: reference `file:///etc/passwd`",
        ),
        (
            "relative $ref to another document",
            with_email_prop(json!({"$ref": "other.json#"})),
            |e| matches!(e, SchemaError::ForeignRef { .. }),
            "`other.json#`",
        ),
        (
            "remote $ref deep inside allOf",
            with_email_prop(json!({"allOf": [{"type": "string"}, {"$ref": "http://169.254.169.254/latest"}]})),
            |e| matches!(e, SchemaError::ForeignRef { .. }),
            "#/properties/traits/properties/email/allOf/1/$ref",
        ),
        (
            "remote $dynamicRef",
            with_email_prop(json!({"$dynamicRef": "https://example.com/x"})),
            |e| matches!(e, SchemaError::ForeignRef { .. }),
            "/$dynamicRef",
        ),
        (
            "unknown $schema",
            json!({"$schema": "https://example.com/my-meta", "properties": {"traits": {"type": "object",
                   "properties": {"a": {"type": "string"}}}}}),
            |e| matches!(e, SchemaError::UnknownDraft { .. }),
            "#/$schema: `https://example.com/my-meta` is not a known JSON Schema draft",
        ),
        (
            "nested deeper than the limit",
            nested(MAX_SCHEMA_DEPTH),
            |e| matches!(e, SchemaError::TooDeep { limit: 32, .. }),
            "#/properties/traits/properties/email/default/x/x/",
        ),
        (
            "larger than 256 KiB",
            with_email_prop(json!({"type": "string", "description": huge_description})),
            |e| matches!(e, SchemaError::TooLarge { limit: 262_144 }),
            "larger than 262144 bytes",
        ),
        (
            "no properties",
            json!({"type": "object"}),
            |e| matches!(e, SchemaError::Traits { .. }),
            "#/properties: an identity schema needs `properties.traits`",
        ),
        (
            "no traits",
            json!({"type": "object", "properties": {"name": {"type": "string"}}}),
            |e| matches!(e, SchemaError::Traits { .. }),
            "#/properties/traits: an identity schema needs `properties.traits`",
        ),
        (
            "traits not an object",
            json!({"properties": {"traits": true}}),
            |e| matches!(e, SchemaError::Traits { .. }),
            "#/properties/traits: must be an object",
        ),
        (
            "traits of another type",
            json!({"properties": {"traits": {"type": "string", "properties": {"a": {}}}}}),
            |e| matches!(e, SchemaError::Traits { .. }),
            "#/properties/traits/type",
        ),
        (
            "traits without properties",
            json!({"properties": {"traits": {"type": "object"}}}),
            |e| matches!(e, SchemaError::Traits { .. }),
            "#/properties/traits/properties: must be an object declaring at least one trait",
        ),
        (
            "invalid JSON Schema keyword value",
            with_email_prop(json!({"type": "string", "minLength": -1})),
            |e| matches!(e, SchemaError::Invalid { .. }),
            "#/properties/traits/properties/email/minLength: invalid JSON Schema",
        ),
        (
            "unknown type name",
            with_email_prop(json!({"type": "text"})),
            |e| matches!(e, SchemaError::Invalid { .. }),
            "#/properties/traits/properties/email/type: invalid JSON Schema",
        ),
        (
            "pattern that is not a regular expression",
            with_email_prop(json!({"type": "string", "pattern": "(unclosed"})),
            |e| matches!(e, SchemaError::Invalid { .. }),
            "invalid JSON Schema",
        ),
        (
            "local $ref to nothing",
            with_email_prop(json!({"$ref": "#/definitions/missing"})),
            |e| matches!(e, SchemaError::Invalid { .. }),
            "invalid JSON Schema",
        ),
        (
            "extension: unknown key",
            with_email_prop(json!({"type": "string", "ory.sh/kratos": {"credentials": {"pasword": {}}}})),
            |e| matches!(e, SchemaError::Extension { .. }),
            "#/properties/traits/properties/email/ory.sh~1kratos/credentials/pasword: unknown key",
        ),
        (
            "extension: identifier not a boolean",
            with_email_prop(json!({"ory.sh/kratos": {"credentials": {"password": {"identifier": "yes"}}}})),
            |e| matches!(e, SchemaError::Extension { .. }),
            "ory.sh~1kratos/credentials/password/identifier: must be a boolean",
        ),
        (
            "extension: bad via",
            with_email_prop(json!({"ory.sh/kratos": {"verification": {"via": "pigeon"}}})),
            |e| matches!(e, SchemaError::Extension { .. }),
            "ory.sh~1kratos/verification/via: must be \"email\" or \"sms\"",
        ),
        (
            "extension: verification on a format Kratos cannot verify",
            with_email_prop(
                json!({"type": "string", "format": "uri", "ory.sh/kratos": {"verification": {"via": "email"}}}),
            ),
            |e| matches!(e, SchemaError::Extension { .. }),
            "#/properties/traits/properties/email/format",
        ),
    ];
    for (name, raw, is_expected, text) in cases {
        let err = IdentitySchema::compile("t", &raw).expect_err(name);
        assert!(is_expected(&err), "{name}: unexpected error {err:?}");
        assert!(err.to_string().contains(text), "{name}: `{err}` lacks `{text}`");
    }
}

#[test]
fn accepted_schemas() {
    let cases: Vec<(&str, Value)> = vec![
        ("default schema", common::default_schema()),
        (
            "local $ref into definitions",
            json!({"$schema": "http://json-schema.org/draft-07/schema#",
                   "definitions": {"x": {"type": "string", "format": "email"}},
                   "properties": {"traits": {"type": "object", "properties": {"email": {"$ref": "#/definitions/x"}}}}}),
        ),
        (
            "2020-12 $defs and https draft URI",
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "$defs": {"x": {"type": "string"}},
                   "properties": {"traits": {"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}}}}),
        ),
        (
            "no $schema, foreign $id (never fetched)",
            json!({"$id": "https://example.com/person.schema.json",
                   "properties": {"traits": {"type": "object", "properties": {"a": {"type": "string"}}}}}),
        ),
        ("exactly the depth limit", nested(MAX_SCHEMA_DEPTH - 6)),
        (
            "format no-validate with verification",
            with_email_prop(json!({"type": "string", "format": "no-validate",
                                   "ory.sh/kratos": {"verification": {"via": "sms"}}})),
        ),
        (
            "organizations matcher",
            with_email_prop(json!({"type": "string", "ory.sh/kratos": {"organizations": {"matcher": "email_domain"}}})),
        ),
    ];
    for (name, raw) in cases {
        let schema = IdentitySchema::compile("my-id", &raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(schema.id(), "my-id");
        assert_eq!(schema.raw(), &raw, "{name}: raw kept as given");
    }
}

#[test]
fn depth_limit_is_exact() {
    // Root(1) > properties(2) > traits(3) > properties(4) > email(5) > default(6) > levels...
    assert!(IdentitySchema::compile("t", &nested(MAX_SCHEMA_DEPTH - 5)).is_ok());
    assert!(matches!(IdentitySchema::compile("t", &nested(MAX_SCHEMA_DEPTH - 4)), Err(SchemaError::TooDeep { .. })));
}

#[test]
fn local_ref_is_followed_for_validation_fields_and_extraction() {
    let raw = json!({
        "definitions": {"email": {"type": "string", "format": "email", "title": "E-Mail",
            "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}},
        "properties": {"traits": {"type": "object", "properties": {"email": {"$ref": "#/definitions/email"}},
                                  "required": ["email"]}}
    });
    let schema = common::compile(&raw);
    let errors = schema.validate_traits(&json!({"email": "nope"})).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].id, 4000040);
    let ok = schema.validate_traits(&json!({"email": "Me@Example.org"})).unwrap();
    assert_eq!(ok.identifiers["password"], vec!["me@example.org".to_owned()]);
    let fields = schema.trait_fields();
    assert_eq!(fields.len(), 1);
    assert_eq!((fields[0].name.as_str(), fields[0].input_type), ("traits.email", "email"));
    assert_eq!(fields[0].title.as_deref(), Some("E-Mail"));
    assert!(fields[0].required);
    assert!(schema.has_identifier("password"));
    assert!(!schema.has_identifier("code"));
}

#[test]
fn recursive_local_refs_terminate() {
    let raw = json!({
        "definitions": {"node": {"type": "object", "properties": {"label": {"type": "string"},
                                                                  "child": {"$ref": "#/definitions/node"}}}},
        "properties": {"traits": {"type": "object", "properties": {"tree": {"$ref": "#/definitions/node"}}}}
    });
    let schema = common::compile(&raw);
    let names: Vec<String> = schema.trait_fields().into_iter().map(|f| f.name).collect();
    assert_eq!(names, vec!["traits.tree.label"]);
    assert!(schema.validate_traits(&json!({"tree": {"label": "a", "child": {"label": "b", "child": {}}}})).is_ok());
    assert_eq!(schema.validate_traits(&json!({"tree": {"child": {"label": 1}}})).unwrap_err()[0].id, 4000026);
}

#[test]
fn schema_url_ids_round_trip() {
    for (id, encoded) in [
        ("default", "ZGVmYXVsdA"),
        ("preset://email", "cHJlc2V0Oi8vZW1haWw"),
        ("a?b>c", "YT9iPmM"), // would be `+`/`/` in standard base64
        ("", ""),
    ] {
        assert_eq!(schema_url_id(id), encoded);
        assert_eq!(decode_schema_url_id(encoded).as_deref(), Some(id));
    }
    assert_eq!(decode_schema_url_id("ZGVmYXVsdA==").as_deref(), Some("default"));
    assert_eq!(decode_schema_url_id("not base64!"), None);
    assert_eq!(decode_schema_url_id("_w"), None, "decodes to a non-UTF-8 byte");
}

#[test]
fn compiled_schema_is_shareable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<IdentitySchema>();
    let schema = std::sync::Arc::new(common::compile(&common::default_schema()));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let s = schema.clone();
            std::thread::spawn(move || s.validate_traits(&json!({"email": format!("u{i}@example.com")})).is_ok())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
}
