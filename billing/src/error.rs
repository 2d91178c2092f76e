//! The crate's one error type.
//!
//! Billing is pure computation, so every error is about its input: a catalogue that does not validate, a plan
//! history that names an unknown plan, a period or time outside what the calendar code supports, or an amount
//! too large to represent.
//! Each variant names what was wrong so the caller can show it without extra context.

use thiserror::Error;

/// Why a catalogue could not be built or an invoice computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BillingError {
    /// A catalogue without plans could not place new workspaces anywhere.
    #[error("the plan catalogue is empty")]
    EmptyCatalogue,
    /// One field of one plan is invalid; both are named so a config error points at the line to fix.
    #[error("plan {plan:?}: {field}: {reason}")]
    InvalidPlan {
        /// The plan's id as configured.
        plan: String,
        /// The field, as a dotted path within the plan (`api_requests.overage.per`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// New workspaces need a free plan to start on.
    #[error("no default plan: mark one developer-tier plan `default = true`")]
    NoDefaultPlan,
    /// Two plans claim to be the default, so the choice would be arbitrary.
    #[error("plans {first:?} and {second:?} are both marked default")]
    MultipleDefaults {
        /// One of the plans.
        first: String,
        /// The other plan.
        second: String,
    },
    /// The default plan must be free and hard-limited, which is what the developer tier means.
    #[error("default plan {plan:?} has tier {tier}, not developer")]
    DefaultNotDeveloper {
        /// The plan marked default.
        plan: String,
        /// Its tier.
        tier: String,
    },
    /// A plan history or lookup named a plan the catalogue does not have.
    #[error("unknown plan {plan:?}")]
    UnknownPlan {
        /// The id asked for.
        plan: String,
    },
    /// A workspace always starts on some plan, so an empty history is a caller bug.
    #[error("the workspace has no plan changes; its first change is the plan it was created with")]
    NoPlanChanges,
    /// The workspace did not exist during the period, so there is nothing to bill it under.
    #[error("workspace {workspace_id:?} had no plan during {period}")]
    NoPlanInPeriod {
        /// The workspace.
        workspace_id: String,
        /// The period, `YYYY-MM`.
        period: String,
    },
    /// A period whose first or next month's first instant the calendar cannot represent.
    #[error("period {year}-{month:02} is out of the supported range")]
    PeriodOutOfRange {
        /// The year asked for.
        year: i32,
        /// The month asked for, 1 to 12.
        month: u8,
    },
    /// A period string that is not `YYYY-MM`.
    #[error("invalid period {input:?}: expected YYYY-MM")]
    InvalidPeriod {
        /// What was given.
        input: String,
    },
    /// A time or day that cannot be moved to UTC, formatted as RFC 3339 or stepped by a day.
    #[error("time {time} is out of the supported range")]
    TimeOutOfRange {
        /// The time, as `Debug` shows it (it may not be representable as RFC 3339).
        time: String,
    },
    /// One invoice must be in one currency; plans in different currencies cannot share one.
    #[error("plans {first_plan:?} ({first}) and {second_plan:?} ({second}) bill in different currencies")]
    MixedCurrency {
        /// The first plan.
        first_plan: String,
        /// Its currency.
        first: String,
        /// The plan with another currency.
        second_plan: String,
        /// Its currency.
        second: String,
    },
    /// A draft shows a period in progress; one dated before the period starts has nothing to show.
    #[error("as_of {as_of} is before period {period} starts")]
    AsOfBeforePeriod {
        /// The as-of time.
        as_of: String,
        /// The period.
        period: String,
    },
    /// An amount beyond `i64::MAX` minor units could not be stored or charged, so it is refused, never wrapped.
    #[error("amount for {what} exceeds the largest representable amount")]
    AmountOverflow {
        /// The line or total that overflowed.
        what: String,
    },
}
