//! Time as a dependency.
//!
//! Code that stamps or compares times takes a [`Clock`] instead of calling the system clock,
//! so that tests can pin time and expiry logic can be tested without sleeping.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

/// A source of the current time, passed down as state.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant in UTC, truncated to microseconds so that it survives every database round trip.
    fn now(&self) -> OffsetDateTime;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place that reads the wall clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that only moves when told to; for tests of expiry and ordering.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// Starts the clock at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self { now: Mutex::new(truncate_to_micros(start)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().expect("clock lock poisoned");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().expect("clock lock poisoned")
    }
}

/// Postgres keeps microseconds; dropping the nanoseconds up front keeps values equal after a round trip.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_microsecond(micros).expect("microsecond in range")
}

/// A time to store and compare in the database: microseconds (as Postgres keeps them), with the last digit never
/// zero. SQLite keeps times as RFC 3339 text, which drops trailing fractional zeros, so `…:01.5Z` would sort after
/// `…:01.51Z`; with six significant digits every stored time has the same width and text order is time order.
/// The nudge is at most 1 µs.
pub fn db_time(t: OffsetDateTime) -> OffsetDateTime {
    let t = truncate_to_micros(t);
    if t.microsecond().is_multiple_of(10) { t + time::Duration::microseconds(1) } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_times_format_to_one_width_so_text_order_is_time_order() {
        use time::format_description::well_known::Rfc3339;
        let base = time::macros::datetime!(2026-01-01 00:00:01 UTC);
        let mut times: Vec<OffsetDateTime> = [0, 10, 500_000, 510_000, 999_990, 1_000_000]
            .iter()
            .map(|us| db_time(base + time::Duration::microseconds(*us)))
            .collect();
        let texts: Vec<String> = times.iter().map(|t| t.format(&Rfc3339).unwrap()).collect();
        assert!(texts.iter().all(|t| t.len() == texts[0].len()), "{texts:?}");
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(sorted, texts, "text order is time order");
        times.dedup();
        assert_eq!(times.len(), 6);
        assert_eq!(db_time(base + time::Duration::microseconds(123_457)), base + time::Duration::microseconds(123_457));
    }

    #[test]
    fn manual_clock_advances_only_when_told() {
        let start = time::macros::datetime!(2026-01-01 00:00:00.123456789 UTC);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now().nanosecond(), 123_456_000);
        clock.advance(time::Duration::seconds(5));
        assert_eq!(clock.now(), time::macros::datetime!(2026-01-01 00:00:05.123456 UTC));
    }
}
