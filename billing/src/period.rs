//! Billing periods: calendar months in UTC.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::BillingError;

/// A calendar month in UTC, the unit every invoice covers.
///
/// Built only through [`Period::new`] (or parsing), which checks that the month and the next one both exist in
/// the calendar the `time` crate supports, so `start`, `end` and friends never fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: Month,
    /// The first day of the month.
    first: Date,
    /// The first day of the next month.
    next_first: Date,
}

impl Period {
    /// The period for a month; errors when it or the month after is outside years 1 to 9999.
    pub fn new(year: i32, month: Month) -> Result<Period, BillingError> {
        let out_of_range = BillingError::PeriodOutOfRange { year, month: month as u8 };
        if !(1..=9999).contains(&year) {
            return Err(out_of_range);
        }
        let first = Date::from_calendar_date(year, month, 1).map_err(|_| out_of_range.clone())?;
        let (next_year, next_month) =
            if month == Month::December { (year + 1, Month::January) } else { (year, month.next()) };
        if next_year > 9999 {
            return Err(out_of_range);
        }
        let next_first = Date::from_calendar_date(next_year, next_month, 1).map_err(|_| out_of_range)?;
        Ok(Period { year, month, first, next_first })
    }

    /// The period containing an instant, after normalising it to UTC.
    pub fn containing(at: OffsetDateTime) -> Result<Period, BillingError> {
        let utc = to_utc(at)?;
        Period::new(utc.year(), utc.month())
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month.
    pub fn month(self) -> Month {
        self.month
    }

    /// The first UTC day of the period.
    pub fn first_day(self) -> Date {
        self.first
    }

    /// The last UTC day of the period, where the aDAU window ends.
    pub fn last_day(self) -> Date {
        // `next_first` is at least 0001-02-01, so the day before always exists.
        self.next_first.previous_day().unwrap_or(self.first)
    }

    /// The first instant of the period (inclusive).
    pub fn start(self) -> OffsetDateTime {
        midnight_utc(self.first)
    }

    /// The first instant of the next period (exclusive end of this one).
    pub fn end(self) -> OffsetDateTime {
        midnight_utc(self.next_first)
    }

    /// The period's length in seconds, the denominator of every proration.
    pub fn seconds(self) -> i64 {
        (self.end() - self.start()).whole_seconds()
    }

    /// Whether a UTC day falls in the period.
    pub fn contains_day(self, day: Date) -> bool {
        self.first <= day && day < self.next_first
    }

    /// The following month, when a downgrade takes effect.
    pub fn next(self) -> Result<Period, BillingError> {
        Period::new(self.next_first.year(), self.next_first.month())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month as u8)
    }
}

impl FromStr for Period {
    type Err = BillingError;

    /// Parses exactly `YYYY-MM`.
    fn from_str(s: &str) -> Result<Period, BillingError> {
        let invalid = || BillingError::InvalidPeriod { input: s.to_owned() };
        let bytes = s.as_bytes();
        if bytes.len() != 7 || bytes[4] != b'-' || !bytes.iter().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let year: i32 = s[..4].parse().map_err(|_| invalid())?;
        let month: u8 = s[5..].parse().map_err(|_| invalid())?;
        let month = Month::try_from(month).map_err(|_| invalid())?;
        Period::new(year, month)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Midnight UTC at the start of a day.
pub(crate) fn midnight_utc(day: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_utc()
}

/// An instant in UTC, erroring instead of panicking at the edges of the calendar.
pub(crate) fn to_utc(at: OffsetDateTime) -> Result<OffsetDateTime, BillingError> {
    at.checked_to_offset(UtcOffset::UTC).ok_or_else(|| BillingError::TimeOutOfRange { time: format!("{at:?}") })
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn boundaries_and_lengths() {
        let feb_leap: Period = "2028-02".parse().unwrap();
        assert_eq!(feb_leap.start(), datetime!(2028-02-01 00:00 UTC));
        assert_eq!(feb_leap.end(), datetime!(2028-03-01 00:00 UTC));
        assert_eq!(feb_leap.seconds(), 29 * 86_400);
        assert_eq!(feb_leap.last_day(), date!(2028 - 02 - 29));
        assert_eq!("2027-02".parse::<Period>().unwrap().seconds(), 28 * 86_400);
        assert_eq!("2027-01".parse::<Period>().unwrap().seconds(), 31 * 86_400);
        assert_eq!("2027-04".parse::<Period>().unwrap().seconds(), 30 * 86_400);
        let dec: Period = "2027-12".parse().unwrap();
        assert_eq!(dec.end(), datetime!(2028-01-01 00:00 UTC));
        assert_eq!(dec.next().unwrap().to_string(), "2028-01");
        assert!(dec.contains_day(date!(2027 - 12 - 31)));
        assert!(!dec.contains_day(date!(2028 - 01 - 01)));
    }

    #[test]
    fn containing_normalises_to_utc() {
        let tokyo = datetime!(2027-04-01 08:00 +09:00);
        assert_eq!(Period::containing(tokyo).unwrap().to_string(), "2027-03");
        assert_eq!(Period::containing(datetime!(2027-03-31 23:59:59.999 -00:01)).unwrap().to_string(), "2027-04");
        assert!(Period::containing(datetime!(9999-12-31 23:00 -05:00)).is_err());
    }

    #[test]
    fn parse_rejects_everything_but_yyyy_mm() {
        for bad in [
            "",
            "2027-1",
            "2027-13",
            "2027-00",
            "27-01",
            "2027/01",
            "+027-01",
            "2027-01-01",
            "２０２７-01",
            "9999-12",
            "0000-01",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?}");
        }
        assert_eq!("0001-01".parse::<Period>().unwrap().to_string(), "0001-01");
        assert_eq!(
            "9999-11".parse::<Period>().unwrap().next().unwrap_err(),
            BillingError::PeriodOutOfRange { year: 9999, month: 12 }
        );
        let json = serde_json::to_string(&"2028-02".parse::<Period>().unwrap()).unwrap();
        assert_eq!(json, "\"2028-02\"");
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap().to_string(), "2028-02");
    }
}
