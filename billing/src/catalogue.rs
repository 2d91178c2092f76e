//! The plan catalogue: what each plan costs, includes and limits.
//!
//! A catalogue is built once, validated, and then only read.
//! The built-in catalogue holds illustrative list prices; a deployment may replace it with plans from its TOML
//! config (`[billing.plans.<id>]`, read into [`PlanSpec`]s and checked by [`Catalogue::from_specs`]).
//! Every amount is an integer number of minor currency units (cents for `usd`): there is no floating point in
//! money anywhere in this crate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{BillableMeter, BillingError};

/// The rate-limit and quota tier a plan belongs to; the tiers of Ory Network's published limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl Tier {
    /// A tier by its config and wire name.
    pub fn parse(name: &str) -> Option<Tier> {
        [Tier::Developer, Tier::Production, Tier::Growth, Tier::Enterprise].into_iter().find(|t| t.as_str() == name)
    }

    /// The tier's config and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Developer => "developer",
            Tier::Production => "production",
            Tier::Growth => "growth",
            Tier::Enterprise => "enterprise",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit price: `amount_minor` minor units for every `per` units, so sub-cent prices stay integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Minor currency units charged per `per` units.
    pub amount_minor: u64,
    /// How many units `amount_minor` buys; never zero in a validated catalogue.
    pub per: u64,
}

/// What a plan gives on one billable meter, per project per month.
///
/// All fields are optional in config: an omitted meter is unmetered, neither limited nor charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeterTerms {
    /// Usage covered by the base price.
    pub included: u64,
    /// Usage at which quotas block further use; plans with one have no overage price.
    pub hard_limit: Option<u64>,
    /// Price of usage beyond `included`; `None` means overage is not charged.
    pub overage: Option<Price>,
}

/// A plan a workspace can subscribe to.
///
/// Fields are public for reading; only [`Catalogue`] builds plans that are known to be valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Stable id, stored on the workspace and shown as `subscription_plan`.
    pub id: String,
    /// Name for people.
    pub display_name: String,
    /// Its limits tier.
    pub tier: Tier,
    /// Lowercase ISO 4217 code; every amount of the plan is in its minor unit.
    pub currency: String,
    /// Monthly base price in minor units, prorated by the second when the plan changes mid-month.
    pub base_price_minor: u64,
    /// The plan's terms are negotiated per customer; the catalogue's numbers are the list defaults.
    pub custom: bool,
    /// Terms for [`BillableMeter::ActiveIdentities`].
    pub daily_active_identities: MeterTerms,
    /// Terms for [`BillableMeter::M2mTokens`].
    pub m2m_tokens: MeterTerms,
    /// Terms for [`BillableMeter::PermissionChecks`].
    pub permission_checks: MeterTerms,
    /// Terms for [`BillableMeter::ApiRequests`].
    pub api_requests: MeterTerms,
}

impl Plan {
    /// The plan's terms for one meter, so callers can iterate meters instead of naming fields.
    pub fn terms(&self, meter: BillableMeter) -> &MeterTerms {
        match meter {
            BillableMeter::ActiveIdentities => &self.daily_active_identities,
            BillableMeter::M2mTokens => &self.m2m_tokens,
            BillableMeter::PermissionChecks => &self.permission_checks,
            BillableMeter::ApiRequests => &self.api_requests,
        }
    }

    /// Whether moving from `current` to this plan is an upgrade, which takes effect at once.
    ///
    /// Plans are ordered by base price; an equal price counts as an upgrade so a sideways move is not delayed.
    pub fn is_upgrade_from(&self, current: &Plan) -> bool {
        self.base_price_minor >= current.base_price_minor
    }
}

/// One plan as written in config under `[billing.plans.<id>]`; the id is the table key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// Name for people; defaults to the id.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The limits tier.
    pub tier: Tier,
    /// Lowercase ISO 4217 code; defaults to `usd`.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Monthly base price in minor units; required so a forgotten price is not a free plan.
    pub base_price_minor: u64,
    /// Negotiated terms.
    #[serde(default)]
    pub custom: bool,
    /// The plan new workspaces start on; when no plan is marked, the only developer-tier plan is.
    #[serde(default)]
    pub default: bool,
    /// Terms for `daily_active_identities`; omitted means unmetered.
    #[serde(default)]
    pub daily_active_identities: MeterTerms,
    /// Terms for `m2m_tokens`; omitted means unmetered.
    #[serde(default)]
    pub m2m_tokens: MeterTerms,
    /// Terms for `permission_checks`; omitted means unmetered.
    #[serde(default)]
    pub permission_checks: MeterTerms,
    /// Terms for `api_requests` (all groups); omitted means unmetered.
    #[serde(default)]
    pub api_requests: MeterTerms,
}

fn default_currency() -> String {
    "usd".to_owned()
}

/// A validated set of plans with one default, the only way plans reach invoicing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// Sorted by base price, then id. Never empty.
    plans: Vec<Plan>,
    /// Index of the default plan in `plans`; always in range.
    default: usize,
}

impl Catalogue {
    /// The built-in plans, with illustrative list prices (USD cents, per project per month).
    ///
    /// | plan | base | aDAU | M2M tokens | permission checks | API requests |
    /// |---|---|---|---|---|---|
    /// | developer | 0 | limit 1,000 | limit 10,000 | limit 100,000 | limit 1,000,000 |
    /// | production | 7,000 | 10,000 + 5 per 1 | 100,000 + 100 per 10k | 10M + 50 per 1M | 10M + 100 per 1M |
    /// | growth | 67,000 | 50,000 + 3 per 1 | 1M + 50 per 10k | 100M + 25 per 1M | 100M + 50 per 1M |
    /// | enterprise (custom) | 300,000 | 250,000 + 2 per 1 | 10M + 25 per 10k | 1B + 10 per 1M | 1B + 25 per 1M |
    ///
    /// On developer the whole hard limit is included, so nothing is ever charged.
    pub fn builtin() -> Catalogue {
        fn limited(n: u64) -> MeterTerms {
            MeterTerms { included: n, hard_limit: Some(n), overage: None }
        }
        fn metered(included: u64, amount_minor: u64, per: u64) -> MeterTerms {
            MeterTerms { included, hard_limit: None, overage: Some(Price { amount_minor, per }) }
        }
        fn plan(
            id: &str,
            tier: Tier,
            base: u64,
            custom: bool,
            adau: MeterTerms,
            m2m: MeterTerms,
            checks: MeterTerms,
            api: MeterTerms,
        ) -> Plan {
            let mut display_name = id.to_owned();
            if let Some(first) = display_name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            Plan {
                id: id.to_owned(),
                display_name,
                tier,
                currency: default_currency(),
                base_price_minor: base,
                custom,
                daily_active_identities: adau,
                m2m_tokens: m2m,
                permission_checks: checks,
                api_requests: api,
            }
        }
        const K: u64 = 1_000;
        const M: u64 = 1_000_000;
        let plans = vec![
            plan("developer", Tier::Developer, 0, false, limited(K), limited(10 * K), limited(100 * K), limited(M)),
            plan(
                "production",
                Tier::Production,
                7_000,
                false,
                metered(10 * K, 5, 1),
                metered(100 * K, 100, 10 * K),
                metered(10 * M, 50, M),
                metered(10 * M, 100, M),
            ),
            plan(
                "growth",
                Tier::Growth,
                67_000,
                false,
                metered(50 * K, 3, 1),
                metered(M, 50, 10 * K),
                metered(100 * M, 25, M),
                metered(100 * M, 50, M),
            ),
            plan(
                "enterprise",
                Tier::Enterprise,
                300_000,
                true,
                metered(250 * K, 2, 1),
                metered(10 * M, 25, 10 * K),
                metered(1_000 * M, 10, M),
                metered(1_000 * M, 25, M),
            ),
        ];
        Catalogue::sorted(plans, |p| p.id == "developer")
    }

    /// Builds a catalogue from config, validating every plan and choosing the default.
    ///
    /// Errors name the plan and field, so a bad config points at the line to fix.
    pub fn from_specs(specs: BTreeMap<String, PlanSpec>) -> Result<Catalogue, BillingError> {
        if specs.is_empty() {
            return Err(BillingError::EmptyCatalogue);
        }
        let mut plans = Vec::with_capacity(specs.len());
        let mut marked: Option<String> = None;
        for (id, spec) in specs {
            if spec.default {
                if let Some(first) = marked {
                    return Err(BillingError::MultipleDefaults { first, second: id });
                }
                marked = Some(id.clone());
            }
            let plan = Plan {
                display_name: spec.display_name.unwrap_or_else(|| id.clone()),
                id,
                tier: spec.tier,
                currency: spec.currency,
                base_price_minor: spec.base_price_minor,
                custom: spec.custom,
                daily_active_identities: spec.daily_active_identities,
                m2m_tokens: spec.m2m_tokens,
                permission_checks: spec.permission_checks,
                api_requests: spec.api_requests,
            };
            validate(&plan)?;
            plans.push(plan);
        }
        let default_id = match marked {
            Some(id) => id,
            None => {
                let mut developers = plans.iter().filter(|p| p.tier == Tier::Developer);
                match (developers.next(), developers.next()) {
                    (Some(only), None) => only.id.clone(),
                    _ => return Err(BillingError::NoDefaultPlan),
                }
            }
        };
        let catalogue = Catalogue::sorted(plans, |p| p.id == default_id);
        let default = catalogue.default_plan();
        if default.tier != Tier::Developer {
            return Err(BillingError::DefaultNotDeveloper { plan: default.id.clone(), tier: default.tier.to_string() });
        }
        Ok(catalogue)
    }

    /// Sorts plans into catalogue order and records the default; `plans` must not be empty.
    fn sorted(mut plans: Vec<Plan>, is_default: impl Fn(&Plan) -> bool) -> Catalogue {
        plans.sort_by(|a, b| (a.base_price_minor, &a.id).cmp(&(b.base_price_minor, &b.id)));
        let default = plans.iter().position(is_default).unwrap_or(0);
        Catalogue { plans, default }
    }

    /// A plan by id.
    pub fn get(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// A plan by id, or the error invoicing reports for an id it cannot price.
    pub(crate) fn require(&self, id: &str) -> Result<&Plan, BillingError> {
        self.get(id).ok_or_else(|| BillingError::UnknownPlan { plan: id.to_owned() })
    }

    /// The plan a new workspace starts on: free and developer tier.
    pub fn default_plan(&self) -> &Plan {
        // Construction guarantees `plans` is non-empty and `default` is in range.
        &self.plans[self.default]
    }

    /// Every plan, cheapest first (ties by id), which is also upgrade order.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }
}

/// Largest amount accepted anywhere, so every amount and sum fits a signed 64-bit column.
pub(crate) const MAX_AMOUNT: u64 = i64::MAX as u64;

/// Checks one plan's fields; the id must already be the catalogue key.
pub(crate) fn validate(plan: &Plan) -> Result<(), BillingError> {
    let bad = |field: &str, reason: &str| BillingError::InvalidPlan {
        plan: plan.id.clone(),
        field: field.to_owned(),
        reason: reason.to_owned(),
    };
    if !is_dns_label(&plan.id) {
        return Err(bad(
            "id",
            "must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        ));
    }
    let name = plan.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(bad("display_name", "must be 1 to 100 printable characters"));
    }
    if plan.currency.len() != 3 || !plan.currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(bad("currency", "must be a lowercase ISO 4217 code such as \"usd\""));
    }
    if plan.base_price_minor > MAX_AMOUNT {
        return Err(bad("base_price_minor", "must not exceed i64::MAX"));
    }
    for meter in BillableMeter::ALL {
        let terms = plan.terms(meter);
        let name = meter.as_str();
        if let (Some(_), Some(_)) = (terms.hard_limit, terms.overage) {
            return Err(bad(
                name,
                "hard_limit and overage cannot both be set: a hard-limited meter blocks usage instead of charging it",
            ));
        }
        if let Some(limit) = terms.hard_limit
            && terms.included > limit
        {
            return Err(bad(&format!("{name}.included"), "must not exceed hard_limit"));
        }
        if let Some(price) = terms.overage {
            if price.per == 0 {
                return Err(bad(&format!("{name}.overage.per"), "must be greater than 0"));
            }
            if price.amount_minor > MAX_AMOUNT {
                return Err(bad(&format!("{name}.overage.amount_minor"), "must not exceed i64::MAX"));
            }
        }
    }
    Ok(())
}

/// Whether `s` is a DNS label, so a plan id is safe in hostnames, URLs and config keys.
fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
}

#[cfg(test)]
mod tests;
