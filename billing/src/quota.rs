//! Quotas: how close a project is to a hard-limited meter's limit, so usage can be warned about and blocked.
//!
//! Only meters with a hard limit have quotas; metered plans charge overage instead and are never blocked.
//! Limits are per project per month, so `used` is the project's usage of the meter so far this period.

use serde::Serialize;

use crate::{BillableMeter, Plan};

/// Where usage stands against a hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaLevel {
    /// Under 80% of the limit, or the meter has no limit.
    Below,
    /// At least 80%: time to warn the customer before usage is blocked.
    Warning,
    /// At least 100%: further usage is blocked. A limit of 0 is always exceeded.
    Exceeded,
}

/// The warning threshold, in percent of the hard limit.
pub const WARNING_PERCENT: u8 = 80;
/// The blocking threshold, in percent of the hard limit.
pub const EXCEEDED_PERCENT: u8 = 100;

/// The quota level of `used` units of `meter` on `plan`; always `Below` for meters without a hard limit.
pub fn quota_level(plan: &Plan, meter: BillableMeter, used: u64) -> QuotaLevel {
    let Some(limit) = plan.terms(meter).hard_limit else {
        return QuotaLevel::Below;
    };
    let reached = |percent: u8| u128::from(used) * 100 >= u128::from(limit) * u128::from(percent);
    if reached(EXCEEDED_PERCENT) {
        QuotaLevel::Exceeded
    } else if reached(WARNING_PERCENT) {
        QuotaLevel::Warning
    } else {
        QuotaLevel::Below
    }
}

impl QuotaLevel {
    /// The thresholds (in percent) this level has reached, ascending: one quota event is recorded per threshold,
    /// so evaluating the same level again records nothing new.
    pub fn thresholds(self) -> &'static [u8] {
        match self {
            QuotaLevel::Below => &[],
            QuotaLevel::Warning => &[WARNING_PERCENT],
            QuotaLevel::Exceeded => &[WARNING_PERCENT, EXCEEDED_PERCENT],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalogue;

    #[test]
    fn levels_against_the_developer_limits() {
        let catalogue = Catalogue::builtin();
        let developer = catalogue.get("developer").unwrap();
        let m = BillableMeter::ActiveIdentities; // Hard limit 1,000: warning from 800, exceeded from 1,000.
        assert_eq!(quota_level(developer, m, 0), QuotaLevel::Below);
        assert_eq!(quota_level(developer, m, 799), QuotaLevel::Below);
        assert_eq!(quota_level(developer, m, 800), QuotaLevel::Warning);
        assert_eq!(quota_level(developer, m, 999), QuotaLevel::Warning);
        assert_eq!(quota_level(developer, m, 1_000), QuotaLevel::Exceeded);
        assert_eq!(quota_level(developer, m, u64::MAX), QuotaLevel::Exceeded);
        // API requests, limit 1,000,000.
        assert_eq!(quota_level(developer, BillableMeter::ApiRequests, 799_999), QuotaLevel::Below);
        assert_eq!(quota_level(developer, BillableMeter::ApiRequests, 800_000), QuotaLevel::Warning);
        // Metered plans are never limited.
        let production = catalogue.get("production").unwrap();
        assert_eq!(quota_level(production, m, u64::MAX), QuotaLevel::Below);
    }

    #[test]
    fn odd_limits_do_not_overflow_or_round_early() {
        let mut plan = Catalogue::builtin().default_plan().clone();
        plan.m2m_tokens.hard_limit = Some(u64::MAX);
        // 80% of u64::MAX is 14757395258967641292; one less is still below.
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, 14_757_395_258_967_641_291), QuotaLevel::Below);
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, 14_757_395_258_967_641_292), QuotaLevel::Warning);
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, u64::MAX), QuotaLevel::Exceeded);
        plan.m2m_tokens.hard_limit = Some(3); // 80% is 2.4: 2 is below, 3 is exceeded, no warning step.
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, 2), QuotaLevel::Below);
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, 3).thresholds(), &[80, 100]);
        plan.m2m_tokens.hard_limit = Some(0);
        assert_eq!(quota_level(&plan, BillableMeter::M2mTokens, 0), QuotaLevel::Exceeded);
    }

    #[test]
    fn each_level_names_the_thresholds_it_reached() {
        let catalogue = Catalogue::builtin();
        let developer = catalogue.get("developer").unwrap();
        let m = BillableMeter::PermissionChecks; // Limit 100,000.
        let at = |used| quota_level(developer, m, used).thresholds();
        assert_eq!(at(79_999), &[] as &[u8]);
        assert_eq!(at(80_000), &[80]);
        assert_eq!(at(99_999), &[80]);
        assert_eq!(at(100_000), &[80, 100]);
        assert_eq!(at(u64::MAX), &[80, 100]);
        let production = catalogue.get("production").unwrap();
        assert_eq!(quota_level(production, m, u64::MAX).thresholds(), &[] as &[u8], "no hard limit, no quota");
    }
}
