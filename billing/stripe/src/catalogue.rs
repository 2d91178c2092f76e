//! The plan catalogue in Stripe: one product per plan, one monthly licensed plan for the base fee, and one
//! metered plan per meter with an overage price.
//!
//! Ids are deterministic and content-addressed (`tessera-<plan>-base-<currency>-<amount>`), because Stripe
//! never changes a price's amount: a new amount is a new object, and the old one stays for subscriptions still
//! on it. So "does it exist" is a lookup by id, and running the sync twice creates nothing.
//! Stripe's legacy Plans API is used instead of Prices because localstripe has no `/v1/prices`; real Stripe
//! still serves it and accepts plan ids wherever price ids go.

use std::collections::{BTreeMap, HashMap};

use stripe_billing::plan::{CreatePlan, CreatePlanProduct, RetrievePlan};
use stripe_billing::{PlanInterval, PlanUsageType};
use stripe_client_core::StripeRequest;
use stripe_product::product::{CreateProduct, RetrieveProduct, UpdateProduct};
use tessera_billing::{BillableMeter, Catalogue, Plan, Price};

use crate::error::{AttemptError, StripeSyncError};
use crate::transport::idempotency_key;
use crate::{StripeBilling, wire};

/// Metadata key naming the Tessera plan on products, plans and subscriptions.
pub const META_PLAN: &str = "tessera_plan";
/// Metadata key naming the billable meter on metered plans and usage invoice items.
pub const META_METER: &str = "tessera_meter";
/// Metadata key saying which part of a plan a Stripe plan prices: `base` or `metered`.
pub const META_COMPONENT: &str = "tessera_component";
/// Metadata key holding a metered price's `per`: Stripe's integer `amount` is charged per this many units.
pub const META_PER: &str = "tessera_per";

/// The Stripe ids and amounts of a Tessera catalogue, derived without any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeCatalogue {
    plans: BTreeMap<String, StripePlan>,
}

/// One Tessera plan's Stripe objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripePlan {
    /// The Tessera plan id.
    pub plan_id: String,
    /// The product's name.
    pub display_name: String,
    /// `tessera-<plan>`.
    pub product_id: String,
    /// Lowercase ISO 4217 code of every amount.
    pub currency: String,
    /// The monthly licensed plan charging `base_price_minor`.
    pub base_price_id: String,
    /// The base fee in minor units.
    pub base_price_minor: u64,
    /// The metered plans, only for meters with an overage price.
    pub metered: BTreeMap<BillableMeter, MeteredPrice>,
}

/// A meter's overage price in Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteredPrice {
    /// The metered Stripe plan's id.
    pub price_id: String,
    /// `amount_minor` per `per` units, exactly as in the Tessera catalogue.
    pub price: Price,
}

impl StripeCatalogue {
    /// The Stripe objects a catalogue maps to; pure, so callers can compute ids without calling Stripe.
    pub fn of(catalogue: &Catalogue) -> StripeCatalogue {
        let plans = catalogue.plans().iter().map(|p| (p.id.clone(), StripePlan::of(p))).collect();
        StripeCatalogue { plans }
    }

    /// A plan by Tessera id.
    pub fn plan(&self, id: &str) -> Option<&StripePlan> {
        self.plans.get(id)
    }

    /// A plan by Tessera id, or [`StripeSyncError::UnknownPlan`].
    pub(crate) fn require(&self, id: &str) -> Result<&StripePlan, StripeSyncError> {
        self.plan(id).ok_or_else(|| StripeSyncError::UnknownPlan(id.to_owned()))
    }

    /// The plan whose base price has this Stripe id, to read which plan a subscription is on.
    pub(crate) fn by_base_price(&self, price_id: &str) -> Option<&StripePlan> {
        self.plans.values().find(|p| p.base_price_id == price_id)
    }

    /// Every plan, by id.
    pub fn plans(&self) -> impl Iterator<Item = &StripePlan> {
        self.plans.values()
    }
}

impl StripePlan {
    fn of(plan: &Plan) -> StripePlan {
        let currency = plan.currency.clone();
        let metered = BillableMeter::ALL
            .into_iter()
            .filter_map(|meter| {
                let price = plan.terms(meter).overage?;
                let price_id = format!(
                    "tessera-{}-{}-{currency}-{}-per-{}",
                    plan.id,
                    meter.as_str(),
                    price.amount_minor,
                    price.per
                );
                Some((meter, MeteredPrice { price_id, price }))
            })
            .collect();
        StripePlan {
            plan_id: plan.id.clone(),
            display_name: plan.display_name.clone(),
            product_id: format!("tessera-{}", plan.id),
            base_price_id: format!("tessera-{}-base-{currency}-{}", plan.id, plan.base_price_minor),
            currency,
            base_price_minor: plan.base_price_minor,
            metered,
        }
    }
}

/// What one Stripe plan must look like.
struct PriceSpec<'a> {
    id: &'a str,
    product_id: &'a str,
    plan_id: &'a str,
    currency: &'a str,
    amount: u64,
    metered: Option<(BillableMeter, u64)>,
    nickname: String,
}

impl StripeBilling {
    /// Creates whatever of the catalogue is missing in Stripe and returns its ids.
    ///
    /// Idempotent: existing objects are looked up by id and checked, never duplicated; a product's name is
    /// updated when the plan's display name changed. An existing price with the same id but other terms is a
    /// [`StripeSyncError::Conflict`], since ids encode the terms.
    pub async fn ensure_catalogue(&self, catalogue: &Catalogue) -> Result<StripeCatalogue, StripeSyncError> {
        let synced = StripeCatalogue::of(catalogue);
        for plan in synced.plans() {
            self.ensure_product(plan).await?;
            self.ensure_price(&PriceSpec {
                id: &plan.base_price_id,
                product_id: &plan.product_id,
                plan_id: &plan.plan_id,
                currency: &plan.currency,
                amount: plan.base_price_minor,
                metered: None,
                nickname: format!("{} base fee", plan.display_name),
            })
            .await?;
            for (meter, metered) in &plan.metered {
                self.ensure_price(&PriceSpec {
                    id: &metered.price_id,
                    product_id: &plan.product_id,
                    plan_id: &plan.plan_id,
                    currency: &plan.currency,
                    amount: metered.price.amount_minor,
                    metered: Some((*meter, metered.price.per)),
                    nickname: format!("{} {} per {}", plan.display_name, meter.label(), metered.price.per),
                })
                .await?;
            }
        }
        Ok(synced)
    }

    async fn ensure_product(&self, plan: &StripePlan) -> Result<(), StripeSyncError> {
        let operation = format!("ensure product {}", plan.product_id);
        self.transport
            .retry(&operation, move || async move {
                let found = self.transport.send::<wire::Product>(RetrieveProduct::new(&*plan.product_id).build(), None);
                match found.await {
                    Ok(product) => {
                        if product.metadata.get(META_PLAN) != Some(&plan.plan_id) {
                            return Err(StripeSyncError::Conflict(format!(
                                "product {} exists but is not marked {META_PLAN}={}",
                                plan.product_id, plan.plan_id
                            ))
                            .into());
                        }
                        if product.name.as_deref() != Some(&plan.display_name) {
                            let key = idempotency_key("product-name", &[&plan.product_id, &plan.display_name]);
                            let update = UpdateProduct::new(&*plan.product_id).name(&*plan.display_name);
                            self.transport.send::<wire::Product>(update.build(), Some(&key)).await?;
                        }
                        Ok(())
                    }
                    Err(AttemptError::Fatal(e)) if e.is_not_found() => {
                        let key = idempotency_key("product", &[&plan.product_id, &plan.display_name]);
                        let metadata = HashMap::from([(META_PLAN.to_owned(), plan.plan_id.clone())]);
                        let create = CreateProduct::new(&*plan.display_name).id(&*plan.product_id).metadata(metadata);
                        self.transport.send::<wire::Product>(create.build(), Some(&key)).await?;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            })
            .await
    }

    async fn ensure_price(&self, spec: &PriceSpec<'_>) -> Result<(), StripeSyncError> {
        let operation = format!("ensure plan {}", spec.id);
        let amount = i64::try_from(spec.amount)
            .map_err(|_| StripeSyncError::InvalidInput(format!("{}: amount {} exceeds i64", spec.id, spec.amount)))?;
        self.transport
            .retry(&operation, move || async move {
                match self.transport.send::<wire::Plan>(RetrievePlan::new(spec.id).build(), None).await {
                    Ok(existing) => check_price(spec, amount, &existing).map_err(AttemptError::from),
                    Err(AttemptError::Fatal(e)) if e.is_not_found() => {
                        let key =
                            idempotency_key("plan", &[spec.id, spec.product_id, spec.currency, &amount.to_string()]);
                        let mut metadata = HashMap::from([(META_PLAN.to_owned(), spec.plan_id.to_owned())]);
                        let usage_type = match spec.metered {
                            Some((meter, per)) => {
                                metadata.insert(META_COMPONENT.to_owned(), "metered".to_owned());
                                metadata.insert(META_METER.to_owned(), meter.as_str().to_owned());
                                metadata.insert(META_PER.to_owned(), per.to_string());
                                PlanUsageType::Metered
                            }
                            None => {
                                metadata.insert(META_COMPONENT.to_owned(), "base".to_owned());
                                PlanUsageType::Licensed
                            }
                        };
                        let currency: stripe_types::Currency = spec.currency.parse().unwrap_or_else(|e| match e {});
                        let create = CreatePlan::new(currency, PlanInterval::Month)
                            .id(spec.id)
                            .amount(amount)
                            .product(CreatePlanProduct::Id(spec.product_id.to_owned()))
                            .usage_type(usage_type)
                            .nickname(&*spec.nickname)
                            .metadata(metadata);
                        self.transport.send::<wire::Plan>(create.build(), Some(&key)).await?;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            })
            .await
    }
}

/// An existing plan must have exactly the terms its id encodes.
fn check_price(spec: &PriceSpec<'_>, amount: i64, existing: &wire::Plan) -> Result<(), StripeSyncError> {
    let usage_type = if spec.metered.is_some() { "metered" } else { "licensed" };
    let same = existing.amount == Some(amount)
        && existing.currency == spec.currency
        && existing.interval == "month"
        && existing.usage_type == usage_type
        && existing.product.as_deref() == Some(spec.product_id);
    if same {
        Ok(())
    } else {
        Err(StripeSyncError::Conflict(format!(
            "plan {} exists with other terms (amount {:?} {}, interval {}, usage {}, product {:?})",
            spec.id, existing.amount, existing.currency, existing.interval, existing.usage_type, existing.product
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_ids_are_deterministic() {
        let synced = StripeCatalogue::of(&Catalogue::builtin());
        assert_eq!(synced, StripeCatalogue::of(&Catalogue::builtin()));
        let developer = synced.plan("developer").unwrap();
        assert_eq!(developer.product_id, "tessera-developer");
        assert_eq!(developer.base_price_id, "tessera-developer-base-usd-0");
        assert!(developer.metered.is_empty(), "hard-limited meters have no price");
        let production = synced.plan("production").unwrap();
        assert_eq!(production.base_price_id, "tessera-production-base-usd-7000");
        assert_eq!(production.metered.len(), 4);
        let m2m = &production.metered[&BillableMeter::M2mTokens];
        assert_eq!(m2m.price_id, "tessera-production-m2m_tokens-usd-100-per-10000");
        assert_eq!(m2m.price, Price { amount_minor: 100, per: 10_000 });
        assert_eq!(synced.by_base_price("tessera-growth-base-usd-67000").map(|p| p.plan_id.as_str()), Some("growth"));
        assert!(synced.plan("platinum").is_none());
        assert!(matches!(synced.require("platinum"), Err(StripeSyncError::UnknownPlan(p)) if p == "platinum"));
    }
}
