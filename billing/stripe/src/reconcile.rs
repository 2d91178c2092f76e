//! Comparing Tessera's invoice for a period with what Stripe invoiced.

use tessera_billing::Invoice;

use crate::invoices::{InvoiceState, StripeInvoice};

/// The verdict for one Tessera invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciliation {
    /// Stripe has exactly one invoice for the period with the same currency and total.
    Matched {
        /// The Stripe invoice.
        invoice_id: String,
    },
    /// Stripe has no (non-void) invoice for the period.
    Missing,
    /// Stripe's invoice charges another amount.
    AmountDiffers {
        /// The Stripe invoice.
        invoice_id: String,
        /// Tessera's total.
        ours_minor: u64,
        /// Stripe's total.
        theirs_minor: i64,
        /// `theirs - ours`: positive when Stripe charges more.
        difference_minor: i128,
    },
    /// Stripe's invoice is in another currency, so amounts cannot be compared.
    CurrencyDiffers {
        /// The Stripe invoice.
        invoice_id: String,
        /// Tessera's currency.
        ours: String,
        /// Stripe's currency.
        theirs: String,
    },
    /// Several Stripe invoices claim the period: someone has to look.
    Ambiguous {
        /// Their ids.
        invoice_ids: Vec<String>,
    },
}

/// Finds Stripe's invoice for `ours` and compares totals; pure, integers only.
///
/// A Stripe invoice is for the period when its `tessera_period` metadata names it, or else when its period
/// bounds equal the period's. Void invoices charge nothing and are ignored.
pub fn reconcile(ours: &Invoice, theirs: &[StripeInvoice]) -> Reconciliation {
    let candidates: Vec<&StripeInvoice> = theirs
        .iter()
        .filter(|t| t.status != InvoiceState::Void)
        .filter(|t| match t.tessera_period {
            Some(period) => period == ours.period,
            None => t.period_start == Some(ours.period_start) && t.period_end == Some(ours.period_end),
        })
        .collect();
    let theirs = match candidates.as_slice() {
        [] => return Reconciliation::Missing,
        [one] => *one,
        many => return Reconciliation::Ambiguous { invoice_ids: many.iter().map(|t| t.id.clone()).collect() },
    };
    if theirs.currency != ours.currency {
        return Reconciliation::CurrencyDiffers {
            invoice_id: theirs.id.clone(),
            ours: ours.currency.clone(),
            theirs: theirs.currency.clone(),
        };
    }
    let difference = i128::from(theirs.total_minor) - i128::from(ours.total_minor);
    if difference == 0 {
        Reconciliation::Matched { invoice_id: theirs.id.clone() }
    } else {
        Reconciliation::AmountDiffers {
            invoice_id: theirs.id.clone(),
            ours_minor: ours.total_minor,
            theirs_minor: theirs.total_minor,
            difference_minor: difference,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::Month;

    use super::*;
    use tessera_billing::{InvoiceStatus, Period};

    fn ours(total: u64) -> Invoice {
        let period = Period::new(2025, Month::May).unwrap();
        Invoice {
            workspace_id: "ws_1".to_owned(),
            period,
            period_start: period.start(),
            period_end: period.end(),
            status: InvoiceStatus::Final,
            currency: "usd".to_owned(),
            lines: Vec::new(),
            subtotal_minor: total,
            total_minor: total,
        }
    }

    fn theirs(id: &str, total: i64, period: Period, tagged: bool) -> StripeInvoice {
        StripeInvoice {
            id: id.to_owned(),
            status: InvoiceState::Open,
            total_minor: total,
            currency: "usd".to_owned(),
            period_start: Some(period.start()),
            period_end: Some(period.end()),
            tessera_period: tagged.then_some(period),
        }
    }

    #[test]
    fn matched_by_bounds_or_metadata() {
        let may = Period::new(2025, Month::May).unwrap();
        let april = Period::new(2025, Month::April).unwrap();
        let invoices = [theirs("in_apr", 7_000, april, false), theirs("in_may", 7_150, may, false)];
        assert_eq!(reconcile(&ours(7_150), &invoices), Reconciliation::Matched { invoice_id: "in_may".into() });
        // Metadata wins over bounds: an invoice tagged May whose bounds are off still matches.
        let mut tagged = theirs("in_tag", 7_150, may, true);
        tagged.period_start = None;
        tagged.period_end = None;
        assert_eq!(reconcile(&ours(7_150), &[tagged]), Reconciliation::Matched { invoice_id: "in_tag".into() });
        // And an invoice tagged April never matches May, whatever its bounds.
        let mut wrong = theirs("in_wrong", 7_150, may, true);
        wrong.tessera_period = Some(april);
        assert_eq!(reconcile(&ours(7_150), &[wrong]), Reconciliation::Missing);
    }

    #[test]
    fn missing_when_nothing_covers_the_period() {
        let april = Period::new(2025, Month::April).unwrap();
        assert_eq!(reconcile(&ours(100), &[]), Reconciliation::Missing);
        assert_eq!(reconcile(&ours(100), &[theirs("in_apr", 100, april, false)]), Reconciliation::Missing);
        let may = Period::new(2025, Month::May).unwrap();
        let mut void = theirs("in_void", 100, may, false);
        void.status = InvoiceState::Void;
        assert_eq!(reconcile(&ours(100), &[void]), Reconciliation::Missing);
    }

    #[test]
    fn differing_amounts_report_the_signed_difference() {
        let may = Period::new(2025, Month::May).unwrap();
        assert_eq!(
            reconcile(&ours(7_150), &[theirs("in_may", 7_000, may, false)]),
            Reconciliation::AmountDiffers {
                invoice_id: "in_may".into(),
                ours_minor: 7_150,
                theirs_minor: 7_000,
                difference_minor: -150
            }
        );
        assert_eq!(
            reconcile(&ours(0), &[theirs("in_may", 1, may, false)]),
            Reconciliation::AmountDiffers {
                invoice_id: "in_may".into(),
                ours_minor: 0,
                theirs_minor: 1,
                difference_minor: 1
            }
        );
        // Extremes do not overflow.
        let big = reconcile(&ours(i64::MAX as u64), &[theirs("in_may", i64::MIN, may, false)]);
        assert_eq!(
            big,
            Reconciliation::AmountDiffers {
                invoice_id: "in_may".into(),
                ours_minor: i64::MAX as u64,
                theirs_minor: i64::MIN,
                difference_minor: i128::from(i64::MIN) - i128::from(i64::MAX)
            }
        );
    }

    #[test]
    fn currency_and_duplicates_are_flagged() {
        let may = Period::new(2025, Month::May).unwrap();
        let mut eur = theirs("in_eur", 7_150, may, false);
        eur.currency = "eur".to_owned();
        assert_eq!(
            reconcile(&ours(7_150), &[eur]),
            Reconciliation::CurrencyDiffers { invoice_id: "in_eur".into(), ours: "usd".into(), theirs: "eur".into() }
        );
        let both = [theirs("in_a", 7_150, may, false), theirs("in_b", 7_150, may, true)];
        assert_eq!(
            reconcile(&ours(7_150), &both),
            Reconciliation::Ambiguous { invoice_ids: vec!["in_a".into(), "in_b".into()] }
        );
    }
}
