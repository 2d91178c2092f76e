//! Stripe's invoices of a customer, in the shape reconciliation needs.

use time::OffsetDateTime;

use crate::customer::CustomerId;
use crate::error::StripeSyncError;
use crate::usage::META_PERIOD;
use crate::{StripeBilling, wire};

/// Where an invoice is in Stripe's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceState {
    /// Still editable.
    Draft,
    /// Finalised, awaiting payment.
    Open,
    /// Paid.
    Paid,
    /// Given up on.
    Uncollectible,
    /// Cancelled; charges nothing.
    Void,
    /// A status this crate does not know, kept verbatim.
    Other(String),
}

impl InvoiceState {
    fn parse(status: Option<&str>) -> InvoiceState {
        match status {
            Some("draft") => InvoiceState::Draft,
            Some("open") => InvoiceState::Open,
            Some("paid") => InvoiceState::Paid,
            Some("uncollectible") => InvoiceState::Uncollectible,
            Some("void") => InvoiceState::Void,
            other => InvoiceState::Other(other.unwrap_or_default().to_owned()),
        }
    }
}

/// One Stripe invoice, with integer amounts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeInvoice {
    /// `in_...`.
    pub id: String,
    /// Lifecycle state.
    pub status: InvoiceState,
    /// What Stripe charges, in minor units; negative for a credit.
    pub total_minor: i64,
    /// Lowercase ISO 4217 code.
    pub currency: String,
    /// Start of the usage period the invoice covers, when Stripe says.
    pub period_start: Option<OffsetDateTime>,
    /// End of that period.
    pub period_end: Option<OffsetDateTime>,
    /// The Tessera period named in the invoice's `tessera_period` metadata, when present and valid.
    pub tessera_period: Option<tessera_billing::Period>,
}

impl StripeInvoice {
    fn of(invoice: wire::Invoice) -> Option<StripeInvoice> {
        let at = |t: Option<i64>| t.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        Some(StripeInvoice {
            status: InvoiceState::parse(invoice.status.as_deref()),
            total_minor: invoice.total,
            currency: invoice.currency,
            period_start: at(invoice.period_start),
            period_end: at(invoice.period_end),
            tessera_period: invoice.metadata.get(META_PERIOD).and_then(|p| p.parse().ok()),
            id: invoice.id?,
        })
    }
}

impl StripeBilling {
    /// Every invoice Stripe has for the customer, newest first, for [`crate::reconcile`].
    ///
    /// An unknown customer is a [`StripeSyncError::Rejected`] 404.
    pub async fn invoices(&self, customer: &CustomerId) -> Result<Vec<StripeInvoice>, StripeSyncError> {
        let operation = format!("list invoices of {customer}");
        let invoices =
            self.transport.retry(&operation, move || async move { self.list_invoices(customer).await }).await?;
        Ok(invoices.into_iter().filter_map(StripeInvoice::of).collect())
    }
}
