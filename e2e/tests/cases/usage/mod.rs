//! Usage metering end to end: engines count, workers flush and ship, the control plane applies each batch
//! exactly once, and the workspace API reports it; under duplicated, reordered and lost acknowledgements,
//! control-plane outages and worker crashes.

mod billing;
mod pipeline;
mod quotas;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use tessera_control_plane::auth::Actor;
use tessera_e2e::stack::{REGIONS, RegionalStack};
use tessera_platform::db::Database;
use tessera_platform::ids::{ProjectId, WorkspaceId};
use tessera_platform::usage::UsageDelta;
use tessera_worker::usage::store::OutboxStore;

use super::api::expect;
use super::identity::{Client, Project};

/// Waits until every running worker has flushed and its outbox is fully acknowledged.
pub async fn drained(stack: &RegionalStack) {
    for w in stack.workers.values() {
        w.flush_usage().await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut pending = 0;
        for region in stack.workers.keys() {
            pending += outbox(stack, region).await.totals().await.unwrap().pending_batches;
        }
        if pending == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{pending} usage batches still unacknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A region's outbox, over its own pool.
pub async fn outbox(stack: &RegionalStack, region: &str) -> OutboxStore {
    let db = Database::connect(&stack.worker_database_url(region), 1).await.unwrap();
    OutboxStore::new(db)
}

/// Every count the regions ever wrote to their outboxes (the regions' ledger), summed by (project, meter).
pub async fn regional_ledger(stack: &RegionalStack) -> BTreeMap<(ProjectId, String), u64> {
    let mut sums = BTreeMap::new();
    for region in REGIONS {
        for body in outbox(stack, region).await.all_bodies().await.unwrap() {
            let delta: UsageDelta = serde_json::from_str(&body).unwrap();
            for c in delta.counts {
                *sums.entry((c.project_id, c.meter)).or_insert(0) += c.quantity;
            }
        }
    }
    sums
}

/// The control plane's aggregates for one project, summed over days and regions, by meter.
pub async fn aggregates(stack: &RegionalStack, project: ProjectId) -> BTreeMap<String, u64> {
    let today = tessera_platform::clock::Clock::now(&tessera_platform::clock::SystemClock).date();
    let rows = stack
        .control_plane()
        .store()
        .usage_daily(
            tessera_control_plane::store::UsageScope::Project(project),
            today - time::Duration::days(2),
            today + time::Duration::days(1),
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.meter).or_insert(0) += u64::try_from(r.quantity).unwrap();
    }
    out
}

/// The sum of the `api_requests.*` meters.
pub fn api_requests(meters: &BTreeMap<String, u64>) -> u64 {
    meters.iter().filter(|(m, _)| m.starts_with("api_requests.")).map(|(_, n)| n).sum()
}

/// The project's workspace id.
pub async fn workspace_of(stack: &RegionalStack, p: &Project) -> WorkspaceId {
    let id: ProjectId = p.id.parse().unwrap();
    stack.control_plane().project_get(&Actor::Operator, id).await.unwrap().project.workspace_id
}

/// Sends `n` cheap tenant requests (the OpenID discovery document) through `base`.
pub async fn discovery(c: &mut Client, base: &str, n: usize) {
    for _ in 0..n {
        let a = c.get_json(&format!("{base}/.well-known/openid-configuration"), &[]).await;
        expect(&a, 200);
    }
}

/// A permission check (unknown namespace: an answer, `allowed: false`, still counted).
pub async fn check(c: &mut Client, p: &Project) -> u16 {
    let url = format!("{}/relation-tuples/check/openapi?namespace=docs&object=o&relation=view&subject_id=s", p.base);
    c.admin(Method::GET, &url, &p.key, None).await.status.as_u16()
}
