use serde_json::json;

use super::*;

fn ctx() -> RenderContext {
    RenderContext { project_url: "https://demo-abc.projects.example.com".to_owned() }
}

fn settings_with(service: &str, config: Value) -> ProjectSettings {
    let mut s = default_settings("Demo", &ctx());
    let cfg = Some(ServiceConfig { config: config.as_object().cloned().unwrap(), other: Map::new() });
    match service {
        "identity" => s.services.identity = cfg,
        "permission" => s.services.permission = cfg,
        "oauth2" => s.services.oauth2 = cfg,
        _ => unreachable!(),
    }
    s
}

#[test]
fn defaults_render_without_warnings() {
    let rendered = render(&default_settings("Demo", &ctx())).unwrap();
    assert_eq!(rendered.warnings, vec![]);
    let ui = rendered.config.identity.selfservice.flows.login.ui_url.unwrap();
    assert_eq!(ui.0.as_str(), "https://demo-abc.projects.example.com/ui/login");
    assert_eq!(rendered.config.permission.limit.max_read_depth.0, 5);
}

#[test]
fn empty_documents_render_to_defaults() {
    let s = settings_with("oauth2", json!({}));
    let r = render(&s).unwrap();
    assert_eq!(r.config.oauth2.ttl.access_token, types::GoDuration::secs(3600));
}

#[test]
fn unknown_keys_become_warnings_with_full_paths() {
    let s = settings_with(
        "identity",
        json!({"serve": {"public": {"port": 4433}}, "session": {"lifespan": "24h", "future": true}}),
    );
    let r = render(&s).unwrap();
    let messages: Vec<_> = r.warnings.iter().map(|w| w.message.split(' ').next().unwrap().to_owned()).collect();
    assert_eq!(messages, vec!["services.identity.config.serve", "services.identity.config.session.future"]);
    assert!(r.warnings.iter().all(|w| w.code == WARNING_UNSUPPORTED_KEY));
    assert_eq!(r.config.identity.session.lifespan, types::GoDuration::secs(24 * 3600));
}

#[test]
fn unknown_services_are_kept_and_warned() {
    let mut s = default_settings("Demo", &ctx());
    s.services.other.insert("account_experience".into(), json!({"config": {"theme": "dark"}}));
    let r = render(&s).unwrap();
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].code, WARNING_UNSUPPORTED_SERVICE);
    assert!(r.warnings[0].message.starts_with("services.account_experience "));
}

#[test]
fn invalid_values_name_their_key() {
    let cases = [
        ("identity", json!({"session": {"lifespan": "forever"}}), "services.identity.config.session.lifespan"),
        (
            "identity",
            json!({"selfservice": {"methods": {"password": {"config": {"min_password_length": 3}}}}}),
            "services.identity.config.selfservice.methods.password.config.min_password_length",
        ),
        (
            "identity",
            json!({"selfservice": {"flows": {"login": {"ui_url": "not a url"}}}}),
            "services.identity.config.selfservice.flows.login.ui_url",
        ),
        (
            "identity",
            json!({"identity": {"default_schema_id": "x", "schemas": [{"id": "x", "url": "file:///etc/passwd"}]}}),
            "services.identity.config.identity.schemas.0.url",
        ),
        (
            "identity",
            json!({"identity": {"default_schema_id": "y", "schemas": [{"id": "x", "url": "base64://e30="}]}}),
            "services.identity.config.identity.default_schema_id",
        ),
        ("oauth2", json!({"strategies": {"access_token": "magic"}}), "services.oauth2.config.strategies.access_token"),
        ("oauth2", json!({"urls": {"login": "ftp://x"}}), "services.oauth2.config.urls.login"),
        (
            "permission",
            json!({"namespaces": {"location": "https://evil.example/opl.ts"}}),
            "services.permission.config.namespaces.location",
        ),
        ("permission", json!({"limit": {"max_read_depth": 0}}), "services.permission.config.limit.max_read_depth"),
        (
            "permission",
            json!({"namespaces": [{"name": "a"}, {"name": "a"}]}),
            "services.permission.config.namespaces.1.name",
        ),
    ];
    for (service, config, path) in cases {
        let err = render(&settings_with(service, config.clone())).unwrap_err();
        assert_eq!(err.path, path, "{config} gave {err}");
    }
}

#[test]
fn opl_location_decodes() {
    let src = "class User implements Namespace {}";
    let loc = format!("base64://{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, src));
    let r = render(&settings_with("permission", json!({"namespaces": {"location": loc}}))).unwrap();
    match r.config.permission.namespaces {
        permission::Namespaces::Opl(l) => {
            assert_eq!(permission::decode_opl(&l.location).unwrap(), src)
        }
        other => panic!("expected OPL, got {other:?}"),
    }
}

#[test]
fn names_and_cors_are_checked() {
    let mut s = default_settings("  ", &ctx());
    assert_eq!(render(&s).unwrap_err().path, "name");
    s.name = "ok".into();
    s.cors_public.origins = vec!["https://*.example.com".into(), "http://localhost:3000".into()];
    assert!(render(&s).is_ok());
    s.cors_public.origins.push("https://example.com/path".into());
    assert_eq!(render(&s).unwrap_err().path, "cors_public.origins.2");
}

#[test]
fn defaults_carry_no_nulls() {
    let s = default_settings("Demo", &ctx());
    let text = serde_json::to_string(&s).unwrap();
    assert!(!text.contains("null"), "{text}");
}

#[test]
fn compact_is_empty_for_defaults_and_expand_reverses_it() {
    let url = "https://demo-abc.projects.example.com";
    let base = baseline(url);
    assert_eq!(compact(&base, &base), json!({}));

    let mut s = default_settings("Demo", &ctx());
    s.services.identity.as_mut().unwrap().config.insert("session".into(), json!({"lifespan": "2h"}));
    let flows = json!({"registration": {"after": {"password": {"hooks": []}}}, "login": {"ui_url": "https://login.example.com/in"}});
    s.services.identity.as_mut().unwrap().config.insert("selfservice".into(), json!({"flows": flows}));
    s.services.oauth2.as_mut().unwrap().config.insert("strategies".into(), json!({"access_token": "jwt"}));
    let full = serde_json::to_value(render(&s).unwrap().config).unwrap();
    let small = compact(&full, &base);
    assert!(small.to_string().len() < 1200, "{small}");
    assert_eq!(small["oauth2"]["strategies"], json!({"access_token": "jwt"}));
    // Absent and null mean the same to the typed config, so equality is checked there.
    let typed: RenderedConfig = serde_json::from_value(expand(&small, &base)).unwrap();
    assert_eq!(typed, serde_json::from_value::<RenderedConfig>(full).unwrap());
    assert_eq!(typed.identity.session.lifespan, types::GoDuration::secs(7200));
    assert!(typed.identity.selfservice.flows.registration.after.password.unwrap().hooks.is_empty());
}

fn inline_schema(schema: &Value) -> String {
    let text = serde_json::to_string(schema).unwrap();
    format!("base64://{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text))
}

#[test]
fn default_schema_compiles_and_extracts_identifiers() {
    let schema =
        tessera_identity_schema::IdentitySchema::compile(identity::DEFAULT_SCHEMA_ID, &identity::default_schema())
            .expect("the default schema compiles");
    let got = schema.validate_traits(&json!({"email": "A@b.co"})).unwrap();
    let expected: Vec<String> = vec!["a@b.co".into()];
    assert_eq!(got.identifiers.get("password"), Some(&expected));
    assert_eq!(got.identifiers.get("code"), Some(&expected));
    assert_eq!(got.identifiers.get("webauthn"), Some(&expected));
    assert_eq!(got.verifiable_addresses.len(), 1);
    assert_eq!(got.verifiable_addresses[0].value, "a@b.co");
    assert_eq!(got.recovery_addresses[0].via, "email");
    // The default configuration carries that same schema, inline.
    let config = identity::IdentityConfig::default();
    assert_eq!(config.identity.schemas[0].id, identity::DEFAULT_SCHEMA_ID);
    assert_eq!(identity::decode_inline_schema(&config.identity.schemas[0].url).unwrap(), identity::default_schema());
    assert_eq!(identity::validate(&config), Ok(()));
}

#[test]
fn bad_identity_schemas_are_refused_at_write_time() {
    let traits = |email: Value| json!({"properties": {"traits": {"type": "object", "properties": {"email": email}}}});
    let cases = [
        (
            "remote $ref",
            traits(json!({"$ref": "https://evil.example/s.json"})),
            "reference `https://evil.example/s.json`",
        ),
        ("file $ref", traits(json!({"$ref": "file:///etc/passwd"})), "#/properties/traits/properties/email/$ref"),
        ("invalid JSON Schema", traits(json!({"type": "string", "minLength": "3"})), "invalid JSON Schema"),
        ("no traits", json!({"type": "object", "properties": {"email": {"type": "string"}}}), "#/properties/traits"),
        ("not an object", json!(["x"]), "must be a JSON object"),
    ];
    for (name, schema, text) in cases {
        let config = json!({"identity": {"default_schema_id": "x", "schemas": [
            {"id": "ok", "url": inline_schema(&identity::default_schema())},
            {"id": "x", "url": inline_schema(&schema)}]}});
        let err = render(&settings_with("identity", config)).unwrap_err();
        assert_eq!(err.path, "services.identity.config.identity.schemas.1.url", "{name}: {}", err.message);
        assert!(err.message.contains(text), "{name}: `{}` lacks `{text}`", err.message);
    }
    let local = json!({"definitions": {"e": {"type": "string", "format": "email"}},
                       "properties": {"traits": {"type": "object", "properties": {"email": {"$ref": "#/definitions/e"}}}}});
    let ok = json!({"identity": {"default_schema_id": "x", "schemas": [{"id": "x", "url": inline_schema(&local)}]}});
    assert!(render(&settings_with("identity", ok)).is_ok(), "a local $ref is fine");
}
