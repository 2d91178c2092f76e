//! Integer money arithmetic: proration and unit pricing, with 128-bit intermediates so no product overflows.

use crate::catalogue::MAX_AMOUNT;
use crate::{BillingError, Price};

/// `amount * part / whole`, rounded half up: how a base price is prorated over a segment.
///
/// `part` is clamped to `0..=whole`, and a non-positive `whole` yields 0, so no input can panic.
pub(crate) fn prorate_half_up(amount: u64, part: i64, whole: i64) -> u64 {
    let Some((part, whole)) = fraction(part, whole) else { return 0 };
    let scaled = 2 * u128::from(amount) * part + whole;
    // The quotient is at most `amount`, so it fits.
    u64::try_from(scaled / (2 * whole)).unwrap_or(amount)
}

/// `amount * part / whole`, rounded down: how an included allowance is prorated over a segment.
///
/// Rounding down never gives away more than the plan includes; clamping as in [`prorate_half_up`].
pub(crate) fn prorate_floor(amount: u64, part: i64, whole: i64) -> u64 {
    let Some((part, whole)) = fraction(part, whole) else { return 0 };
    u64::try_from(u128::from(amount) * part / whole).unwrap_or(amount)
}

fn fraction(part: i64, whole: i64) -> Option<(u128, u128)> {
    let whole = u128::try_from(whole).ok().filter(|w| *w > 0)?;
    let part = u128::try_from(part.max(0)).ok()?.min(whole);
    Some((part, whole))
}

/// `ceil(units * amount_minor / per)`: the charge for `units` at `price`, never undercharging a fraction.
///
/// Errors when `per` is zero (a catalogue bug) or the charge exceeds `i64::MAX`; `what` names the line.
/// Public so that what is reported elsewhere (Stripe) is rounded exactly as invoices round it.
pub fn charge(units: u64, price: Price, what: &str) -> Result<u64, BillingError> {
    if price.per == 0 {
        return Err(BillingError::InvalidPlan {
            plan: what.to_owned(),
            field: "overage.per".to_owned(),
            reason: "must be greater than 0".to_owned(),
        });
    }
    let product = u128::from(units) * u128::from(price.amount_minor);
    let amount = product.div_ceil(u128::from(price.per));
    u64::try_from(amount)
        .ok()
        .filter(|a| *a <= MAX_AMOUNT)
        .ok_or_else(|| BillingError::AmountOverflow { what: what.to_owned() })
}

/// `a + b`, erroring past `i64::MAX` instead of wrapping.
pub(crate) fn add(a: u64, b: u64, what: &str) -> Result<u64, BillingError> {
    a.checked_add(b).filter(|s| *s <= MAX_AMOUNT).ok_or_else(|| BillingError::AmountOverflow { what: what.to_owned() })
}

/// The average of daily counts over `days` days, rounded up: how aDAU is measured, by invoices and quotas alike.
pub fn daily_average(sum: u128, days: u64) -> u64 {
    if days == 0 {
        return 0;
    }
    u64::try_from(sum.div_ceil(u128::from(days))).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_fees_round_half_up() {
        // 7000 * 1 / 2 = 3500 exactly; 7000 * 15 / 29 = 3620.69 -> 3621; 7000 * 14 / 29 = 3379.31 -> 3379.
        assert_eq!(prorate_half_up(7_000, 1, 2), 3_500);
        assert_eq!(prorate_half_up(7_000, 15, 29), 3_621);
        assert_eq!(prorate_half_up(7_000, 14, 29), 3_379);
        // 1 * 1 / 2 = 0.5 rounds up to 1; 1 * 1 / 3 = 0.33 rounds down to 0; 5 * 1 / 2 = 2.5 -> 3.
        assert_eq!(prorate_half_up(1, 1, 2), 1);
        assert_eq!(prorate_half_up(1, 1, 3), 0);
        assert_eq!(prorate_half_up(5, 1, 2), 3);
        // 3 * 1 / 4 = 0.75 -> 1; 3 * 1 / 8 = 0.375 -> 0.
        assert_eq!(prorate_half_up(3, 1, 4), 1);
        assert_eq!(prorate_half_up(3, 1, 8), 0);
        assert_eq!(prorate_half_up(u64::MAX, 2_678_400, 2_678_400), u64::MAX);
        assert_eq!(prorate_half_up(u64::MAX, 1, 2), u64::MAX / 2 + 1);
        // Out-of-range parts clamp instead of panicking.
        assert_eq!(prorate_half_up(100, -5, 10), 0);
        assert_eq!(prorate_half_up(100, 50, 10), 100);
        assert_eq!(prorate_half_up(100, 5, 0), 0);
        assert_eq!(prorate_half_up(100, i64::MAX, i64::MAX), 100);
    }

    #[test]
    fn allowances_round_down() {
        // 100000 * 1850400 / 2678400 = 69086.02 -> 69086; 10 * 2 / 3 = 6.67 -> 6.
        assert_eq!(prorate_floor(100_000, 1_850_400, 2_678_400), 69_086);
        assert_eq!(prorate_floor(10, 2, 3), 6);
        assert_eq!(prorate_floor(u64::MAX, 1, 1), u64::MAX);
        assert_eq!(prorate_floor(u64::MAX, i64::MIN, 7), 0);
    }

    #[test]
    fn overage_rounds_up() {
        let per_10k = Price { amount_minor: 100, per: 10_000 };
        // 40914 * 100 / 10000 = 409.14 -> 410; 100 * 100 / 10000 = 1 exactly; 1 unit -> 0.01 -> 1.
        assert_eq!(charge(40_914, per_10k, "t"), Ok(410));
        assert_eq!(charge(100, per_10k, "t"), Ok(1));
        assert_eq!(charge(1, per_10k, "t"), Ok(1));
        assert_eq!(charge(0, per_10k, "t"), Ok(0));
        // u64::MAX units at 100 per 1M: 18446744073709551615 * 100 / 1e6 = 1844674407370955.16 -> ...956.
        assert_eq!(charge(u64::MAX, Price { amount_minor: 100, per: 1_000_000 }, "t"), Ok(1_844_674_407_370_956));
        assert!(matches!(
            charge(u64::MAX, Price { amount_minor: 5, per: 1 }, "t"),
            Err(BillingError::AmountOverflow { .. })
        ));
        assert!(matches!(charge(1, Price { amount_minor: 5, per: 0 }, "t"), Err(BillingError::InvalidPlan { .. })));
        assert_eq!(add(1, 2, "t"), Ok(3));
        assert!(add(i64::MAX as u64, 1, "t").is_err());
    }

    #[test]
    fn daily_averages_round_up_and_never_divide_by_zero() {
        assert_eq!(daily_average(2, 30), 1);
        assert_eq!(daily_average(60, 30), 2);
        assert_eq!(daily_average(61, 30), 3);
        assert_eq!(daily_average(5, 0), 0);
        assert_eq!(daily_average(u128::MAX, 1), u64::MAX);
    }
}
