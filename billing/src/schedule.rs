//! Which plan a workspace is on when: plan changes turned into a timeline, and a period into segments.
//!
//! Rules:
//! - The chronologically first change is the plan the workspace was created with; nothing exists before it.
//! - A change to a plan whose base price is at least that of the plan in effect at that moment is an upgrade and
//!   takes effect at once (an equal price counts as an upgrade, so sideways moves are not delayed).
//! - A change to a cheaper plan is a downgrade and takes effect at the start of the next UTC month, so the
//!   customer keeps what they paid for until the period ends.
//! - Any later request made before a pending downgrade takes effect replaces it; asking for the current plan
//!   therefore cancels a pending downgrade.
//!
//! Times are normalised to UTC and truncated to whole seconds, the unit of proration.
//! Changes at the same instant are applied in plan id order, so the result never depends on input order.

use time::OffsetDateTime;

use crate::period::to_utc;
use crate::{BillingError, Catalogue, Period};

/// A plan change as the workspace API records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChange {
    /// When the change was asked for, in any offset.
    pub requested_at: OffsetDateTime,
    /// The plan asked for.
    pub plan: String,
}

/// A stretch of a period on one plan; a period's segments are contiguous and cover it exactly (from the
/// workspace's creation, if that was during the period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// First instant on the plan (UTC, inclusive).
    pub from: OffsetDateTime,
    /// First instant after it (UTC, exclusive).
    pub to: OffsetDateTime,
    /// The plan.
    pub plan_id: String,
}

impl Segment {
    /// The segment's length in seconds, the numerator of its proration.
    pub fn seconds(&self) -> i64 {
        (self.to - self.from).whole_seconds()
    }
}

/// One workspace's plan timeline: when each plan took (or will take) effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Effective times, strictly increasing, with consecutive entries on different plans. Never empty.
    entries: Vec<(OffsetDateTime, String)>,
}

impl Schedule {
    /// Applies the rules in the module doc to a workspace's plan changes, given in any order.
    ///
    /// Errors on an empty history, a plan the catalogue lacks, or a time outside the supported calendar.
    pub fn build(changes: &[PlanChange], catalogue: &Catalogue) -> Result<Schedule, BillingError> {
        let mut sorted = Vec::with_capacity(changes.len());
        for change in changes {
            let at = to_utc(change.requested_at)?.truncate_to_second();
            sorted.push((at, catalogue.require(&change.plan)?));
        }
        sorted.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        let mut iter = sorted.into_iter();
        let Some((created, first)) = iter.next() else {
            return Err(BillingError::NoPlanChanges);
        };
        let mut timeline = Timeline { entries: vec![(created, first)] };
        let mut pending = None;
        for (at, requested) in iter {
            if let Some((effective, plan)) = pending.take_if(|(effective, _)| *effective <= at) {
                timeline.push(effective, plan);
            }
            if requested.is_upgrade_from(timeline.current()) {
                pending = None;
                timeline.push(at, requested);
            } else {
                pending = Some((Period::containing(at)?.next()?.start(), requested));
            }
        }
        if let Some((effective, plan)) = pending {
            timeline.push(effective, plan);
        }
        let entries = timeline.entries.into_iter().map(|(at, plan)| (at, plan.id.clone())).collect();
        Ok(Schedule { entries })
    }

    /// Every (effective time, plan id) in order, for display and debugging.
    pub fn entries(&self) -> &[(OffsetDateTime, String)] {
        &self.entries
    }

    /// The plan in effect at an instant, or `None` before the workspace existed.
    pub fn plan_at(&self, at: OffsetDateTime) -> Option<&str> {
        self.entries.iter().rev().find(|(from, _)| *from <= at).map(|(_, plan)| plan.as_str())
    }

    /// The period cut into plan segments: contiguous, in order, covering the period from the later of its start
    /// and the workspace's creation to its end. Empty when the workspace did not exist in the period.
    pub fn segments(&self, period: Period) -> Vec<Segment> {
        let (start, end) = (period.start(), period.end());
        let mut segments = Vec::new();
        for (i, (from, plan)) in self.entries.iter().enumerate() {
            let to = self.entries.get(i + 1).map_or(end, |(next, _)| (*next).min(end));
            let from = (*from).max(start);
            if from < to {
                segments.push(Segment { from, to, plan_id: plan.clone() });
            }
        }
        segments
    }
}

/// The timeline under construction, holding catalogue plans so prices can be compared.
struct Timeline<'c> {
    entries: Vec<(OffsetDateTime, &'c crate::Plan)>,
}

impl<'c> Timeline<'c> {
    /// The plan in effect after the last entry.
    fn current(&self) -> &'c crate::Plan {
        // `entries` starts with the creation entry and only `push` changes it, which never empties it.
        self.entries[self.entries.len() - 1].1
    }

    /// Puts `plan` in effect from `at` (never earlier than the last entry), merging no-op entries.
    fn push(&mut self, at: OffsetDateTime, plan: &'c crate::Plan) {
        if self.current().id == plan.id {
            return;
        }
        if let Some(last) = self.entries.last_mut()
            && last.0 == at
        {
            last.1 = plan;
            if self.entries.len() >= 2 && self.entries[self.entries.len() - 2].1.id == plan.id {
                self.entries.pop();
            }
            return;
        }
        self.entries.push((at, plan));
    }
}

#[cfg(test)]
mod tests;
