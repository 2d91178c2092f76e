//! The parts of Stripe's JSON this crate reads.
//!
//! async-stripe's generated response types require every field of the current API version, which localstripe
//! does not send (a subscription without `automatic_tax`, an invoice without `issuer`), so responses are read
//! into these lenient structs instead: only the fields used, unknown fields ignored, missing ones defaulted.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Stripe metadata: string keys and values; `null` and absent read as empty.
pub(crate) type Metadata = BTreeMap<String, String>;

fn metadata<'de, D: Deserializer<'de>>(d: D) -> Result<Metadata, D::Error> {
    Ok(Option::<Metadata>::deserialize(d)?.unwrap_or_default())
}

/// Objects that can be paged through with `starting_after`.
pub(crate) trait Listed {
    /// The object's id, the next page's cursor.
    fn cursor(&self) -> Option<&str>;
}

/// One page of a list endpoint.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// A product: one per Tessera plan.
#[derive(Debug, Deserialize)]
pub(crate) struct Product {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
}

/// A (legacy) plan, which localstripe has instead of prices; Stripe accepts plan ids wherever price ids go.
#[derive(Debug, Deserialize)]
pub(crate) struct Plan {
    pub id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub interval: String,
    #[serde(default)]
    pub usage_type: String,
    #[serde(default)]
    pub product: Option<String>,
}

/// A customer.
#[derive(Debug, Deserialize)]
pub(crate) struct Customer {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
}

impl Listed for Customer {
    fn cursor(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// A subscription with its items.
#[derive(Debug, Deserialize)]
pub(crate) struct Subscription {
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
    pub items: Page<SubscriptionItem>,
}

impl Listed for Subscription {
    fn cursor(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// One item of a subscription.
#[derive(Debug, Deserialize)]
pub(crate) struct SubscriptionItem {
    pub id: String,
    #[serde(default)]
    pub plan: Option<Plan>,
}

/// An invoice item: how usage is billed (see [`crate::usage`]).
#[derive(Debug, Deserialize)]
pub(crate) struct InvoiceItem {
    pub id: String,
    #[serde(default)]
    pub invoice: Option<String>,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
}

impl Listed for InvoiceItem {
    fn cursor(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// An invoice, for reconciliation.
#[derive(Debug, Deserialize)]
pub(crate) struct Invoice {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub period_start: Option<i64>,
    #[serde(default)]
    pub period_end: Option<i64>,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
    #[serde(default)]
    pub lines: Option<Page<InvoiceLine>>,
}

impl Listed for Invoice {
    fn cursor(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// One invoice line; invoice-item lines carry the item's metadata.
#[derive(Debug, Deserialize)]
pub(crate) struct InvoiceLine {
    pub id: String,
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
}

impl Listed for InvoiceLine {
    fn cursor(&self) -> Option<&str> {
        Some(&self.id)
    }
}
