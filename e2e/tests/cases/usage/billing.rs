//! Invoices over time, with the control plane on a manual clock: closed months are frozen after the grace
//! period, a downgrade waits for the next month, and the housekeeping pass is idempotent.

use std::sync::Arc;

use tessera_control_plane::app::CreateProject;
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::Environment;
use tessera_control_plane::store::Store;
use tessera_control_plane::{ControlPlane, Settings};
use tessera_directory::{UsageBatch, UsageUpload};
use tessera_platform::clock::ManualClock;
use tessera_platform::config::{Config, RegionConfig};
use tessera_platform::db::testing::{TestDatabase, backends};
use tessera_platform::usage::{ActiveIdentities, MeterCount, UsageDelta};
use time::macros::{date, datetime};
use uuid::Uuid;

fn usage(project: tessera_platform::ids::ProjectId, day: time::Date, checks: u64, people: &[&str]) -> UsageUpload {
    UsageUpload {
        batches: vec![UsageBatch {
            id: Uuid::now_v7(),
            usage: UsageDelta {
                counts: vec![MeterCount {
                    project_id: project,
                    day,
                    meter: "permission_checks".into(),
                    quantity: checks,
                }],
                identities: vec![ActiveIdentities {
                    project_id: project,
                    day,
                    identities: people.iter().map(|s| s.to_string()).collect(),
                }],
            },
        }],
    }
}

#[tokio::test]
async fn closed_months_are_frozen_and_downgrades_wait_for_the_next_month() {
    for backend in backends() {
        let db = TestDatabase::new(backend, &tessera_control_plane::migrations()).await;
        let mut config = Config::load(None, Vec::new()).unwrap().config;
        config.regions.insert("eu-central".into(), RegionConfig { url: "http://127.0.0.1:1".parse().unwrap() });
        let clock = Arc::new(ManualClock::new(datetime!(2027-01-15 09:00 UTC)));
        let cp = ControlPlane::new(Store::new(db.db.clone()), clock.clone(), Settings::from_config(&config).unwrap());
        let op = Actor::Operator;
        let ws = cp.workspace_create(&op, "Acme").await.unwrap();
        let create = CreateProject {
            name: "App".into(),
            environment: Environment::Prod,
            home_region: Some("eu-central".into()),
            workspace_id: Some(ws.id),
        };
        let (p, _) = cp.project_create(&op, create).await.unwrap();
        let project = p.project.id;

        clock.advance(time::Duration::days(5)); // 2027-01-20 09:00: upgrade, effective at once
        assert_eq!(cp.subscription_set(&op, ws.id, "production").await.unwrap().subscription_plan, "production");
        cp.usage_ingest("eu-central", usage(project, date!(2027 - 01 - 25), 1_500, &["a", "b"])).await.unwrap();
        cp.usage_ingest("eu-central", usage(project, date!(2027 - 02 - 03), 2_500, &["a"])).await.unwrap();

        clock.advance(time::Duration::days(21)); // 2027-02-10 09:00: downgrade, effective on 1 March
        let w = cp.subscription_set(&op, ws.id, "developer").await.unwrap();
        assert_eq!(w.subscription_plan, "production", "a downgrade waits for the period end");
        assert_eq!(cp.billing_tick().await.unwrap(), 1, "January closed: frozen");

        clock.advance(time::Duration::days(19)); // 2027-03-01 09:00, past the 6 h grace
        let changed = cp.billing_tick().await.unwrap();
        assert_eq!(changed, 2, "the downgrade took effect and February was frozen");
        assert_eq!(cp.billing_tick().await.unwrap(), 0, "the pass is idempotent");
        assert_eq!(cp.workspace_get(&op, ws.id).await.unwrap().subscription_plan, "developer");

        let first = cp.invoice_list(&op, ws.id, Some(1), None).await.unwrap();
        assert_eq!(first.invoices.len(), 1);
        assert_eq!(first.invoices[0]["period"], "2027-02");
        assert_eq!(first.invoices[0]["status"], "final");
        // February: production all month (the downgrade waits for March): 7,000.
        assert_eq!(first.invoices[0]["total_minor"], 7_000);
        let token = first.next_page_token.clone().expect("an older invoice");
        let second = cp.invoice_list(&op, ws.id, Some(1), Some(&token)).await.unwrap();
        assert_eq!(second.invoices[0]["period"], "2027-01");
        // January: developer 15th 09:00 to 20th 09:00 (free), production 20th 09:00 to 1 Feb:
        // 7,000 x 1,004,400 s / 2,678,400 s = 2,625 (rounded half up); usage within the included amounts.
        assert_eq!(second.invoices[0]["total_minor"], 2_625, "{}", second.invoices[0]);
        assert!(second.next_page_token.is_none());
        assert_eq!(first.draft["period"], "2027-03");
        assert_eq!(first.draft["status"], "draft");

        // A frozen invoice does not change when late usage for its month arrives.
        cp.usage_ingest("eu-central", usage(project, date!(2027 - 02 - 27), 50_000_000, &[])).await.unwrap();
        let again = cp.invoice_list(&op, ws.id, Some(1), None).await.unwrap();
        assert_eq!(again.invoices[0]["total_minor"], 7_000);
        assert!(cp.invoice_list(&op, ws.id, None, Some("not-a-period")).await.is_err());
    }
}
