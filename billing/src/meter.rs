//! Billable meters: the usage pipeline's meter names folded into the few things a plan prices.

use serde::Serialize;

/// A meter a plan can include, limit and price.
///
/// The usage pipeline reports finer names (one `api_requests.<group>` per route group); invoicing and quotas work
/// on these coarser meters so a new route group never needs a new price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BillableMeter {
    /// Distinct identities with a session or token in a day, billed as the 30-day average (aDAU).
    ActiveIdentities,
    /// Machine-to-machine (client credentials) tokens issued.
    M2mTokens,
    /// Permission checks answered.
    PermissionChecks,
    /// API requests of every route group together.
    ApiRequests,
}

impl BillableMeter {
    /// Every billable meter, in invoice line order.
    pub const ALL: [BillableMeter; 4] = [
        BillableMeter::ActiveIdentities,
        BillableMeter::M2mTokens,
        BillableMeter::PermissionChecks,
        BillableMeter::ApiRequests,
    ];

    /// The billable meter a pipeline meter name counts towards, or `None` for a meter not (yet) billed.
    ///
    /// Unknown names are not errors so the pipeline can ship a meter before it has a price.
    /// `api_requests` alone is accepted too, so `of(m.as_str())` round-trips.
    pub fn of(name: &str) -> Option<BillableMeter> {
        match name {
            "daily_active_identities" => Some(BillableMeter::ActiveIdentities),
            "m2m_tokens" => Some(BillableMeter::M2mTokens),
            "permission_checks" => Some(BillableMeter::PermissionChecks),
            "api_requests" => Some(BillableMeter::ApiRequests),
            _ => match name.strip_prefix("api_requests.") {
                Some(group) if !group.is_empty() => Some(BillableMeter::ApiRequests),
                _ => None,
            },
        }
    }

    /// The stable name shown on invoice lines and used as the meter's key in plan config.
    pub fn as_str(self) -> &'static str {
        match self {
            BillableMeter::ActiveIdentities => "daily_active_identities",
            BillableMeter::M2mTokens => "m2m_tokens",
            BillableMeter::PermissionChecks => "permission_checks",
            BillableMeter::ApiRequests => "api_requests",
        }
    }

    /// What the meter counts, for invoice line descriptions.
    pub fn label(self) -> &'static str {
        match self {
            BillableMeter::ActiveIdentities => "average daily active identities",
            BillableMeter::M2mTokens => "machine-to-machine tokens",
            BillableMeter::PermissionChecks => "permission checks",
            BillableMeter::ApiRequests => "API requests",
        }
    }
}

impl std::fmt::Display for BillableMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_names_map_to_billable_meters() {
        assert_eq!(BillableMeter::of("daily_active_identities"), Some(BillableMeter::ActiveIdentities));
        assert_eq!(BillableMeter::of("m2m_tokens"), Some(BillableMeter::M2mTokens));
        assert_eq!(BillableMeter::of("permission_checks"), Some(BillableMeter::PermissionChecks));
        for group in ["identity", "permission", "oauth2", "admin", "other", "a.b"] {
            assert_eq!(BillableMeter::of(&format!("api_requests.{group}")), Some(BillableMeter::ApiRequests));
        }
        for unknown in ["", "api_requests.", "api_requestsX", "sms_messages", "M2M_TOKENS", " m2m_tokens"] {
            assert_eq!(BillableMeter::of(unknown), None, "{unknown:?}");
        }
        for m in BillableMeter::ALL {
            assert_eq!(BillableMeter::of(m.as_str()), Some(m));
        }
    }
}
