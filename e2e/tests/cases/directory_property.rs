//! Directory correctness under random interleavings of changes and restarts: whatever happens, every region
//! converges on exactly the control plane's records, having applied entries in order with no gaps (the
//! worker refuses a batch that does not continue its cursor, so convergence on the same sequence number and
//! the same records is the proof).

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tessera_control_plane::app::{CreateProject, ProjectUpdate};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::model::{Environment, ProjectState};
use tessera_directory::ProjectRecord;
use tessera_e2e::stack::{REGIONS, RegionalStack};
use tessera_platform::db::testing::backends;
use tessera_platform::ids::ProjectId;

#[derive(Debug, Clone, Copy)]
enum Step {
    Create,
    Patch,
    Halt,
    Resume,
    AddKey,
    DeleteKey,
    Purge,
    RestartWorker,
    RestartControlPlane,
    ControlPlaneOutage,
}

fn pick(rng: &mut StdRng) -> Step {
    match rng.random_range(0..100) {
        0..25 => Step::Create,
        25..50 => Step::Patch,
        50..56 => Step::Halt,
        56..62 => Step::Resume,
        62..72 => Step::AddKey,
        72..78 => Step::DeleteKey,
        78..84 => Step::Purge,
        84..92 => Step::RestartWorker,
        92..96 => Step::RestartControlPlane,
        _ => Step::ControlPlaneOutage,
    }
}

async fn records_of_control_plane(stack: &RegionalStack) -> BTreeMap<ProjectId, ProjectRecord> {
    let (_, records) = stack.control_plane().directory_snapshot().await.unwrap();
    records
        .iter()
        .map(|r| serde_json::from_str::<ProjectRecord>(r).unwrap())
        .filter(|r| !r.is_deleted())
        .map(|r| (r.project_id, r))
        .collect()
}

#[tokio::test]
async fn regions_converge_on_the_control_planes_records_whatever_the_interleaving() {
    for backend in backends() {
        for seed in [7u64, 1234, 99_991] {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut stack = RegionalStack::start(backend, |c| c.data_plane.directory_wait_ms = 200).await;
            let op = Actor::Operator;
            let ws = stack.control_plane().workspace_create(&op, "W").await.unwrap().id;
            let mut live: Vec<ProjectId> = Vec::new();
            let mut steps = Vec::new();
            for n in 0..40 {
                let step = pick(&mut rng);
                steps.push(step);
                let target = (!live.is_empty()).then(|| live[rng.random_range(0..live.len())]);
                let cp = stack.control_plane().clone();
                match (step, target) {
                    (Step::Create, _) | (_, None)
                        if !matches!(
                            step,
                            Step::RestartWorker | Step::RestartControlPlane | Step::ControlPlaneOutage
                        ) =>
                    {
                        let region = REGIONS[rng.random_range(0..REGIONS.len())].to_owned();
                        let (p, _) = cp
                            .project_create(
                                &op,
                                CreateProject {
                                    name: format!("p{n}"),
                                    environment: Environment::Prod,
                                    home_region: Some(region),
                                    workspace_id: Some(ws),
                                },
                            )
                            .await
                            .unwrap();
                        live.push(p.project.id);
                    }
                    (Step::Patch, Some(p)) => {
                        let ops =
                            serde_json::json!([{"op": "replace", "path": "/name", "value": format!("renamed {n}")}]);
                        cp.project_update(&op, p, ProjectUpdate::Patch(ops), None).await.unwrap();
                    }
                    (Step::Halt, Some(p)) => {
                        cp.project_set_state(&op, p, ProjectState::Halted).await.unwrap();
                    }
                    (Step::Resume, Some(p)) => {
                        cp.project_set_state(&op, p, ProjectState::Running).await.unwrap();
                    }
                    (Step::AddKey, Some(p)) => {
                        cp.project_key_create(&op, p, "k", None).await.unwrap();
                    }
                    (Step::DeleteKey, Some(p)) => {
                        if let Some(k) = cp.project_key_list(&op, p).await.unwrap().first() {
                            cp.project_key_delete(&op, p, k.id).await.unwrap();
                        }
                    }
                    (Step::Purge, Some(p)) => {
                        cp.project_purge(&op, p).await.unwrap();
                        live.retain(|x| *x != p);
                    }
                    (Step::RestartWorker, _) => {
                        let region = REGIONS[rng.random_range(0..REGIONS.len())];
                        stack.restart_worker(region).await;
                    }
                    (Step::RestartControlPlane, _) => {
                        stack.stop_control_plane().await;
                        stack.start_control_plane().await;
                    }
                    (Step::ControlPlaneOutage, _) => {
                        // The control plane is away while a worker restarts; it must come up from its copy.
                        stack.stop_control_plane().await;
                        let region = REGIONS[rng.random_range(0..REGIONS.len())];
                        let before = stack.workers[region].directory.seq();
                        stack.restart_worker(region).await;
                        let after = stack.workers[region].directory.seq();
                        assert!(
                            after >= before,
                            "seed {seed}: a worker restarted without the control plane lost progress ({before} -> {after})"
                        );
                        stack.start_control_plane().await;
                    }
                    _ => unreachable!(),
                }
            }
            assert!(stack.converged(Duration::from_secs(30)).await, "seed {seed}: regions converge after {steps:?}");
            let expected = records_of_control_plane(&stack).await;
            let head = stack.control_plane().store().directory_head().await.unwrap();
            for region in REGIONS {
                let worker = &stack.workers[region];
                assert_eq!(worker.directory.seq(), head, "seed {seed}, {region}: at the head");
                assert_eq!(worker.directory.len(), expected.len(), "seed {seed}, {region}: same projects");
                for (id, record) in &expected {
                    let got =
                        worker.directory.by_id(*id).unwrap_or_else(|| panic!("seed {seed}, {region}: {id} missing"));
                    assert_eq!(&got.record, record, "seed {seed}, {region}: record of {id}");
                }
            }
            stack.stop().await;
        }
    }
}
