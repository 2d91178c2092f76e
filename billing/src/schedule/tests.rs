use time::macros::datetime;

use super::*;

fn change(requested_at: OffsetDateTime, plan: &str) -> PlanChange {
    PlanChange { requested_at, plan: plan.to_owned() }
}

fn build(changes: &[PlanChange]) -> Schedule {
    Schedule::build(changes, &Catalogue::builtin()).unwrap()
}

fn seg(from: OffsetDateTime, to: OffsetDateTime, plan: &str) -> Segment {
    Segment { from, to, plan_id: plan.to_owned() }
}

fn period(s: &str) -> Period {
    s.parse().unwrap()
}

#[test]
fn upgrade_takes_effect_at_once() {
    let schedule = build(&[
        change(datetime!(2027-12-01 00:00 UTC), "developer"),
        change(datetime!(2028-01-10 14:00 UTC), "production"),
    ]);
    assert_eq!(
        schedule.segments(period("2028-01")),
        [
            seg(datetime!(2028-01-01 00:00 UTC), datetime!(2028-01-10 14:00 UTC), "developer"),
            seg(datetime!(2028-01-10 14:00 UTC), datetime!(2028-02-01 00:00 UTC), "production"),
        ]
    );
    assert_eq!(schedule.plan_at(datetime!(2028-01-10 13:59:59 UTC)), Some("developer"));
    assert_eq!(schedule.plan_at(datetime!(2028-01-10 14:00 UTC)), Some("production"));
    assert_eq!(schedule.plan_at(datetime!(2027-11-30 00:00 UTC)), None);
}

#[test]
fn downgrade_waits_for_the_next_period() {
    let schedule = build(&[
        change(datetime!(2027-06-17 09:30 UTC), "production"),
        change(datetime!(2027-01-01 00:00 UTC), "growth"),
    ]);
    assert_eq!(
        schedule.segments(period("2027-06")),
        [seg(datetime!(2027-06-01 00:00 UTC), datetime!(2027-07-01 00:00 UTC), "growth")]
    );
    assert_eq!(
        schedule.segments(period("2027-07")),
        [seg(datetime!(2027-07-01 00:00 UTC), datetime!(2027-08-01 00:00 UTC), "production")]
    );
}

#[test]
fn a_later_request_replaces_a_pending_downgrade() {
    let created = change(datetime!(2027-01-01 00:00 UTC), "growth");
    // Downgrade to production, then (still in June) further to developer: only developer takes effect in July.
    let schedule = build(&[
        created.clone(),
        change(datetime!(2027-06-10 00:00 UTC), "production"),
        change(datetime!(2027-06-20 00:00 UTC), "developer"),
    ]);
    assert_eq!(schedule.plan_at(datetime!(2027-07-01 00:00 UTC)), Some("developer"));
    assert_eq!(schedule.entries().len(), 2);
    // Asking for the current plan again cancels the pending downgrade.
    let schedule = build(&[
        created.clone(),
        change(datetime!(2027-06-10 00:00 UTC), "production"),
        change(datetime!(2027-06-20 00:00 UTC), "growth"),
    ]);
    assert_eq!(
        schedule.segments(period("2027-07")),
        [seg(datetime!(2027-07-01 00:00 UTC), datetime!(2027-08-01 00:00 UTC), "growth")]
    );
    // An upgrade while a downgrade is pending applies at once and drops it.
    let schedule = build(&[
        created,
        change(datetime!(2027-06-10 00:00 UTC), "developer"),
        change(datetime!(2027-06-20 12:00 UTC), "enterprise"),
    ]);
    assert_eq!(
        schedule.segments(period("2027-06")),
        [
            seg(datetime!(2027-06-01 00:00 UTC), datetime!(2027-06-20 12:00 UTC), "growth"),
            seg(datetime!(2027-06-20 12:00 UTC), datetime!(2027-07-01 00:00 UTC), "enterprise"),
        ]
    );
    assert_eq!(schedule.plan_at(datetime!(2027-07-15 00:00 UTC)), Some("enterprise"));
}

#[test]
fn a_pending_downgrade_applies_before_a_request_after_it() {
    // Downgrade growth -> developer in June takes effect July 1; an upgrade to production on July 5 is compared
    // with developer (the plan in effect then), so it is an upgrade and applies at once.
    let schedule = build(&[
        change(datetime!(2027-01-01 00:00 UTC), "growth"),
        change(datetime!(2027-06-10 00:00 UTC), "developer"),
        change(datetime!(2027-07-05 00:00 UTC), "production"),
    ]);
    assert_eq!(
        schedule.segments(period("2027-07")),
        [
            seg(datetime!(2027-07-01 00:00 UTC), datetime!(2027-07-05 00:00 UTC), "developer"),
            seg(datetime!(2027-07-05 00:00 UTC), datetime!(2027-08-01 00:00 UTC), "production"),
        ]
    );
}

#[test]
fn offsets_are_normalised_to_utc() {
    // 2027-05-01 03:00 +09:00 is 2027-04-30 18:00 UTC: an April downgrade, effective May 1 (not June 1).
    let schedule = build(&[
        change(datetime!(2027-01-01 00:00 -05:00), "growth"),
        change(datetime!(2027-05-01 03:00 +09:00), "production"),
    ]);
    assert_eq!(schedule.plan_at(datetime!(2027-05-01 00:00 UTC)), Some("production"));
    assert_eq!(schedule.plan_at(datetime!(2027-04-30 23:59:59 UTC)), Some("growth"));
    // Creation at 2027-01-01 00:00 -05:00 is 05:00 UTC: no segment before it.
    assert_eq!(schedule.segments(period("2027-01"))[0].from, datetime!(2027-01-01 05:00 UTC));
    assert!(schedule.segments(period("2026-12")).is_empty());
    for (at, _) in schedule.entries() {
        assert!(at.offset().is_utc());
    }
}

#[test]
fn sub_seconds_are_truncated_and_ties_do_not_depend_on_input_order() {
    let a = [
        change(datetime!(2027-03-01 00:00 UTC), "developer"),
        change(datetime!(2027-03-05 10:00:00.75 UTC), "growth"),
        change(datetime!(2027-03-05 10:00:00.25 UTC), "production"),
    ];
    let mut b = a.clone();
    b.reverse();
    assert_eq!(build(&a), build(&b));
    // Both land on 10:00:00; production sorts first, then growth replaces it at the same instant.
    assert_eq!(build(&a).entries()[1], (datetime!(2027-03-05 10:00 UTC), "growth".to_owned()));
}

#[test]
fn segments_cover_the_period_exactly() {
    let schedule = build(&[
        change(datetime!(2027-03-12 08:15:00 UTC), "developer"),
        change(datetime!(2027-03-20 00:00 UTC), "growth"),
        change(datetime!(2027-03-25 00:00 UTC), "production"),
        change(datetime!(2027-04-02 00:00 UTC), "enterprise"),
    ]);
    let segments = schedule.segments(period("2027-03"));
    assert_eq!(segments.first().unwrap().from, datetime!(2027-03-12 08:15 UTC), "no segment before creation");
    assert_eq!(segments.last().unwrap().to, period("2027-03").end());
    for pair in segments.windows(2) {
        assert_eq!(pair[0].to, pair[1].from);
    }
    let total: i64 = segments.iter().map(Segment::seconds).sum();
    assert_eq!(total, (period("2027-03").end() - datetime!(2027-03-12 08:15 UTC)).whole_seconds());
}

#[test]
fn bad_histories_are_errors() {
    let catalogue = Catalogue::builtin();
    assert_eq!(Schedule::build(&[], &catalogue), Err(BillingError::NoPlanChanges));
    assert_eq!(
        Schedule::build(&[change(datetime!(2027-01-01 00:00 UTC), "platinum")], &catalogue),
        Err(BillingError::UnknownPlan { plan: "platinum".into() })
    );
    // A downgrade in 9999-11 would take effect in 9999-12, which has no end.
    let result = Schedule::build(
        &[change(datetime!(9999-01-01 00:00 UTC), "growth"), change(datetime!(9999-11-01 00:00 UTC), "developer")],
        &catalogue,
    );
    assert!(matches!(result, Err(BillingError::PeriodOutOfRange { .. })));
    let result = Schedule::build(&[change(datetime!(9999-12-31 23:00 -05:00), "growth")], &catalogue);
    assert!(matches!(result, Err(BillingError::TimeOutOfRange { .. })));
}
