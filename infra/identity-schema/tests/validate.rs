//! Trait validation errors: Kratos' ids, texts, contexts, pointers and form fields.
mod common;

use serde_json::{Value, json};
use tessera_identity_schema::{IdentitySchema, TraitError};

fn schema() -> IdentitySchema {
    let mut raw = common::traits_schema(
        json!({
            "email": {"type": "string", "format": "email"},
            "nick": {"type": "string", "minLength": 3, "maxLength": 5},
            "code": {"type": "string", "pattern": "^a"},
            "digits": {"type": "string", "pattern": "^\\d+$"},
            "phone": {"type": "string", "format": "tel"},
            "age": {"type": "integer", "minimum": 18, "maximum": 130},
            "score": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 10},
            "qty": {"type": "integer", "multipleOf": 5},
            "color": {"type": "string", "enum": ["red", "green"]},
            "plan": {"const": "free"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": true},
            "name": {"type": "object", "properties": {"first": {"type": "string"}}, "required": ["first"]}
        }),
        json!(["email"]),
    );
    raw["properties"]["traits"]["additionalProperties"] = json!(false);
    common::compile(&raw)
}

/// (pointer, field, id, text, context) of each error.
type Row = (String, Option<String>, u32, String, Value);

fn rows(errors: &[TraitError]) -> Vec<Row> {
    errors.iter().map(|e| (e.pointer.clone(), e.field.clone(), e.id, e.text.clone(), e.context.clone())).collect()
}

fn row(pointer: &str, id: u32, text: &str, context: Value) -> Row {
    let field = pointer.strip_prefix("#/").map(|p| p.replace('/', "."));
    (pointer.to_owned(), field, id, text.to_owned(), context)
}

#[test]
fn each_keyword_maps_to_kratos_message() {
    let s = schema();
    let base = |extra: Value| {
        let mut t = json!({"email": "a@example.com"});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    let cases: Vec<(&str, Value, Row)> = vec![
        (
            "required",
            json!({}),
            row("#/traits/email", 4000002, "Property email is missing.", json!({"property": "email"})),
        ),
        (
            "minLength",
            base(json!({"nick": "a"})),
            row(
                "#/traits/nick",
                4000003,
                "length must be >= 3, but got 1",
                json!({"min_length": 3, "actual_length": 1}),
            ),
        ),
        (
            "maxLength",
            base(json!({"nick": "abcdef"})),
            row(
                "#/traits/nick",
                4000017,
                "length must be <= 5, but got 6",
                json!({"max_length": 5, "actual_length": 6}),
            ),
        ),
        (
            "pattern",
            base(json!({"code": "b"})),
            row("#/traits/code", 4000004, "does not match pattern \"^a\"", json!({"pattern": "^a"})),
        ),
        (
            "pattern with a backslash is Go-quoted in the text, raw in the context",
            base(json!({"digits": "x"})),
            row("#/traits/digits", 4000004, r#"does not match pattern "^\\d+$""#, json!({"pattern": "^\\d+$"})),
        ),
        (
            "format email",
            json!({"email": "nope"}),
            row("#/traits/email", 4000040, "Enter a valid email address", json!({"value": "nope"})),
        ),
        (
            "format tel",
            base(json!({"phone": "12345"})),
            row("#/traits/phone", 4000041, "Enter a valid phone number", json!({"value": "12345"})),
        ),
        (
            "type",
            base(json!({"nick": 5})),
            row(
                "#/traits/nick",
                4000026,
                "expected string, but got number",
                json!({"allowed_types": ["string"], "actual_type": "number"}),
            ),
        ),
        (
            "enum (Kratos has no id of its own: generic with the validator text)",
            base(json!({"color": "blue"})),
            row(
                "#/traits/color",
                4000001,
                "value must be one of \"red\", \"green\"",
                json!({"reason": "value must be one of \"red\", \"green\""}),
            ),
        ),
        (
            "minimum",
            base(json!({"age": 17})),
            row("#/traits/age", 4000018, "must be >= 18 but found 17", json!({"minimum": 18, "actual": 17})),
        ),
        (
            "maximum",
            base(json!({"age": 131})),
            row("#/traits/age", 4000020, "must be <= 130 but found 131", json!({"maximum": 130, "actual": 131})),
        ),
        (
            "exclusiveMinimum",
            base(json!({"score": 0.5})),
            row("#/traits/score", 4000019, "must be > 0.5 but found 0.5", json!({"minimum": 0.5, "actual": 0.5})),
        ),
        (
            "exclusiveMaximum",
            base(json!({"score": 10})),
            row("#/traits/score", 4000021, "must be < 10 but found 10", json!({"maximum": 10, "actual": 10})),
        ),
        (
            "multipleOf",
            base(json!({"qty": 7})),
            row("#/traits/qty", 4000022, "7 not multipleOf 5", json!({"base": 5, "actual": 7})),
        ),
        (
            "minItems",
            base(json!({"tags": []})),
            row(
                "#/traits/tags",
                4000024,
                "minimum 1 items allowed, but found 0 items",
                json!({"min_items": 1, "actual_items": 0}),
            ),
        ),
        (
            "maxItems",
            base(json!({"tags": ["a", "b", "c"]})),
            row(
                "#/traits/tags",
                4000023,
                "maximum 2 items allowed, but found 3 items",
                json!({"max_items": 2, "actual_items": 3}),
            ),
        ),
        (
            "uniqueItems",
            base(json!({"tags": ["a", "a"]})),
            row("#/traits/tags", 4000025, "items at index 0 and 1 are equal", json!({"index_a": 0, "index_b": 1})),
        ),
        (
            "const",
            base(json!({"plan": "pro"})),
            row("#/traits/plan", 4000029, "must be equal to constant \"free\"", json!({"expected": "\"free\""})),
        ),
        (
            "array item type",
            base(json!({"tags": [1]})),
            row(
                "#/traits/tags/0",
                4000026,
                "expected string, but got number",
                json!({"allowed_types": ["string"], "actual_type": "number"}),
            ),
        ),
        (
            "nested required points at the missing nested property",
            base(json!({"name": {}})),
            row("#/traits/name/first", 4000002, "Property first is missing.", json!({"property": "first"})),
        ),
        (
            "additionalProperties goes on the object",
            base(json!({"extra": 1})),
            row(
                "#/traits",
                4000001,
                "additionalProperties \"extra\" not allowed",
                json!({"reason": "additionalProperties \"extra\" not allowed"}),
            ),
        ),
        (
            "traits not an object",
            json!(null),
            row(
                "#/traits",
                4000026,
                "expected object, but got null",
                json!({"allowed_types": ["object"], "actual_type": "null"}),
            ),
        ),
    ];
    for (name, traits, expected) in cases {
        let errors = s.validate_traits(&traits).expect_err(name);
        assert_eq!(rows(&errors), vec![expected], "{name}");
    }
}

#[test]
fn valid_values_pass() {
    let s = schema();
    let traits = json!({"email": "a@example.com", "nick": "äöü", "code": "abc", "digits": "42",
                        "phone": "+49 (30) 1234-5678", "age": 18, "score": 9.5, "qty": 10, "color": "red",
                        "plan": "free", "tags": ["x", "y"], "name": {"first": "Ada"}});
    assert!(s.validate_traits(&traits).is_ok(), "{:?}", s.validate_traits(&traits).err());
}

#[test]
fn every_violation_is_reported() {
    let errors = schema().validate_traits(&json!({"nick": "a", "age": 17, "name": {"first": 1}})).unwrap_err();
    let mut got: Vec<(String, u32)> = errors.iter().map(|e| (e.pointer.clone(), e.id)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("#/traits/age".to_owned(), 4000018),
            ("#/traits/email".to_owned(), 4000002),
            ("#/traits/name/first".to_owned(), 4000026),
            ("#/traits/nick".to_owned(), 4000003),
        ]
    );
}

#[test]
fn reasons_read_like_kratos_admin_errors() {
    let s = schema();
    let missing = s.validate_traits(&json!({})).unwrap_err();
    assert_eq!(missing[0].reason(), r#"I[#/traits] S[#/properties/traits/required] missing properties: "email""#);
    let format = s.validate_traits(&json!({"email": "nope"})).unwrap_err();
    assert_eq!(
        format[0].reason(),
        r#"I[#/traits/email] S[#/properties/traits/properties/email/format] "nope" is not valid "email""#
    );
    let short = s.validate_traits(&json!({"email": "a@b.co", "nick": "a"})).unwrap_err();
    assert_eq!(
        short[0].reason(),
        "I[#/traits/nick] S[#/properties/traits/properties/nick/minLength] length must be >= 3, but got 1"
    );
}

#[test]
fn default_schema_messages() {
    let s = common::compile(&common::default_schema());
    let errors = s.validate_traits(&json!({"email": "ab"})).unwrap_err();
    let ids: Vec<u32> = errors.iter().map(|e| e.id).collect();
    assert!(ids.contains(&4000003) && ids.contains(&4000040), "{ids:?}");
    assert!(errors.iter().all(|e| e.field.as_deref() == Some("traits.email")));
    let errors = s.validate_traits(&json!({"email": "a@b.co", "name": "x"})).unwrap_err();
    assert_eq!(
        rows(&errors),
        vec![row(
            "#/traits",
            4000001,
            "additionalProperties \"name\" not allowed",
            json!({"reason": "additionalProperties \"name\" not allowed"})
        )]
    );
}

#[test]
fn any_of_reports_each_branch_like_kratos() {
    let s = common::compile(&common::traits_schema(
        json!({"contact": {"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "format": "tel"}]}}),
        json!([]),
    ));
    assert!(s.validate_traits(&json!({"contact": "+4930123456"})).is_ok());
    let errors = s.validate_traits(&json!({"contact": "x"})).unwrap_err();
    let ids: Vec<u32> = errors.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![4000040, 4000041]);
    assert!(errors.iter().all(|e| e.field.as_deref() == Some("traits.contact")));
}

#[test]
fn without_schema_keyword_draft7_applies() {
    // Draft 7: `exclusiveMinimum` is a number, and `format` asserts (we always validate formats).
    let raw = json!({"properties": {"traits": {"type": "object",
        "properties": {"n": {"type": "number", "exclusiveMinimum": 1}, "e": {"type": "string", "format": "email"}}}}});
    let s = common::compile(&raw);
    assert_eq!(s.validate_traits(&json!({"n": 1})).unwrap_err()[0].id, 4000019);
    assert_eq!(s.validate_traits(&json!({"e": "x"})).unwrap_err()[0].id, 4000040);
}
