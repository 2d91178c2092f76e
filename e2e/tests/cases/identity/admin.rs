//! The identity admin API: create, read, list, replace, patch, delete, import, schemas.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::{Client, login_api, project, stack};

const BCRYPT_HUNTER2: &str = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";
const ARGON2_HUNTER2: &str =
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q";
const PBKDF2_HUNTER2: &str =
    "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU";
const SCRYPT_HUNTER2: &str =
    "$scrypt$ln=1024,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=";

fn with_hash(email: &str, hash: &str) -> Value {
    json!({"schema_id": "preset://email", "traits": {"email": email},
           "credentials": {"password": {"config": {"hashed_password": hash}}}})
}

#[tokio::test]
async fn identities_are_created_read_changed_and_deleted() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();
        let created = c
            .admin(
                Method::POST,
                &format!("{base}/admin/identities"),
                key,
                Some(json!({"schema_id": "preset://email", "traits": {"email": "Lena@Example.com"}, "external_id": "crm-1",
                            "metadata_public": {"plan": "pro"}, "metadata_admin": {"note": "vip"},
                            "verifiable_addresses": [{"value": "lena@example.com", "via": "email", "verified": true, "status": "completed"}],
                            "credentials": {"password": {"config": {"password": "a-long-imported-passphrase"}}}})),
            )
            .await;
        let created = {
            assert_eq!(created.status, 201, "{}", created.body);
            assert!(created.headers["location"].to_str().unwrap().ends_with(created.body["id"].as_str().unwrap()));
            created.body
        };
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(created["state"], "active");
        assert_eq!(created["credentials"]["password"]["identifiers"], json!(["lena@example.com"]));
        assert!(created["credentials"]["password"].get("config").is_none(), "configs are shown only when asked");
        assert_eq!(created["verifiable_addresses"][0]["verified"], true);
        assert_eq!(created["metadata_admin"]["note"], "vip");
        assert!(created["schema_url"].as_str().unwrap().ends_with("/schemas/cHJlc2V0Oi8vZW1haWw"));
        assert_eq!(created["organization_id"], Value::Null);

        let with =
            c.admin(Method::GET, &format!("{base}/admin/identities/{id}?include_credential=password"), key, None).await;
        let hash =
            expect(&with, 200)["credentials"]["password"]["config"]["hashed_password"].as_str().unwrap().to_owned();
        assert!(hash.starts_with("$argon2id$"), "plaintext is hashed with argon2id: {hash}");
        let bad_include =
            c.admin(Method::GET, &format!("{base}/admin/identities/{id}?include_credential=magic"), key, None).await;
        assert_eq!(bad_include.status, 400);
        let by_ext = c.admin(Method::GET, &format!("{base}/admin/identities/by/external/crm-1"), key, None).await;
        assert_eq!(expect(&by_ext, 200)["id"], id.as_str());
        assert_eq!(login_api(&mut c, base, "lena@example.com", "a-long-imported-passphrase").await.status, 200);

        // Strict bodies, unknown schemas, invalid traits, conflicts: 400 / 409 and nothing written.
        for (body, status) in [
            (json!({"schema_id": "preset://email", "traits": {"email": "x@example.com"}, "surprise": 1}), 400),
            (json!({"schema_id": "nope", "traits": {"email": "x@example.com"}}), 400),
            (json!({"schema_id": "preset://email", "traits": {}}), 400),
            (json!({"schema_id": "preset://email", "traits": {"email": "x@example.com"}, "state": "frozen"}), 400),
            (json!({"schema_id": "preset://email", "traits": {"email": "LENA@example.com"}}), 409),
            (json!({"schema_id": "preset://email", "traits": {"email": "y@example.com"}, "external_id": "crm-1"}), 409),
        ] {
            let r = c.admin(Method::POST, &format!("{base}/admin/identities"), key, Some(body.clone())).await;
            assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
            assert_eq!(r.body["error"]["code"], status);
        }
        let all = c.admin(Method::GET, &format!("{base}/admin/identities"), key, None).await;
        assert_eq!(expect(&all, 200).as_array().unwrap().len(), 1);

        // PUT replaces; PATCH applies a JSON Patch; forbidden paths are refused.
        let put = c
            .admin(
                Method::PUT,
                &format!("{base}/admin/identities/{id}"),
                key,
                Some(json!({"schema_id": "preset://email", "state": "active", "traits": {"email": "lena.new@example.com"}})),
            )
            .await;
        let put = expect(&put, 200).clone();
        assert_eq!(put["metadata_public"], Value::Null, "omitted fields are cleared");
        assert_eq!(put["credentials"]["password"]["identifiers"], json!(["lena.new@example.com"]));
        assert_eq!(login_api(&mut c, base, "lena.new@example.com", "a-long-imported-passphrase").await.status, 200);
        let patched = c
            .admin(
                Method::PATCH,
                &format!("{base}/admin/identities/{id}"),
                key,
                Some(json!([{"op": "add", "path": "/metadata_admin", "value": {"tier": 2}}, {"op": "replace", "path": "/state", "value": "inactive"}])),
            )
            .await;
        let patched = expect(&patched, 200).clone();
        assert_eq!(patched["state"], "inactive");
        assert_ne!(patched["state_changed_at"], put["state_changed_at"]);
        for ops in [
            json!([{"op": "replace", "path": "/id", "value": "00000000-0000-0000-0000-000000000000"}]),
            json!([{"op": "remove", "path": "/credentials"}]),
            json!([{"op": "replace", "path": "/state", "value": "frozen"}]),
            json!([{"op": "test", "path": "/state", "value": "active"}]),
            json!([{"op": "replace", "path": "/traits/email", "value": "not-an-email"}]),
            json!({"not": "a list"}),
        ] {
            let r = c.admin(Method::PATCH, &format!("{base}/admin/identities/{id}"), key, Some(ops.clone())).await;
            assert_eq!(r.status, 400, "{ops}: {}", r.body);
        }
        let after = c.admin(Method::GET, &format!("{base}/admin/identities/{id}"), key, None).await;
        assert_eq!(expect(&after, 200)["traits"]["email"], "lena.new@example.com", "failed patches change nothing");

        // The last first factor cannot be removed; then delete the identity.
        let cred =
            c.admin(Method::DELETE, &format!("{base}/admin/identities/{id}/credentials/password"), key, None).await;
        assert_eq!(cred.status, 400);
        let del = c.admin(Method::DELETE, &format!("{base}/admin/identities/{id}"), key, None).await;
        assert_eq!(del.status, 204);
        for m in [Method::GET, Method::DELETE] {
            let r = c.admin(m, &format!("{base}/admin/identities/{id}"), key, None).await;
            assert_eq!(r.status, 404);
        }
        let bad_id = c.admin(Method::GET, &format!("{base}/admin/identities/not-a-uuid"), key, None).await;
        assert_eq!(bad_id.status, 400);
        let no_key = c.send(Method::GET, &format!("{base}/admin/identities"), None, &[], false).await;
        assert_eq!(no_key.status, 401);

        // Schemas.
        let schemas = c.get_json(&format!("{base}/schemas"), &[]).await;
        assert_eq!(expect(&schemas, 200)[0]["id"], "preset://email");
        let by_url = c.get_json(&format!("{base}/schemas/cHJlc2V0Oi8vZW1haWw"), &[]).await;
        assert_eq!(expect(&by_url, 200)["properties"]["traits"]["required"], json!(["email"]));
        assert_eq!(c.get_json(&format!("{base}/schemas/unknown"), &[]).await.status, 404);
        stack.stop().await;
    }
}

#[tokio::test]
async fn lists_page_with_link_headers_and_filter_by_identifier() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();
        let items: Vec<Value> = (0..7)
            .map(|i| json!({"create": {"schema_id": "preset://email", "traits": {"email": format!("user{i}@example.com")}}}))
            .collect();
        let batch =
            c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(json!({"identities": items}))).await;
        assert_eq!(expect(&batch, 200)["identities"].as_array().unwrap().len(), 7);

        let origin = stack.region_url("eu-central");
        let mut url = format!("{base}/admin/identities?page_size=3");
        let mut seen = Vec::new();
        loop {
            let page = c.admin(Method::GET, &url, key, None).await;
            let items = expect(&page, 200).as_array().unwrap().clone();
            assert!(items.iter().all(|i| i.get("credentials").is_none()), "unfiltered lists do not load credentials");
            seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            let link = page.headers["link"].to_str().unwrap().to_owned();
            assert!(link.contains("page_token=00000000-0000-0000-0000-000000000000>; rel=\"first\""), "{link}");
            match link.split(',').find(|l| l.contains("rel=\"next\"")) {
                Some(next) => url = format!("{origin}{}", next.trim_start_matches('<').split('>').next().unwrap()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen.len(), 7);
        assert_eq!(sorted, seen, "ascending ids, no repeats");

        let found = c
            .admin(Method::GET, &format!("{base}/admin/identities?credentials_identifier=USER3@example.com"), key, None)
            .await;
        let found = expect(&found, 200).as_array().unwrap().clone();
        assert_eq!(found.len(), 0, "identities without credentials have no identifiers");
        let with_pw = json!({"schema_id": "preset://email", "traits": {"email": "pw@example.com"},
                             "credentials": {"password": {"config": {"hashed_password": BCRYPT_HUNTER2}}}});
        expect(&c.admin(Method::POST, &format!("{base}/admin/identities"), key, Some(with_pw)).await, 201);
        let found = c
            .admin(Method::GET, &format!("{base}/admin/identities?credentials_identifier=PW@example.com"), key, None)
            .await;
        let found = expect(&found, 200).as_array().unwrap().clone();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["credentials"]["password"]["identifiers"], json!(["pw@example.com"]));
        let similar = c
            .admin(
                Method::GET,
                &format!("{base}/admin/identities?preview_credentials_identifier_similar=pw@"),
                key,
                None,
            )
            .await;
        assert_eq!(expect(&similar, 200).as_array().unwrap().len(), 1);
        let ids = format!("ids={}&ids={}", seen[0], seen[1]);
        let by_ids = c.admin(Method::GET, &format!("{base}/admin/identities?{ids}"), key, None).await;
        assert_eq!(expect(&by_ids, 200).as_array().unwrap().len(), 2);
        for bad in
            ["page_token=garbage", "ids=nope", "ids=00000000-0000-0000-0000-000000000001&credentials_identifier=x"]
        {
            let r = c.admin(Method::GET, &format!("{base}/admin/identities?{bad}"), key, None).await;
            assert_eq!(r.status, 400, "{bad}");
        }
        stack.stop().await;
    }
}

#[tokio::test]
async fn imports_verify_known_hashes_and_refuse_hostile_ones() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let (base, key) = (p.base.as_str(), p.key.as_str());
        let mut c = Client::new();
        let formats = [
            ("bcrypt", BCRYPT_HUNTER2),
            ("argon2id", ARGON2_HUNTER2),
            ("pbkdf2", PBKDF2_HUNTER2),
            ("scrypt", SCRYPT_HUNTER2),
        ];
        let mut items: Vec<Value> = formats
            .iter()
            .enumerate()
            .map(|(i, (name, hash))| {
                json!({"patch_id": format!("00000000-0000-4000-8000-00000000000{i}"), "create": with_hash(&format!("{name}@example.com"), hash)})
            })
            .collect();
        items.push(json!({"patch_id": "00000000-0000-4000-8000-000000000009", "create": with_hash("bcrypt@example.com", BCRYPT_HUNTER2)}));
        let batch =
            c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(json!({"identities": items}))).await;
        let results = expect(&batch, 200)["identities"].as_array().unwrap().clone();
        assert!(results[..4].iter().all(|r| r["action"] == "create"), "{results:?}");
        assert_eq!(results[4]["action"], "error");
        assert_eq!(results[4]["error"]["code"], 409);
        assert_eq!(results[4]["patch_id"], "00000000-0000-4000-8000-000000000009");

        for (name, _) in formats {
            let email = format!("{name}@example.com");
            assert_eq!(login_api(&mut c, base, &email, "hunter2").await.status, 200, "{name} verifies");
            assert_eq!(login_api(&mut c, base, &email, "hunter3").await.status, 400, "{name} refuses a wrong password");
        }
        // After the first login the imported hash was replaced by argon2id with the project's parameters.
        let listed = c
            .admin(
                Method::GET,
                &format!(
                    "{base}/admin/identities?credentials_identifier=bcrypt@example.com&include_credential=password"
                ),
                key,
                None,
            )
            .await;
        let hash = expect(&listed, 200)[0]["credentials"]["password"]["config"]["hashed_password"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(hash.starts_with("$argon2id$v=19$m=65536"), "{hash}");
        assert_eq!(login_api(&mut c, base, "bcrypt@example.com", "hunter2").await.status, 200, "and still verifies");

        // Hostile or unknown hashes are refused before anything is written, with Kratos's reasons.
        for (hash, reason) in [
            (
                "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
                "exceed the bounds",
            ),
            ("$2b$31$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm", "exceed the bounds"),
            (
                "$pbkdf2-sha256$i=999999999,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU",
                "exceed the bounds",
            ),
            (
                "$scrypt$ln=1048576,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=",
                "exceed the bounds",
            ),
            ("plain-text-is-not-a-hash", "does not match any known hash format"),
        ] {
            let r = c
                .admin(
                    Method::POST,
                    &format!("{base}/admin/identities"),
                    key,
                    Some(with_hash("hostile@example.com", hash)),
                )
                .await;
            assert_eq!(r.status, 400, "{hash}");
            assert!(r.body["error"]["reason"].as_str().unwrap().contains(reason), "{hash}: {}", r.body);
            let one = json!({"identities": [{"create": with_hash("fine@example.com", BCRYPT_HUNTER2)}, {"create": with_hash("hostile@example.com", hash)}]});
            let r = c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(one)).await;
            assert_eq!(r.status, 400, "one bad hash refuses the whole batch");
        }
        let fine = c
            .admin(Method::GET, &format!("{base}/admin/identities?credentials_identifier=fine@example.com"), key, None)
            .await;
        assert_eq!(expect(&fine, 200), &json!([]), "nothing of a refused batch was written");

        // Size limits.
        let many: Vec<Value> =
            (0..1001).map(|i| json!({"create": with_hash(&format!("m{i}@example.com"), BCRYPT_HUNTER2)})).collect();
        let r =
            c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(json!({"identities": many}))).await;
        assert_eq!(r.status, 400);
        let plain: Vec<Value> = (0..201)
            .map(|i| json!({"create": {"schema_id": "preset://email", "traits": {"email": format!("p{i}@example.com")}, "credentials": {"password": {"config": {"password": "p"}}}}}))
            .collect();
        let r =
            c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(json!({"identities": plain}))).await;
        assert_eq!(r.status, 400);
        assert!(r.body["error"]["reason"].as_str().unwrap().contains("plaintext"));

        // All-or-nothing mode.
        let atomic = json!({"with_partial_inserts": false, "identities": [
            {"create": with_hash("atomic1@example.com", BCRYPT_HUNTER2)},
            {"create": with_hash("bcrypt@example.com", BCRYPT_HUNTER2)}]});
        let r = c.admin(Method::PATCH, &format!("{base}/admin/identities"), key, Some(atomic)).await;
        assert_eq!(r.status, 409);
        let none = c
            .admin(
                Method::GET,
                &format!("{base}/admin/identities?credentials_identifier=atomic1@example.com"),
                key,
                None,
            )
            .await;
        assert_eq!(expect(&none, 200), &json!([]));
        stack.stop().await;
    }
}
