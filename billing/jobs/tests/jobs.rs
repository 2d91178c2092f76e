//! The billing jobs against real local servers: moto_server for S3 and localstripe for Stripe (both started
//! through the project's scripts), over a real control plane on a manual clock.

use std::sync::Arc;

use serde_json::{Value, json};
use tessera_billing_jobs::BillingJobs;
use tessera_billing_stripe::testing::LocalStripeProcess;
use tessera_control_plane::app::CreateProject;
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_control_plane::store::Store;
use tessera_control_plane::{ControlPlane, Settings};
use tessera_directory::{UsageBatch, UsageUpload};
use tessera_export::testing::MotoServer;
use tessera_platform::clock::{Clock, ManualClock};
use tessera_platform::config::{Config, RegionConfig};
use tessera_platform::db::testing::{TestDatabase, backends};
use tessera_platform::ids::ProjectId;
use tessera_platform::usage::{ActiveIdentities, MeterCount, UsageDelta};
use time::macros::{date, datetime};
use uuid::Uuid;

fn upload(project: ProjectId, day: time::Date, meter: &str, quantity: u64, people: &[&str]) -> UsageUpload {
    UsageUpload {
        batches: vec![UsageBatch {
            id: Uuid::now_v7(),
            usage: UsageDelta {
                counts: vec![MeterCount { project_id: project, day, meter: meter.into(), quantity }],
                identities: vec![ActiveIdentities {
                    project_id: project,
                    day,
                    identities: people.iter().map(|s| s.to_string()).collect(),
                }],
            },
        }],
    }
}

async fn control_plane(db: &TestDatabase, config: &Config, clock: Arc<ManualClock>) -> (ControlPlane, ProjectId) {
    let cp = ControlPlane::new(Store::new(db.db.clone()), clock, Settings::from_config(config).unwrap());
    let ws = cp.workspace_create(&Actor::Operator, "Acme").await.unwrap();
    let create = CreateProject {
        name: "App".into(),
        environment: Environment::Prod,
        home_region: Some("eu-central".into()),
        workspace_id: Some(ws.id),
    };
    let (p, _) = cp.project_create(&Actor::Operator, create).await.unwrap();
    (cp, p.project.id)
}

fn base_config() -> Config {
    let mut config = Config::load(None, Vec::new()).unwrap().config;
    config.regions.insert("eu-central".into(), RegionConfig { url: "http://127.0.0.1:1".parse().unwrap() });
    config
}

#[tokio::test]
async fn closed_days_are_exported_once_with_hashes() {
    let moto = MotoServer::start();
    for backend in backends() {
        let bucket = format!("usage-{}", Uuid::now_v7().simple());
        let mut config = base_config();
        config.billing.export = Some(json!({
            "endpoint": moto.endpoint, "region": "us-east-1", "bucket": bucket, "prefix": "exports",
            "access_key_id": "testing", "secret_access_key": "testing"
        }));
        let db = TestDatabase::new(backend, &tessera_control_plane::migrations()).await;
        let clock = Arc::new(ManualClock::new(datetime!(2027-05-10 12:00 UTC)));
        let (cp, project) = control_plane(&db, &config, clock.clone()).await;
        cp.usage_ingest("eu-central", upload(project, date!(2027 - 05 - 10), "permission_checks", 40, &["a", "b"]))
            .await
            .unwrap();
        cp.usage_ingest("us-east", upload(project, date!(2027 - 05 - 10), "permission_checks", 2, &["b", "c"]))
            .await
            .unwrap();
        cp.usage_ingest("eu-central", upload(project, date!(2027 - 05 - 11), "m2m_tokens", 5, &[])).await.unwrap();
        let jobs = BillingJobs::from_config(&config, cp.clone(), clock.clone()).unwrap().expect("exports configured");
        let settings: tessera_export::S3Settings =
            serde_json::from_value(config.billing.export.clone().unwrap()).unwrap();
        let sink = tessera_export::ExportSink::new(&settings).unwrap();
        sink.client().create_bucket().bucket(&bucket).send().await.unwrap();

        // Before the day closed (plus its grace), nothing is written.
        clock.advance(time::Duration::hours(14)); // 11 May 02:00
        assert_eq!(jobs.tick().await.unwrap().days_exported, 0);
        clock.advance(time::Duration::hours(28)); // 12 May 06:00: 10 May closed and past the 6 h grace; 11 May too
        assert_eq!(jobs.tick().await.unwrap().days_exported, 2);
        assert_eq!(jobs.tick().await.unwrap().days_exported, 0, "each day once");

        let ws = cp.store().workspace_ids().await.unwrap()[0];
        let manifest: Value =
            serde_json::from_str(&jobs.store().export_manifest(ws, date!(2027 - 05 - 10)).await.unwrap().unwrap())
                .unwrap();
        assert_eq!(manifest["rows"], 3, "checks per region, and the distinct identities: {manifest}");
        for file in manifest["files"].as_array().unwrap() {
            let stored = sink.verify(file["key"].as_str().unwrap()).await.unwrap();
            assert_eq!(stored.sha256_hex, file["sha256"].as_str().unwrap());
        }
        let csv_key = format!("exports/usage/{ws}/2027-05-10/usage.csv");
        let csv = sink.client().get_object().bucket(&bucket).key(&csv_key).send().await.unwrap();
        let csv = String::from_utf8(csv.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "day,project_id,slug,meter,region,quantity");
        assert!(lines.iter().any(|l| l.ends_with(",daily_active_identities,,3")), "a, b, c once each: {csv}");
        assert!(lines.iter().any(|l| l.ends_with(",permission_checks,eu-central,40")), "{csv}");
        assert!(lines.iter().any(|l| l.ends_with(",permission_checks,us-east,2")), "{csv}");
    }
}

/// Plans with small included amounts so a few thousand checks are billable.
fn small_plans(config: &mut Config) {
    config.billing.plans.insert(
        "developer".into(),
        json!({"tier": "developer", "base_price_minor": 0, "default": true,
               "permission_checks": {"included": 1000, "hard_limit": 1000}}),
    );
    config.billing.plans.insert(
        "production".into(),
        json!({"tier": "production", "base_price_minor": 7000,
               "permission_checks": {"included": 1000, "overage": {"amount_minor": 50, "per": 1000}}}),
    );
}

async fn localstripe_get(url: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{url}{}", path.trim_start_matches('/')))
        .bearer_auth("sk_test_tessera")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn stripe_gets_the_customer_the_plan_and_each_unit_of_usage_once() {
    let stripe = LocalStripeProcess::start();
    for backend in backends() {
        let mut config = base_config();
        small_plans(&mut config);
        config.billing.stripe =
            Some(json!({"api_key": "sk_test_tessera", "base_url": stripe.base_url(), "flavor": "localstripe"}));
        let db = TestDatabase::new(backend, &tessera_control_plane::migrations()).await;
        let clock = Arc::new(ManualClock::new(datetime!(2027-05-10 12:00 UTC)));
        let (cp, project) = control_plane(&db, &config, clock.clone()).await;
        let ws = cp.store().workspace_ids().await.unwrap()[0];
        let jobs = BillingJobs::from_config(&config, cp.clone(), clock.clone()).unwrap().expect("stripe configured");

        // First pass: the customer and a subscription on the free plan.
        let first = jobs.tick().await.unwrap();
        assert!(first.stripe.failures.is_empty(), "{first:?}");
        let customer = jobs.store().stripe_customer(ws).await.unwrap().expect("a customer");
        let customers = localstripe_get(&stripe.base_url(), "/v1/customers").await;
        let ours: Vec<&Value> =
            customers["data"].as_array().unwrap().iter().filter(|c| c["id"] == customer.as_str()).collect();
        assert_eq!(ours.len(), 1);
        // The customer adds a card (in real life through Stripe Checkout), then upgrades.
        let card = reqwest::Client::new()
            .post(format!("{}v1/customers/{customer}/sources", stripe.base_url()))
            .bearer_auth("sk_test_tessera")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                "source[object]=card&source[number]=4242424242424242&source[exp_month]=12&source[exp_year]=2035&source[cvc]=123",
            )
            .send()
            .await
            .unwrap();
        assert!(card.status().is_success());
        clock.advance(time::Duration::minutes(5));
        cp.subscription_set(&Actor::Operator, ws, "production").await.unwrap();
        cp.usage_ingest("eu-central", upload(project, date!(2027 - 05 - 10), "permission_checks", 5_000, &[]))
            .await
            .unwrap();
        let tick = jobs.tick().await.unwrap();
        assert!(tick.stripe.failures.is_empty(), "{tick:?}");
        assert_eq!(tick.stripe.plan_changes, 1, "{tick:?}");
        assert_eq!(tick.stripe.usage_reports, 1, "4,000 billable checks reported: {tick:?}");
        let again = jobs.tick().await.unwrap();
        assert_eq!(again.stripe.usage_reports, 0, "an unchanged total is not reported again");

        clock.advance(time::Duration::days(1)); // 11 May
        cp.usage_ingest("eu-central", upload(project, date!(2027 - 05 - 11), "permission_checks", 1_000, &[]))
            .await
            .unwrap();
        let more = jobs.tick().await.unwrap();
        assert_eq!(more.stripe.usage_reports, 1, "{more:?}");
        // Stripe holds exactly what our draft charges for the checks (6,000 used, the prorated included amount
        // free), in items that add up.
        let draft = cp.invoice_compute(ws, "2027-05".parse().unwrap(), Some(clock.now())).await.unwrap();
        let ours: u64 = draft
            .lines
            .iter()
            .filter(|l| l.meter == Some("permission_checks") && l.kind == tessera_billing::LineKind::Usage)
            .map(|l| l.amount_minor)
            .sum();
        assert!(ours > 250, "most of 6,000 checks are billable at 50 per 1,000: {ours}");
        let items =
            localstripe_get(&stripe.base_url(), &format!("/v1/invoiceitems?customer={customer}&limit=100")).await;
        let usage: i64 = items["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["metadata"]["tessera_meter"] == "permission_checks")
            .map(|i| i["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(usage, ours as i64, "{items}");

        // After the month is frozen, its invoice is reconciled with Stripe's once.
        clock.advance(time::Duration::days(21)); // 1 June 12:05
        cp.billing_tick().await.unwrap();
        jobs.tick().await.unwrap();
        let outcome = jobs.store().stripe_reconciliation(ws, "2027-05").await.unwrap();
        assert!(matches!(outcome.as_deref(), Some("matched" | "missing" | "differs")), "{outcome:?}");
        assert_eq!(jobs.tick().await.unwrap().stripe.reconciled, 0, "once per period");
    }
}
