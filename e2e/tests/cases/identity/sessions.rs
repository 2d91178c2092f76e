//! Sessions: whoami's cache stays coherent across the region's workers, a user manages their own sessions,
//! admins manage everyone's, and nothing crosses from one project to another.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::{Body, Client, STRONG, login_api, patch_config, project, register_api, stack};

/// Polls `url` with `token` until it answers `status`, up to `limit`; how long that took.
async fn until_status(c: &mut Client, url: &str, token: &str, status: u16, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if c.get_json(url, &[("x-session-token", token)]).await.status.as_u16() == status {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn a_revocation_reaches_every_worker_of_the_region_within_a_second() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let second = stack.extra_worker("eu-central").await;
        let other_base = format!("{}/p/{}", second.url(), p.slug);
        let mut c = Client::new();
        let reg = register_api(&mut c, &p.base, "gail@example.com", STRONG).await;
        let reg = expect(&reg, 200).clone();
        let token = reg["session_token"].as_str().unwrap().to_owned();
        let session_id = reg["session"]["id"].as_str().unwrap().to_owned();
        let identity_id = reg["identity"]["id"].as_str().unwrap().to_owned();

        // Both workers have it cached (asked twice each).
        for base in [&p.base, &other_base] {
            for _ in 0..2 {
                let who = c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &token)]).await;
                assert_eq!(expect(&who, 200)["id"], session_id.as_str());
            }
        }
        // Revoked through the first worker: the second stops accepting it within a second.
        let revoked = c.admin(Method::DELETE, &format!("{}/admin/sessions/{session_id}", p.base), &p.key, None).await;
        assert_eq!(revoked.status, 204);
        let here = c.get_json(&format!("{}/sessions/whoami", p.base), &[("x-session-token", &token)]).await;
        assert_eq!(here.status, 401, "the writing worker forgets at once");
        let took =
            until_status(&mut c, &format!("{other_base}/sessions/whoami"), &token, 401, Duration::from_secs(1)).await;
        assert!(took.is_some(), "the other worker still served a revoked session after 1 s");

        // An identity change made through one worker shows on the other's whoami.
        let login = login_api(&mut c, &p.base, "gail@example.com", STRONG).await;
        let token = expect(&login, 200)["session_token"].as_str().unwrap().to_owned();
        let who = c.get_json(&format!("{other_base}/sessions/whoami"), &[("x-session-token", &token)]).await;
        assert_eq!(expect(&who, 200)["identity"]["metadata_public"], serde_json::Value::Null);
        let patched = c
            .admin(
                Method::PATCH,
                &format!("{}/admin/identities/{identity_id}", p.base),
                &p.key,
                Some(json!([{"op": "add", "path": "/metadata_public", "value": {"plan": "pro"}}])),
            )
            .await;
        expect(&patched, 200);
        let start = Instant::now();
        loop {
            let who = c.get_json(&format!("{other_base}/sessions/whoami"), &[("x-session-token", &token)]).await;
            if expect(&who, 200)["identity"]["metadata_public"]["plan"] == "pro" {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(1), "stale identity served after 1 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Deleting the identity ends its sessions everywhere.
        let del = c.admin(Method::DELETE, &format!("{}/admin/identities/{identity_id}", p.base), &p.key, None).await;
        assert_eq!(del.status, 204);
        let took =
            until_status(&mut c, &format!("{other_base}/sessions/whoami"), &token, 401, Duration::from_secs(1)).await;
        assert!(took.is_some());
        second.stop().await;
        stack.stop().await;
    }
}

#[tokio::test]
async fn users_manage_their_sessions_and_admins_everyones() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        let mut c = Client::new();
        let reg = register_api(&mut c, base, "hank@example.com", STRONG).await;
        let first = expect(&reg, 200)["session_token"].as_str().unwrap().to_owned();
        let identity = reg.body["identity"]["id"].as_str().unwrap().to_owned();
        let mut tokens = vec![first.clone()];
        for _ in 0..3 {
            let l = login_api(&mut c, base, "hank@example.com", STRONG).await;
            tokens.push(expect(&l, 200)["session_token"].as_str().unwrap().to_owned());
        }
        let mine = c.get_json(&format!("{base}/sessions"), &[("x-session-token", &first)]).await;
        let mine = expect(&mine, 200).as_array().unwrap().clone();
        assert_eq!(mine.len(), 3, "the other sessions, not the current one");
        let victim = mine[0]["id"].as_str().unwrap().to_owned();
        let current = c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &first)]).await;
        let current_id = expect(&current, 200)["id"].as_str().unwrap().to_owned();
        let refuse = c
            .send(Method::DELETE, &format!("{base}/sessions/{current_id}"), None, &[("x-session-token", &first)], false)
            .await;
        assert_eq!(refuse.status, 400);
        let one = c
            .send(Method::DELETE, &format!("{base}/sessions/{victim}"), None, &[("x-session-token", &first)], false)
            .await;
        assert_eq!(one.status, 204);
        let rest = c
            .send(
                Method::DELETE,
                &format!("{base}/sessions"),
                None,
                &[("x-session-token", &first), ("accept", "application/json")],
                false,
            )
            .await;
        assert_eq!(expect(&rest, 200)["count"], 2);
        for t in &tokens[1..] {
            assert_eq!(c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", t)]).await.status, 401);
        }
        assert_eq!(c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &first)]).await.status, 200);
        let anon = c.get_json(&format!("{base}/sessions"), &[]).await;
        assert_eq!(anon.status, 401);

        // Admin: list (with pagination and expansion), get, extend, revoke, an identity's sessions.
        let page =
            c.admin(Method::GET, &format!("{base}/admin/sessions?page_size=2&expand=identity"), &p.key, None).await;
        let listed = expect(&page, 200).as_array().unwrap().clone();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["identity"]["id"], identity.as_str());
        assert!(listed[0]["identity"].get("metadata_admin").is_some(), "admins see metadata_admin");
        let link = page.headers["link"].to_str().unwrap().to_owned();
        assert!(link.contains("rel=\"next\""), "{link}");
        let next = link.split(',').find(|l| l.contains("rel=\"next\"")).unwrap();
        let path = next.trim().trim_start_matches('<').split('>').next().unwrap();
        let origin = stack.region_url("eu-central");
        let page2 = c.admin(Method::GET, &format!("{origin}{path}"), &p.key, None).await;
        let second = expect(&page2, 200).as_array().unwrap().clone();
        assert_eq!(second.len(), 2);
        assert!(second.iter().all(|s| !listed.iter().any(|f| f["id"] == s["id"])), "pages do not overlap");
        let active = c.admin(Method::GET, &format!("{base}/admin/sessions?active=true"), &p.key, None).await;
        assert_eq!(expect(&active, 200).as_array().unwrap().len(), 1);
        let bad_expand = c.admin(Method::GET, &format!("{base}/admin/sessions?expand=everything"), &p.key, None).await;
        assert_eq!(bad_expand.status, 400);

        let one =
            c.admin(Method::GET, &format!("{base}/admin/sessions/{current_id}?expand=identity"), &p.key, None).await;
        let before = expect(&one, 200)["expires_at"].as_str().unwrap().to_owned();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ext = c.admin(Method::PATCH, &format!("{base}/admin/sessions/{current_id}/extend"), &p.key, None).await;
        assert_eq!(ext.status, 204);
        let after = c.admin(Method::GET, &format!("{base}/admin/sessions/{current_id}"), &p.key, None).await;
        assert!(expect(&after, 200)["expires_at"].as_str().unwrap() > before.as_str());
        let missing = c
            .admin(Method::GET, &format!("{base}/admin/sessions/00000000-0000-0000-0000-000000000001"), &p.key, None)
            .await;
        assert_eq!(missing.status, 404);

        let of = c.admin(Method::GET, &format!("{base}/admin/identities/{identity}/sessions"), &p.key, None).await;
        assert_eq!(expect(&of, 200).as_array().unwrap().len(), 4);
        let wipe = c.admin(Method::DELETE, &format!("{base}/admin/identities/{identity}/sessions"), &p.key, None).await;
        assert_eq!(wipe.status, 204);
        assert_eq!(c.get_json(&format!("{base}/sessions/whoami"), &[("x-session-token", &first)]).await.status, 401);
        stack.stop().await;
    }
}

#[tokio::test]
async fn nothing_crosses_between_projects() {
    for backend in backends() {
        let stack = stack(backend).await;
        let a = project(&stack, "eu-central").await;
        let b = project(&stack, "eu-central").await;
        let mut c = Client::new();
        let reg = register_api(&mut c, &a.base, "ivy@example.com", STRONG).await;
        let token = expect(&reg, 200)["session_token"].as_str().unwrap().to_owned();
        let identity = reg.body["identity"]["id"].as_str().unwrap().to_owned();
        let session = reg.body["session"]["id"].as_str().unwrap().to_owned();

        // A's token is no session at B (whoami, cookie, bearer), even after A cached it.
        expect(&c.get_json(&format!("{}/sessions/whoami", a.base), &[("x-session-token", &token)]).await, 200);
        assert_eq!(
            c.get_json(&format!("{}/sessions/whoami", b.base), &[("x-session-token", &token)]).await.status,
            401
        );
        let bearer = format!("Bearer {token}");
        assert_eq!(c.get_json(&format!("{}/sessions/whoami", b.base), &[("authorization", &bearer)]).await.status, 401);
        let cookie = format!("ory_session_{}={token}", b.slug.replace('-', ""));
        assert_eq!(c.get_json(&format!("{}/sessions/whoami", b.base), &[("cookie", &cookie)]).await.status, 401);
        let out = c
            .send(
                Method::DELETE,
                &format!("{}/self-service/logout/api", b.base),
                Some(Body::Json(json!({"session_token": token}))),
                &[],
                false,
            )
            .await;
        assert_eq!(out.status, 403);

        // A's identity and session ids are unknown to B's admin API; B's key does not open A.
        for path in [
            format!("/admin/identities/{identity}"),
            format!("/admin/sessions/{session}"),
            format!("/admin/identities/{identity}/sessions"),
        ] {
            let r = c.admin(Method::GET, &format!("{}{path}", b.base), &b.key, None).await;
            assert!(matches!(r.status.as_u16(), 404 | 200), "{path}: {}", r.status);
            if r.status == 200 {
                assert_eq!(r.body, json!([]), "{path}");
            }
            let r = c.admin(Method::GET, &format!("{}{path}", a.base), &b.key, None).await;
            assert_eq!(r.status, 401, "{path}");
        }
        let del = c.admin(Method::DELETE, &format!("{}/admin/identities/{identity}", b.base), &b.key, None).await;
        assert_eq!(del.status, 404);
        let listed = c.admin(Method::GET, &format!("{}/admin/identities", b.base), &b.key, None).await;
        assert_eq!(expect(&listed, 200), &json!([]));
        // Same email in B is a different account.
        expect(&register_api(&mut c, &b.base, "ivy@example.com", STRONG).await, 200);
        assert_eq!(
            c.get_json(&format!("{}/sessions/whoami", a.base), &[("x-session-token", &token)]).await.status,
            200
        );

        // Settings flows belong to their identity.
        let flow = c.get_json(&format!("{}/self-service/settings/api", a.base), &[("x-session-token", &token)]).await;
        let flow_id = expect(&flow, 200)["id"].as_str().unwrap().to_owned();
        let reg2 = register_api(&mut c, &a.base, "jack@example.com", STRONG).await;
        let other = expect(&reg2, 200)["session_token"].as_str().unwrap().to_owned();
        let steal = c
            .get_json(&format!("{}/self-service/settings/flows?id={flow_id}", a.base), &[("x-session-token", &other)])
            .await;
        assert_eq!(expect(&steal, 403)["error"]["id"], "security_identity_mismatch");
        let at_b = c
            .get_json(&format!("{}/self-service/settings/flows?id={flow_id}", b.base), &[("x-session-token", &token)])
            .await;
        assert_eq!(at_b.status, 404);
        stack.stop().await;
    }
}

#[tokio::test]
async fn settings_need_a_recent_sign_in_for_credentials() {
    for backend in backends() {
        let stack = stack(backend).await;
        let p = project(&stack, "eu-central").await;
        let base = &p.base;
        patch_config(&stack, &p, json!([{"op": "add", "path": "/services/identity/config/selfservice/flows/settings/privileged_session_max_age", "value": "1s"}])).await;
        let mut c = Client::new();
        let reg = register_api(&mut c, base, "kim@example.com", STRONG).await;
        let token = expect(&reg, 200)["session_token"].as_str().unwrap().to_owned();
        let no_session = c.get_json(&format!("{base}/self-service/settings/api"), &[]).await;
        assert_eq!(expect(&no_session, 401)["error"]["id"], "session_inactive");
        let flow = c.get_json(&format!("{base}/self-service/settings/api"), &[("x-session-token", &token)]).await;
        let flow = expect(&flow, 200).clone();
        let groups: Vec<&str> =
            flow["ui"]["nodes"].as_array().unwrap().iter().map(|n| n["group"].as_str().unwrap()).collect();
        assert!(groups.contains(&"profile") && groups.contains(&"password"), "{groups:?}");
        let action = flow["ui"]["action"].as_str().unwrap().to_owned();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let submit = |body: serde_json::Value| Body::Json(body);
        // A profile change that keeps the identifiers needs no fresh sign-in; changing the email does.
        let same = c
            .send(
                Method::POST,
                &action,
                Some(submit(json!({"method": "profile", "traits": {"email": "kim@example.com"}}))),
                &[("x-session-token", &token)],
                false,
            )
            .await;
        assert_eq!(expect(&same, 200)["state"], "success");
        let email = c
            .send(
                Method::POST,
                &action,
                Some(submit(json!({"method": "profile", "traits": {"email": "kim2@example.com"}}))),
                &[("x-session-token", &token)],
                false,
            )
            .await;
        let refused = expect(&email, 403);
        assert_eq!(refused["error"]["id"], "session_refresh_required");
        assert!(refused["redirect_browser_to"].as_str().unwrap().contains("refresh=true"));
        let pw = c
            .send(
                Method::POST,
                &action,
                Some(submit(json!({"method": "password", "password": "a-new-long-passphrase-9"}))),
                &[("x-session-token", &token)],
                false,
            )
            .await;
        assert_eq!(expect(&pw, 403)["error"]["id"], "session_refresh_required");
        // A fresh session may.
        let login = login_api(&mut c, base, "kim@example.com", STRONG).await;
        let fresh = expect(&login, 200)["session_token"].as_str().unwrap().to_owned();
        let flow = c.get_json(&format!("{base}/self-service/settings/api"), &[("x-session-token", &fresh)]).await;
        let action = expect(&flow, 200)["ui"]["action"].as_str().unwrap().to_owned();
        let bad = c
            .send(
                Method::POST,
                &action,
                Some(submit(json!({"method": "profile", "traits": {"email": "nope"}}))),
                &[("x-session-token", &fresh)],
                false,
            )
            .await;
        assert_eq!(super::messages(expect(&bad, 400)), [(4000040, "traits.email".to_owned())]);
        let ok = c
            .send(
                Method::POST,
                &action,
                Some(submit(json!({"method": "profile", "traits": {"email": "kim2@example.com"}}))),
                &[("x-session-token", &fresh)],
                false,
            )
            .await;
        assert_eq!(expect(&ok, 200)["identity"]["traits"]["email"], "kim2@example.com");
        assert_eq!(login_api(&mut c, base, "kim2@example.com", STRONG).await.status, 200, "the new email signs in");
        assert_eq!(login_api(&mut c, base, "kim@example.com", STRONG).await.status, 400, "the old one does not");
        stack.stop().await;
    }
}
