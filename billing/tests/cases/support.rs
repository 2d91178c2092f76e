//! Fixtures and the golden-file check.

use std::path::PathBuf;

use tessera_billing::{Catalogue, Invoice, InvoiceRequest, Line, LineKind, Period, PlanChange, UsageDay};
use time::{Date, Duration, OffsetDateTime};

/// A plan change.
pub fn change(requested_at: OffsetDateTime, plan: &str) -> PlanChange {
    PlanChange { requested_at, plan: plan.to_owned() }
}

/// One usage row.
pub fn row(project: &str, day: Date, meter: &str, quantity: u64) -> UsageDay {
    UsageDay { project_id: project.to_owned(), day, meter: meter.to_owned(), quantity }
}

/// The same quantity of `meter` for `project` on every day from `first` to `last` inclusive.
pub fn daily(project: &str, meter: &str, quantity: u64, first: Date, last: Date) -> Vec<UsageDay> {
    let mut rows = Vec::new();
    let mut day = first;
    while day <= last {
        rows.push(row(project, day, meter, quantity));
        day += Duration::DAY;
    }
    rows
}

/// The fixed usage history of two projects, every day from `first` to `last`:
///
/// | meter | prj-alpha per day | prj-beta per day |
/// |---|---|---|
/// | daily_active_identities | 12,000 | 600 |
/// | m2m_tokens | 5,000 | 100 |
/// | permission_checks | 4,000,000 | 2,000 |
/// | api_requests.identity | 300,000 | |
/// | api_requests.oauth2 | 100,001 | |
/// | api_requests.admin | | 20,000 |
/// | sms_messages (not billed) | | 7 |
pub fn history(first: Date, last: Date) -> Vec<UsageDay> {
    [
        ("prj-alpha", "daily_active_identities", 12_000),
        ("prj-alpha", "m2m_tokens", 5_000),
        ("prj-alpha", "permission_checks", 4_000_000),
        ("prj-alpha", "api_requests.identity", 300_000),
        ("prj-alpha", "api_requests.oauth2", 100_001),
        ("prj-beta", "daily_active_identities", 600),
        ("prj-beta", "m2m_tokens", 100),
        ("prj-beta", "permission_checks", 2_000),
        ("prj-beta", "api_requests.admin", 20_000),
        ("prj-beta", "sms_messages", 7),
    ]
    .into_iter()
    .flat_map(|(project, meter, quantity)| daily(project, meter, quantity, first, last))
    .collect()
}

/// A final-invoice request for `period` priced on the built-in catalogue.
pub fn request<'a>(
    catalogue: &'a Catalogue,
    period: &str,
    plan_changes: Vec<PlanChange>,
    usage: Vec<UsageDay>,
) -> InvoiceRequest<'a> {
    InvoiceRequest {
        workspace_id: "ws-golden".to_owned(),
        period: period.parse::<Period>().unwrap(),
        plan_changes,
        usage,
        as_of: None,
        catalogue,
    }
}

/// The base lines as (plan, amount), in segment order.
pub fn base_fees(invoice: &Invoice) -> Vec<(&str, u64)> {
    invoice.lines.iter().filter(|l| l.kind == LineKind::Base).map(|l| (l.plan.as_str(), l.amount_minor)).collect()
}

/// The usage lines of one project and meter, in segment order.
pub fn usage_lines<'i>(invoice: &'i Invoice, project: &str, meter: &str) -> Vec<&'i Line> {
    invoice.lines.iter().filter(|l| l.project_id.as_deref() == Some(project) && l.meter == Some(meter)).collect()
}

/// The usage line of one project and meter, which must be the only one.
pub fn usage_line<'i>(invoice: &'i Invoice, project: &str, meter: &str) -> &'i Line {
    match usage_lines(invoice, project, meter).as_slice() {
        [line] => line,
        other => panic!("expected one {project} {meter} line, got {}", other.len()),
    }
}

/// The amounts of the usage lines of one project and meter, in segment order.
pub fn amounts(invoice: &Invoice, project: &str, meter: &str) -> Vec<u64> {
    usage_lines(invoice, project, meter).iter().map(|l| l.amount_minor).collect()
}

/// Checks that the lines add up to the total, then compares the invoice's JSON with its golden file.
pub fn check_golden(name: &str, invoice: &Invoice) {
    let sum: u64 = invoice.lines.iter().map(|l| l.amount_minor).sum();
    assert_eq!(sum, invoice.subtotal_minor, "{name}: lines must add up to the subtotal");
    assert_eq!(invoice.subtotal_minor, invoice.total_minor, "{name}: no taxes or credits yet");
    let actual = serde_json::to_string_pretty(invoice).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display());
    });
    if expected != actual {
        panic!(
            "{} differs from the computed invoice (- golden, + computed); run with UPDATE_GOLDEN=1 to accept:\n{}",
            path.display(),
            diff(&expected, &actual)
        );
    }
}

/// A line diff (longest common subsequence) showing only changed lines with their line numbers.
fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("-{:>5} {}\n", i + 1, a[i]);
            i += 1;
        } else {
            out += &format!("+{:>5} {}\n", j + 1, b[j]);
            j += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out += "(trailing newline differs)\n";
    }
    out
}
