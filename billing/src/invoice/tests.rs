use time::macros::{date, datetime};

use super::*;

fn change(requested_at: OffsetDateTime, plan: &str) -> PlanChange {
    PlanChange { requested_at, plan: plan.to_owned() }
}

fn usage(project: &str, day: Date, meter: &str, quantity: u64) -> UsageDay {
    UsageDay { project_id: project.to_owned(), day, meter: meter.to_owned(), quantity }
}

fn request<'a>(
    catalogue: &'a Catalogue,
    period: &str,
    changes: Vec<PlanChange>,
    usage: Vec<UsageDay>,
) -> InvoiceRequest<'a> {
    InvoiceRequest {
        workspace_id: "ws".to_owned(),
        period: period.parse().unwrap(),
        plan_changes: changes,
        usage,
        as_of: None,
        catalogue,
    }
}

#[test]
fn empty_inputs_are_errors_or_empty_lines_not_panics() {
    let catalogue = Catalogue::builtin();
    assert_eq!(invoice(&request(&catalogue, "2027-03", vec![], vec![])), Err(BillingError::NoPlanChanges));
    // Created after the period: nothing to bill it under.
    let later = vec![change(datetime!(2027-04-01 00:00 UTC), "production")];
    assert_eq!(
        invoice(&request(&catalogue, "2027-03", later, vec![])),
        Err(BillingError::NoPlanInPeriod { workspace_id: "ws".into(), period: "2027-03".into() })
    );
    // No usage: only the base line.
    let created = vec![change(datetime!(2027-01-01 00:00 UTC), "production")];
    let invoice = invoice(&request(&catalogue, "2027-03", created, vec![])).unwrap();
    assert_eq!(invoice.lines.len(), 1);
    assert_eq!(invoice.total_minor, 7_000);
    assert_eq!(invoice.status, InvoiceStatus::Final);
}

#[test]
fn unknown_meters_and_zero_usage_make_no_lines() {
    let catalogue = Catalogue::builtin();
    let created = vec![change(datetime!(2027-01-01 00:00 UTC), "production")];
    let rows = vec![
        usage("p", date!(2027 - 03 - 02), "sms_messages", 1_000_000),
        usage("p", date!(2027 - 03 - 02), "api_requests.", 1_000_000),
        usage("p", date!(2027 - 03 - 02), "m2m_tokens", 0),
        usage("p", date!(2027 - 04 - 01), "m2m_tokens", 5),
        usage("p", date!(2027 - 02 - 28), "m2m_tokens", 5),
    ];
    let invoice = invoice(&request(&catalogue, "2027-03", created, rows)).unwrap();
    assert_eq!(invoice.lines.len(), 1, "{:#?}", invoice.lines);
}

#[test]
fn api_request_groups_are_summed_and_repeated_adau_rows_keep_the_largest() {
    let catalogue = Catalogue::builtin();
    let created = vec![change(datetime!(2027-01-01 00:00 UTC), "production")];
    let day = date!(2027 - 03 - 31);
    let rows = vec![
        usage("p", day, "api_requests.identity", 6_000_000),
        usage("p", day, "api_requests.oauth2", 4_000_000),
        usage("p", day, "api_requests.admin", 1),
        usage("p", day, "daily_active_identities", 300_030),
        usage("p", day, "daily_active_identities", 30),
    ];
    let invoice = invoice(&request(&catalogue, "2027-03", created, rows)).unwrap();
    let adau = &invoice.lines[1];
    assert_eq!(adau.meter, Some("daily_active_identities"));
    // ceil(300030 / 30) = 10001; 1 billable at 5 cents.
    assert_eq!((adau.quantity, adau.billable, adau.amount_minor), (10_001, 1, 5));
    let api = &invoice.lines[2];
    // 10000001 requests, 10M included, 1 billable at 100 per 1M: ceil(0.0001) = 1 cent.
    assert_eq!((api.quantity, api.billable, api.amount_minor), (10_000_001, 1, 1));
    assert_eq!(invoice.total_minor, 7_000 + 5 + 1);
}

#[test]
fn usage_before_creation_is_billed_on_the_first_segment() {
    let catalogue = Catalogue::builtin();
    let created = vec![change(datetime!(2027-03-10 12:00 UTC), "production")];
    let rows =
        vec![usage("p", date!(2027 - 03 - 01), "m2m_tokens", 7), usage("p", date!(2027 - 03 - 10), "m2m_tokens", 3)];
    let invoice = invoice(&request(&catalogue, "2027-03", created, rows)).unwrap();
    assert_eq!(invoice.lines[1].quantity, 10);
    assert_eq!(invoice.lines[1].from, datetime!(2027-03-10 12:00 UTC));
}

#[test]
fn drafts_ignore_changes_requested_after_as_of() {
    let catalogue = Catalogue::builtin();
    let changes =
        vec![change(datetime!(2027-01-01 00:00 UTC), "developer"), change(datetime!(2027-03-20 00:00 UTC), "growth")];
    let mut req = request(&catalogue, "2027-03", changes, vec![]);
    req.as_of = Some(datetime!(2027-03-15 00:00 UTC));
    let draft = invoice(&req).unwrap();
    assert_eq!(draft.status, InvoiceStatus::Draft);
    assert_eq!(draft.lines.len(), 1);
    assert_eq!(draft.lines[0].plan, "developer");
    // As of the period end the invoice is final and knows the upgrade.
    req.as_of = Some(datetime!(2027-04-01 00:00 UTC));
    let final_invoice = invoice(&req).unwrap();
    assert_eq!(final_invoice.status, InvoiceStatus::Final);
    assert_eq!(final_invoice.lines.len(), 2);
    // A draft before the period starts is refused; one before the workspace existed has no plan.
    req.as_of = Some(datetime!(2027-02-28 23:59:59 UTC));
    assert!(matches!(invoice(&req), Err(BillingError::AsOfBeforePeriod { .. })));
    req.plan_changes = vec![change(datetime!(2027-03-20 00:00 UTC), "growth")];
    req.as_of = Some(datetime!(2027-03-15 00:00 UTC));
    assert!(matches!(invoice(&req), Err(BillingError::NoPlanInPeriod { .. })));
}

#[test]
fn mixed_currencies_are_an_error() {
    let specs = toml::from_str(
        "[free]\ntier = \"developer\"\nbase_price_minor = 0\n[euro]\ntier = \"production\"\ncurrency = \"eur\"\nbase_price_minor = 100\n",
    )
    .unwrap();
    let catalogue = Catalogue::from_specs(specs).unwrap();
    let changes =
        vec![change(datetime!(2027-03-01 00:00 UTC), "free"), change(datetime!(2027-03-15 00:00 UTC), "euro")];
    assert_eq!(
        invoice(&request(&catalogue, "2027-03", changes.clone(), vec![])),
        Err(BillingError::MixedCurrency {
            first_plan: "free".into(),
            first: "usd".into(),
            second_plan: "euro".into(),
            second: "eur".into(),
        })
    );
    // In April the workspace is only on the euro plan, so that invoice is fine.
    let april = invoice(&request(&catalogue, "2027-04", changes, vec![])).unwrap();
    assert_eq!((april.currency.as_str(), april.total_minor), ("eur", 100));
}

#[test]
fn huge_quantities_saturate_or_error_cleanly() {
    let catalogue = Catalogue::builtin();
    let created = |plan| vec![change(datetime!(2027-01-01 00:00 UTC), plan)];
    let rows: Vec<_> = (1..=31)
        .flat_map(|d| {
            let day = Date::from_calendar_date(2027, time::Month::March, d).unwrap();
            ["m2m_tokens", "permission_checks", "api_requests.a", "api_requests.b"]
                .map(|m| usage("p", day, m, u64::MAX))
        })
        .collect();
    // API requests at 100 per 1M and checks at 50 per 1M fit, m2m at 100 per 10k fits too.
    let invoice_ok = invoice(&request(&catalogue, "2027-03", created("production"), rows.clone())).unwrap();
    assert!(invoice_ok.lines[1..].iter().all(|l| l.quantity == u64::MAX));
    // Developer charges nothing for anything.
    assert_eq!(invoice(&request(&catalogue, "2027-03", created("developer"), rows.clone())).unwrap().total_minor, 0);
    // aDAU at 5 cents each for u64::MAX identities exceeds i64::MAX minor units.
    let mut adau = rows;
    adau.extend(
        (0..30).map(|i| usage("p", date!(2027 - 03 - 02) + Duration::days(i), "daily_active_identities", u64::MAX)),
    );
    assert!(matches!(
        invoice(&request(&catalogue, "2027-03", created("production"), adau)),
        Err(BillingError::AmountOverflow { .. })
    ));
}

/// A tiny deterministic generator, so the sweep below needs no dependency and is reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn no_input_panics() {
    let catalogue = Catalogue::builtin();
    let mut rng = Lcg(42);
    let quantities = [0, 1, 29, 30, 999, 1_000, 10_001, u64::MAX / 3, u64::MAX - 1, u64::MAX];
    let plans = ["developer", "production", "growth", "enterprise", "platinum"];
    let meters =
        ["daily_active_identities", "m2m_tokens", "permission_checks", "api_requests.x", "api_requests", "nope"];
    let periods = ["0001-01", "0001-02", "2027-02", "2028-02", "2027-12", "9999-11"];
    let offsets = [0i64, 9 * 3600, -(14 * 3600), 59];
    for _ in 0..3_000 {
        let period: Period = rng.pick(&periods).parse().unwrap();
        let base = period.start();
        let instant = |rng: &mut Lcg| {
            let seconds = (rng.next() % (100 * 86_400)) as i64 - 50 * 86_400;
            let offset = time::UtcOffset::from_whole_seconds(rng.pick(&offsets) as i32).unwrap();
            base.checked_add(Duration::seconds(seconds)).map(|t| t.to_offset(offset))
        };
        let mut changes = Vec::new();
        for _ in 0..rng.next() % 5 {
            if let Some(at) = instant(&mut rng) {
                changes.push(change(at, rng.pick(&plans)));
            }
        }
        let mut rows = Vec::new();
        for _ in 0..rng.next() % 40 {
            let day = period.first_day().checked_add(Duration::days((rng.next() % 80) as i64 - 40));
            if let Some(day) = day {
                rows.push(usage(rng.pick(&["a", "b", ""]), day, rng.pick(&meters), rng.pick(&quantities)));
            }
        }
        let mut req = request(&catalogue, "2027-01", changes, rows);
        req.period = period;
        req.as_of = if rng.next().is_multiple_of(2) { instant(&mut rng) } else { None };
        if let Ok(invoice) = invoice(&req) {
            let sum = invoice.lines.iter().try_fold(0u64, |acc, l| acc.checked_add(l.amount_minor)).unwrap();
            assert_eq!(sum, invoice.total_minor);
            assert!(invoice.total_minor <= i64::MAX as u64);
        }
    }
}
