//! Hard limits: a developer-plan project over its limit gets `quota_exceeded`, with events at 80 % and 100 %,
//! others are untouched, and an upgrade lifts the block at once.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tessera_e2e::stack::RegionalStack;
use tessera_platform::db::testing::backends;

use super::super::api::expect;
use super::super::identity::{Client, project};
use super::{check, discovery, drained, workspace_of};

/// A catalogue whose developer plan allows 10 permission checks a month, and a production plan without limits.
fn small_plans(c: &mut tessera_platform::config::Config) {
    c.data_plane.rate_limit_scale = 1000.0;
    c.billing.plans.insert(
        "developer".into(),
        json!({"tier": "developer", "base_price_minor": 0, "default": true,
               "permission_checks": {"included": 10, "hard_limit": 10}}),
    );
    c.billing.plans.insert(
        "production".into(),
        json!({"tier": "production", "base_price_minor": 7000,
               "permission_checks": {"included": 1000, "overage": {"amount_minor": 50, "per": 1000}}}),
    );
}

async fn blocked(stack: &RegionalStack, c: &mut Client, p: &super::Project, expected: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        drained(stack).await;
        assert!(stack.converged(Duration::from_secs(10)).await);
        let url =
            format!("{}/relation-tuples/check/openapi?namespace=docs&object=o&relation=view&subject_id=s", p.base);
        let a = c.admin(Method::GET, &url, &p.key, None).await;
        if a.status.as_u16() == expected {
            if expected == 402 {
                assert_eq!(a.body["error"]["id"], "quota_exceeded", "{}", a.body);
                assert_eq!(a.body["error"]["code"], 402, "{}", a.body);
                assert!(a.body["error"]["reason"].as_str().unwrap().contains("permission_checks"), "{}", a.body);
            }
            return;
        }
        assert!(std::time::Instant::now() < deadline, "still {} instead of {expected}: {}", a.status, a.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_developer_project_over_its_limit_is_refused_and_others_are_not() {
    for backend in backends() {
        let stack = RegionalStack::start(backend, small_plans).await;
        let a = project(&stack, "eu-central").await;
        let b = project(&stack, "eu-central").await;
        let mut c = Client::new();
        for _ in 0..8 {
            assert_eq!(check(&mut c, &a).await, 200);
        }
        drained(&stack).await;
        let ws = workspace_of(&stack, &a).await;
        let usage_url = format!("{}/workspaces/{ws}/usage", stack.cp_url);
        let report = c.admin(Method::GET, &usage_url, &a.workspace_key, None).await;
        let events = expect(&report, 200)["events"].as_array().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["threshold"], 80);
        assert_eq!(events[0]["meter"], "permission_checks");
        assert_eq!(events[0]["quota"], 10);

        for _ in 0..2 {
            assert_eq!(check(&mut c, &a).await, 200);
        }
        blocked(&stack, &mut c, &a, 402).await;
        let report = c.admin(Method::GET, &usage_url, &a.workspace_key, None).await;
        let thresholds: Vec<i64> = expect(&report, 200)["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["threshold"].as_i64().unwrap())
            .collect();
        assert_eq!(thresholds, vec![100, 80], "one event per threshold, newest first");
        // Only the limited meter is refused, and only for this project.
        discovery(&mut c, &a.base, 1).await;
        assert_eq!(check(&mut c, &b).await, 200, "another workspace's developer project is untouched");

        // Plan changes: bad input is refused, another workspace's key cannot, an upgrade lifts the block at once.
        let sub = format!("{}/workspaces/{ws}/subscription", stack.cp_url);
        let yearly = c
            .admin(Method::PUT, &sub, &a.workspace_key, Some(json!({"plan": "production", "interval": "yearly"})))
            .await;
        assert_eq!(yearly.status.as_u16(), 400, "{}", yearly.body);
        let unknown = c
            .admin(Method::PUT, &sub, &a.workspace_key, Some(json!({"plan": "platinum", "interval": "monthly"})))
            .await;
        assert_eq!(unknown.status.as_u16(), 400, "{}", unknown.body);
        let foreign = c
            .admin(Method::PUT, &sub, &b.workspace_key, Some(json!({"plan": "production", "interval": "monthly"})))
            .await;
        assert_eq!(foreign.status.as_u16(), 404, "{}", foreign.body);
        let up = c
            .admin(Method::PUT, &sub, &a.workspace_key, Some(json!({"plan": "production", "interval": "monthly"})))
            .await;
        assert_eq!(expect(&up, 200)["subscription_plan"], "production");
        blocked(&stack, &mut c, &a, 200).await;

        // The draft invoice shows the prorated production fee and the usage line.
        let inv =
            c.admin(Method::GET, &format!("{}/workspaces/{ws}/invoices", stack.cp_url), &a.workspace_key, None).await;
        let inv = expect(&inv, 200);
        assert_eq!(inv["invoices"], json!([]), "no closed month yet");
        let draft: tessera_workspace_api::wire_billing::Invoice = serde_json::from_value(inv["draft"].clone())
            .unwrap_or_else(|e| panic!("the draft matches the documented schema: {e}: {}", inv["draft"]));
        assert_eq!(draft.status, "draft");
        assert!(
            draft.lines.iter().any(|l| l.kind == "base" && l.plan == "production" && l.amount_minor > 0),
            "{draft:?}"
        );
        let usage = draft.lines.iter().find(|l| l.kind == "usage" && l.meter.as_deref() == Some("permission_checks"));
        assert!(usage.is_some_and(|l| l.quantity >= 10), "{draft:?}");
        stack.stop().await;
    }
}
