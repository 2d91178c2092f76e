//! The `ory.sh/kratos` schema extension: which traits are login identifiers, verifiable or recovery addresses,
//! TOTP account names and passkey display names, and how those facts are pulled out of an identity's traits.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::error::SchemaError;
use crate::pointer;
use crate::walk::{Segment, Visit};

/// The extension keyword, as Kratos spells it.
pub const EXTENSION_KEY: &str = "ory.sh/kratos";

/// Credential kinds that can mark a trait as a login identifier, in the order Kratos lists them.
const IDENTIFIER_KINDS: [&str; 3] = ["password", "webauthn", "code"];

/// One trait's extension settings, checked against Kratos' extension meta-schema (unknown keys are refused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExtensionConfig {
    /// Credential kinds this trait is an identifier for (`credentials.<kind>.identifier: true`).
    pub identifier_for: Vec<&'static str>,
    /// `credentials.passkey.display_name: true`.
    pub passkey_display_name: bool,
    /// `credentials.totp.account_name: true`.
    pub totp_account_name: bool,
    /// `verification.via`.
    pub verification_via: Option<&'static str>,
    /// `recovery.via`.
    pub recovery_via: Option<&'static str>,
}

/// Where a trait with extension settings lives, and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    pub path: Vec<Segment>,
    pub config: ExtensionConfig,
}

/// Checks every `ory.sh/kratos` object in the document (definitions included, since `$ref` can pull them in).
pub(crate) fn check_all(node: &Value, path: &mut Vec<String>) -> Result<(), SchemaError> {
    match node {
        Value::Object(m) => {
            for (key, value) in m {
                path.push(key.clone());
                if key == EXTENSION_KEY {
                    parse(value, path)?;
                } else {
                    check_all(value, path)?;
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, value) in a.iter().enumerate() {
                path.push(i.to_string());
                check_all(value, path)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Kratos' identity meta-schema: a top-level trait with `verification` may only use a `format` Kratos can verify
/// (or `no-validate`).
pub(crate) fn check_verification_formats(raw: &Value) -> Result<(), SchemaError> {
    const FORMATS: [&str; 6] = ["email", "tel", "date", "time", "date-time", "no-validate"];
    let Some(Value::Object(traits)) = raw.pointer("/properties/traits/properties") else { return Ok(()) };
    for (name, schema) in traits {
        let has_verification = schema.get(EXTENSION_KEY).and_then(|e| e.get("verification")).is_some();
        let format = schema.get("format");
        if has_verification && format.is_some_and(|f| !f.as_str().is_some_and(|f| FORMATS.contains(&f))) {
            let path = ["properties", "traits", "properties", name, "format"];
            return Err(ext_err(
                &path.map(str::to_owned),
                "a trait with `verification` must use format email, tel, date, time, date-time or no-validate",
            ));
        }
    }
    Ok(())
}

/// Parses one extension value strictly; `path` points at it.
pub(crate) fn parse(value: &Value, path: &[String]) -> Result<ExtensionConfig, SchemaError> {
    let mut config = ExtensionConfig::default();
    let root = object(value, path, &["credentials", "verification", "recovery", "organizations"])?;
    let at = |key: &str| [path, &[key.to_owned()]].concat();
    if let Some(credentials) = root.get("credentials") {
        let cpath = at("credentials");
        let kinds = object(credentials, &cpath, &["password", "webauthn", "passkey", "totp", "code"])?;
        let sub = |kind: &str| [cpath.as_slice(), &[kind.to_owned()]].concat();
        for kind in IDENTIFIER_KINDS {
            let Some(settings) = kinds.get(kind) else { continue };
            let allowed: &[&str] = if kind == "code" { &["identifier", "via"] } else { &["identifier"] };
            let settings = object(settings, &sub(kind), allowed)?;
            if boolean(settings, "identifier", &sub(kind))? {
                config.identifier_for.push(kind);
            }
            if kind == "code" {
                via(settings, &sub(kind))?;
            }
        }
        if let Some(settings) = kinds.get("passkey") {
            let settings = object(settings, &sub("passkey"), &["display_name"])?;
            config.passkey_display_name = boolean(settings, "display_name", &sub("passkey"))?;
        }
        if let Some(settings) = kinds.get("totp") {
            let settings = object(settings, &sub("totp"), &["account_name"])?;
            config.totp_account_name = boolean(settings, "account_name", &sub("totp"))?;
        }
    }
    if let Some(v) = root.get("verification") {
        config.verification_via = via(object(v, &at("verification"), &["via"])?, &at("verification"))?;
    }
    if let Some(v) = root.get("recovery") {
        config.recovery_via = via(object(v, &at("recovery"), &["via"])?, &at("recovery"))?;
    }
    if let Some(v) = root.get("organizations") {
        let opath = at("organizations");
        let o = object(v, &opath, &["matcher"])?;
        if let Some(m) = o.get("matcher")
            && m != "email_domain"
        {
            return Err(ext_err(&[opath.as_slice(), &["matcher".to_owned()]].concat(), "must be \"email_domain\""));
        }
    }
    Ok(config)
}

fn ext_err(path: &[String], message: &str) -> SchemaError {
    SchemaError::Extension { path: pointer::render(path), message: message.to_owned() }
}

fn object<'a>(value: &'a Value, path: &[String], allowed: &[&str]) -> Result<&'a Map<String, Value>, SchemaError> {
    let Value::Object(m) = value else { return Err(ext_err(path, "must be an object")) };
    if let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let path = [path, std::slice::from_ref(unknown)].concat();
        return Err(ext_err(&path, &format!("unknown key; expected one of {expected}")));
    }
    Ok(m)
}

fn boolean(m: &Map<String, Value>, key: &str, path: &[String]) -> Result<bool, SchemaError> {
    match m.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ext_err(&[path, &[key.to_owned()]].concat(), "must be a boolean")),
    }
}

fn via(m: &Map<String, Value>, path: &[String]) -> Result<Option<&'static str>, SchemaError> {
    match m.get("via").map(|v| v.as_str()) {
        None => Ok(None),
        Some(Some("email")) => Ok(Some("email")),
        Some(Some("sms")) => Ok(Some("sms")),
        Some(_) => Err(ext_err(&[path, &["via".to_owned()]].concat(), "must be \"email\" or \"sms\"")),
    }
}

/// Collects the extension sites among the walked trait sub-schemas, in schema order.
pub(crate) fn sites(visits: &[Visit<'_>]) -> Vec<Site> {
    visits
        .iter()
        .filter_map(|v| {
            let ext = v.node.get(EXTENSION_KEY)?;
            // Already validated by `check_all`; a failure here cannot happen, so skipping is safe.
            let config = parse(ext, &[]).ok()?;
            Some(Site { path: v.path.clone(), config })
        })
        .collect()
}

/// A verifiable or recovery address derived from a trait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// The address, trimmed and lower-cased (Kratos lower-cases addresses on every write).
    pub value: String,
    /// The channel: `"email"` or `"sms"`.
    pub via: String,
}

/// Facts pulled from an identity's traits via the `ory.sh/kratos` extension; the identity engine stores these as
/// credential identifiers and addresses on every write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// Credential kind (`password`, `webauthn`, `code`) -> identifiers: trimmed, NFKC, lower-cased, deduplicated,
    /// in schema order. Kinds with no identifier value are absent.
    pub identifiers: BTreeMap<String, Vec<String>>,
    /// Addresses from traits with `verification.via`, deduplicated, in schema order.
    pub verifiable_addresses: Vec<Address>,
    /// Addresses from traits with `recovery.via`, deduplicated, in schema order.
    pub recovery_addresses: Vec<Address>,
    /// The first trait marked `credentials.totp.account_name` (trimmed, case kept): the account label shown in
    /// authenticator apps.
    pub totp_account_name: Option<String>,
    /// The first trait marked `credentials.passkey.display_name` (trimmed, case kept): the name passkeys show.
    pub passkey_display_name: Option<String>,
}

/// Normalises a login identifier the way Kratos does for password/code/webauthn: trim, NFKC, lower-case.
pub fn normalize_identifier(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

/// Applies the extension sites to `traits` (already validated).
pub(crate) fn extract(sites: &[Site], traits: &Value) -> Extracted {
    let mut out = Extracted::default();
    for site in sites {
        let mut values = Vec::new();
        // Site paths start at the `traits` property itself; `traits` is the value there.
        collect_strings(traits, site.path.get(1..).unwrap_or_default(), &mut values);
        for raw in values {
            let c = &site.config;
            for kind in &c.identifier_for {
                let id = normalize_identifier(raw);
                if id.is_empty() {
                    continue;
                }
                let list = out.identifiers.entry((*kind).to_owned()).or_default();
                if !list.contains(&id) {
                    list.push(id);
                }
            }
            push_address(&mut out.verifiable_addresses, c.verification_via, raw);
            push_address(&mut out.recovery_addresses, c.recovery_via, raw);
            if c.totp_account_name && out.totp_account_name.is_none() && !raw.trim().is_empty() {
                out.totp_account_name = Some(raw.trim().to_owned());
            }
            if c.passkey_display_name && out.passkey_display_name.is_none() && !raw.trim().is_empty() {
                out.passkey_display_name = Some(raw.trim().to_owned());
            }
        }
    }
    out
}

fn push_address(list: &mut Vec<Address>, via: Option<&'static str>, raw: &str) {
    let Some(via) = via else { return };
    let value = raw.trim().to_lowercase();
    if value.is_empty() || list.iter().any(|a| a.value == value && a.via == via) {
        return;
    }
    list.push(Address { value, via: via.to_owned() });
}

/// Follows `path` through `value`; `Items` fans out over array elements. A terminal array of strings counts
/// each string (an extension placed on the array schema itself).
fn collect_strings<'a>(value: &'a Value, path: &[Segment], out: &mut Vec<&'a str>) {
    match path.split_first() {
        None => match value {
            Value::String(s) => out.push(s),
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str)),
            _ => {}
        },
        Some((Segment::Key(k), rest)) => {
            if let Some(v) = value.get(k) {
                collect_strings(v, rest, out);
            }
        }
        Some((Segment::Items, rest)) => {
            if let Value::Array(a) = value {
                for v in a {
                    collect_strings(v, rest, out);
                }
            }
        }
    }
}
