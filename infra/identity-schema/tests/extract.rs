//! Identifiers and addresses extracted through the `ory.sh/kratos` extension.
mod common;

use std::collections::BTreeMap;

use serde_json::json;
use tessera_identity_schema::{Address, Extracted, normalize_identifier};

fn ids(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect())).collect()
}

fn addr(value: &str, via: &str) -> Address {
    Address { value: value.to_owned(), via: via.to_owned() }
}

#[test]
fn default_schema_extracts_normalised_identifiers_and_addresses() {
    let s = common::compile(&common::default_schema());
    let got = s.validate_traits(&json!({"email": "A@b.co"})).unwrap();
    assert_eq!(
        got,
        Extracted {
            identifiers: ids(&[("code", &["a@b.co"]), ("password", &["a@b.co"]), ("webauthn", &["a@b.co"])]),
            verifiable_addresses: vec![addr("a@b.co", "email")],
            recovery_addresses: vec![addr("a@b.co", "email")],
            totp_account_name: Some("A@b.co".to_owned()),
            passkey_display_name: Some("A@b.co".to_owned()),
        }
    );
    for kind in ["password", "webauthn", "code"] {
        assert!(s.has_identifier(kind), "{kind}");
    }
    assert!(!s.has_identifier("totp") && !s.has_identifier("passkey") && !s.has_identifier("oidc"));
}

#[test]
fn identifiers_are_nfkc_lower_cased_and_trimmed() {
    assert_eq!(normalize_identifier(" ＡＬＩＣＥ@Example.COM\t"), "alice@example.com"); // fullwidth -> ASCII
    assert_eq!(normalize_identifier("ﬁle"), "file"); // ligature
    assert_eq!(normalize_identifier("Straße"), "straße");
    let s = common::compile(&common::traits_schema(
        json!({"username": {"type": "string",
                            "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}),
        json!([]),
    ));
    let got = s.validate_traits(&json!({"username": " ＪＯＨＮ "})).unwrap();
    assert_eq!(got.identifiers, ids(&[("password", &["john"])]));
    assert!(got.verifiable_addresses.is_empty() && got.recovery_addresses.is_empty());
}

#[test]
fn arrays_nested_objects_and_schema_order() {
    let s = common::compile(&common::traits_schema(
        json!({
            "emails": {"type": "array", "items": {"type": "string", "format": "email",
                "ory.sh/kratos": {"credentials": {"password": {"identifier": true},
                                                  "code": {"identifier": true, "via": "email"}},
                                  "verification": {"via": "email"}, "recovery": {"via": "email"}}}},
            "contact": {"type": "object", "properties": {
                "phone": {"type": "string", "format": "tel",
                          "ory.sh/kratos": {"credentials": {"code": {"identifier": true, "via": "sms"}},
                                            "verification": {"via": "sms"}}},
                "backup": {"type": "string", "format": "email",
                           "ory.sh/kratos": {"recovery": {"via": "email"}}}}},
            "username": {"type": "string", "ory.sh/kratos": {"credentials": {"password": {"identifier": true},
                                                                               "webauthn": {"identifier": true}}}}
        }),
        json!([]),
    ));
    let traits = json!({
        "username": "Neo",
        "emails": ["One@Example.com", "two@example.com", "ONE@example.com"],
        "contact": {"phone": "+49 30 123456", "backup": "Backup@Example.com"}
    });
    let got = s.validate_traits(&traits).unwrap();
    assert_eq!(
        got.identifiers,
        ids(&[
            ("code", &["one@example.com", "two@example.com", "+49 30 123456"]),
            ("password", &["one@example.com", "two@example.com", "neo"]),
            ("webauthn", &["neo"]),
        ])
    );
    assert_eq!(
        got.verifiable_addresses,
        vec![addr("one@example.com", "email"), addr("two@example.com", "email"), addr("+49 30 123456", "sms")]
    );
    assert_eq!(
        got.recovery_addresses,
        vec![addr("one@example.com", "email"), addr("two@example.com", "email"), addr("backup@example.com", "email")]
    );
    assert_eq!(got.totp_account_name, None);
}

#[test]
fn missing_optional_traits_yield_nothing() {
    let s = common::compile(&common::traits_schema(
        json!({"email": {"type": "string", "ory.sh/kratos": {"credentials": {"password": {"identifier": true}},
                                                             "verification": {"via": "email"}}},
               "name": {"type": "string"}}),
        json!([]),
    ));
    assert_eq!(s.validate_traits(&json!({"name": "x"})).unwrap(), Extracted::default());
    // Blank values never become identifiers or addresses.
    assert_eq!(s.validate_traits(&json!({"email": "   "})).unwrap(), Extracted::default());
}

#[test]
fn extension_on_the_array_schema_itself_covers_each_string() {
    let s = common::compile(&common::traits_schema(
        json!({"handles": {"type": "array", "items": {"type": "string"},
                           "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}),
        json!([]),
    ));
    let got = s.validate_traits(&json!({"handles": ["A", "b", "a"]})).unwrap();
    assert_eq!(got.identifiers, ids(&[("password", &["a", "b"])]));
}

#[test]
fn invalid_traits_extract_nothing() {
    let s = common::compile(&common::default_schema());
    assert!(s.validate_traits(&json!({"email": "not-an-email"})).is_err());
}
