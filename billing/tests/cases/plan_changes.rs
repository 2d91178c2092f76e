//! Plan changes within a period: upgrades at once, downgrades at the next period, offsets normalised to UTC.

use tessera_billing::{Catalogue, invoice};
use time::macros::{date, datetime};

use super::support::{amounts, base_fees, change, check_golden, daily, request, usage_line, usage_lines};

/// Developer -> production on Jan 10 at 14:00 UTC, in a 31-day month (2,678,400 s).
#[test]
fn mid_month_upgrade_is_prorated_at_once() {
    let catalogue = Catalogue::builtin();
    let changes = vec![
        change(datetime!(2027-12-01 00:00 UTC), "developer"),
        change(datetime!(2028-01-10 14:00 UTC), "production"),
    ];
    let mut usage = daily("prj-alpha", "m2m_tokens", 5_000, date!(2027 - 12 - 20), date!(2028 - 02 - 03));
    usage.extend(daily("prj-alpha", "daily_active_identities", 11_000, date!(2027 - 12 - 20), date!(2028 - 02 - 03)));
    usage.extend(daily("prj-beta", "api_requests.identity", 50_000, date!(2028 - 01 - 01), date!(2028 - 01 - 31)));
    let invoice = invoice(&request(&catalogue, "2028-01", changes, usage)).unwrap();
    check_golden("upgrade_mid_month", &invoice);
    // Developer Jan 1 00:00 - Jan 10 14:00 = 9 d 14 h = 828,000 s: 0.
    // Production Jan 10 14:00 - Feb 1 00:00 = 2,678,400 - 828,000 = 1,850,400 s:
    // 7,000 x 1,850,400 / 2,678,400 = 4,836.02, half up 4,836.
    assert_eq!(base_fees(&invoice), [("developer", 0), ("production", 4_836)]);
    assert_eq!(invoice.lines[0].quantity + invoice.lines[1].quantity, 2_678_400);
    // The 10th is billed on production (the plan at the end of the day): developer has days 1-9 (45,000),
    // production days 10-31 (22 days, 110,000).
    // Production includes 100,000 x 1,850,400 / 2,678,400 = 69,086.02, down to 69,086;
    // billable 40,914 x 100 / 10,000 = 409.14, up to 410.
    let m2m = usage_lines(&invoice, "prj-alpha", "m2m_tokens");
    assert_eq!((m2m[0].plan.as_str(), m2m[0].quantity), ("developer", 45_000));
    assert_eq!((m2m[1].plan.as_str(), m2m[1].quantity, m2m[1].included), ("production", 110_000, 69_086));
    assert_eq!(amounts(&invoice, "prj-alpha", "m2m_tokens"), [0, 410]);
    // aDAU 11,000 on the plan at the period end (production), included in full: 1,000 x 5 = 5,000.
    let adau = usage_line(&invoice, "prj-alpha", "daily_active_identities");
    assert_eq!((adau.plan.as_str(), adau.included, adau.amount_minor), ("production", 10_000, 5_000));
    // prj-beta's 1,100,000 production API requests are within 10,000,000 x 1,850,400 / 2,678,400.
    assert_eq!(amounts(&invoice, "prj-beta", "api_requests"), [0, 0]);
    // Total: 4,836 + 410 + 5,000 = 10,246.
    assert_eq!(invoice.total_minor, 10_246);
}

/// Growth -> production requested on June 17: June is entirely growth, July entirely production.
#[test]
fn mid_month_downgrade_waits_for_the_next_period() {
    let catalogue = Catalogue::builtin();
    let changes =
        vec![change(datetime!(2027-06-17 09:30 UTC), "production"), change(datetime!(2027-01-01 00:00 UTC), "growth")];
    let usage = daily("prj-alpha", "m2m_tokens", 40_000, date!(2027 - 06 - 01), date!(2027 - 07 - 31));
    let june = invoice(&request(&catalogue, "2027-06", changes.clone(), usage.clone())).unwrap();
    check_golden("downgrade_2027_06", &june);
    // June: growth for the whole month, 67,000. M2M 30 x 40,000 = 1,200,000 - 1,000,000 = 200,000
    // x 50 / 10,000 = 1,000. Total 68,000.
    assert_eq!(base_fees(&june), [("growth", 67_000)]);
    assert_eq!(amounts(&june, "prj-alpha", "m2m_tokens"), [1_000]);
    assert_eq!(june.total_minor, 68_000);

    let july = invoice(&request(&catalogue, "2027-07", changes, usage)).unwrap();
    check_golden("downgrade_2027_07", &july);
    // July: production, 7,000. M2M 31 x 40,000 = 1,240,000 - 100,000 = 1,140,000 x 100 / 10,000 = 11,400.
    // Total 18,400.
    assert_eq!(base_fees(&july), [("production", 7_000)]);
    assert_eq!(july.total_minor, 18_400);
}

/// An upgrade requested at 2027-04-01 08:00 +09:00, which is 2027-03-31 23:00 UTC: March's last hour.
#[test]
fn a_non_utc_request_lands_in_the_utc_month() {
    let catalogue = Catalogue::builtin();
    let changes = vec![
        change(datetime!(2027-01-01 00:00 UTC), "developer"),
        change(datetime!(2027-04-01 08:00 +09:00), "production"),
    ];
    let usage = daily("prj-alpha", "m2m_tokens", 1_000, date!(2027 - 03 - 01), date!(2027 - 04 - 30));
    let march = invoice(&request(&catalogue, "2027-03", changes.clone(), usage.clone())).unwrap();
    check_golden("offset_plus_nine", &march);
    // Developer Mar 1 - Mar 31 23:00 (2,674,800 s): 0.
    // Production Mar 31 23:00 - Apr 1 00:00 (3,600 s): 7,000 x 3,600 / 2,678,400 = 9.41, half up 9.
    assert_eq!(base_fees(&march), [("developer", 0), ("production", 9)]);
    assert_eq!(march.lines[1].from, datetime!(2027-03-31 23:00 UTC));
    // Mar 31 ends on production: 1,000 tokens, included 100,000 x 3,600 / 2,678,400 = 134.4 -> 134;
    // billable 866 x 100 / 10,000 = 8.66, up to 9.
    let m2m = usage_lines(&march, "prj-alpha", "m2m_tokens");
    assert_eq!((m2m[1].quantity, m2m[1].included, m2m[1].billable, m2m[1].amount_minor), (1_000, 134, 866, 9));
    assert_eq!(m2m[0].quantity, 30_000);
    // Total: 9 + 9 = 18.
    assert_eq!(march.total_minor, 18);

    // April is production throughout: 7,000, and 30,000 tokens are within 100,000.
    let april = invoice(&request(&catalogue, "2027-04", changes, usage)).unwrap();
    assert_eq!(base_fees(&april), [("production", 7_000)]);
    assert_eq!(april.total_minor, 7_000);
}
