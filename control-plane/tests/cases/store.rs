//! Store tests, run on SQLite always and on Postgres when `DATABASE_URL` is set.

use tessera_control_plane::migrations;
use tessera_control_plane::model::*;
use tessera_control_plane::store::{MemberRemoval, ProjectFilter, Store, StoreError};
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::testing::{TestDatabase, backends};
use tessera_platform::ids::*;
use tessera_platform::pagination::PageRequest;

fn now() -> time::OffsetDateTime {
    SystemClock.now()
}

fn workspace(name: &str) -> Workspace {
    let t = now();
    Workspace {
        id: WorkspaceId::new(),
        name: name.into(),
        access_policy: None,
        subscription_plan: "developer".into(),
        created_at: t,
        updated_at: t,
    }
}

fn settings(name: &str) -> ProjectSettings {
    serde_json::from_value(serde_json::json!({
        "name": name,
        "services": {"identity": {"config": {"z": 1, "a": {"nested": [1, 2.5, "x"]}}}},
        "cors_public": {"enabled": false, "origins": []},
        "cors_admin": {"enabled": false, "origins": []},
        "organizations": []
    }))
    .unwrap()
}

fn project(ws: WorkspaceId, slug: &str) -> (Project, Revision) {
    let t = now();
    let p = Project {
        id: ProjectId::new(),
        workspace_id: ws,
        slug: slug.into(),
        name: "P".into(),
        environment: Environment::Dev,
        home_region: "eu-central".into(),
        state: ProjectState::Running,
        revision_id: RevisionId::new(),
        created_at: t,
        updated_at: t,
    };
    let r = Revision {
        project_id: p.id,
        id: p.revision_id,
        settings: settings("P"),
        rendered: serde_json::json!({"rendered": true}),
        warnings: vec![ConfigWarning { code: 1001, message: "w".into() }],
        created_at: t,
    };
    (p, r)
}

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let t = TestDatabase::new(backend, &migrations()).await;
        f(Store::new(t.db.clone())).await;
    }
}

async fn create_project(store: &Store, p: &Project, r: &Revision) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    store.project_create_in_tx(&mut tx, p, r).await?;
    tx.commit().await?;
    Ok(())
}

async fn create_key(store: &Store, key: &ApiKey, hash: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    store.api_key_create_in_tx(&mut tx, key, hash).await?;
    tx.commit().await?;
    Ok(())
}

async fn delete_key(store: &Store, scope: KeyScope, id: ApiKeyId) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let deleted = store.api_key_delete_in_tx(&mut tx, scope, id).await?;
    tx.commit().await?;
    Ok(deleted)
}

#[tokio::test]
async fn workspaces_round_trip_and_page() {
    each_backend(|store| async move {
        let mut created = Vec::new();
        for i in 0..5 {
            let w = workspace(&format!("w{i}"));
            store.workspace_create(&w).await.unwrap();
            created.push(w);
        }
        assert_eq!(store.workspace_get(created[0].id).await.unwrap().as_ref(), Some(&created[0]));
        assert_eq!(store.workspace_get(WorkspaceId::new()).await.unwrap(), None);

        let first = store.workspace_list(None, &PageRequest { size: 2, after: None }).await.unwrap();
        assert_eq!(first.len(), 3, "over-fetches one to detect the next page");
        let second = store.workspace_list(None, &PageRequest { size: 2, after: Some(first[1].id.0) }).await.unwrap();
        assert_eq!(second[0].id, created[2].id);
        let only = store.workspace_list(Some(created[3].id), &PageRequest { size: 10, after: None }).await.unwrap();
        assert_eq!(only, vec![created[3].clone()]);

        let mut renamed = created[1].clone();
        renamed.name = "renamed".into();
        renamed.access_policy = Some(AccessPolicy::CheckAccessPermission);
        assert!(store.workspace_update(&renamed).await.unwrap());
        assert_eq!(store.workspace_get(renamed.id).await.unwrap(), Some(renamed));
        assert!(!store.workspace_update(&workspace("ghost")).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn projects_revisions_are_atomic_and_optimistic() {
    each_backend(|store| async move {
        let w = workspace("w");
        store.workspace_create(&w).await.unwrap();
        let (p, r) = project(w.id, "alpha-1");
        create_project(&store, &p, &r).await.unwrap();

        let got = store.project_get(p.id).await.unwrap().unwrap();
        assert_eq!(got.project, p);
        assert_eq!(got.settings, r.settings);
        assert_eq!(
            serde_json::to_string(&got.settings.services.identity.unwrap().config).unwrap(),
            r#"{"z":1,"a":{"nested":[1,2.5,"x"]}}"#,
            "settings come back byte for byte, key order included"
        );

        // A duplicate slug is refused and leaves nothing behind.
        let (dup, dup_rev) = project(w.id, "alpha-1");
        assert!(matches!(create_project(&store, &dup, &dup_rev).await, Err(StoreError::Duplicate)));
        assert_eq!(store.project_get(dup.id).await.unwrap(), None);
        assert!(store.revision_list(dup.id).await.unwrap().is_empty());

        // Advancing from the current revision works once; a stale writer is refused.
        let mut next = r.clone();
        next.id = RevisionId::new();
        next.settings.name = "P2".into();
        let mut tx = store.begin().await.unwrap();
        assert!(store.project_advance_revision_in_tx(&mut tx, p.revision_id, &next).await.unwrap());
        tx.commit().await.unwrap();
        let mut stale = r.clone();
        stale.id = RevisionId::new();
        let mut tx = store.begin().await.unwrap();
        assert!(!store.project_advance_revision_in_tx(&mut tx, p.revision_id, &stale).await.unwrap());
        drop(tx);
        let got = store.project_get(p.id).await.unwrap().unwrap();
        assert_eq!(got.project.revision_id, next.id);
        assert_eq!(got.project.name, "P2");
        let history = store.revision_list(p.id).await.unwrap();
        assert_eq!(history.iter().map(|r| r.id).collect::<Vec<_>>(), vec![next.id, r.id]);
        assert_eq!(store.revision_get(p.id, r.id).await.unwrap().unwrap().warnings, r.warnings);

        // Listing filters.
        let (p2, r2) = project(w.id, "beta-2");
        create_project(&store, &p2, &r2).await.unwrap();
        let page = PageRequest { size: 10, after: None };
        assert_eq!(store.project_list(ProjectFilter::Workspace(w.id), &page).await.unwrap().len(), 2);
        assert_eq!(store.project_list(ProjectFilter::Project(p2.id), &page).await.unwrap()[0].id, p2.id);
        assert!(store.project_list(ProjectFilter::Workspace(WorkspaceId::new()), &page).await.unwrap().is_empty());

        // Purge removes history, keys and members, keeps the slug reserved, and is not repeatable.
        let t = now();
        let account = store.account_upsert("a@example.com", "A", t).await.unwrap();
        store.project_member_put(p.id, account, Role::Owner, t).await.unwrap();
        let key = ApiKey {
            id: ApiKeyId::new(),
            scope: KeyScope::Project { workspace_id: w.id, project_id: p.id },
            name: "k".into(),
            owner_id: account,
            last_characters: "abcd".into(),
            expires_at: None,
            created_at: t,
            updated_at: t,
        };
        create_key(&store, &key, "hash-of-k").await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(store.project_purge_in_tx(&mut tx, p.id, t).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(store.project_get(p.id).await.unwrap(), None);
        assert!(store.revision_list(p.id).await.unwrap().is_empty());
        assert!(store.api_key_by_hash("hash-of-k").await.unwrap().is_none());
        assert!(store.project_member_list(p.id).await.unwrap().is_empty());
        assert!(store.project_slug_taken("alpha-1").await.unwrap());
        assert_eq!(store.project_list(ProjectFilter::All, &page).await.unwrap().len(), 1);
        let mut tx = store.begin().await.unwrap();
        assert!(!store.project_purge_in_tx(&mut tx, p.id, t).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn api_keys_are_scoped_and_found_by_hash() {
    each_backend(|store| async move {
        let w = workspace("w");
        store.workspace_create(&w).await.unwrap();
        let (p, r) = project(w.id, "gamma-3");
        create_project(&store, &p, &r).await.unwrap();
        let t = now();
        let mk = |scope, name: &str| ApiKey {
            id: ApiKeyId::new(),
            scope,
            name: name.into(),
            owner_id: AccountId::new(),
            last_characters: "wxyz".into(),
            expires_at: Some(t + time::Duration::days(1)),
            created_at: t,
            updated_at: t,
        };
        let wk = mk(KeyScope::Workspace(w.id), "workspace key");
        let pk = mk(KeyScope::Project { workspace_id: w.id, project_id: p.id }, "project key");
        create_key(&store, &wk, "h-w").await.unwrap();
        create_key(&store, &pk, "h-p").await.unwrap();
        assert!(matches!(
            create_key(&store, &mk(KeyScope::Workspace(w.id), "dup"), "h-w").await,
            Err(StoreError::Duplicate)
        ));

        let found = store.api_key_by_hash("h-p").await.unwrap().unwrap();
        assert_eq!(found.key, pk);
        assert_eq!(found.secret_hash, "h-p");
        assert_eq!(store.api_key_list(KeyScope::Workspace(w.id)).await.unwrap(), vec![wk.clone()]);
        assert_eq!(store.api_key_list(pk.scope).await.unwrap(), vec![pk.clone()]);
        assert_eq!(store.api_key_count(KeyScope::Workspace(w.id)).await.unwrap(), 1);

        // A key can only be deleted through its own scope.
        assert!(!delete_key(&store, KeyScope::Workspace(w.id), pk.id).await.unwrap());
        assert!(!delete_key(&store, KeyScope::Workspace(WorkspaceId::new()), wk.id).await.unwrap());
        assert!(delete_key(&store, pk.scope, pk.id).await.unwrap());
        assert!(store.api_key_by_hash("h-p").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn members_keep_an_owner() {
    each_backend(|store| async move {
        let w = workspace("w");
        store.workspace_create(&w).await.unwrap();
        let (p, r) = project(w.id, "delta-4");
        create_project(&store, &p, &r).await.unwrap();
        let t = now();
        let a = store.account_upsert("a@example.com", "A", t).await.unwrap();
        assert_eq!(store.account_upsert("a@example.com", "Other name", t).await.unwrap(), a, "upsert is by email");
        let b = store.account_upsert("b@example.com", "B", t).await.unwrap();
        store.project_member_put(p.id, a, Role::Owner, t).await.unwrap();
        store.project_member_put(p.id, b, Role::Viewer, t).await.unwrap();
        store.project_member_put(p.id, b, Role::Developer, t).await.unwrap();
        let members = store.project_member_list(p.id).await.unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members.iter().find(|m| m.account_id == b).unwrap().role, Role::Developer);
        assert_eq!(members[0].name, "A");

        assert_eq!(store.project_member_remove(p.id, a).await.unwrap(), MemberRemoval::LastOwner);
        assert_eq!(store.project_member_list(p.id).await.unwrap().len(), 2, "refused removal wrote nothing");
        assert_eq!(store.project_member_remove(p.id, b).await.unwrap(), MemberRemoval::Removed);
        assert_eq!(store.project_member_remove(p.id, b).await.unwrap(), MemberRemoval::NotAMember);
    })
    .await;
}
