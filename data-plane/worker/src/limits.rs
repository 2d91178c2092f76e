//! Per-tenant rate limits: a token bucket per project and endpoint group, sized by the project's plan tier
//! and environment.
//!
//! The groups and the shape of the table follow Ory Network's published limits (a bucket per service, split
//! public/admin; lower limits outside production environments and on the free tier); the numbers are ours.
//! Each project has its own buckets, so one tenant's flood is refused at the door, before any engine work,
//! and costs other tenants only the check itself.

use std::collections::HashMap;
use std::time::Duration;

use tessera_billing::Tier;
use tessera_platform::config::RateLimitConfig;
use tessera_platform::ids::ProjectId;
use tessera_platform::rate_limit::KeyedLimiter;

/// An endpoint group: requests that share a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `/sessions/whoami`: asked on every request of a tenant's app, so the largest budget.
    IdentityWhoami,
    /// Flow submissions (sign-in, sign-up attempts): the smallest budget, which is what slows password guessing.
    IdentitySubmit,
    IdentityPublic,
    IdentityAdmin,
    PermissionRead,
    PermissionAdmin,
    OAuth2Public,
    OAuth2Admin,
    Other,
}

impl Group {
    const ALL: [Group; 9] = [
        Group::IdentityWhoami,
        Group::IdentitySubmit,
        Group::IdentityPublic,
        Group::IdentityAdmin,
        Group::PermissionRead,
        Group::PermissionAdmin,
        Group::OAuth2Public,
        Group::OAuth2Admin,
        Group::Other,
    ];

    /// The group a request path belongs to.
    pub fn of(path: &str) -> Group {
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| path == *p || path.starts_with(&format!("{p}/")));
        if starts(&["/admin/identities", "/admin/sessions", "/admin/courier", "/admin/recovery", "/admin/schemas"]) {
            Group::IdentityAdmin
        } else if starts(&["/admin/relation-tuples", "/admin/namespaces"]) {
            Group::PermissionAdmin
        } else if starts(&["/admin/oauth2", "/admin/clients", "/admin/keys", "/admin/trust"]) {
            Group::OAuth2Admin
        } else if starts(&["/relation-tuples", "/namespaces", "/opl"]) {
            Group::PermissionRead
        } else if starts(&[
            "/oauth2",
            "/userinfo",
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
            "/.well-known/jwks.json",
        ]) {
            Group::OAuth2Public
        } else if path == "/sessions/whoami" {
            Group::IdentityWhoami
        } else if [
            "/self-service/login",
            "/self-service/registration",
            "/self-service/settings",
            "/self-service/recovery",
            "/self-service/verification",
        ]
        .contains(&path)
        {
            Group::IdentitySubmit
        } else if starts(&["/self-service", "/sessions", "/schemas", "/.well-known/ory"]) {
            Group::IdentityPublic
        } else {
            Group::Other
        }
    }

    /// The usage meter requests of this group count towards: `api_requests.<group>`, the same endpoint groups as
    /// the rate limits (billing sums them all).
    pub fn meter(&self) -> &'static str {
        match self {
            Group::IdentityWhoami => "api_requests.identity-whoami",
            Group::IdentitySubmit => "api_requests.identity-submit",
            Group::IdentityPublic => "api_requests.identity-public",
            Group::IdentityAdmin => "api_requests.identity-admin",
            Group::PermissionRead => "api_requests.permission-read",
            Group::PermissionAdmin => "api_requests.permission-admin",
            Group::OAuth2Public => "api_requests.oauth2-public",
            Group::OAuth2Admin => "api_requests.oauth2-admin",
            Group::Other => "api_requests.other",
        }
    }

    /// Label for metrics and errors.
    pub fn as_str(&self) -> &'static str {
        match self {
            Group::IdentityWhoami => "identity-whoami",
            Group::IdentitySubmit => "identity-submit",
            Group::IdentityPublic => "identity-public",
            Group::IdentityAdmin => "identity-admin",
            Group::PermissionRead => "permission-read",
            Group::PermissionAdmin => "permission-admin",
            Group::OAuth2Public => "oauth2-public",
            Group::OAuth2Admin => "oauth2-admin",
            Group::Other => "other",
        }
    }
}

/// Sustained requests per second and burst for a group on a production-environment project of `tier`.
fn production_budget(group: Group, tier: Tier) -> (f64, f64) {
    let (rate, burst) = match group {
        Group::IdentityWhoami => (600.0, 1200.0),
        Group::IdentitySubmit => (10.0, 20.0),
        Group::IdentityPublic => (30.0, 100.0),
        Group::IdentityAdmin => (10.0, 40.0),
        Group::PermissionRead => (50.0, 150.0),
        Group::PermissionAdmin => (10.0, 40.0),
        Group::OAuth2Public => (20.0, 60.0),
        Group::OAuth2Admin => (10.0, 40.0),
        Group::Other => (20.0, 60.0),
    };
    let factor = match tier {
        Tier::Developer => 0.33,
        Tier::Production => 1.0,
        Tier::Growth => 3.0,
        Tier::Enterprise => 10.0,
    };
    (rate * factor, burst * factor)
}

/// The budget for a group, tier and environment; staging and development projects get two thirds of production.
pub fn budget(group: Group, tier: Tier, environment: &str, scale: f64) -> RateLimitConfig {
    let (rate, burst) = production_budget(group, tier);
    let env = if environment == "prod" { 1.0 } else { 0.66 };
    let at_least_one = |x: f64| (x * env * scale).round().clamp(1.0, u32::MAX as f64) as u32;
    RateLimitConfig { requests_per_second: at_least_one(rate), burst: at_least_one(burst) }
}

/// The rate-limit tier of a project's plan: the one its directory record names, else the built-in catalogue's
/// tier for the plan id, else the developer tier (the smallest budget).
pub fn tier_of(plan: &str, plan_tier: Option<&str>) -> Tier {
    plan_tier.and_then(Tier::parse).or_else(|| tessera_billing::plan(plan).map(|p| p.tier)).unwrap_or(Tier::Developer)
}

/// Every project's buckets; one keyed limiter per distinct budget, keyed by project.
#[derive(Debug)]
pub struct TenantLimits {
    limiters: HashMap<(Group, u8, bool), KeyedLimiter<ProjectId>>,
}

fn tier_index(t: Tier) -> u8 {
    match t {
        Tier::Developer => 0,
        Tier::Production => 1,
        Tier::Growth => 2,
        Tier::Enterprise => 3,
    }
}

impl TenantLimits {
    /// Builds every bucket family up front, scaled by `scale` (1.0 in production).
    pub fn new(scale: f64) -> Self {
        let mut limiters = HashMap::new();
        for group in Group::ALL {
            for tier in [Tier::Developer, Tier::Production, Tier::Growth, Tier::Enterprise] {
                for prod in [true, false] {
                    let env = if prod { "prod" } else { "dev" };
                    limiters
                        .insert((group, tier_index(tier), prod), KeyedLimiter::new(budget(group, tier, env, scale)));
                }
            }
        }
        Self { limiters }
    }

    /// Spends one request of `project`'s budget for `group`, or says how long to wait.
    pub fn check(&self, project: ProjectId, tier: Tier, environment: &str, group: Group) -> Result<(), Duration> {
        let limiter = &self.limiters[&(group, tier_index(tier), environment == "prod")];
        limiter.check(&project)
    }

    /// Forgets idle buckets.
    pub fn shrink(&self) {
        for l in self.limiters.values() {
            l.shrink();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_groups() {
        assert_eq!(Group::of("/admin/identities/123"), Group::IdentityAdmin);
        assert_eq!(Group::of("/sessions/whoami"), Group::IdentityWhoami);
        assert_eq!(Group::of("/self-service/login"), Group::IdentitySubmit);
        assert_eq!(Group::of("/self-service/login/api"), Group::IdentityPublic);
        assert_eq!(Group::of("/relation-tuples/check"), Group::PermissionRead);
        assert_eq!(Group::of("/admin/relation-tuples"), Group::PermissionAdmin);
        assert_eq!(Group::of("/oauth2/token"), Group::OAuth2Public);
        assert_eq!(Group::of("/self-service/login/browser"), Group::IdentityPublic);
        assert_eq!(Group::of("/admin/identitiesX"), Group::Other);
        assert_eq!(Group::of("/health/alive"), Group::Other);
    }

    #[test]
    fn every_group_meters_as_its_own_api_requests_meter() {
        for g in Group::ALL {
            assert_eq!(g.meter(), format!("api_requests.{}", g.as_str()));
        }
    }

    #[test]
    fn budgets_follow_tier_and_environment() {
        let dev_free = budget(Group::IdentityPublic, Tier::Developer, "dev", 1.0);
        let prod_paid = budget(Group::IdentityPublic, Tier::Production, "prod", 1.0);
        assert!(dev_free.requests_per_second < prod_paid.requests_per_second);
        assert_eq!(budget(Group::IdentityAdmin, Tier::Developer, "dev", 0.0001).requests_per_second, 1);
    }

    #[test]
    fn the_record_s_tier_wins_over_the_built_in_catalogue() {
        assert_eq!(tier_of("startup", Some("growth")), Tier::Growth, "a custom plan with its tier");
        assert_eq!(tier_of("production", None), Tier::Production, "an older record");
        assert_eq!(tier_of("startup", None), Tier::Developer, "unknown: the smallest budget");
        assert_eq!(tier_of("startup", Some("platinum")), Tier::Developer);
    }

    #[test]
    fn each_project_has_its_own_bucket() {
        let limits = TenantLimits::new(1.0);
        let (a, b) = (ProjectId::new(), ProjectId::new());
        let burst = budget(Group::Other, Tier::Developer, "dev", 1.0).burst;
        for _ in 0..burst {
            assert!(limits.check(a, Tier::Developer, "dev", Group::Other).is_ok());
        }
        assert!(limits.check(a, Tier::Developer, "dev", Group::Other).is_err(), "a's burst is spent");
        assert!(limits.check(b, Tier::Developer, "dev", Group::Other).is_ok(), "b is unaffected");
        assert!(limits.check(a, Tier::Developer, "dev", Group::PermissionRead).is_ok(), "other groups are separate");
    }
}
