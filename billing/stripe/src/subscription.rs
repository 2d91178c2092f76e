//! One subscription per customer carrying the plan's base fee, and plan changes on it.
//!
//! localstripe subscriptions hold exactly one item (more is a 500 "Not implemented"), so the subscription has
//! only the licensed base item; metered usage is billed through invoice items on the subscription (see
//! [`crate::usage`]). [`SubscriptionRef::items`] therefore maps each meter to a [`MeteredItem`], the handle
//! usage is reported against, rather than to a Stripe subscription item.

use std::collections::{BTreeMap, HashMap};

use stripe_billing::subscription::{
    CreateSubscription, CreateSubscriptionItems, ListSubscription, RetrieveSubscription, UpdateSubscription,
    UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior,
};
use stripe_client_core::StripeRequest;
use tessera_billing::{BillableMeter, Price};

use crate::catalogue::{META_PLAN, StripeCatalogue, StripePlan};
use crate::config::ApiFlavor;
use crate::customer::CustomerId;
use crate::error::{AttemptError, StripeSyncError};
use crate::transport::idempotency_key;
use crate::{StripeBilling, wire};

/// A workspace's subscription as Tessera uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRef {
    /// `sub_...`.
    pub subscription_id: String,
    /// The subscribed customer.
    pub customer_id: CustomerId,
    /// The Tessera plan the subscription is on now, read from its base item.
    pub plan_id: String,
    /// The subscription item charging the base fee; a plan change swaps its plan.
    pub base_item_id: String,
    /// Where each priced meter's usage is reported, for meters of this plan with an overage price.
    pub items: BTreeMap<BillableMeter, MeteredItem>,
}

/// What usage of one meter on one subscription is charged at: the handle [`StripeBilling::report_usage`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteredItem {
    /// The customer the usage invoice items belong to.
    pub customer_id: CustomerId,
    /// The subscription whose next invoice collects them.
    pub subscription_id: String,
    /// The meter.
    pub meter: BillableMeter,
    /// The metered Stripe plan documenting the price.
    pub price_id: String,
    /// Currency of the amounts.
    pub currency: String,
    /// The overage price the amount is computed with.
    pub price: Price,
}

/// Which way a plan change goes; it decides proration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMove {
    /// Takes effect now and is prorated and invoiced immediately.
    Upgrade,
    /// Our control plane schedules downgrades for the period start, so the swap itself is not prorated.
    Downgrade,
}

/// Statuses of subscriptions that are over and must not be reused.
const ENDED: [&str; 2] = ["canceled", "incomplete_expired"];

impl StripeBilling {
    /// The customer's Tessera subscription, created on `plan_id` if it has none.
    ///
    /// An existing subscription is returned as it is, even on another plan: changing plans is
    /// [`StripeBilling::change_plan`]'s job, with its proration rules. Every attempt lists the customer's
    /// subscriptions before creating, so retries never subscribe twice.
    /// An unknown customer is a [`StripeSyncError::Rejected`] 404, not retried.
    pub async fn ensure_subscription(
        &self,
        catalogue: &StripeCatalogue,
        customer: &CustomerId,
        plan_id: &str,
    ) -> Result<SubscriptionRef, StripeSyncError> {
        let plan = catalogue.require(plan_id)?;
        let operation = format!("ensure subscription of {customer} on {plan_id}");
        self.transport
            .retry(&operation, move || async move {
                let subscriptions: Vec<wire::Subscription> = self
                    .transport
                    .list_all(|limit, after| {
                        let mut list = ListSubscription::new().customer(customer.as_str()).limit(limit);
                        if let Some(after) = after {
                            list = list.starting_after(after);
                        }
                        list.build()
                    })
                    .await?;
                let existing = subscriptions
                    .into_iter()
                    .filter(|s| s.metadata.contains_key(META_PLAN) && !ENDED.contains(&s.status.as_str()))
                    .min_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
                if let Some(subscription) = existing {
                    return subscription_ref(catalogue, customer, &subscription);
                }
                let key = idempotency_key("subscription", &[customer.as_str(), &plan.base_price_id]);
                let mut item = CreateSubscriptionItems::new();
                item.plan = Some(plan.base_price_id.clone());
                let create = CreateSubscription::new()
                    .customer(customer.as_str())
                    .items(vec![item])
                    .metadata(HashMap::from([(META_PLAN.to_owned(), plan.plan_id.clone())]));
                let created: wire::Subscription = self.transport.send(create.build(), Some(&key)).await?;
                subscription_ref(catalogue, customer, &created)
            })
            .await
    }

    /// Moves a subscription's base item to another plan.
    ///
    /// An upgrade is prorated and invoiced at once (`proration_behavior=always_invoice`); a downgrade is a
    /// plain swap (`none`), since the control plane only calls it at the period start. Re-reading the
    /// subscription first makes a repeated call a no-op. localstripe knows no `proration_behavior`: there the
    /// swap is sent without it and localstripe adds its own "unused time" credit to the next invoice.
    pub async fn change_plan(
        &self,
        catalogue: &StripeCatalogue,
        current: &SubscriptionRef,
        new_plan_id: &str,
        change: PlanMove,
    ) -> Result<SubscriptionRef, StripeSyncError> {
        let target = catalogue.require(new_plan_id)?;
        let id = current.subscription_id.as_str();
        let operation = format!("change subscription {id} to {new_plan_id}");
        self.transport
            .retry(&operation, move || async move {
                let subscription: wire::Subscription =
                    self.transport.send(RetrieveSubscription::new(id).build(), None).await?;
                let (item, _) = base_item(catalogue, &subscription)?;
                if item.plan.as_ref().map(|p| p.id.as_str()) == Some(target.base_price_id.as_str()) {
                    return subscription_ref(catalogue, &current.customer_id, &subscription);
                }
                let how = match change {
                    PlanMove::Upgrade => "upgrade",
                    PlanMove::Downgrade => "downgrade",
                };
                let key = idempotency_key("change-plan", &[id, &item.id, &target.base_price_id, how]);
                let mut swap = UpdateSubscriptionItems::new();
                swap.id = Some(item.id.clone());
                swap.plan = Some(target.base_price_id.clone());
                let mut update = UpdateSubscription::new(id)
                    .items(vec![swap])
                    .metadata(HashMap::from([(META_PLAN.to_owned(), target.plan_id.clone())]));
                if self.flavor == ApiFlavor::Stripe {
                    update = update.proration_behavior(match change {
                        PlanMove::Upgrade => UpdateSubscriptionProrationBehavior::AlwaysInvoice,
                        PlanMove::Downgrade => UpdateSubscriptionProrationBehavior::None,
                    });
                }
                let updated: wire::Subscription = self.transport.send(update.build(), Some(&key)).await?;
                subscription_ref(catalogue, &current.customer_id, &updated)
            })
            .await
    }
}

/// The subscription's base item and the catalogue plan it is on.
fn base_item<'a, 'c>(
    catalogue: &'c StripeCatalogue,
    subscription: &'a wire::Subscription,
) -> Result<(&'a wire::SubscriptionItem, &'c StripePlan), AttemptError> {
    subscription
        .items
        .data
        .iter()
        .find_map(|item| {
            let plan = catalogue.by_base_price(&item.plan.as_ref()?.id)?;
            Some((item, plan))
        })
        .ok_or_else(|| {
            StripeSyncError::Conflict(format!(
                "subscription {} has no item on a base plan of the catalogue",
                subscription.id
            ))
            .into()
        })
}

/// Builds the reference from what Stripe returned, so it reflects Stripe's state, not our request.
fn subscription_ref(
    catalogue: &StripeCatalogue,
    customer: &CustomerId,
    subscription: &wire::Subscription,
) -> Result<SubscriptionRef, AttemptError> {
    let (item, plan) = base_item(catalogue, subscription)?;
    let items = plan
        .metered
        .iter()
        .map(|(meter, metered)| {
            let handle = MeteredItem {
                customer_id: customer.clone(),
                subscription_id: subscription.id.clone(),
                meter: *meter,
                price_id: metered.price_id.clone(),
                currency: plan.currency.clone(),
                price: metered.price,
            };
            (*meter, handle)
        })
        .collect();
    Ok(SubscriptionRef {
        subscription_id: subscription.id.clone(),
        customer_id: customer.clone(),
        plan_id: plan.plan_id.clone(),
        base_item_id: item.id.clone(),
        items,
    })
}
