//! Schemas shared by the integration tests.
#![allow(dead_code)]

use serde_json::{Value, json};
use tessera_identity_schema::IdentitySchema;

/// The email + password schema new projects start with (same as `tessera_project_config::identity::default_schema`).
pub fn default_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Person",
        "type": "object",
        "properties": {
            "traits": {
                "type": "object",
                "properties": {
                    "email": {
                        "type": "string",
                        "format": "email",
                        "title": "Email address",
                        "minLength": 3,
                        "maxLength": 320,
                        "ory.sh/kratos": {
                            "credentials": {
                                "password": {"identifier": true},
                                "webauthn": {"identifier": true},
                                "passkey": {"display_name": true},
                                "totp": {"account_name": true},
                                "code": {"identifier": true, "via": "email"}
                            },
                            "verification": {"via": "email"},
                            "recovery": {"via": "email"}
                        }
                    }
                },
                "required": ["email"],
                "additionalProperties": false
            }
        }
    })
}

/// A schema with traits built from `properties` (and `required` inside traits).
pub fn traits_schema(properties: Value, required: Value) -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"traits": {"type": "object", "properties": properties, "required": required}}
    })
}

pub fn compile(raw: &Value) -> IdentitySchema {
    IdentitySchema::compile("test", raw).unwrap_or_else(|e| panic!("schema should compile: {e}"))
}
