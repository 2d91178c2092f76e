//! Usage reporting that can never double-count.
//!
//! localstripe has no usage records (nor billing meters), and its subscriptions hold a single item, so usage
//! is billed the way Stripe bills one-off charges: invoice items attached to the subscription, which its next
//! invoice collects. Invoice items only add up (and localstripe corrupts an updated item's amount into a
//! string), so each report appends one immutable item for the *increase* since what Stripe already has:
//!
//! - The caller always reports the period's cumulative total. Every attempt first reads Stripe's items for
//!   (subscription, meter, period), pending and already invoiced; each covers a range of the cumulative count
//!   (`tessera_quantity_from` to `tessera_quantity`), and the ranges must chain from 0 without gap or overlap
//!   (anything else is a [`StripeSyncError::Conflict`]: two writers raced, or someone edited Stripe).
//! - A report at or below the covered total writes nothing ([`UsageReport::Unchanged`] or
//!   [`UsageReport::Stale`]), so duplicates, retries of a write whose response was lost, and late retries of
//!   older totals are all no-ops. Above it, one item covers the difference, with amount
//!   `charge(new total) - charge(covered)`, so the amounts telescope to exactly `charge(total)`, rounded up
//!   like Tessera's usage lines, however the total was reached.
//! - The write carries an idempotency key derived from the caller's key and the covered range, so real Stripe
//!   also replays rather than repeats it.
//! - Once any of the period's items is on an invoice, the period is closed: a larger total is
//!   [`StripeSyncError::PeriodInvoiced`], never a silent extra line.
//!
//! Assumption: one writer per (subscription, meter), such as the control plane's billing reconciler; the chain
//! check turns a violation into an error instead of a silent double charge.

use std::collections::HashMap;

use stripe_billing::invoice::ListInvoice;
use stripe_billing::invoice_item::{CreateInvoiceItem, ListInvoiceItem};
use stripe_client_core::{RequestBuilder, StripeMethod, StripeRequest};
use tessera_billing::{Period, Price};

use crate::catalogue::META_METER;
use crate::config::ApiFlavor;
use crate::customer::{CustomerId, check_text};
use crate::error::{AttemptError, StripeSyncError};
use crate::subscription::MeteredItem;
use crate::transport::idempotency_key;
use crate::{StripeBilling, wire};

/// Metadata key: the subscription a usage invoice item belongs to.
pub const META_SUBSCRIPTION: &str = "tessera_subscription";
/// Metadata key: the usage period, `YYYY-MM`.
pub const META_PERIOD: &str = "tessera_period";
/// Metadata key: the cumulative quantity an item's range starts at.
pub const META_QUANTITY_FROM: &str = "tessera_quantity_from";
/// Metadata key: the cumulative quantity an item's range ends at (the total after it).
pub const META_QUANTITY: &str = "tessera_quantity";
/// Metadata key: the caller's key of the report that wrote the item.
pub const META_USAGE_KEY: &str = "tessera_usage_key";

/// What a usage report did in Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageReport {
    /// A usage item for the increase was added.
    Reported {
        /// `ii_...`.
        invoice_item_id: String,
        /// The cumulative total Stripe had before.
        from_quantity: u64,
        /// The cumulative total Stripe has now.
        quantity: u64,
        /// The new item's amount: the charge for the increase.
        amount_minor: i64,
    },
    /// Stripe already had this total (a duplicate, or a retry of a write that landed); nothing was written.
    Unchanged {
        /// The total in Stripe.
        quantity: u64,
    },
    /// Stripe already had a larger total, so this report is out of date; nothing was written.
    Stale {
        /// The total in Stripe.
        reported_quantity: u64,
        /// The smaller total of this report.
        ignored_quantity: u64,
    },
}

/// The charge for a cumulative quantity, rounded up like Tessera's usage lines.
pub fn usage_amount(quantity: u64, price: Price) -> Result<i64, StripeSyncError> {
    let amount =
        tessera_billing::charge(quantity, price, "usage").map_err(|e| StripeSyncError::InvalidInput(e.to_string()))?;
    i64::try_from(amount)
        .map_err(|_| StripeSyncError::InvalidInput(format!("usage amount {amount} for {quantity} units exceeds i64")))
}

/// One usage item as Stripe holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Covered {
    from: u64,
    to: u64,
    invoiced: bool,
}

impl StripeBilling {
    /// Raises the period's usage of `item` in Stripe to `cumulative_quantity` (the total so far, not a delta).
    ///
    /// `key` identifies this report (for example `<workspace>-<meter>-<period>-<total>`); the idempotency key
    /// sent is derived from it. Safe to retry and to call twice: see the module documentation.
    pub async fn report_usage(
        &self,
        item: &MeteredItem,
        period: Period,
        cumulative_quantity: u64,
        key: &str,
    ) -> Result<UsageReport, StripeSyncError> {
        check_text("usage key", key, 200)?;
        let total_charge = usage_amount(cumulative_quantity, item.price)?;
        let period_name = period.to_string();
        let meter = item.meter.as_str();
        let operation = format!("report {meter} usage of {} for {period_name}", item.subscription_id);
        let is_ours = |metadata: &wire::Metadata| {
            metadata.get(META_SUBSCRIPTION) == Some(&item.subscription_id)
                && metadata.get(META_METER).map(String::as_str) == Some(meter)
                && metadata.get(META_PERIOD) == Some(&period_name)
        };
        // The attempts borrow these; each attempt's future gets copies of the references.
        let (operation, period_name, is_ours) = (&operation, &period_name, &is_ours);
        self.transport
            .retry(operation, move || async move {
                let covered = self.covered(&item.customer_id, is_ours).await?;
                let reported = chain_end(operation, &covered)?;
                if let Some(done) = settled(reported, cumulative_quantity) {
                    return Ok(done);
                }
                if covered.iter().any(|c| c.invoiced) {
                    return Err(StripeSyncError::PeriodInvoiced {
                        meter: meter.to_owned(),
                        period: period_name.clone(),
                        invoiced: reported,
                        requested: cumulative_quantity,
                    }
                    .into());
                }
                let amount = total_charge - usage_amount(reported, item.price)?;
                let (from, to) = (reported.to_string(), cumulative_quantity.to_string());
                let write_key = idempotency_key("usage", &[key, &item.subscription_id, meter, period_name, &from, &to]);
                let currency: stripe_types::Currency = item.currency.parse().unwrap_or_else(|e| match e {});
                let metadata = HashMap::from([
                    (META_SUBSCRIPTION.to_owned(), item.subscription_id.clone()),
                    (META_METER.to_owned(), meter.to_owned()),
                    (META_PERIOD.to_owned(), period_name.clone()),
                    (META_QUANTITY_FROM.to_owned(), from),
                    (META_QUANTITY.to_owned(), to),
                    (META_USAGE_KEY.to_owned(), key.to_owned()),
                ]);
                let description = format!(
                    "{} {period_name}: {reported} to {cumulative_quantity} at {} per {}",
                    item.meter.label(),
                    item.price.amount_minor,
                    item.price.per
                );
                let mut create = CreateInvoiceItem::new()
                    .customer(item.customer_id.as_str())
                    .subscription(&*item.subscription_id)
                    .amount(amount)
                    .currency(currency)
                    .description(description)
                    .metadata(metadata);
                if self.flavor == ApiFlavor::Stripe {
                    // Stripe's period end is inclusive.
                    let end = period.end().unix_timestamp() - 1;
                    create = create
                        .period(stripe_billing::invoice_item::Period { start: period.start().unix_timestamp(), end });
                }
                let created: wire::InvoiceItem = self.transport.send(create.build(), Some(&write_key)).await?;
                Ok(UsageReport::Reported {
                    invoice_item_id: created.id,
                    from_quantity: reported,
                    quantity: cumulative_quantity,
                    amount_minor: amount,
                })
            })
            .await
    }

    /// The ranges Stripe holds for this usage: pending invoice items plus lines already invoiced.
    async fn covered(
        &self,
        customer: &CustomerId,
        is_ours: &impl Fn(&wire::Metadata) -> bool,
    ) -> Result<Vec<Covered>, AttemptError> {
        let pending: Vec<wire::InvoiceItem> = self
            .transport
            .list_all(|limit, after| {
                let mut list = ListInvoiceItem::new().customer(customer.as_str()).limit(limit);
                if self.flavor == ApiFlavor::Stripe {
                    list = list.pending(true);
                }
                if let Some(after) = after {
                    list = list.starting_after(after);
                }
                list.build()
            })
            .await?;
        let mut covered = Vec::new();
        for ii in pending.iter().filter(|ii| ii.invoice.is_none() && is_ours(&ii.metadata)) {
            covered.push(range(&ii.id, &ii.metadata, false)?);
        }
        for invoice in self.list_invoices(customer).await? {
            for line in self.invoice_lines(invoice).await? {
                if is_ours(&line.metadata) {
                    covered.push(range(&line.id, &line.metadata, true)?);
                }
            }
        }
        Ok(covered)
    }

    /// Every invoice of a customer, newest first.
    pub(crate) async fn list_invoices(&self, customer: &CustomerId) -> Result<Vec<wire::Invoice>, AttemptError> {
        self.transport
            .list_all(|limit, after| {
                let mut list = ListInvoice::new().customer(customer.as_str()).limit(limit);
                if let Some(after) = after {
                    list = list.starting_after(after);
                }
                list.build()
            })
            .await
    }

    /// All lines of an invoice: the embedded page, or every page when it was cut short.
    async fn invoice_lines(&self, invoice: wire::Invoice) -> Result<Vec<wire::InvoiceLine>, AttemptError> {
        match (invoice.lines, invoice.id) {
            (Some(lines), _) if !lines.has_more => Ok(lines.data),
            (_, Some(id)) => {
                self.transport
                    .list_all(|limit, after| {
                        RequestBuilder::new(StripeMethod::Get, format!("/invoices/{id}/lines"))
                            .query(&LinesQuery { limit, starting_after: after })
                    })
                    .await
            }
            (lines, None) => Ok(lines.map(|l| l.data).unwrap_or_default()),
        }
    }
}

/// Query of `GET /v1/invoices/{id}/lines`.
#[derive(serde::Serialize)]
struct LinesQuery<'a> {
    limit: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<&'a str>,
}

/// The cumulative range a usage item or line covers, from its metadata.
fn range(id: &str, metadata: &wire::Metadata, invoiced: bool) -> Result<Covered, StripeSyncError> {
    let number = |key: &str| metadata.get(key).and_then(|q| q.parse::<u64>().ok());
    match (number(META_QUANTITY_FROM), number(META_QUANTITY)) {
        (Some(from), Some(to)) if from < to => Ok(Covered { from, to, invoiced }),
        _ => Err(StripeSyncError::Conflict(format!(
            "usage item {id} lacks a valid {META_QUANTITY_FROM}..{META_QUANTITY} range in its metadata"
        ))),
    }
}

/// The total the ranges reach, after checking they chain from 0. Pending items and invoice lines never
/// overlap (an invoiced item is no longer pending), so two equal ranges are two items: a double write.
fn chain_end(operation: &str, covered: &[Covered]) -> Result<u64, StripeSyncError> {
    let mut ranges: Vec<(u64, u64)> = covered.iter().map(|c| (c.from, c.to)).collect();
    ranges.sort_unstable();
    let mut end = 0;
    for (from, to) in ranges {
        if from != end {
            return Err(StripeSyncError::Conflict(format!(
                "{operation}: usage items in Stripe do not chain: expected one starting at {end}, found {from}..{to} \
                 (a concurrent writer, or an edit in Stripe)"
            )));
        }
        end = to;
    }
    Ok(end)
}

/// The outcome when Stripe already has `stored` and the report says `requested`, or `None` to write.
fn settled(stored: u64, requested: u64) -> Option<UsageReport> {
    match stored.cmp(&requested) {
        std::cmp::Ordering::Equal => Some(UsageReport::Unchanged { quantity: stored }),
        std::cmp::Ordering::Greater => {
            Some(UsageReport::Stale { reported_quantity: stored, ignored_quantity: requested })
        }
        std::cmp::Ordering::Less => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_up_like_invoices() {
        let per_10k = Price { amount_minor: 100, per: 10_000 };
        assert_eq!(usage_amount(0, per_10k).unwrap(), 0);
        assert_eq!(usage_amount(1, per_10k).unwrap(), 1);
        assert_eq!(usage_amount(15_000, per_10k).unwrap(), 150);
        assert_eq!(usage_amount(15_001, per_10k).unwrap(), 151);
        assert_eq!(usage_amount(7, Price { amount_minor: 5, per: 1 }).unwrap(), 35);
        assert!(usage_amount(u64::MAX, Price { amount_minor: u64::MAX, per: 1 }).is_err());
        assert!(usage_amount(1, Price { amount_minor: 1, per: 0 }).is_err());
    }

    #[test]
    fn settled_compares_with_stripe() {
        assert_eq!(settled(5, 5), Some(UsageReport::Unchanged { quantity: 5 }));
        assert_eq!(settled(9, 5), Some(UsageReport::Stale { reported_quantity: 9, ignored_quantity: 5 }));
        assert_eq!(settled(4, 5), None);
    }

    #[test]
    fn ranges_must_chain_from_zero() {
        let c = |from, to| Covered { from, to, invoiced: false };
        assert_eq!(chain_end("op", &[]).unwrap(), 0);
        assert_eq!(chain_end("op", &[c(40, 90), c(0, 40), c(90, 150)]).unwrap(), 150);
        for broken in [
            vec![c(10, 20)],
            vec![c(0, 40), c(30, 50)],
            vec![c(0, 40), c(0, 50)],
            vec![c(0, 10), c(20, 30)],
            // The same range twice is two items for the same usage: a double write.
            vec![c(0, 40), c(0, 40), c(40, 50)],
        ] {
            assert!(matches!(chain_end("op", &broken), Err(StripeSyncError::Conflict(_))), "{broken:?}");
        }
    }

    #[test]
    fn ranges_come_from_metadata() {
        let md = |pairs: &[(&str, &str)]| -> wire::Metadata {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let ok = md(&[(META_QUANTITY_FROM, "40"), (META_QUANTITY, "90")]);
        assert_eq!(range("ii", &ok, true).unwrap(), Covered { from: 40, to: 90, invoiced: true });
        for bad in [
            md(&[(META_QUANTITY, "90")]),
            md(&[(META_QUANTITY_FROM, "9"), (META_QUANTITY, "9")]),
            md(&[(META_QUANTITY_FROM, "x"), (META_QUANTITY, "9")]),
        ] {
            assert!(matches!(range("ii", &bad, false), Err(StripeSyncError::Conflict(_))));
        }
    }
}
