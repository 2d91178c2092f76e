//! OAuth2 clients: the registration body Hydra accepts, its validation, and the JSON Hydra answers with.
//!
//! A client is kept as one typed document plus its secret's keyed digest (see `crate::token`). The body is
//! decoded leniently, as Hydra's Go decoder does (unknown keys ignored, `null` as absent), then validated with
//! Hydra's rules; a refused body writes nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_project_config::types::GoDuration;
use time::OffsetDateTime;
use url::Url;

use crate::error::OAuth2Error;

/// Grant types a client may be registered for.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// Client authentication methods at the token endpoint.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

/// The per-grant lifespan fields, in Hydra's order.
pub const LIFESPANS: &[&str] = &[
    "authorization_code_grant_access_token_lifespan",
    "authorization_code_grant_id_token_lifespan",
    "authorization_code_grant_refresh_token_lifespan",
    "client_credentials_grant_access_token_lifespan",
    "implicit_grant_access_token_lifespan",
    "implicit_grant_id_token_lifespan",
    "jwt_bearer_grant_access_token_lifespan",
    "refresh_token_grant_id_token_lifespan",
    "refresh_token_grant_access_token_lifespan",
    "refresh_token_grant_refresh_token_lifespan",
    "device_authorization_grant_id_token_lifespan",
    "device_authorization_grant_access_token_lifespan",
    "device_authorization_grant_refresh_token_lifespan",
];

/// Bounds that keep one client document small.
const MAX_LIST: usize = 100;
const MAX_TEXT: usize = 2048;
const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A registered client as stored (the secret only as a digest, elsewhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub scope: String,
    pub audience: Vec<String>,
    pub owner: String,
    pub policy_uri: String,
    pub allowed_cors_origins: Vec<String>,
    pub tos_uri: String,
    pub client_uri: String,
    pub logo_uri: String,
    pub contacts: Vec<String>,
    pub subject_type: String,
    pub jwks: Value,
    pub jwks_uri: String,
    pub token_endpoint_auth_method: String,
    pub token_endpoint_auth_signing_alg: String,
    pub request_uris: Vec<String>,
    pub request_object_signing_alg: String,
    pub userinfo_signed_response_alg: String,
    pub frontchannel_logout_uri: String,
    pub frontchannel_logout_session_required: bool,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: String,
    pub backchannel_logout_session_required: bool,
    pub metadata: Value,
    pub access_token_strategy: String,
    pub skip_consent: bool,
    pub skip_logout_consent: Option<bool>,
    /// Lifespan overrides by field name (only those set), as Go durations.
    pub lifespans: Map<String, Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Client {
    /// Whether the client authenticates without a secret.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == "none"
    }

    /// Whether the client may use `grant`. A client registered without grant types may use the authorization
    /// code grant only, as in Hydra.
    pub fn allows_grant(&self, grant: &str) -> bool {
        if self.grant_types.is_empty() {
            grant == "authorization_code"
        } else {
            self.grant_types.iter().any(|g| g == grant)
        }
    }

    /// Whether the client may ask `/oauth2/auth` for `response_type` (`code` when none are registered).
    pub fn allows_response_type(&self, response_type: &str) -> bool {
        if self.response_types.is_empty() {
            response_type == "code"
        } else {
            self.response_types.iter().any(|r| r == response_type)
        }
    }

    /// The scopes it may be granted.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// The client's lifespan override for `field`, if set.
    pub fn lifespan(&self, field: &str) -> Option<std::time::Duration> {
        self.lifespans.get(field).and_then(Value::as_str).and_then(|s| GoDuration::parse(s).ok()).map(|d| d.0)
    }

    /// Hydra's JSON for the client; `secret` only in the answer that created or rotated it.
    pub fn to_json(&self, secret: Option<&str>) -> Value {
        let mut o = Map::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_owned(), v);
        };
        put("client_id", Value::from(self.client_id.clone()));
        put("client_name", Value::from(self.client_name.clone()));
        if let Some(secret) = secret {
            put("client_secret", Value::from(secret));
        }
        put("redirect_uris", strings(&self.redirect_uris));
        put("grant_types", strings(&self.grant_types));
        put("response_types", strings(&self.response_types));
        put("scope", Value::from(self.scope.clone()));
        put("audience", strings(&self.audience));
        put("owner", Value::from(self.owner.clone()));
        put("policy_uri", Value::from(self.policy_uri.clone()));
        put("allowed_cors_origins", strings(&self.allowed_cors_origins));
        put("tos_uri", Value::from(self.tos_uri.clone()));
        put("client_uri", Value::from(self.client_uri.clone()));
        put("logo_uri", Value::from(self.logo_uri.clone()));
        put("contacts", strings(&self.contacts));
        put("client_secret_expires_at", Value::from(0));
        put("subject_type", Value::from(self.subject_type.clone()));
        put("jwks", self.jwks.clone());
        let optional = [
            ("jwks_uri", &self.jwks_uri),
            ("token_endpoint_auth_signing_alg", &self.token_endpoint_auth_signing_alg),
            ("request_object_signing_alg", &self.request_object_signing_alg),
            ("frontchannel_logout_uri", &self.frontchannel_logout_uri),
            ("backchannel_logout_uri", &self.backchannel_logout_uri),
            ("access_token_strategy", &self.access_token_strategy),
        ];
        for (k, v) in optional {
            if !v.is_empty() {
                put(k, Value::from(v.clone()));
            }
        }
        put("token_endpoint_auth_method", Value::from(self.token_endpoint_auth_method.clone()));
        if !self.request_uris.is_empty() {
            put("request_uris", strings(&self.request_uris));
        }
        put("userinfo_signed_response_alg", Value::from(self.userinfo_signed_response_alg.clone()));
        put("created_at", Value::from(rfc3339(self.created_at)));
        put("updated_at", Value::from(rfc3339(self.updated_at)));
        if self.frontchannel_logout_session_required {
            put("frontchannel_logout_session_required", Value::Bool(true));
        }
        if !self.post_logout_redirect_uris.is_empty() {
            put("post_logout_redirect_uris", strings(&self.post_logout_redirect_uris));
        }
        if self.backchannel_logout_session_required {
            put("backchannel_logout_session_required", Value::Bool(true));
        }
        put("metadata", self.metadata.clone());
        put("skip_consent", Value::Bool(self.skip_consent));
        put("skip_logout_consent", self.skip_logout_consent.map_or(Value::Null, Value::Bool));
        for field in LIFESPANS {
            put(field, self.lifespans.get(*field).cloned().unwrap_or(Value::Null));
        }
        Value::Object(o)
    }
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().cloned().map(Value::from).collect())
}

/// RFC 3339 with a `Z`, as Go prints UTC times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The registration body: every field optional, `null` as absent, unknown keys ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClientBody {
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub scope: Option<String>,
    pub audience: Option<Vec<String>>,
    pub owner: Option<String>,
    pub policy_uri: Option<String>,
    pub allowed_cors_origins: Option<Vec<String>>,
    pub tos_uri: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub subject_type: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub request_uris: Option<Vec<String>>,
    pub request_object_signing_alg: Option<String>,
    pub userinfo_signed_response_alg: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub frontchannel_logout_session_required: Option<bool>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    pub metadata: Option<Value>,
    pub access_token_strategy: Option<String>,
    pub skip_consent: Option<bool>,
    pub skip_logout_consent: Option<bool>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// What the project allows a client to be (from its configuration).
#[derive(Debug, Clone)]
pub struct Rules {
    pub subject_types: Vec<String>,
}

/// A validated client and the plaintext secret it was given (if any).
#[derive(Debug)]
pub struct Validated {
    pub client: Client,
    pub secret: Option<String>,
}

fn meta(hint: impl Into<String>) -> OAuth2Error {
    OAuth2Error::InvalidClientMetadata(hint.into())
}

fn text(field: &str, v: Option<String>) -> Result<String, OAuth2Error> {
    let v = v.unwrap_or_default();
    if v.len() > MAX_TEXT {
        return Err(meta(format!("Field {field} is longer than {MAX_TEXT} bytes.")));
    }
    Ok(v)
}

fn list(field: &str, v: Option<Vec<String>>) -> Result<Vec<String>, OAuth2Error> {
    let v = v.unwrap_or_default();
    if v.len() > MAX_LIST {
        return Err(meta(format!("Field {field} has more than {MAX_LIST} entries.")));
    }
    if v.iter().any(|s| s.len() > MAX_TEXT) {
        return Err(meta(format!("An entry of {field} is longer than {MAX_TEXT} bytes.")));
    }
    Ok(v)
}

fn http_uri(field: &str, uri: &str) -> Result<(), OAuth2Error> {
    if uri.is_empty() {
        return Ok(());
    }
    let url = Url::parse(uri).map_err(|_| meta(format!("Field {field} must be a valid URI.")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(meta(format!("{uri} must use https:// or http:// as HTTP scheme for field {field}.")));
    }
    Ok(())
}

/// Validates a registration body with Hydra's rules and fills Hydra's defaults. `id` is the client id to use
/// (from the body on create, from the path on replace); `now` stamps it.
pub fn validate(
    body: ClientBody,
    id: String,
    rules: &Rules,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Validated, OAuth2Error> {
    if id.is_empty() || id.len() > 255 || id.chars().any(|c| c.is_control()) {
        return Err(meta("Field client_id must be 1 to 255 printable characters."));
    }
    let method =
        body.token_endpoint_auth_method.filter(|m| !m.is_empty()).unwrap_or_else(|| "client_secret_basic".into());
    if !AUTH_METHODS.contains(&method.as_str()) {
        return Err(meta(format!(
            "Field token_endpoint_auth_method must be one of {}, not `{method}`.",
            AUTH_METHODS.join(", ")
        )));
    }
    let jwks_uri = text("jwks_uri", body.jwks_uri)?;
    let jwks = match body.jwks {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(o)) => Value::Object(o),
        Some(_) => return Err(meta("Field jwks must be a JSON Web Key Set object.")),
    };
    let has_jwks = jwks.get("keys").and_then(Value::as_array).is_some_and(|k| !k.is_empty());
    if has_jwks && jwks.to_string().len() > MAX_METADATA_BYTES {
        return Err(meta("Field jwks is larger than 16 KiB."));
    }
    if let Some(keys) = jwks.get("keys") {
        let ok = keys.as_array().is_some_and(|keys| {
            keys.iter().all(|k| k.get("kty").and_then(Value::as_str).is_some_and(|t| matches!(t, "RSA" | "EC" | "OKP")))
        });
        if !ok {
            return Err(meta("Invalid JSON web key in set."));
        }
    }
    let signing_alg = text("token_endpoint_auth_signing_alg", body.token_endpoint_auth_signing_alg)?;
    if method == "private_key_jwt" {
        if jwks_uri.is_empty() && !has_jwks {
            return Err(meta(
                "When token_endpoint_auth_method is 'private_key_jwt', either jwks or jwks_uri must be set.",
            ));
        }
        if !signing_alg.is_empty() && !matches!(signing_alg.as_str(), "RS256" | "ES256" | "EdDSA") {
            return Err(meta(
                "Only RS256, ES256 and EdDSA are supported as algorithms for private key authentication.",
            ));
        }
    }
    if !jwks_uri.is_empty() && has_jwks {
        return Err(meta("Fields jwks and jwks_uri can not both be set, you must choose one."));
    }
    let (policy_uri, tos_uri, client_uri, logo_uri) = (
        text("policy_uri", body.policy_uri)?,
        text("tos_uri", body.tos_uri)?,
        text("client_uri", body.client_uri)?,
        text("logo_uri", body.logo_uri)?,
    );
    for (field, uri) in
        [("tos_uri", &tos_uri), ("policy_uri", &policy_uri), ("logo_uri", &logo_uri), ("client_uri", &client_uri)]
    {
        http_uri(field, uri)?;
    }
    let secret = body.client_secret.filter(|s| !s.is_empty());
    if let Some(s) = &secret
        && (s.len() < 6 || s.len() > 512)
    {
        return Err(meta("Field client_secret must contain a secret that is at least 6 characters long."));
    }
    let mut origins = list("allowed_cors_origins", body.allowed_cors_origins)?;
    for origin in &mut origins {
        let url = Url::parse(origin)
            .map_err(|e| meta(format!("Origin URL {origin} from allowed_cors_origins could not be parsed: {e}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(meta(format!("Origin URL {origin} must use https:// or http:// as HTTP scheme.")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(meta(format!("Origin URL {origin} has HTTP user and/or password set which is not allowed.")));
        }
        if !url.path().trim_end_matches('/').is_empty() || url.query().is_some() || url.fragment().is_some() {
            return Err(meta(format!(
                "Origin URL {origin} must have an empty path, query, and fragment but one of the parts is not empty."
            )));
        }
        *origin = url.origin().ascii_serialization();
    }
    let userinfo_alg = body.userinfo_signed_response_alg.filter(|a| !a.is_empty()).unwrap_or_else(|| "none".into());
    if userinfo_alg != "none" && userinfo_alg != "RS256" {
        return Err(meta("Field userinfo_signed_response_alg can either be 'none' or 'RS256'."));
    }
    let redirect_uris = list("redirect_uris", body.redirect_uris)?;
    let mut parsed_redirects = Vec::with_capacity(redirect_uris.len());
    for r in &redirect_uris {
        if r.contains('#') {
            return Err(OAuth2Error::InvalidRedirectUri("Redirect URIs must not contain fragments (#).".into()));
        }
        let url =
            Url::parse(r).map_err(|_| OAuth2Error::InvalidRedirectUri(format!("Unable to parse redirect URL: {r}")))?;
        parsed_redirects.push(url);
    }
    let subject_type = match body.subject_type.filter(|s| !s.is_empty()) {
        Some(t) if rules.subject_types.contains(&t) => t,
        Some(t) => {
            return Err(meta(format!(
                "Subject type {t} is not supported by server, only [{}] are allowed.",
                rules.subject_types.join(" ")
            )));
        }
        None if rules.subject_types.iter().any(|t| t == "public") => "public".into(),
        None => rules.subject_types.first().cloned().unwrap_or_else(|| "public".into()),
    };
    let post_logout = list("post_logout_redirect_uris", body.post_logout_redirect_uris)?;
    for l in &post_logout {
        let u = Url::parse(l).map_err(|_| meta(format!("Unable to parse post_logout_redirect_uri: {l}")))?;
        let same_origin = parsed_redirects.iter().any(|r| {
            r.scheme() == u.scheme()
                && r.host_str() == u.host_str()
                && r.port_or_known_default() == u.port_or_known_default()
        });
        if !same_origin {
            return Err(meta(format!(
                "post_logout_redirect_uri \"{l}\" must match the domain, port, scheme of at least one of the registered redirect URIs but did not"
            )));
        }
    }
    let strategy = body.access_token_strategy.unwrap_or_default();
    if !matches!(strategy.as_str(), "" | "opaque" | "jwt") {
        return Err(meta(format!(
            "invalid access token strategy: unknown strategy `{strategy}`, use `opaque` or `jwt`"
        )));
    }
    let grant_types = list("grant_types", body.grant_types)?;
    if let Some(g) = grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(meta(format!("Grant type `{g}` is not supported.")));
    }
    let response_types = list("response_types", body.response_types)?;
    let metadata = match body.metadata {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) if v.to_string().len() > MAX_METADATA_BYTES => {
            return Err(meta("Field metadata is larger than 16 KiB."));
        }
        Some(v) => v,
    };
    let scope = text("scope", body.scope)?;
    let scope = if scope.trim().is_empty() { "offline_access offline openid".to_owned() } else { scope };
    let mut lifespans = Map::new();
    for field in LIFESPANS {
        match body.rest.get(*field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => {
                let d = GoDuration::parse(s).map_err(|e| meta(format!("Field {field} is not a duration: {e}")))?;
                lifespans.insert((*field).to_owned(), Value::from(d.to_string()));
            }
            Some(_) => return Err(meta(format!("Field {field} must be a duration such as \"1h\"."))),
        }
    }
    let client = Client {
        client_id: id,
        client_name: text("client_name", body.client_name)?,
        redirect_uris,
        grant_types,
        response_types,
        scope,
        audience: list("audience", body.audience)?,
        owner: text("owner", body.owner)?,
        policy_uri,
        allowed_cors_origins: origins,
        tos_uri,
        client_uri,
        logo_uri,
        contacts: list("contacts", body.contacts)?,
        subject_type,
        jwks,
        jwks_uri,
        token_endpoint_auth_method: method,
        token_endpoint_auth_signing_alg: signing_alg,
        request_uris: list("request_uris", body.request_uris)?,
        request_object_signing_alg: text("request_object_signing_alg", body.request_object_signing_alg)?,
        userinfo_signed_response_alg: userinfo_alg,
        frontchannel_logout_uri: text("frontchannel_logout_uri", body.frontchannel_logout_uri)?,
        frontchannel_logout_session_required: body.frontchannel_logout_session_required.unwrap_or(false),
        post_logout_redirect_uris: post_logout,
        backchannel_logout_uri: text("backchannel_logout_uri", body.backchannel_logout_uri)?,
        backchannel_logout_session_required: body.backchannel_logout_session_required.unwrap_or(false),
        metadata,
        access_token_strategy: strategy,
        skip_consent: body.skip_consent.unwrap_or(false),
        skip_logout_consent: body.skip_logout_consent,
        lifespans,
        created_at,
        updated_at: now,
    };
    Ok(Validated { client, secret })
}

/// Applies a lifespans body (`PUT /admin/clients/{id}/lifespans`): every lifespan field replaced, absent ones
/// cleared, as Hydra does.
pub fn set_lifespans(client: &mut Client, body: &Map<String, Value>) -> Result<(), OAuth2Error> {
    let mut lifespans = Map::new();
    for field in LIFESPANS {
        match body.get(*field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => {
                let d = GoDuration::parse(s).map_err(|e| OAuth2Error::BadRequest(format!("Field {field}: {e}")))?;
                lifespans.insert((*field).to_owned(), Value::from(d.to_string()));
            }
            Some(_) => {
                return Err(OAuth2Error::BadRequest(format!("Field {field} must be a duration such as \"1h\".")));
            }
        }
    }
    client.lifespans = lifespans;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Rules {
        Rules { subject_types: vec!["public".into()] }
    }

    fn check(body: Value) -> Result<Validated, OAuth2Error> {
        let body: ClientBody = serde_json::from_value(body).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        validate(body, "c1".into(), &rules(), now, now)
    }

    #[test]
    fn defaults_follow_hydra() {
        let v = check(json!({"redirect_uris": ["http://localhost:3000/cb"]})).unwrap();
        let j = v.client.to_json(None);
        assert_eq!(j["scope"], "offline_access offline openid");
        assert_eq!(j["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(j["subject_type"], "public");
        assert_eq!(j["userinfo_signed_response_alg"], "none");
        assert_eq!(j["jwks"], json!({}));
        assert_eq!(j["metadata"], json!({}));
        assert_eq!(j["grant_types"], json!([]));
        assert_eq!(j["skip_logout_consent"], Value::Null);
        assert_eq!(j["client_credentials_grant_access_token_lifespan"], Value::Null);
        assert!(j.get("client_secret").is_none());
        assert!(j.get("jwks_uri").is_none());
    }

    #[test]
    fn hydra_rules_refuse_bad_metadata() {
        let cases = [
            (json!({"client_secret": "short"}), "at least 6 characters"),
            (json!({"token_endpoint_auth_method": "private_key_jwt"}), "either jwks or jwks_uri"),
            (json!({"redirect_uris": ["http://a/cb#frag"]}), "fragments"),
            (json!({"redirect_uris": ["not a url"]}), "Unable to parse redirect URL"),
            (json!({"allowed_cors_origins": ["https://a.example/path"]}), "empty path"),
            (json!({"allowed_cors_origins": ["ftp://a.example"]}), "HTTP scheme"),
            (json!({"userinfo_signed_response_alg": "HS256"}), "can either be 'none' or 'RS256'"),
            (json!({"subject_type": "pairwise"}), "not supported"),
            (json!({"logo_uri": "javascript:alert(1)"}), "HTTP scheme"),
            (json!({"access_token_strategy": "magic"}), "invalid access token strategy"),
            (json!({"grant_types": ["password"]}), "not supported"),
            (json!({"token_endpoint_auth_method": "tls_client_auth"}), "must be one of"),
            (
                json!({"post_logout_redirect_uris": ["https://other.example/bye"], "redirect_uris": ["https://a.example/cb"]}),
                "must match the domain",
            ),
            (json!({"client_credentials_grant_access_token_lifespan": "forever"}), "not a duration"),
        ];
        for (body, expected) in cases {
            let err = check(body.clone()).expect_err(&body.to_string());
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn lifespans_are_normalised_go_durations() {
        let v = check(json!({"client_credentials_grant_access_token_lifespan": "90m"})).unwrap();
        assert_eq!(v.client.to_json(None)["client_credentials_grant_access_token_lifespan"], "1h30m");
        assert_eq!(
            v.client.lifespan("client_credentials_grant_access_token_lifespan"),
            Some(std::time::Duration::from_secs(5400))
        );
    }
}
