//! Month boundaries: which month a day's usage belongs to, and month lengths in proration.

use tessera_billing::{Catalogue, invoice};
use time::macros::{date, datetime};

use super::support::{amounts, base_fees, change, check_golden, daily, request, row, usage_line};

/// Usage reported for Jan 31 (up to 23:59:59) is January's; Feb 1's is February's.
#[test]
fn january_31_and_february_1() {
    let catalogue = Catalogue::builtin();
    let changes = vec![change(datetime!(2026-12-01 00:00 UTC), "production")];
    let usage = vec![
        row("prj-alpha", date!(2027 - 01 - 31), "m2m_tokens", 120_000),
        row("prj-alpha", date!(2027 - 02 - 01), "m2m_tokens", 130_000),
    ];
    let january = invoice(&request(&catalogue, "2027-01", changes.clone(), usage.clone())).unwrap();
    check_golden("boundary_2027_01", &january);
    // January: base 7,000; M2M 120,000 - 100,000 = 20,000 x 100 / 10,000 = 200. Total 7,200.
    assert_eq!(base_fees(&january), [("production", 7_000)]);
    assert_eq!(usage_line(&january, "prj-alpha", "m2m_tokens").quantity, 120_000);
    assert_eq!(january.total_minor, 7_200);

    let february = invoice(&request(&catalogue, "2027-02", changes, usage)).unwrap();
    check_golden("boundary_2027_02", &february);
    // February: base 7,000; M2M 130,000 - 100,000 = 30,000 -> 300. Total 7,300.
    assert_eq!(usage_line(&february, "prj-alpha", "m2m_tokens").quantity, 130_000);
    assert_eq!(february.total_minor, 7_300);
    assert_eq!(february.period_end, datetime!(2027-03-01 00:00 UTC));
}

/// An upgrade developer -> production at Feb 15 00:00 UTC, with 10,000 M2M tokens a day.
fn february_upgrade(year: i32) -> tessera_billing::Invoice {
    let catalogue = Catalogue::builtin();
    let upgrade_at = datetime!(2027-02-15 00:00 UTC).replace_year(year).unwrap();
    let changes = vec![change(datetime!(2026-12-01 00:00 UTC), "developer"), change(upgrade_at, "production")];
    let first = date!(2027 - 01 - 25).replace_year(year).unwrap();
    let last = date!(2027 - 03 - 05).replace_year(year).unwrap();
    let usage = daily("prj-alpha", "m2m_tokens", 10_000, first, last);
    invoice(&request(&catalogue, &format!("{year}-02"), changes, usage)).unwrap()
}

#[test]
fn february_in_a_leap_year() {
    let invoice = february_upgrade(2028);
    check_golden("february_2028_leap", &invoice);
    // 29 days = 2,505,600 s. Developer Feb 1-15 (1,209,600 s): 0.
    // Production Feb 15 - Mar 1 (15 days, 1,296,000 s): 7,000 x 15 / 29 = 3,620.69, half up 3,621.
    assert_eq!(base_fees(&invoice), [("developer", 0), ("production", 3_621)]);
    assert_eq!(invoice.lines[1].quantity, 1_296_000);
    // Production M2M: days 15-29 = 150,000; included 100,000 x 15 / 29 = 51,724.1, down to 51,724;
    // billable 98,276 x 100 / 10,000 = 982.76, up to 983. Developer days 1-14 are not charged.
    let m2m = &super::support::usage_lines(&invoice, "prj-alpha", "m2m_tokens");
    assert_eq!((m2m[1].quantity, m2m[1].included, m2m[1].billable), (150_000, 51_724, 98_276));
    // Developer: 140,000, included 10,000 x 14 / 29 = 4,827.6 -> 4,827.
    assert_eq!((m2m[0].quantity, m2m[0].included), (140_000, 4_827));
    assert_eq!(amounts(&invoice, "prj-alpha", "m2m_tokens"), [0, 983]);
    // Total: 3,621 + 983 = 4,604.
    assert_eq!(invoice.total_minor, 4_604);
}

#[test]
fn february_in_a_common_year() {
    let invoice = february_upgrade(2027);
    check_golden("february_2027", &invoice);
    // 28 days. Production Feb 15 - Mar 1 is 14 days: 7,000 x 14 / 28 = 3,500 exactly.
    assert_eq!(base_fees(&invoice), [("developer", 0), ("production", 3_500)]);
    // Production M2M: days 15-28 = 140,000; included 100,000 x 14 / 28 = 50,000; billable 90,000 -> 900.
    assert_eq!(amounts(&invoice, "prj-alpha", "m2m_tokens"), [0, 900]);
    // Total: 3,500 + 900 = 4,400.
    assert_eq!(invoice.total_minor, 4_400);
}

/// aDAU for February 2027 (28 days) averages Jan 30 - Feb 28, so two January days count.
#[test]
fn adau_window_reaches_into_the_previous_month() {
    let catalogue = Catalogue::builtin();
    let changes = vec![change(datetime!(2026-12-01 00:00 UTC), "production")];
    let mut usage = vec![
        // Jan 29 is outside the window: were it counted, aDAU would be far higher.
        row("prj-alpha", date!(2027 - 01 - 29), "daily_active_identities", 1_000_000),
        row("prj-alpha", date!(2027 - 01 - 30), "daily_active_identities", 3_001),
        row("prj-alpha", date!(2027 - 01 - 31), "daily_active_identities", 3_001),
        // prj-beta was active only on Jan 30.
        row("prj-beta", date!(2027 - 01 - 30), "daily_active_identities", 900),
    ];
    // 12,000 a day in February except Feb 10-12 (no records: 0).
    usage.extend(daily("prj-alpha", "daily_active_identities", 12_000, date!(2027 - 02 - 01), date!(2027 - 02 - 09)));
    usage.extend(daily("prj-alpha", "daily_active_identities", 12_000, date!(2027 - 02 - 13), date!(2027 - 02 - 28)));
    let invoice = invoice(&request(&catalogue, "2027-02", changes, usage)).unwrap();
    check_golden("adau_trailing_window", &invoice);
    assert_eq!(base_fees(&invoice), [("production", 7_000)]);
    // prj-alpha: (3,001 + 3,001 + 25 x 12,000) / 30 = 306,002 / 30 = 10,200.07, up to 10,201;
    // 201 over 10,000 x 5 = 1,005.
    let alpha = usage_line(&invoice, "prj-alpha", "daily_active_identities");
    assert_eq!((alpha.quantity, alpha.billable, alpha.amount_minor), (10_201, 201, 1_005));
    assert_eq!((alpha.from, alpha.to), (datetime!(2027-01-30 00:00 UTC), datetime!(2027-03-01 00:00 UTC)));
    // prj-beta: 900 / 30 = 30, nothing billable, but a line since the average is above 0.
    let beta = usage_line(&invoice, "prj-beta", "daily_active_identities");
    assert_eq!((beta.quantity, beta.amount_minor), (30, 0));
    // Total: 7,000 + 1,005 = 8,005.
    assert_eq!(invoice.total_minor, 8_005);
}
