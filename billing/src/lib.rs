//! Plans and, as billing lands, quotas, invoices, Stripe sync and S3 exports.
//!
//! Today this crate holds the plan catalogue: the plans a workspace can be on, and the one new workspaces
//! start on. The workspace API shows a workspace's plan as `subscription_plan`; the data plane will read the
//! plan's tier to pick rate-limit buckets.

use serde::Serialize;

/// The rate-limit and quota tier a plan belongs to; the tiers of Ory Network's published limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Free, hard-limited.
    Developer,
    /// Paid with included usage.
    Production,
    /// Paid, higher limits.
    Growth,
    /// Custom terms.
    Enterprise,
}

/// A plan a workspace can subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Stable id, stored on the workspace and shown as `subscription_plan`.
    pub id: &'static str,
    /// Name for people.
    pub display_name: &'static str,
    /// Its limits tier.
    pub tier: Tier,
}

const PLANS: &[Plan] = &[
    Plan { id: "developer", display_name: "Developer", tier: Tier::Developer },
    Plan { id: "production", display_name: "Production", tier: Tier::Production },
    Plan { id: "growth", display_name: "Growth", tier: Tier::Growth },
    Plan { id: "enterprise", display_name: "Enterprise", tier: Tier::Enterprise },
];

/// Every plan on offer.
pub fn plans() -> &'static [Plan] {
    PLANS
}

/// The plan a new workspace starts on.
pub fn default_plan() -> &'static Plan {
    &PLANS[0]
}

/// A plan by id.
pub fn plan(id: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lookup() {
        assert_eq!(default_plan().tier, Tier::Developer);
        assert_eq!(plan("growth").map(|p| p.tier), Some(Tier::Growth));
        assert!(plan("platinum").is_none());
        let ids: std::collections::HashSet<_> = plans().iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), plans().len(), "plan ids are unique");
    }
}
