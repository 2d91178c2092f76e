//! Retries under injected faults: a 500 before Stripe sees a request, and a timeout after Stripe applied it.
//! Whatever happens, nothing is created twice and no usage is counted twice.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use tessera_billing::{BillableMeter, Catalogue, Period};
use tessera_billing_stripe::{RetryPolicy, StripeBilling, StripeConfig, StripeSyncError, SubscriptionRef, UsageReport};

use support::proxy::{Fault, FaultProxy, Seen};
use support::{LocalStripe, meta};

/// A client through the proxy whose timeout the stalled responses overrun, making `attempts` attempts.
fn through(proxy: &FaultProxy, attempts: u32) -> StripeBilling {
    let config = StripeConfig {
        timeout: Duration::from_secs(3),
        retry: RetryPolicy {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        },
        ..StripeConfig::localstripe(proxy.base_url())
    };
    StripeBilling::new(config).expect("client")
}

/// Requests grouped by idempotency key, in order.
fn by_key(seen: &[Seen]) -> BTreeMap<String, Vec<Seen>> {
    let mut keys: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    for s in seen {
        keys.entry(s.idempotency_key.clone().expect("writes carry a key")).or_default().push(s.clone());
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_mid_sync_never_duplicate_objects() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy, 6);
    // Stripe applies the second product and the seventh plan but the client times out; the third plan and
    // the first subscription fail with a 500 before reaching Stripe; the first subscription lookup stalls.
    proxy.fail_nth("POST", "/v1/products", 2, Fault::StallAfterForward);
    proxy.fail_nth("POST", "/v1/plans", 3, Fault::Status500);
    proxy.fail_nth("POST", "/v1/plans", 7, Fault::StallAfterForward);
    proxy.fail_nth("POST", "/v1/customers", 1, Fault::StallAfterForward);
    proxy.fail_nth("GET", "/v1/subscriptions", 1, Fault::StallAfterForward);
    proxy.fail_nth("POST", "/v1/subscriptions", 1, Fault::Status500);
    proxy.fail_nth("POST", "/v1/subscriptions", 2, Fault::StallAfterForward);

    let catalogue = stripe.ensure_catalogue(&Catalogue::builtin()).await.unwrap();
    let customer = stripe.ensure_customer("ws_faulty", "Faulty").await.unwrap();
    let subscription = stripe.ensure_subscription(&catalogue, &customer, "developer").await.unwrap();

    // Stripe's view: exactly one of everything.
    assert_eq!(ls.list("/v1/products").await.len(), 4);
    assert_eq!(ls.list("/v1/plans").await.len(), 16);
    let customers = ls.list("/v1/customers").await;
    assert_eq!(customers.len(), 1);
    assert_eq!(
        (customers[0]["id"].as_str(), meta(&customers[0], "tessera_workspace")),
        (Some(customer.as_str()), "ws_faulty")
    );
    let subscriptions = ls.list("/v1/subscriptions").await;
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0]["id"].as_str(), Some(subscription.subscription_id.as_str()));

    // The wire: the applied-but-timed-out writes were found by the retry's read instead of being re-sent;
    // the 500s (never applied) were re-sent with the same idempotency key.
    let faults = |method: &str, path: &str| proxy.requests(method, path).iter().map(|s| s.fault).collect::<Vec<_>>();
    assert_eq!(faults("POST", "/v1/products"), [None, Some(Fault::StallAfterForward), None, None]);
    assert_eq!(faults("POST", "/v1/customers"), [Some(Fault::StallAfterForward)]);
    assert_eq!(faults("POST", "/v1/subscriptions"), [Some(Fault::Status500), Some(Fault::StallAfterForward)]);
    let plan_faults = faults("POST", "/v1/plans");
    assert_eq!((plan_faults[2], plan_faults[6]), (Some(Fault::Status500), Some(Fault::StallAfterForward)));
    assert_eq!(plan_faults.iter().filter(|f| f.is_some()).count(), 2);
    let plans = by_key(&proxy.requests("POST", "/v1/plans"));
    assert_eq!(plans.len(), 16, "one key per plan");
    let resent: Vec<_> = plans.values().filter(|attempts| attempts.len() > 1).collect();
    assert_eq!(resent.len(), 1, "{plans:#?}");
    assert_eq!(resent[0].iter().map(|s| s.fault).collect::<Vec<_>>(), [Some(Fault::Status500), None]);
    let subscribes = proxy.requests("POST", "/v1/subscriptions");
    assert_eq!(subscribes.len(), 2);
    assert_eq!(subscribes[0].idempotency_key, subscribes[1].idempotency_key);
    // Attempts: stalled lookup; lookup + 500; lookup + applied-but-stalled create; lookup finds it.
    assert_eq!(proxy.requests("GET", "/v1/subscriptions").len(), 4);
    // Reads never carry a key.
    assert!(proxy.seen().iter().filter(|s| s.method == "GET").all(|s| s.idempotency_key.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_surface_and_leave_nothing_behind() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy, 4);
    proxy.fail_range("POST", "/v1/customers", 1, 100, Fault::Status500);

    let err = stripe.ensure_customer("ws_down", "Down").await.unwrap_err();
    match &err {
        StripeSyncError::Unavailable { attempts: 4, last, .. } => assert!(last.contains("500"), "{last}"),
        other => panic!("expected Unavailable after 4 attempts, got {other:?}"),
    }
    let attempts = proxy.requests("POST", "/v1/customers");
    assert_eq!(attempts.len(), 4);
    assert_eq!(by_key(&attempts).len(), 1, "every attempt sends the same idempotency key");
    assert!(ls.list("/v1/customers").await.is_empty());

    // Once Stripe recovers, the caller's retry creates the customer exactly once, under the same key.
    proxy.clear_rules();
    let customer = stripe.ensure_customer("ws_down", "Down").await.unwrap();
    assert_eq!(ls.list("/v1/customers").await.len(), 1);
    let attempts = proxy.requests("POST", "/v1/customers");
    assert_eq!((attempts.len(), by_key(&attempts).len()), (5, 1));
    assert_eq!(stripe.ensure_customer("ws_down", "Down").await.unwrap(), customer);
}

/// A customer with a card on the production plan.
async fn production(ls: &LocalStripe, stripe: &StripeBilling, workspace: &str) -> SubscriptionRef {
    let catalogue = stripe.ensure_catalogue(&Catalogue::builtin()).await.unwrap();
    let customer = stripe.ensure_customer(workspace, workspace).await.unwrap();
    ls.attach_test_card(customer.as_str()).await;
    stripe.ensure_subscription(&catalogue, &customer, "production").await.unwrap()
}

/// The customer's pending usage invoice items for a meter.
async fn usage_items(ls: &LocalStripe, sub: &SubscriptionRef, meter: BillableMeter) -> Vec<serde_json::Value> {
    let items = ls.list(&format!("/v1/invoiceitems?customer={}", sub.customer_id)).await;
    items.into_iter().filter(|ii| meta(ii, "tessera_meter") == meter.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_reports_count_exactly_once() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy, 6);
    let sub = production(&ls, &stripe, "ws_usage").await;
    let period: Period = "2026-11".parse().unwrap();
    let m2m = &sub.items[&BillableMeter::M2mTokens]; // 100 per 10,000
    let adau = &sub.items[&BillableMeter::ActiveIdentities]; // 5 per 1

    let first = stripe.report_usage(m2m, period, 40_000, "m2m-2026-11-40000").await.unwrap();
    assert!(
        matches!(first, UsageReport::Reported { from_quantity: 0, quantity: 40_000, amount_minor: 400, .. }),
        "{first:?}"
    );
    // A duplicate changes nothing.
    let dup = stripe.report_usage(m2m, period, 40_000, "m2m-2026-11-40000").await.unwrap();
    assert_eq!(dup, UsageReport::Unchanged { quantity: 40_000 });
    // A 500 before Stripe sees the write: retried with the same key.
    proxy.fail_nth("POST", "/v1/invoiceitems", 1, Fault::Status500);
    let second = stripe.report_usage(m2m, period, 90_000, "m2m-2026-11-90000").await.unwrap();
    assert!(
        matches!(second, UsageReport::Reported { from_quantity: 40_000, quantity: 90_000, amount_minor: 500, .. }),
        "{second:?}"
    );
    // Stripe applies the write but the client times out: the retry reads 150,001 and writes nothing.
    proxy.fail_nth("POST", "/v1/invoiceitems", 1, Fault::StallAfterForward);
    let third = stripe.report_usage(m2m, period, 150_001, "m2m-2026-11-150001").await.unwrap();
    assert_eq!(third, UsageReport::Unchanged { quantity: 150_001 });
    // A late retry of the 90,000 report must not add anything.
    let late = stripe.report_usage(m2m, period, 90_000, "m2m-2026-11-90000").await.unwrap();
    assert_eq!(late, UsageReport::Stale { reported_quantity: 150_001, ignored_quantity: 90_000 });

    // The first report of another meter times out after Stripe created it: the retry finds it.
    proxy.fail_nth("POST", "/v1/invoiceitems", 1, Fault::StallAfterForward);
    let identities = stripe.report_usage(adau, period, 1_234, "adau-2026-11-1234").await.unwrap();
    assert_eq!(identities, UsageReport::Unchanged { quantity: 1_234 });
    // Zero usage of a meter never reported creates nothing.
    let checks = &sub.items[&BillableMeter::PermissionChecks];
    assert_eq!(
        stripe.report_usage(checks, period, 0, "checks-0").await.unwrap(),
        UsageReport::Unchanged { quantity: 0 }
    );

    // Stripe's view: the m2m items chain 0 -> 40,000 -> 90,000 -> 150,001 and charge exactly
    // ceil(150,001 * 100 / 10,000) = 1,501 in total.
    let mut lines = usage_items(&ls, &sub, BillableMeter::M2mTokens).await;
    lines.sort_by_key(|l| meta(l, "tessera_quantity_from").parse::<u64>().unwrap());
    let ranges: Vec<(&str, &str, i64)> = lines
        .iter()
        .map(|l| (meta(l, "tessera_quantity_from"), meta(l, "tessera_quantity"), l["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(ranges, [("0", "40000", 400), ("40000", "90000", 500), ("90000", "150001", 601)]);
    assert!(
        lines
            .iter()
            .all(|l| meta(l, "tessera_period") == "2026-11" && meta(l, "tessera_subscription") == sub.subscription_id)
    );
    let lines = usage_items(&ls, &sub, BillableMeter::ActiveIdentities).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!((meta(&lines[0], "tessera_quantity"), lines[0]["amount"].as_i64()), ("1234", Some(6_170)));
    assert!(usage_items(&ls, &sub, BillableMeter::PermissionChecks).await.is_empty());
    let upcoming = ls.get(&format!("/v1/invoices/upcoming?customer={}", sub.customer_id)).await;
    assert_eq!(upcoming["total"], 7_000 + 1_501 + 6_170, "{upcoming:#}");

    // The wire: m2m wrote once, then twice under one key (the 500 and its retry), then once (stalled);
    // identities wrote once (stalled). No write was repeated after Stripe had applied it.
    let writes = proxy.requests("POST", "/v1/invoiceitems");
    let faults: Vec<Option<Fault>> = writes.iter().map(|s| s.fault).collect();
    assert_eq!(
        faults,
        [None, Some(Fault::Status500), None, Some(Fault::StallAfterForward), Some(Fault::StallAfterForward)]
    );
    assert_eq!(writes[1].idempotency_key, writes[2].idempotency_key);
    assert_eq!(by_key(&writes).len(), 4);

    // A second writer double-booking a range is detected, and nothing is added on top of it.
    let customer = sub.customer_id.as_str();
    ls.post(
        "/v1/invoiceitems",
        &[
            ("customer", customer),
            ("subscription", sub.subscription_id.as_str()),
            ("amount", "601"),
            ("currency", "usd"),
            ("metadata[tessera_subscription]", sub.subscription_id.as_str()),
            ("metadata[tessera_meter]", "m2m_tokens"),
            ("metadata[tessera_period]", "2026-11"),
            ("metadata[tessera_quantity_from]", "90000"),
            ("metadata[tessera_quantity]", "150001"),
        ],
    )
    .await;
    let err = stripe.report_usage(m2m, period, 200_000, "m2m-2026-11-200000").await.unwrap_err();
    assert!(matches!(&err, StripeSyncError::Conflict(m) if m.contains("do not chain")), "{err:?}");
    assert_eq!(proxy.requests("POST", "/v1/invoiceitems").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoiced_usage_is_never_added_again() {
    let ls = LocalStripe::start().await;
    let proxy = FaultProxy::start(ls.port).await;
    let stripe = through(&proxy, 6);
    let sub = production(&ls, &stripe, "ws_closed").await;
    let period: Period = "2026-11".parse().unwrap();
    let m2m = &sub.items[&BillableMeter::M2mTokens];
    stripe.report_usage(m2m, period, 20_000, "m2m-20000").await.unwrap();

    // Stripe invoices the pending usage (localstripe does so when an invoice is created).
    let invoice = ls.post("/v1/invoices", &[("customer", sub.customer_id.as_str())]).await;
    assert_eq!(invoice["total"], 7_000 + 200, "{invoice:#}");
    assert!(usage_items(&ls, &sub, BillableMeter::M2mTokens).await.is_empty(), "no longer pending");

    // Retrying the invoiced report is a no-op; an older one is stale; a larger one cannot be added silently.
    let again = stripe.report_usage(m2m, period, 20_000, "m2m-20000").await.unwrap();
    assert_eq!(again, UsageReport::Unchanged { quantity: 20_000 });
    let old = stripe.report_usage(m2m, period, 10_000, "m2m-10000").await.unwrap();
    assert_eq!(old, UsageReport::Stale { reported_quantity: 20_000, ignored_quantity: 10_000 });
    let late = stripe.report_usage(m2m, period, 30_000, "m2m-30000").await.unwrap_err();
    assert!(
        matches!(&late, StripeSyncError::PeriodInvoiced { invoiced: 20_000, requested: 30_000, period, .. } if period == "2026-11"),
        "{late:?}"
    );
    assert_eq!(proxy.requests("POST", "/v1/invoiceitems").len(), 1);
    assert!(usage_items(&ls, &sub, BillableMeter::M2mTokens).await.is_empty());

    // The next period is independent.
    let december: Period = "2026-12".parse().unwrap();
    let next = stripe.report_usage(m2m, december, 5_000, "m2m-dec-5000").await.unwrap();
    assert!(
        matches!(next, UsageReport::Reported { from_quantity: 0, quantity: 5_000, amount_minor: 50, .. }),
        "{next:?}"
    );
}
