//! The JWT-bearer grant (RFC 7523 §2.1) and Hydra's trust relationships: what a trusted issuer's assertion gets,
//! and every way an assertion is refused.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_jwk::{Algorithm, KeyPair, KeyUse};
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::testing::backends;
use time::OffsetDateTime;

use super::super::api::expect;
use super::super::identity::{Client, Project, project, stack};
use super::{basic, expect_oauth_error, form, m2m_client};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const IDP: &str = "https://idp.example";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

async fn trust(c: &mut Client, p: &Project, body: Value) -> super::super::api::Answer {
    c.admin(Method::POST, &format!("{}/admin/trust/grants/jwt-bearer/issuers", p.base), &p.key, Some(body)).await
}

fn claims(p: &Project, sub: &str, exp_in: i64, jti: &str) -> Value {
    let now = SystemClock.now().unix_timestamp();
    json!({"iss": IDP, "sub": sub, "aud": format!("{}/oauth2/token", p.base), "exp": now + exp_in, "iat": now, "jti": jti})
}

#[tokio::test]
async fn trusted_issuers_assertions_get_tokens_and_everything_else_is_refused() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let key = KeyPair::generate(Algorithm::ES256, Some("idp-key".into()), KeyUse::Sig).unwrap();
        let expires = rfc3339(SystemClock.now() + time::Duration::hours(1));

        // Trust relationships: validation, duplicates, reads.
        for bad in [
            json!({"issuer": IDP, "subject": "alice", "allow_any_subject": true, "scope": [], "jwk": key.public_jwk(), "expires_at": expires}),
            json!({"issuer": IDP, "scope": [], "jwk": key.public_jwk(), "expires_at": expires}),
            json!({"issuer": IDP, "subject": "alice", "scope": [], "jwk": key.private_jwk().unwrap(), "expires_at": expires}),
            json!({"issuer": IDP, "subject": "alice", "scope": [], "jwk": key.public_jwk(), "expires_at": "2001-01-01T00:00:00Z"}),
            json!({"issuer": IDP, "subject": "alice", "scope": [], "jwk": {"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256", "use": "sig"}, "expires_at": expires}),
            json!({"issuer": "", "subject": "alice", "scope": [], "jwk": key.public_jwk(), "expires_at": expires}),
        ] {
            let answer = trust(&mut c, &p, bad.clone()).await;
            assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        }
        let body = json!({"issuer": IDP, "subject": "alice", "scope": ["read"], "jwk": key.public_jwk(), "expires_at": expires});
        let created = trust(&mut c, &p, body.clone()).await;
        let created = expect(&created, 201).clone();
        assert_eq!(created["public_key"], json!({"kid": "idp-key", "set": IDP}));
        assert_eq!(created["scope"], json!(["read"]));
        assert_eq!(created["allow_any_subject"], false);
        assert_eq!(trust(&mut c, &p, body).await.status, 409);
        let id = created["id"].as_str().unwrap().to_owned();
        let url = format!("{}/admin/trust/grants/jwt-bearer/issuers", p.base);
        assert_eq!(expect(&c.admin(Method::GET, &format!("{url}/{id}"), &p.key, None).await, 200)["issuer"], IDP);
        let listed = c.admin(Method::GET, &format!("{url}?issuer={IDP}"), &p.key, None).await;
        assert_eq!(expect(&listed, 200).as_array().unwrap().len(), 1);
        assert!(listed.headers["link"].to_str().unwrap().contains("rel=\"first\""));
        let none = c.admin(Method::GET, &format!("{url}?issuer=https://other.example"), &p.key, None).await;
        assert_eq!(expect(&none, 200), &json!([]));
        assert_eq!(c.admin(Method::GET, &format!("{url}/not-a-uuid"), &p.key, None).await.status, 404);
        let other = project(&stack, "eu-central").await;
        assert_eq!(
            c.admin(
                Method::GET,
                &format!("{}/admin/trust/grants/jwt-bearer/issuers/{id}", other.base),
                &other.key,
                None
            )
            .await
            .status,
            404
        );
        assert_eq!(c.admin(Method::GET, &url, &other.key, None).await.status, 401);

        // The grant.
        let (cid, secret) = m2m_client(&mut c, &p, json!({"grant_types": [GRANT], "scope": "read write"})).await;
        let token_url = format!("{}/oauth2/token", p.base);
        let auth = basic(&cid, &secret);
        let exchange = |assertion: String, scope: &'static str| {
            let (token_url, auth) = (token_url.clone(), auth.clone());
            async move {
                let mut c = Client::new();
                form(
                    &mut c,
                    &token_url,
                    &[("grant_type", GRANT), ("assertion", &assertion), ("scope", scope)],
                    &[("authorization", &auth)],
                )
                .await
            }
        };
        let ok = exchange(key.sign_jwt(&claims(&p, "alice", 300, "jti-1")).unwrap(), "read").await;
        let token = expect(&ok, 200)["access_token"].as_str().unwrap().to_owned();
        let i = form(
            &mut c,
            &format!("{}/admin/oauth2/introspect", p.base),
            &[("token", &token)],
            &[("authorization", &format!("Bearer {}", p.key))],
        )
        .await;
        let i = expect(&i, 200);
        assert_eq!(i["sub"], "alice");
        assert_eq!(i["client_id"], cid.as_str());
        assert_eq!(i["scope"], "read");

        let impostor = KeyPair::generate(Algorithm::ES256, Some("idp-key".into()), KeyUse::Sig).unwrap();
        let mut wrong_aud = claims(&p, "alice", 300, "jti-aud");
        wrong_aud["aud"] = json!("https://elsewhere.example/token");
        let cases = [
            ("a replayed jti", key.sign_jwt(&claims(&p, "alice", 300, "jti-1")).unwrap(), "read", "invalid_grant"),
            ("another subject", key.sign_jwt(&claims(&p, "bob", 300, "jti-2")).unwrap(), "read", "invalid_grant"),
            ("another audience", key.sign_jwt(&wrong_aud).unwrap(), "read", "invalid_grant"),
            (
                "an expired assertion",
                key.sign_jwt(&claims(&p, "alice", -10, "jti-3")).unwrap(),
                "read",
                "invalid_grant",
            ),
            (
                "an exp beyond max_ttl",
                key.sign_jwt(&claims(&p, "alice", 800 * 3600, "jti-4")).unwrap(),
                "read",
                "invalid_grant",
            ),
            (
                "another key with the same kid",
                impostor.sign_jwt(&claims(&p, "alice", 300, "jti-5")).unwrap(),
                "read",
                "invalid_grant",
            ),
            (
                "a scope the trust does not allow",
                key.sign_jwt(&claims(&p, "alice", 300, "jti-6")).unwrap(),
                "read write",
                "invalid_scope",
            ),
            ("garbage", "not.a.jwt".to_owned(), "read", "invalid_grant"),
        ];
        for (label, assertion, scope, code) in cases {
            let answer = exchange(assertion, scope).await;
            assert_eq!(answer.status, 400, "{label}: {}", answer.body);
            assert_eq!(answer.body["error"], code, "{label}: {}", answer.body);
        }
        // alg none with the trusted kid.
        let b64 = |v: &Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
        let none =
            format!("{}.{}.", b64(&json!({"alg": "none", "kid": "idp-key"})), b64(&claims(&p, "alice", 300, "jti-7")));
        expect_oauth_error(&exchange(none, "read").await, 400, "invalid_grant");

        // A client without the grant; and the trust, once deleted, vouches for nothing.
        let (plain, plain_secret) = m2m_client(&mut c, &p, json!({})).await;
        let refused = form(
            &mut c,
            &token_url,
            &[("grant_type", GRANT), ("assertion", &key.sign_jwt(&claims(&p, "alice", 300, "jti-8")).unwrap())],
            &[("authorization", &basic(&plain, &plain_secret))],
        )
        .await;
        expect_oauth_error(&refused, 400, "unauthorized_client");
        assert_eq!(c.admin(Method::DELETE, &format!("{url}/{id}"), &p.key, None).await.status, 204);
        assert_eq!(c.admin(Method::DELETE, &format!("{url}/{id}"), &p.key, None).await.status, 404);
        expect_oauth_error(
            &exchange(key.sign_jwt(&claims(&p, "alice", 300, "jti-9")).unwrap(), "read").await,
            400,
            "invalid_grant",
        );

        // Any subject, when the trust says so.
        let any = json!({"issuer": IDP, "allow_any_subject": true, "scope": ["read"], "jwk": key.public_jwk(), "expires_at": expires});
        expect(&trust(&mut c, &p, any).await, 201);
        let bob = exchange(key.sign_jwt(&claims(&p, "bob", 300, "jti-10")).unwrap(), "read").await;
        expect(&bob, 200);
        stack.stop().await;
    }
}
