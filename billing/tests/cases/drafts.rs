//! Drafts: a period in progress, previewed as of a moment.

use tessera_billing::{Catalogue, InvoiceStatus, invoice};
use time::macros::{date, datetime};

use super::support::{amounts, base_fees, change, check_golden, history, request, usage_line};

/// Production for March 2027, previewed as of Mar 15 12:00 UTC; an upgrade requested Mar 20 is not yet known.
#[test]
fn draft_as_of_mid_month() {
    let catalogue = Catalogue::builtin();
    let changes =
        vec![change(datetime!(2027-01-01 00:00 UTC), "production"), change(datetime!(2027-03-20 00:00 UTC), "growth")];
    let mut req = request(&catalogue, "2027-03", changes, history(date!(2027 - 02 - 01), date!(2027 - 03 - 31)));
    req.as_of = Some(datetime!(2027-03-15 12:00 UTC));
    let draft = invoice(&req).unwrap();
    check_golden("draft_mid_month", &draft);
    assert_eq!(draft.status, InvoiceStatus::Draft);
    // Base: the whole period on production as known, 7,000.
    assert_eq!(base_fees(&draft), [("production", 7_000)]);
    // Usage Mar 1-15 only (15 days), priced with the whole period's inclusion (one segment covers the period):
    //   M2M 75,000 < 100,000: 0.
    //   checks 60,000,000 - 10,000,000 = 50,000,000 x 50 / 1,000,000 = 2,500.
    //   API 6,000,015 < 10,000,000: 0.
    assert_eq!(usage_line(&draft, "prj-alpha", "m2m_tokens").quantity, 75_000);
    assert_eq!(amounts(&draft, "prj-alpha", "permission_checks"), [2_500]);
    // aDAU over Feb 14 - Mar 15: 12,000, 2,000 over x 5 = 10,000.
    let adau = usage_line(&draft, "prj-alpha", "daily_active_identities");
    assert_eq!((adau.from, adau.to), (datetime!(2027-02-14 00:00 UTC), datetime!(2027-03-16 00:00 UTC)));
    assert_eq!(adau.amount_minor, 10_000);
    // Total: 7,000 + 2,500 + 10,000 = 19,500.
    assert_eq!(draft.total_minor, 19_500);

    // The final invoice knows the upgrade: production Mar 1 - Mar 20 (19 days), growth for 12 days.
    req.as_of = None;
    let final_invoice = invoice(&req).unwrap();
    // 7,000 x 19 / 31 = 4,290.3 -> 4,290; 67,000 x 12 / 31 = 25,935.48 -> 25,935.
    assert_eq!(base_fees(&final_invoice), [("production", 4_290), ("growth", 25_935)]);
    assert_eq!(final_invoice.status, InvoiceStatus::Final);
}
