//! Trait form fields, following Kratos' schema-to-node rules.
mod common;

use serde_json::json;
use tessera_identity_schema::TraitField;

fn field(name: &str, input_type: &'static str) -> TraitField {
    TraitField {
        name: name.to_owned(),
        input_type,
        autocomplete: None,
        title: None,
        required: false,
        pattern: None,
        options: Vec::new(),
        identifier_for: Vec::new(),
    }
}

#[test]
fn default_schema_has_one_email_field() {
    let s = common::compile(&common::default_schema());
    assert_eq!(
        s.trait_fields(),
        vec![TraitField {
            autocomplete: Some("email"),
            title: Some("Email address".to_owned()),
            required: true,
            identifier_for: vec!["password".to_owned(), "webauthn".to_owned(), "code".to_owned()],
            ..field("traits.email", "email")
        }]
    );
}

#[test]
fn types_formats_nesting_enum_pattern_required_in_schema_order() {
    let s = common::compile(&common::traits_schema(
        json!({
            "email": {"type": "string", "format": "email", "title": "E-Mail",
                      "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}},
            "name": {"type": "object", "required": ["last"], "properties": {
                "first": {"type": "string", "title": "First Name"},
                "last": {"type": "string", "title": "Last Name"}}},
            "phone": {"type": "string", "format": "tel"},
            "birthday": {"type": "string", "format": "date"},
            "meeting": {"type": "string", "format": "date-time"},
            "website": {"type": "string", "format": "uri", "title": ""},
            "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
            "color": {"type": "string", "enum": ["red", "green"]},
            "age": {"type": "integer"},
            "height": {"type": "number"},
            "newsletter": {"type": "boolean"},
            "plan": {"const": "free"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "emails": {"type": "array", "items": {"type": "string", "format": "email",
                       "ory.sh/kratos": {"credentials": {"code": {"identifier": true, "via": "email"}}}}},
            "addresses": {"type": "array", "items": {"type": "object", "properties": {"city": {"type": "string"}}}},
            "nickname": {"type": ["string", "null"]},
            "prefs": {"type": "object"}
        }),
        json!(["email", "zip"]),
    ));
    let expected = vec![
        TraitField {
            autocomplete: Some("email"),
            title: Some("E-Mail".to_owned()),
            required: true,
            identifier_for: vec!["password".to_owned()],
            ..field("traits.email", "email")
        },
        TraitField { title: Some("First Name".to_owned()), ..field("traits.name.first", "text") },
        TraitField { title: Some("Last Name".to_owned()), required: true, ..field("traits.name.last", "text") },
        TraitField { autocomplete: Some("tel"), ..field("traits.phone", "tel") },
        field("traits.birthday", "date"),
        field("traits.meeting", "datetime-local"),
        TraitField { autocomplete: Some("url"), ..field("traits.website", "url") },
        TraitField { required: true, pattern: Some("^[0-9]{5}$".to_owned()), ..field("traits.zip", "text") },
        TraitField { options: vec![json!("red"), json!("green")], ..field("traits.color", "text") },
        field("traits.age", "number"),
        field("traits.height", "number"),
        field("traits.newsletter", "checkbox"),
        field("traits.plan", "text"),
        field("traits.tags", "text"),
        TraitField { identifier_for: vec!["code".to_owned()], ..field("traits.emails", "text") },
    ];
    assert_eq!(s.trait_fields(), expected);
}

#[test]
fn all_of_merges_into_one_field() {
    let s = common::compile(&common::traits_schema(
        json!({"email": {"allOf": [{"type": "string"}, {"format": "email", "title": "Mail"}]}}),
        json!(["email"]),
    ));
    assert_eq!(
        s.trait_fields(),
        vec![TraitField {
            autocomplete: Some("email"),
            title: Some("Mail".to_owned()),
            required: true,
            ..field("traits.email", "email")
        }]
    );
}
