//! One Stripe customer per workspace, found by its `tessera_workspace` metadata.

use std::collections::HashMap;
use std::fmt;

use stripe_client_core::StripeRequest;
use stripe_core::customer::{CreateCustomer, ListCustomer, UpdateCustomer};

use crate::error::StripeSyncError;
use crate::transport::idempotency_key;
use crate::{StripeBilling, wire};

/// Metadata key holding the Tessera workspace id on its Stripe customer.
pub const META_WORKSPACE: &str = "tessera_workspace";

/// A Stripe customer id (`cus_...`); a newtype so it cannot be mixed up with other ids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerId(String);

impl CustomerId {
    /// Wraps an id stored earlier (for example on the workspace row).
    pub fn new(id: impl Into<String>) -> CustomerId {
        CustomerId(id.into())
    }

    /// The id as Stripe spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a caller-supplied text before it goes into Stripe metadata (values are limited to 500 characters).
pub(crate) fn check_text(what: &str, value: &str, max_chars: usize) -> Result<(), StripeSyncError> {
    if value.trim().is_empty() || value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(StripeSyncError::InvalidInput(format!(
            "{what} must be 1 to {max_chars} printable characters, got {value:?}"
        )));
    }
    Ok(())
}

impl StripeBilling {
    /// The workspace's Stripe customer, created on first use; the name is kept up to date.
    ///
    /// Every attempt first lists customers and matches `tessera_workspace`, then creates with an idempotency
    /// key derived from the workspace and name, so a retry after a lost response finds the customer instead of
    /// making a second one. Listing is linear in the number of customers: callers should store the returned
    /// id and use this only to create or recover it. (Stripe's search API is eventually consistent, so it
    /// cannot prove absence, and localstripe lacks it.) If duplicates exist already, the oldest wins.
    pub async fn ensure_customer(&self, workspace_id: &str, name: &str) -> Result<CustomerId, StripeSyncError> {
        check_text("workspace id", workspace_id, 500)?;
        check_text("customer name", name, 256)?;
        let operation = format!("ensure customer for workspace {workspace_id}");
        self.transport
            .retry(&operation, move || async move {
                let customers: Vec<wire::Customer> = self
                    .transport
                    .list_all(|limit, after| {
                        let mut list = ListCustomer::new().limit(limit);
                        if let Some(after) = after {
                            list = list.starting_after(after);
                        }
                        list.build()
                    })
                    .await?;
                let existing = customers
                    .into_iter()
                    .filter(|c| !c.deleted && c.metadata.get(META_WORKSPACE).map(String::as_str) == Some(workspace_id))
                    .min_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
                if let Some(customer) = existing {
                    if customer.name.as_deref() != Some(name) {
                        let key = idempotency_key("customer-name", &[&customer.id, name]);
                        let update = UpdateCustomer::new(&*customer.id).name(name);
                        self.transport.send::<wire::Customer>(update.build(), Some(&key)).await?;
                    }
                    return Ok(CustomerId(customer.id));
                }
                let key = idempotency_key("customer", &[workspace_id, name]);
                let metadata = HashMap::from([(META_WORKSPACE.to_owned(), workspace_id.to_owned())]);
                let create = CreateCustomer::new().name(name).metadata(metadata);
                let created: wire::Customer = self.transport.send(create.build(), Some(&key)).await?;
                Ok(CustomerId(created.id))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks() {
        assert!(check_text("x", "ws_1", 10).is_ok());
        for bad in ["", "   ", "a\nb", "01234567890"] {
            assert!(matches!(check_text("x", bad, 10), Err(StripeSyncError::InvalidInput(_))), "{bad:?}");
        }
        assert_eq!(CustomerId::new("cus_1").to_string(), "cus_1");
    }
}
