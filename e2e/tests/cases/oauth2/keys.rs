//! `/admin/keys`, `/.well-known/jwks.json`, JWT access tokens (verified with an independent JWT library against
//! the published keys) and `private_key_jwt` client authentication with the attacks on it.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_jwk::{Algorithm, KeyPair, KeyUse};
use tessera_platform::db::testing::backends;

use super::super::api::{Answer, expect};
use super::super::identity::{Client, Project, patch_config, project, stack};
use super::{basic, create_client, expect_oauth_error, form, m2m_client};

const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn kids(keys: &Value) -> Vec<String> {
    keys["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

async fn jwks(c: &mut Client, base: &str) -> Value {
    let answer = c.get_json(&format!("{base}/.well-known/jwks.json"), &[]).await;
    let body = expect(&answer, 200).clone();
    for key in body["keys"].as_array().unwrap() {
        for m in PRIVATE_MEMBERS {
            assert!(key.get(m).is_none(), "jwks.json leaks `{m}`: {key}");
        }
    }
    body
}

async fn keys_call(c: &mut Client, p: &Project, method: Method, path: &str, body: Option<Value>) -> Answer {
    c.admin(method, &format!("{}/admin/keys/{path}", p.base), &p.key, body).await
}

fn private_jwk(alg: Algorithm, kid: &str) -> Value {
    KeyPair::generate(alg, Some(kid.into()), KeyUse::Sig).unwrap().private_jwk().unwrap()
}

#[tokio::test]
async fn key_sets_are_created_read_replaced_and_deleted_per_project() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let other = project(&stack, "eu-central").await;
        let mut c = Client::new();

        let created =
            keys_call(&mut c, &p, Method::POST, "my-set", Some(json!({"alg": "ES256", "kid": "k1", "use": "sig"})))
                .await;
        let body = expect(&created, 201);
        let key = &body["keys"][0];
        assert_eq!(
            (key["kid"].as_str(), key["alg"].as_str(), key["kty"].as_str()),
            (Some("k1"), Some("ES256"), Some("EC"))
        );
        assert_eq!(key["use"], "sig");
        assert!(key["d"].is_string(), "the admin API shows the private key: {key}");
        assert_eq!(created.headers["location"], format!("/p/{}/admin/keys/my-set", p.slug).as_str());
        let taken =
            keys_call(&mut c, &p, Method::POST, "my-set", Some(json!({"alg": "ES256", "kid": "k1", "use": "sig"})))
                .await;
        assert_eq!(taken.status, 409, "{}", taken.body);
        let rsa =
            keys_call(&mut c, &p, Method::POST, "my-set", Some(json!({"alg": "RS256", "kid": "", "use": "sig"}))).await;
        let rsa = expect(&rsa, 201)["keys"][0].clone();
        let rsa_kid = rsa["kid"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&rsa_kid).is_ok(), "a generated kid is a UUID: {rsa_kid}");
        assert!(PRIVATE_MEMBERS.iter().all(|m| rsa[m].is_string()), "{rsa}");
        for bad in [
            json!({"alg": "HS256", "kid": "h", "use": "sig"}),
            json!({"alg": "none"}),
            json!({"kid": "x"}),
            json!({"alg": "ES512"}),
            json!({"alg": "ES256", "use": "wrap"}),
        ] {
            let refused = keys_call(&mut c, &p, Method::POST, "my-set", Some(bad.clone())).await;
            assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
            assert!(
                refused.body["error"].is_string() && refused.body["error_description"].is_string(),
                "{}",
                refused.body
            );
        }

        let set = keys_call(&mut c, &p, Method::GET, "my-set", None).await;
        assert_eq!(kids(expect(&set, 200)), vec![rsa_kid.clone(), "k1".into()], "newest first");
        let one = keys_call(&mut c, &p, Method::GET, "my-set/k1", None).await;
        assert_eq!(expect(&one, 200)["keys"][0]["x"], key["x"]);
        for missing in ["my-set/nope", "no-such-set", "no-such-set/k1"] {
            assert_eq!(keys_call(&mut c, &p, Method::GET, missing, None).await.status, 404, "{missing}");
        }

        // Import one key: the body's kid must be the path's, and the key must be private.
        let imported = private_jwk(Algorithm::EdDSA, "k2");
        let mismatch = keys_call(&mut c, &p, Method::PUT, "my-set/k3", Some(imported.clone())).await;
        assert_eq!(mismatch.status, 400, "{}", mismatch.body);
        let put = keys_call(&mut c, &p, Method::PUT, "my-set/k2", Some(imported.clone())).await;
        assert_eq!(expect(&put, 200)["x"], imported["x"]);
        let mut public = imported.clone();
        public.as_object_mut().unwrap().remove("d");
        assert_eq!(keys_call(&mut c, &p, Method::PUT, "my-set/k2", Some(public.clone())).await.status, 400);
        let set = keys_call(&mut c, &p, Method::GET, "my-set", None).await;
        assert_eq!(kids(expect(&set, 200)), vec!["k2".to_owned(), rsa_kid, "k1".into()]);

        // Replace the whole set; refused bodies leave it alone.
        let (a, b) = (private_jwk(Algorithm::ES256, "a"), private_jwk(Algorithm::RS256, "b"));
        for bad in [
            json!({"keys": [a.clone(), public]}),
            json!({"keys": [a.clone(), a.clone()]}),
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}]}),
        ] {
            assert_eq!(keys_call(&mut c, &p, Method::PUT, "my-set", Some(bad)).await.status, 400);
        }
        let replaced = keys_call(&mut c, &p, Method::PUT, "my-set", Some(json!({"keys": [a, b]}))).await;
        assert_eq!(kids(expect(&replaced, 200)), vec!["a", "b"]);
        let set = keys_call(&mut c, &p, Method::GET, "my-set", None).await;
        let mut listed = kids(expect(&set, 200));
        listed.sort();
        assert_eq!(listed, vec!["a", "b"], "exactly the keys of the body");

        // Another project sees nothing, and its key does not open this project's keys.
        assert_eq!(keys_call(&mut c, &other, Method::GET, "my-set", None).await.status, 404);
        let foreign = c.admin(Method::GET, &format!("{}/admin/keys/my-set", p.base), &other.key, None).await;
        assert_eq!(foreign.status, 401);
        let anonymous = c.get_json(&format!("{}/admin/keys/my-set", p.base), &[]).await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(keys_call(&mut c, &other, Method::DELETE, "my-set", None).await.status, 404);

        assert_eq!(keys_call(&mut c, &p, Method::DELETE, "my-set/a", None).await.status, 204);
        assert_eq!(keys_call(&mut c, &p, Method::DELETE, "my-set/a", None).await.status, 404);
        let set = keys_call(&mut c, &p, Method::GET, "my-set", None).await;
        assert_eq!(kids(expect(&set, 200)), vec!["b"]);
        assert_eq!(keys_call(&mut c, &p, Method::DELETE, "my-set", None).await.status, 204);
        assert_eq!(keys_call(&mut c, &p, Method::DELETE, "my-set", None).await.status, 404);
        assert_eq!(keys_call(&mut c, &p, Method::GET, "my-set", None).await.status, 404);
        stack.stop().await;
    }
}

#[tokio::test]
async fn jwks_json_publishes_public_keys_through_rotation_and_deletion() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let other = project(&stack, "eu-central").await;
        let mut c = Client::new();
        assert_eq!(keys_call(&mut c, &p, Method::GET, "hydra.openid.id-token", None).await.status, 404);

        // The first call generates one key per published set; every worker of the region, racing or not,
        // ends up with the same keys.
        let second = stack.extra_worker("eu-central").await;
        let second_base = format!("{}/p/{}", second.url(), p.slug);
        let (here, there) = tokio::join!(async { jwks(&mut Client::new(), &p.base).await }, async {
            jwks(&mut Client::new(), &second_base).await
        });
        let first = jwks(&mut c, &p.base).await;
        assert_eq!(kids(&here), kids(&first));
        assert_eq!(kids(&there), kids(&first));
        let published = first["keys"].as_array().unwrap();
        assert_eq!(published.len(), 2, "{first}");
        assert_eq!((published[0]["alg"].as_str(), published[0]["use"].as_str()), (Some("RS256"), Some("sig")));
        assert_eq!(published[1]["alg"], "ES256");
        let id_set = keys_call(&mut c, &p, Method::GET, "hydra.openid.id-token", None).await;
        assert_eq!(kids(expect(&id_set, 200)), vec![published[0]["kid"].as_str().unwrap()]);
        let foreign = jwks(&mut c, &other.base).await;
        assert!(kids(&foreign).iter().all(|k| !kids(&first).contains(k)), "projects have their own keys");

        // Rotation: a new access-token key signs from now on; the old one stays published.
        let old_kid = published[1]["kid"].as_str().unwrap().to_owned();
        let new = keys_call(
            &mut c,
            &p,
            Method::POST,
            "hydra.jwt.access-token",
            Some(json!({"alg": "ES256", "kid": "rotated", "use": "sig"})),
        )
        .await;
        expect(&new, 201);
        let rotated = jwks(&mut c, &p.base).await;
        assert_eq!(kids(&rotated)[1..], ["rotated".to_owned(), old_kid.clone()]);
        patch_config(
            &stack,
            &p,
            json!([{"op": "replace", "path": "/services/oauth2/config/strategies", "value": {"access_token": "jwt"}}]),
        )
        .await;
        let (id, secret) = m2m_client(&mut c, &p, json!({})).await;
        let token = client_credentials(&mut c, &p.base, &id, &secret).await;
        assert_eq!(jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(), Some("rotated"));

        // A deleted key disappears.
        assert_eq!(
            keys_call(&mut c, &p, Method::DELETE, &format!("hydra.jwt.access-token/{old_kid}"), None).await.status,
            204
        );
        let after = jwks(&mut c, &p.base).await;
        assert!(!kids(&after).contains(&old_kid), "{after}");
        assert!(kids(&after).contains(&"rotated".to_owned()));
        second.stop().await;
        stack.stop().await;
    }
}

/// A client-credentials token (scope `read`, audience `https://api.example.com`).
async fn client_credentials(c: &mut Client, base: &str, id: &str, secret: &str) -> String {
    let t = form(
        c,
        &format!("{base}/oauth2/token"),
        &[("grant_type", "client_credentials"), ("scope", "read"), ("audience", "https://api.example.com")],
        &[("authorization", &basic(id, secret))],
    )
    .await;
    expect(&t, 200)["access_token"].as_str().unwrap().to_owned()
}

/// Verifies a JWT access token with `jsonwebtoken` against the project's jwks.json; its claims.
async fn verify(c: &mut Client, p: &Project, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let published = jwks(c, &p.base).await;
    let jwk = published["keys"].as_array().unwrap().iter().find(|k| k["kid"].as_str() == header.kid.as_deref());
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk.expect("the signing key is published").clone()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["https://api.example.com"]);
    validation.set_issuer(&[&p.base]);
    validation.validate_nbf = true;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims
}

async fn introspect(c: &mut Client, p: &Project, token: &str) -> Value {
    let auth = format!("Bearer {}", p.key);
    let answer =
        form(c, &format!("{}/admin/oauth2/introspect", p.base), &[("token", token)], &[("authorization", &auth)]).await;
    expect(&answer, 200).clone()
}

#[tokio::test]
async fn jwt_access_tokens_verify_offline_and_introspect_until_revoked() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let other = project(&stack, "eu-central").await;
        let mut c = Client::new();

        // Per client on an opaque project.
        let (jid, jsecret) = m2m_client(&mut c, &p, json!({"access_token_strategy": "jwt"})).await;
        let (oid, osecret) = m2m_client(&mut c, &p, json!({})).await;
        assert!(client_credentials(&mut c, &p.base, &oid, &osecret).await.starts_with("ory_at_"));
        let token = client_credentials(&mut c, &p.base, &jid, &jsecret).await;
        let claims = verify(&mut c, &p, &token).await;
        assert_eq!((claims["sub"].as_str(), claims["client_id"].as_str()), (Some(jid.as_str()), Some(jid.as_str())));
        assert_eq!(claims["aud"], json!(["https://api.example.com"]));
        assert_eq!(claims["scp"], json!(["read"]));
        assert!(claims.get("scope").is_none());
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
        assert_eq!(claims["nbf"], claims["iat"]);
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());

        let i = introspect(&mut c, &p, &token).await;
        assert_eq!((i["active"].as_bool(), i["token_use"].as_str()), (Some(true), Some("access_token")));
        assert_eq!((i["sub"].as_str(), i["scope"].as_str()), (Some(jid.as_str()), Some("read")));
        assert_eq!(i["exp"], claims["exp"]);
        let mut tampered: Vec<&str> = token.split('.').collect();
        let forged_payload = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&json!({"sub": "admin", "exp": 4_000_000_000i64})).unwrap(),
        );
        tampered[1] = &forged_payload;
        assert_eq!(introspect(&mut c, &p, &tampered.join(".")).await, json!({"active": false}));
        assert_eq!(introspect(&mut c, &other, &token).await, json!({"active": false}), "another project");
        let by_other = form(
            &mut c,
            &format!("{}/oauth2/revoke", p.base),
            &[("token", &token)],
            &[("authorization", &basic(&oid, &osecret))],
        )
        .await;
        expect_oauth_error(&by_other, 400, "unauthorized_client");
        let revoked = form(
            &mut c,
            &format!("{}/oauth2/revoke", p.base),
            &[("token", &token)],
            &[("authorization", &basic(&jid, &jsecret))],
        )
        .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        assert_eq!(introspect(&mut c, &p, &token).await, json!({"active": false}));
        verify(&mut c, &p, &token).await; // still a valid signature: only introspection knows it is revoked

        // Project-wide, with each scope claim shape; a client may still ask for opaque tokens.
        let (pid, psecret) = m2m_client(&mut c, &p, json!({})).await;
        let (qid, qsecret) = m2m_client(&mut c, &p, json!({"access_token_strategy": "opaque"})).await;
        for (shape, scp, scope) in [
            ("list", json!(["read"]), Value::Null),
            ("string", Value::Null, json!("read")),
            ("both", json!(["read"]), json!("read")),
        ] {
            let strategies = json!({"access_token": "jwt", "jwt": {"scope_claim": shape}});
            patch_config(
                &stack,
                &p,
                json!([{"op": "replace", "path": "/services/oauth2/config/strategies", "value": strategies}]),
            )
            .await;
            let token = client_credentials(&mut c, &p.base, &pid, &psecret).await;
            let claims = verify(&mut c, &p, &token).await;
            assert_eq!(
                (
                    claims.get("scp").cloned().unwrap_or(Value::Null),
                    claims.get("scope").cloned().unwrap_or(Value::Null)
                ),
                (scp, scope),
                "{shape}"
            );
            assert_eq!(introspect(&mut c, &p, &token).await["active"], true);
        }
        assert!(client_credentials(&mut c, &p.base, &qid, &qsecret).await.starts_with("ory_at_"));
        stack.stop().await;
    }
}

/// Now, for assertion claims: the worker checks them against the real clock.
fn now() -> i64 {
    std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64
}

fn assertion_claims(id: &str, aud: &str, exp_in: i64) -> Value {
    let jti = uuid::Uuid::now_v7().to_string();
    json!({"iss": id, "sub": id, "aud": aud, "jti": jti, "iat": now(), "exp": now() + exp_in})
}

async fn with_assertion(c: &mut Client, base: &str, assertion: &str, extra: &[(&str, &str)]) -> Answer {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    pairs.extend_from_slice(extra);
    form(c, &format!("{base}/oauth2/token"), &pairs, &[]).await
}

#[tokio::test]
async fn private_key_jwt_authenticates_clients_and_refuses_forgeries_and_replays() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let key = KeyPair::generate(Algorithm::ES256, Some("client-key".into()), KeyUse::Sig).unwrap();
        let registered = create_client(
            &mut c,
            &p,
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.public_jwk()]},
                   "grant_types": ["client_credentials"], "scope": "read"}),
        )
        .await;
        let id = registered["client_id"].as_str().unwrap().to_owned();
        let aud = format!("{}/oauth2/token", p.base);

        let assertion = key.sign_jwt(&assertion_claims(&id, &aud, 60)).unwrap();
        let t = with_assertion(&mut c, &p.base, &assertion, &[("scope", "read")]).await;
        assert_eq!(expect(&t, 200)["scope"], "read");
        expect_oauth_error(&with_assertion(&mut c, &p.base, &assertion, &[]).await, 401, "invalid_client");
        let with_id = key.sign_jwt(&assertion_claims(&id, &aud, 60)).unwrap();
        expect(&with_assertion(&mut c, &p.base, &with_id, &[("client_id", &id)]).await, 200);
        let audience_list = {
            let mut claims = assertion_claims(&id, &aud, 60);
            claims["aud"] = json!(["https://elsewhere.example", aud]);
            key.sign_jwt(&claims).unwrap()
        };
        expect(&with_assertion(&mut c, &p.base, &audience_list, &[]).await, 200);

        let b64 = |v: Value| {
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, serde_json::to_vec(&v).unwrap())
        };
        let impostor = KeyPair::generate(Algorithm::ES256, Some("client-key".into()), KeyUse::Sig).unwrap();
        let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        hs.kid = Some("client-key".into());
        let hs_secret = jsonwebtoken::EncodingKey::from_secret(key.public_jwk().to_string().as_bytes()).unwrap();
        let mut other_iss = assertion_claims(&id, &aud, 60);
        other_iss["iss"] = json!("someone-else");
        let attacks: Vec<(&str, String)> = vec![
            ("wrong audience", key.sign_jwt(&assertion_claims(&id, &format!("{}/oauth2/auth", p.base), 60)).unwrap()),
            ("expired", key.sign_jwt(&assertion_claims(&id, &aud, -10)).unwrap()),
            ("valid for two hours", key.sign_jwt(&assertion_claims(&id, &aud, 7200)).unwrap()),
            ("issuer", key.sign_jwt(&other_iss).unwrap()),
            ("no jti", key.sign_jwt(&json!({"iss": id, "sub": id, "aud": aud, "exp": now() + 60})).unwrap()),
            (
                "alg none",
                format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(assertion_claims(&id, &aud, 60))),
            ),
            (
                "HS256 keyed with the public key",
                jsonwebtoken::encode(&hs, &assertion_claims(&id, &aud, 60), &hs_secret).unwrap(),
            ),
            ("another key", impostor.sign_jwt(&assertion_claims(&id, &aud, 60)).unwrap()),
            ("garbage", "not.a.jwt".into()),
        ];
        for (label, assertion) in attacks {
            let answer = with_assertion(&mut c, &p.base, &assertion, &[]).await;
            assert_eq!(
                (answer.status.as_u16(), answer.body["error"].as_str()),
                (401, Some("invalid_client")),
                "{label}: {}",
                answer.body
            );
        }
        let wrong_type = form(
            &mut c,
            &format!("{}/oauth2/token", p.base),
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:other"),
                ("client_assertion", &assertion),
            ],
            &[],
        )
        .await;
        expect_oauth_error(&wrong_type, 400, "invalid_request");

        // A client registered for secrets cannot switch to assertions, nor the other way round.
        let (sid, _) = m2m_client(&mut c, &p, json!({})).await;
        let as_secret_client = key.sign_jwt(&assertion_claims(&sid, &aud, 60)).unwrap();
        expect_oauth_error(&with_assertion(&mut c, &p.base, &as_secret_client, &[]).await, 401, "invalid_client");
        if let Some(secret) = registered["client_secret"].as_str().filter(|s| !s.is_empty()) {
            let by_secret = form(
                &mut c,
                &format!("{}/oauth2/token", p.base),
                &[("grant_type", "client_credentials")],
                &[("authorization", &basic(&id, secret))],
            )
            .await;
            expect_oauth_error(&by_secret, 401, "invalid_client");
        }
        stack.stop().await;
    }
}
