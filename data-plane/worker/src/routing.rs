//! Resolving a request to exactly one project: by host (a project's `<slug>.<projects domain>` or a verified
//! custom domain, both in the record's `hosts`), or by the path prefix `/p/<slug>/…` for local use where
//! wildcard DNS is not available. The prefix is stripped before the engines see the path.

use std::sync::Arc;

use crate::directory::{Directory, Tenant};

/// The path prefix that names a project: `/p/<slug>/...`.
pub const PATH_PREFIX: &str = "/p/";

/// What a request is for.
#[derive(Debug)]
pub enum Resolution {
    /// A project's request; `rewritten_path` is the path without the `/p/<slug>` prefix, when there was one.
    Tenant { tenant: Arc<Tenant>, rewritten_path: Option<String> },
    /// Addressed to a project that does not exist here.
    UnknownProject,
    /// Addressed to the worker itself (health, metrics).
    Worker,
}

/// Resolves `host` (as sent, possibly with a port) and `path`.
pub fn resolve(directory: &Directory, projects_domain: &str, host: &str, path: &str) -> Resolution {
    let host = strip_port(host).to_ascii_lowercase();
    if let Some(tenant) = directory.by_host(&host) {
        return Resolution::Tenant { tenant, rewritten_path: None };
    }
    if host.ends_with(&format!(".{projects_domain}")) {
        return Resolution::UnknownProject;
    }
    if let Some(rest) = path.strip_prefix(PATH_PREFIX) {
        let (slug, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        return match directory.by_slug(slug) {
            Some(tenant) => Resolution::Tenant { tenant, rewritten_path: Some(tail.to_owned()) },
            None => Resolution::UnknownProject,
        };
    }
    Resolution::Worker
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port
        return host.split_once(']').map(|(h, _)| &h[1..]).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tessera_directory::ProjectRecord;
    use tessera_platform::ids::{ProjectId, WorkspaceId};

    use super::*;

    fn directory() -> Directory {
        let d = Directory::new();
        d.apply(
            1,
            [ProjectRecord {
                project_id: ProjectId::new(),
                workspace_id: WorkspaceId::new(),
                slug: "shop-1".into(),
                state: "running".into(),
                environment: "prod".into(),
                home_region: "eu-central".into(),
                plan: "developer".into(),
                revision_id: None,
                project_url: "https://shop-1.projects.example.com".into(),
                hosts: vec!["shop-1.projects.example.com".into(), "login.shop.com".into()],
                api_keys: vec![],
                config: json!({}),
                quota_exceeded: Vec::new(),
                plan_tier: None,
            }],
        );
        d
    }

    fn slug_of(r: Resolution) -> Option<(String, Option<String>)> {
        match r {
            Resolution::Tenant { tenant, rewritten_path } => Some((tenant.record.slug.clone(), rewritten_path)),
            _ => None,
        }
    }

    #[test]
    fn hosts_custom_domains_and_prefixes_resolve() {
        let d = directory();
        let domain = "projects.example.com";
        assert_eq!(slug_of(resolve(&d, domain, "shop-1.projects.example.com", "/x")), Some(("shop-1".into(), None)));
        assert_eq!(
            slug_of(resolve(&d, domain, "SHOP-1.projects.example.com:443", "/x")),
            Some(("shop-1".into(), None))
        );
        assert_eq!(slug_of(resolve(&d, domain, "login.shop.com", "/x")), Some(("shop-1".into(), None)));
        assert_eq!(
            slug_of(resolve(&d, domain, "127.0.0.1:4100", "/p/shop-1/admin/tenant")),
            Some(("shop-1".into(), Some("/admin/tenant".into())))
        );
        assert_eq!(
            slug_of(resolve(&d, domain, "127.0.0.1:4100", "/p/shop-1")),
            Some(("shop-1".into(), Some("/".into())))
        );
        assert!(matches!(resolve(&d, domain, "nope.projects.example.com", "/x"), Resolution::UnknownProject));
        assert!(matches!(resolve(&d, domain, "127.0.0.1", "/p/nope/x"), Resolution::UnknownProject));
        assert!(matches!(resolve(&d, domain, "127.0.0.1:4100", "/health/alive"), Resolution::Worker));
        assert!(matches!(resolve(&d, domain, "[::1]:4100", "/metrics"), Resolution::Worker));
    }
}
