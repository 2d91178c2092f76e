//! `tessera dev` through the same harness: seeds once, keeps data across restarts, writes dev.json.

use tessera_e2e::dev::{DevInfo, DevOptions, start};
use tessera_platform::config::Config;

use super::api::{Answer, expect};

async fn get(url: &str, key: &str) -> Answer {
    let resp = reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    Answer { status, headers, body: resp.json().await.unwrap() }
}

#[tokio::test]
async fn dev_seeds_once_and_restarts_with_the_same_data() {
    let dir = std::env::temp_dir().join(format!("tessera-dev-test-{}", uuid::Uuid::now_v7().simple()));
    let opts = DevOptions { data_dir: dir.clone(), port: 0, database_url: None };
    let base = Config::load(None, Vec::new()).unwrap().config;

    let first = start(base.clone(), &opts).await.unwrap();
    let written: DevInfo = serde_json::from_str(&std::fs::read_to_string(dir.join("dev.json")).unwrap()).unwrap();
    assert_eq!(written, first.info);
    let info = first.info.clone();
    let project =
        get(&format!("{}/projects/{}", info.control_plane_url, info.project.id), &info.workspace_api_key).await;
    assert_eq!(expect(&project, 200)["slug"], info.project.slug.as_str());
    let members =
        get(&format!("{}/projects/{}/members", info.control_plane_url, info.project.id), &info.project.api_key).await;
    assert_eq!(expect(&members, 200)[0]["role"], "owner");
    first.stop().await;

    let second = start(base.clone(), &opts).await.unwrap();
    assert_eq!(second.info.workspace_id, info.workspace_id, "restart keeps the seeded workspace");
    assert_eq!(
        (&second.info.project.id, &second.info.project.slug, &second.info.project.api_key),
        (&info.project.id, &info.project.slug, &info.project.api_key)
    );
    assert_eq!(second.info.region_keys, info.region_keys, "region keys are reused");
    // The demo project is served through both regions.
    for region_url in second.info.regions.values() {
        let url = format!("{region_url}/p/{}/admin/tenant", info.project.slug);
        let mut served = None;
        for _ in 0..200 {
            let a = get(&url, &info.project.api_key).await;
            if a.status == 200 {
                served = Some(a);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(served.expect("the demo project is served").body["served_by"], "eu-central");
    }
    assert!(second.info.project.url.ends_with(&format!("/p/{}", info.project.slug)));
    assert!(second.info.project_url_template.contains("{slug}"));
    let workspaces = get(&format!("{}/workspaces", second.info.control_plane_url), &second.info.admin_api_key).await;
    assert_eq!(expect(&workspaces, 200)["workspaces"].as_array().unwrap().len(), 1, "no second seeding");
    // The requests above show up as usage of the demo workspace within a flush, and in the draft invoice.
    let usage_url = format!("{}/workspaces/{}/usage", second.info.control_plane_url, info.workspace_id);
    let mut seen = 0;
    for _ in 0..200 {
        let report = get(&usage_url, &info.workspace_api_key).await;
        let projects = expect(&report, 200)["projects"].as_array().unwrap().clone();
        seen = projects
            .iter()
            .flat_map(|p| p["meters"].as_array().unwrap().clone())
            .filter_map(|m| m["total"].as_u64())
            .sum();
        if seen >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(seen >= 2, "the two admin requests are counted ({seen})");
    let invoices = get(
        &format!("{}/workspaces/{}/invoices", second.info.control_plane_url, info.workspace_id),
        &info.workspace_api_key,
    )
    .await;
    assert_eq!(expect(&invoices, 200)["draft"]["status"], "draft");
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
