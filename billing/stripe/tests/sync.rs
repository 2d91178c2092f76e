//! Catalogue, customer, subscription and invoice sync against a real localstripe.

mod support;

use std::time::Duration;

use tessera_billing::{BillableMeter, Catalogue, Invoice, InvoiceStatus, Period};
use tessera_billing_stripe::{
    CustomerId, InvoiceState, PlanMove, Reconciliation, StripeBilling, StripeConfig, StripeSyncError, reconcile,
};

use support::proxy::FaultProxy;
use support::{LocalStripe, meta};

fn through(proxy: &FaultProxy) -> StripeBilling {
    let config = StripeConfig { timeout: Duration::from_secs(3), ..StripeConfig::localstripe(proxy.base_url()) };
    StripeBilling::new(config).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_customer_and_subscription_are_idempotent() {
    let ls = LocalStripe::start().await;
    let stripe = ls.client();
    let catalogue = Catalogue::builtin();

    let first = stripe.ensure_catalogue(&catalogue).await.unwrap();
    let second = stripe.ensure_catalogue(&catalogue).await.unwrap();
    assert_eq!(first, second);
    let products = ls.list("/v1/products").await;
    let mut product_ids: Vec<&str> = products.iter().map(|p| p["id"].as_str().unwrap()).collect();
    product_ids.sort_unstable();
    assert_eq!(product_ids, ["tessera-developer", "tessera-enterprise", "tessera-growth", "tessera-production"]);
    for product in &products {
        assert_eq!(format!("tessera-{}", meta(product, "tessera_plan")), product["id"].as_str().unwrap());
    }
    // Four base plans plus four metered ones for each of the three plans with overage prices.
    let plans = ls.list("/v1/plans").await;
    assert_eq!(plans.len(), 16, "{plans:#?}");
    let plan = |id: &str| plans.iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("no plan {id}"));
    let base = plan("tessera-production-base-usd-7000");
    assert_eq!((base["amount"].as_i64(), base["usage_type"].as_str()), (Some(7_000), Some("licensed")));
    assert_eq!((base["interval"].as_str(), base["product"].as_str()), (Some("month"), Some("tessera-production")));
    let m2m = plan("tessera-production-m2m_tokens-usd-100-per-10000");
    assert_eq!((m2m["amount"].as_i64(), m2m["usage_type"].as_str()), (Some(100), Some("metered")));
    assert_eq!((meta(m2m, "tessera_meter"), meta(m2m, "tessera_per")), ("m2m_tokens", "10000"));
    assert_eq!(plan("tessera-developer-base-usd-0")["amount"].as_i64(), Some(0));

    let acme = stripe.ensure_customer("ws_acme", "Acme").await.unwrap();
    assert_eq!(stripe.ensure_customer("ws_acme", "Acme").await.unwrap(), acme);
    let other = stripe.ensure_customer("ws_other", "Other").await.unwrap();
    assert_ne!(acme, other);
    // A renamed workspace keeps its customer; the name follows.
    assert_eq!(stripe.ensure_customer("ws_acme", "Acme Inc").await.unwrap(), acme);
    let customers = ls.list("/v1/customers").await;
    assert_eq!(customers.len(), 2);
    assert_eq!(customers.iter().filter(|c| meta(c, "tessera_workspace") == "ws_acme").count(), 1);
    assert_eq!(ls.get(&format!("/v1/customers/{acme}")).await["name"], "Acme Inc");

    // The free plan needs no payment method.
    let free = stripe.ensure_subscription(&first, &acme, "developer").await.unwrap();
    assert_eq!(stripe.ensure_subscription(&first, &acme, "developer").await.unwrap(), free);
    assert_eq!((free.plan_id.as_str(), free.items.len()), ("developer", 0));
    assert_eq!(ls.list(&format!("/v1/subscriptions?customer={acme}")).await.len(), 1);

    ls.attach_test_card(other.as_str()).await;
    let paid = stripe.ensure_subscription(&first, &other, "production").await.unwrap();
    assert_eq!(stripe.ensure_subscription(&first, &other, "production").await.unwrap(), paid);
    assert_eq!(paid.plan_id, "production");
    assert_eq!(paid.items.keys().copied().collect::<Vec<_>>(), BillableMeter::ALL);
    let m2m_item = &paid.items[&BillableMeter::M2mTokens];
    assert_eq!(
        (m2m_item.price_id.as_str(), m2m_item.price.amount_minor),
        ("tessera-production-m2m_tokens-usd-100-per-10000", 100)
    );
    let stored = ls.get(&format!("/v1/subscriptions/{}", paid.subscription_id)).await;
    assert_eq!(stored["status"], "active");
    assert_eq!(stored["items"]["data"][0]["id"].as_str(), Some(paid.base_item_id.as_str()));
    assert_eq!(stored["items"]["data"][0]["plan"]["id"], "tessera-production-base-usd-7000");
    // An existing subscription is returned as is, even when asked for another plan.
    let asked_growth = stripe.ensure_subscription(&first, &other, "growth").await.unwrap();
    assert_eq!(asked_growth, paid);
    assert_eq!(ls.list(&format!("/v1/subscriptions?customer={other}")).await.len(), 1);
    assert_eq!(ls.list("/v1/subscriptions").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_changes_swap_the_base_item_once() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy);
    let catalogue = stripe.ensure_catalogue(&Catalogue::builtin()).await.unwrap();
    let customer = stripe.ensure_customer("ws_up", "Up").await.unwrap();
    ls.attach_test_card(customer.as_str()).await;
    let production = stripe.ensure_subscription(&catalogue, &customer, "production").await.unwrap();
    let path = format!("/v1/subscriptions/{}", production.subscription_id);

    let growth = stripe.change_plan(&catalogue, &production, "growth", PlanMove::Upgrade).await.unwrap();
    assert_eq!(growth.subscription_id, production.subscription_id);
    assert_eq!(growth.plan_id, "growth");
    assert_eq!(growth.items[&BillableMeter::M2mTokens].price_id, "tessera-growth-m2m_tokens-usd-50-per-10000");
    let again = stripe.change_plan(&catalogue, &production, "growth", PlanMove::Upgrade).await.unwrap();
    assert_eq!(again, growth);
    assert_eq!(proxy.requests("POST", &path).len(), 1, "the repeated upgrade must not write");
    let stored = ls.get(&path).await;
    assert_eq!(stored["items"]["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored["items"]["data"][0]["plan"]["id"], "tessera-growth-base-usd-67000");
    // (The `tessera_plan` metadata sent along is dropped by localstripe, which ignores metadata on subscription
    // updates; the plan is always read from the base item.)

    let back = stripe.change_plan(&catalogue, &growth, "production", PlanMove::Downgrade).await.unwrap();
    assert_eq!(back.plan_id, "production");
    assert_eq!(proxy.requests("POST", &path).len(), 2);
    assert_eq!(ls.get(&path).await["items"]["data"][0]["plan"]["id"], "tessera-production-base-usd-7000");
    assert_eq!(ls.list(&format!("/v1/subscriptions?customer={customer}")).await.len(), 1);

    let unknown = stripe.change_plan(&catalogue, &back, "platinum", PlanMove::Upgrade).await;
    assert!(matches!(unknown, Err(StripeSyncError::UnknownPlan(p)) if p == "platinum"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_not_retried() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy);
    let catalogue = stripe.ensure_catalogue(&Catalogue::builtin()).await.unwrap();
    proxy.clear_seen();

    let nobody = CustomerId::new("cus_doesnotexist");
    let err = stripe.ensure_subscription(&catalogue, &nobody, "production").await.unwrap_err();
    match &err {
        StripeSyncError::Rejected { status: 404, operation, .. } => assert_eq!(operation, "GET /v1/subscriptions"),
        other => panic!("expected a 404 rejection, got {other:?}"),
    }
    assert!(err.to_string().contains("404"), "{err}");
    assert_eq!(proxy.seen().len(), 1, "a 404 is final: {:?}", proxy.seen());

    let err = stripe.invoices(&nobody).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(proxy.seen().len(), 2);

    // Bad input never reaches Stripe.
    assert!(matches!(stripe.ensure_customer("", "x").await, Err(StripeSyncError::InvalidInput(_))));
    assert!(matches!(stripe.ensure_customer("ws", "a\u{0}b").await, Err(StripeSyncError::InvalidInput(_))));
    assert_eq!(proxy.seen().len(), 2);
    assert!(matches!(
        StripeBilling::new(StripeConfig::localstripe(format!("http://127.0.0.1:{}", ls.port))),
        Err(StripeSyncError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_feed_reconciliation() {
    let ls = LocalStripe::start().await;
    let stripe = ls.client();
    let catalogue = stripe.ensure_catalogue(&Catalogue::builtin()).await.unwrap();
    let customer = stripe.ensure_customer("ws_rec", "Rec").await.unwrap();
    ls.attach_test_card(customer.as_str()).await;
    stripe.ensure_subscription(&catalogue, &customer, "production").await.unwrap();

    let invoices = stripe.invoices(&customer).await.unwrap();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    let invoice = &invoices[0];
    assert_eq!((&invoice.status, invoice.total_minor, invoice.currency.as_str()), (&InvoiceState::Paid, 7_000, "usd"));
    let (start, end) = (invoice.period_start.unwrap(), invoice.period_end.unwrap());
    assert!(start < end);

    // The reconciler tags Stripe's invoice with the Tessera period it settles.
    let period: Period = "2026-11".parse().unwrap();
    ls.post(&format!("/v1/invoices/{}", invoice.id), &[("metadata[tessera_period]", "2026-11")]).await;
    let invoices = stripe.invoices(&customer).await.unwrap();
    assert_eq!(invoices[0].tessera_period, Some(period));
    let ours = |total: u64| Invoice {
        workspace_id: "ws_rec".to_owned(),
        period,
        period_start: period.start(),
        period_end: period.end(),
        status: InvoiceStatus::Final,
        currency: "usd".to_owned(),
        lines: Vec::new(),
        subtotal_minor: total,
        total_minor: total,
    };
    assert_eq!(reconcile(&ours(7_000), &invoices), Reconciliation::Matched { invoice_id: invoice.id.clone() });
    assert_eq!(
        reconcile(&ours(7_250), &invoices),
        Reconciliation::AmountDiffers {
            invoice_id: invoice.id.clone(),
            ours_minor: 7_250,
            theirs_minor: 7_000,
            difference_minor: -250
        }
    );
    let mut december = ours(7_000);
    december.period = "2026-12".parse().unwrap();
    assert_eq!(reconcile(&december, &invoices), Reconciliation::Missing);
}
