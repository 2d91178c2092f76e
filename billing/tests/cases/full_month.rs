//! Each built-in plan for all of March 2027 (31 days), with the fixed two-project history.
//!
//! Monthly usage (31 days): prj-alpha has aDAU 12,000, M2M tokens 155,000, permission checks 124,000,000 and
//! API requests 12,400,031 (identity 300,000 + oauth2 100,001 a day); prj-beta has aDAU 600, M2M tokens 3,100,
//! permission checks 62,000 and API requests 620,000.

use tessera_billing::{Catalogue, InvoiceStatus, invoice};
use time::macros::{date, datetime};

use super::support::{amounts, base_fees, change, check_golden, history, request, usage_line};

fn full_month(plan: &str) -> tessera_billing::Invoice {
    let catalogue = Catalogue::builtin();
    let changes = vec![change(datetime!(2027-01-01 00:00 UTC), plan)];
    // History from February (the aDAU window needs Mar 2-31) into April (ignored).
    let usage = history(date!(2027 - 02 - 01), date!(2027 - 04 - 03));
    let invoice = invoice(&request(&catalogue, "2027-03", changes, usage)).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Final);
    assert_eq!(invoice.currency, "usd");
    check_golden(&format!("full_month_{plan}"), &invoice);
    invoice
}

#[test]
fn developer() {
    let invoice = full_month("developer");
    // Free, and hard-limited meters never charge: everything is 0, but the lines show the overage.
    assert_eq!(base_fees(&invoice), [("developer", 0)]);
    assert_eq!(invoice.total_minor, 0);
    // aDAU 12,000 against a limit (and inclusion) of 1,000: 11,000 over, not charged.
    let adau = usage_line(&invoice, "prj-alpha", "daily_active_identities");
    assert_eq!((adau.quantity, adau.included, adau.billable, adau.amount_minor), (12_000, 1_000, 11_000, 0));
    assert_eq!(adau.unit_price, None);
    // Every meter of both projects had usage, so 1 base line + 2 projects x 4 meters.
    assert_eq!(invoice.lines.len(), 9);
    // prj-beta's API requests, 620,000 of 1,000,000: nothing billable.
    assert_eq!(usage_line(&invoice, "prj-beta", "api_requests").billable, 0);
}

#[test]
fn production() {
    let invoice = full_month("production");
    // Base: the whole month, 7,000.
    assert_eq!(base_fees(&invoice), [("production", 7_000)]);
    // prj-alpha, by hand:
    //   aDAU 12,000 - 10,000 = 2,000 x 5 = 10,000.
    //   M2M 155,000 - 100,000 = 55,000 x 100 / 10,000 = 550.
    //   checks 124,000,000 - 10,000,000 = 114,000,000 x 50 / 1,000,000 = 5,700.
    //   API 12,400,031 - 10,000,000 = 2,400,031 x 100 / 1,000,000 = 240.0031, rounded up to 241.
    assert_eq!(amounts(&invoice, "prj-alpha", "daily_active_identities"), [10_000]);
    assert_eq!(amounts(&invoice, "prj-alpha", "m2m_tokens"), [550]);
    assert_eq!(amounts(&invoice, "prj-alpha", "permission_checks"), [5_700]);
    assert_eq!(amounts(&invoice, "prj-alpha", "api_requests"), [241]);
    // prj-beta stays within every inclusion: 0.
    for meter in ["daily_active_identities", "m2m_tokens", "permission_checks", "api_requests"] {
        assert_eq!(amounts(&invoice, "prj-beta", meter), [0], "{meter}");
    }
    // Total: 7,000 + 10,000 + 550 + 5,700 + 241 = 23,491.
    assert_eq!(invoice.total_minor, 23_491);
}

#[test]
fn growth() {
    let invoice = full_month("growth");
    assert_eq!(base_fees(&invoice), [("growth", 67_000)]);
    // Only prj-alpha's checks exceed: 124,000,000 - 100,000,000 = 24,000,000 x 25 / 1,000,000 = 600.
    assert_eq!(amounts(&invoice, "prj-alpha", "permission_checks"), [600]);
    assert_eq!(amounts(&invoice, "prj-alpha", "daily_active_identities"), [0]);
    // Total: 67,000 + 600 = 67,600.
    assert_eq!(invoice.total_minor, 67_600);
}

#[test]
fn enterprise() {
    let invoice = full_month("enterprise");
    // Everything is included: 300,000.
    assert_eq!(base_fees(&invoice), [("enterprise", 300_000)]);
    assert_eq!(invoice.total_minor, 300_000);
}
