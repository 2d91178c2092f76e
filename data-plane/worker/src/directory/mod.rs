//! The region's replica of the directory: every project's record, indexed for routing.
//!
//! Reads (one per request) take a read lock for a hash lookup and clone an `Arc`; writes (one per applied
//! batch) take the write lock briefly. Records are replaced whole, exactly as the log carries them.

pub mod store;
pub mod sync;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use tessera_directory::ProjectRecord;
use tessera_platform::ids::ProjectId;
use tessera_project_config::RenderedConfig;

/// One project as this region knows it.
#[derive(Debug)]
pub struct Tenant {
    pub record: ProjectRecord,
    config: OnceLock<Result<Arc<RenderedConfig>, String>>,
}

impl Tenant {
    /// Wraps a record; its configuration is expanded on first use, so syncing many projects stays cheap.
    pub fn new(record: ProjectRecord) -> Self {
        Self { record, config: OnceLock::new() }
    }

    /// The full rendered configuration (compact record applied over the project's defaults).
    pub fn config(&self) -> Result<Arc<RenderedConfig>, String> {
        self.config
            .get_or_init(|| {
                let base = tessera_project_config::baseline(&self.record.project_url);
                let full = tessera_project_config::expand(&self.record.config, &base);
                serde_json::from_value(full).map(Arc::new).map_err(|e| e.to_string())
            })
            .clone()
    }
}

#[derive(Debug, Default)]
struct State {
    seq: i64,
    projects: HashMap<ProjectId, Arc<Tenant>>,
    hosts: HashMap<String, Arc<Tenant>>,
    slugs: HashMap<String, Arc<Tenant>>,
}

impl State {
    fn unindex(&mut self, project: ProjectId) {
        if let Some(old) = self.projects.remove(&project) {
            for host in &old.record.hosts {
                if self.hosts.get(host).is_some_and(|t| t.record.project_id == project) {
                    self.hosts.remove(host);
                }
            }
            if self.slugs.get(&old.record.slug).is_some_and(|t| t.record.project_id == project) {
                self.slugs.remove(&old.record.slug);
            }
        }
    }

    fn index(&mut self, record: ProjectRecord) {
        let id = record.project_id;
        self.unindex(id);
        if record.is_deleted() {
            return;
        }
        let tenant = Arc::new(Tenant::new(record));
        for host in &tenant.record.hosts {
            self.hosts.insert(host.to_ascii_lowercase(), tenant.clone());
        }
        self.slugs.insert(tenant.record.slug.clone(), tenant.clone());
        self.projects.insert(id, tenant);
    }
}

/// The in-memory directory.
#[derive(Debug, Default)]
pub struct Directory {
    state: RwLock<State>,
}

impl Directory {
    /// An empty directory at sequence 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces everything with `records`, current as of `seq` (a snapshot, or the persisted copy at start).
    pub fn replace(&self, seq: i64, records: Vec<ProjectRecord>) {
        let mut fresh = State { seq, ..State::default() };
        for r in records {
            fresh.index(r);
        }
        *self.state.write().expect("directory lock poisoned") = fresh;
    }

    /// Applies records in log order, ending at `seq`.
    pub fn apply(&self, seq: i64, records: impl IntoIterator<Item = ProjectRecord>) {
        let mut state = self.state.write().expect("directory lock poisoned");
        for r in records {
            state.index(r);
        }
        state.seq = seq;
    }

    /// Every entry up to this sequence number is applied.
    pub fn seq(&self) -> i64 {
        self.state.read().expect("directory lock poisoned").seq
    }

    /// Live projects known.
    pub fn len(&self) -> usize {
        self.state.read().expect("directory lock poisoned").projects.len()
    }

    /// Whether no project is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The project a hostname routes to.
    pub fn by_host(&self, host: &str) -> Option<Arc<Tenant>> {
        self.state.read().expect("directory lock poisoned").hosts.get(host).cloned()
    }

    /// The project with this slug.
    pub fn by_slug(&self, slug: &str) -> Option<Arc<Tenant>> {
        self.state.read().expect("directory lock poisoned").slugs.get(slug).cloned()
    }

    /// The project with this id.
    pub fn by_id(&self, id: ProjectId) -> Option<Arc<Tenant>> {
        self.state.read().expect("directory lock poisoned").projects.get(&id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tessera_platform::ids::WorkspaceId;

    use super::*;

    pub(crate) fn record(slug: &str, hosts: &[&str], state: &str) -> ProjectRecord {
        ProjectRecord {
            project_id: ProjectId::new(),
            workspace_id: WorkspaceId::new(),
            slug: slug.into(),
            state: state.into(),
            environment: "dev".into(),
            home_region: "eu-central".into(),
            plan: "developer".into(),
            revision_id: None,
            project_url: format!("https://{slug}.projects.example.com"),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            api_keys: vec![],
            config: json!({}),
            quota_exceeded: Vec::new(),
            plan_tier: None,
        }
    }

    #[test]
    fn replacing_a_record_moves_its_hosts() {
        let d = Directory::new();
        let mut a = record("a", &["a.projects.example.com", "login.a.com"], "running");
        d.apply(1, [a.clone()]);
        assert_eq!(d.by_host("login.a.com").unwrap().record.slug, "a");
        a.hosts = vec!["a.projects.example.com".into()];
        d.apply(2, [a.clone()]);
        assert!(d.by_host("login.a.com").is_none(), "a removed custom domain stops routing");
        assert_eq!(d.seq(), 2);

        // A host moving from one project to another is taken over, not lost when the old owner changes.
        let mut b = record("b", &["login.a.com"], "running");
        d.apply(3, [b.clone()]);
        a.state = "halted".into();
        d.apply(4, [a.clone()]);
        assert_eq!(d.by_host("login.a.com").unwrap().record.slug, "b");
        b.state = "deleted".into();
        d.apply(5, [b]);
        assert!(d.by_host("login.a.com").is_none());
        assert!(d.by_slug("b").is_none());
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn config_expands_lazily_from_the_compact_record() {
        let mut r = record("c", &[], "running");
        r.config = json!({"identity": {"session": {"lifespan": "2h"}}});
        let t = Tenant::new(r);
        let config = t.config().unwrap();
        assert_eq!(config.identity.session.lifespan.to_string(), "2h");
        assert_eq!(config.oauth2.urls.login.as_ref().unwrap().0.as_str(), "https://c.projects.example.com/ui/login");
    }
}
