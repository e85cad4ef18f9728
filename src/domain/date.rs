//! Civil dates (effective time) and instants (recorded time).
//!
//! Owns the two kinds of time the ledger keeps apart: a `CivilDate` is a calendar day on which a
//! measure is legally in force; a `Timestamp` is an instant in UTC at which the ledger learned a
//! fact. Pure: no clock is read here (the clock is injected by the ledger layer).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A proleptic Gregorian calendar date, valid by construction (no 2021-02-30).
///
/// Stored as (year, month, day) integers; printed and parsed as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "(i16, u8, u8)", into = "(i16, u8, u8)")]
pub struct CivilDate {
    year: i16,
    month: u8,
    day: u8,
}

/// Why a date was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD`.
    #[error("not a date of the form YYYY-MM-DD")]
    Syntax,
    /// The year is outside 1000..=9999.
    #[error("year {0} is outside 1000..=9999")]
    Year(i32),
    /// The month is outside 1..=12.
    #[error("month {0} is outside 1..=12")]
    Month(u32),
    /// The day does not exist in that month.
    #[error("day {day} does not exist in {year:04}-{month:02} (it has {days_in_month} days)")]
    Day {
        /// The year.
        year: i32,
        /// The month.
        month: u32,
        /// The day given.
        day: u32,
        /// How many days the month has.
        days_in_month: u32,
    },
}

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

impl CivilDate {
    /// The latest date: 9999-12-31.
    pub const MAX: CivilDate = CivilDate {
        year: 9999,
        month: 12,
        day: 31,
    };

    /// A checked date: year 1000..=9999, a real month and day.
    pub fn new(year: i32, month: u32, day: u32) -> Result<CivilDate, DateError> {
        if !(1000..=9999).contains(&year) {
            return Err(DateError::Year(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        let days = days_in_month(year, month);
        if day == 0 || day > days {
            return Err(DateError::Day {
                year,
                month,
                day,
                days_in_month: days,
            });
        }
        // The ranges checked above fit the narrow fields.
        Ok(CivilDate {
            year: year as i16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Parses exactly `YYYY-MM-DD` (ten ASCII characters).
    pub fn parse(text: &str) -> Result<CivilDate, DateError> {
        let bytes = text.as_bytes();
        let digits_at = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = bytes.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                Some(part.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
            } else {
                None
            }
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(DateError::Syntax);
        }
        let (Some(year), Some(month), Some(day)) =
            (digits_at(0..4), digits_at(5..7), digits_at(8..10))
        else {
            return Err(DateError::Syntax);
        };
        CivilDate::new(year as i32, month, day)
    }

    /// Days since 1970-01-01 (negative before), proleptic Gregorian.
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (year, month, day) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let year = if month <= 2 { year - 1 } else { year };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01, if it lies in years 1000..=9999.
    pub fn from_days(days: i64) -> Option<CivilDate> {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        CivilDate::new(i32::try_from(year).ok()?, month as u32, day as u32).ok()
    }

    /// The day before (saturating at the earliest representable day).
    pub fn previous_day(self) -> CivilDate {
        CivilDate::from_days(self.to_days() - 1).unwrap_or(self)
    }

    /// The day after (saturating at the latest representable day).
    pub fn next_day(self) -> CivilDate {
        CivilDate::from_days(self.to_days() + 1).unwrap_or(self)
    }

    /// The year.
    pub fn year(self) -> i32 {
        i32::from(self.year)
    }
    /// The month, 1..=12.
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    /// The day of the month, 1..=31.
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }
}

impl TryFrom<(i16, u8, u8)> for CivilDate {
    type Error = DateError;
    fn try_from((year, month, day): (i16, u8, u8)) -> Result<CivilDate, DateError> {
        CivilDate::new(i32::from(year), u32::from(month), u32::from(day))
    }
}

impl From<CivilDate> for (i16, u8, u8) {
    fn from(date: CivilDate) -> (i16, u8, u8) {
        (date.year, date.month, date.day)
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An instant in UTC, in whole microseconds since 1970-01-01T00:00:00Z.
///
/// Recorded times are assigned by the ledger at append. Microseconds keep the value an integer
/// (no floats in hashed types) while staying finer than any clock we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(i64);

impl Timestamp {
    /// An instant from microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }
    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Parses exactly the form `Display` writes (`2021-03-22T18:00:00Z`, or with a fraction
    /// of a second without trailing zeros): one text per instant, so text that is signed or
    /// hashed has no second spelling. `None` for anything else.
    pub fn parse_canonical(text: &str) -> Option<Timestamp> {
        let (date, rest) = (text.get(..10)?, text.get(10..)?);
        let date = CivilDate::parse(date).ok()?;
        let rest = rest.strip_prefix('T')?.strip_suffix('Z')?;
        let (clock, fraction) = match rest.split_once('.') {
            Some((clock, fraction)) => (clock, Some(fraction)),
            None => (rest, None),
        };
        let field = |range: std::ops::Range<usize>, max: i64| -> Option<i64> {
            let digits = clock.get(range)?;
            let value: i64 = digits.parse().ok()?;
            (digits.bytes().all(|b| b.is_ascii_digit()) && value <= max).then_some(value)
        };
        if clock.len() != 8 || &clock[2..3] != ":" || &clock[5..6] != ":" {
            return None;
        }
        let seconds = field(0..2, 23)? * 3600 + field(3..5, 59)? * 60 + field(6..8, 59)?;
        let micros = match fraction {
            None => 0,
            Some(digits) => {
                if digits.is_empty()
                    || digits.len() > 6
                    || digits.ends_with('0')
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                format!("{digits:0<6}").parse::<i64>().ok()?
            }
        };
        let micros = date
            .to_days()
            .checked_mul(86_400_000_000)?
            .checked_add(seconds * 1_000_000 + micros)?;
        let timestamp = Timestamp(micros);
        (timestamp.to_string() == text).then_some(timestamp)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC: `2021-03-22T18:00:00Z`, with a fraction of a second only when there
    /// is one (`2026-11-28T22:15:48.429519Z`, trailing zeros trimmed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MICROS_PER_DAY: i64 = 86_400_000_000;
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let of_day = self.0.rem_euclid(MICROS_PER_DAY);
        let Some(date) = CivilDate::from_days(days) else {
            return write!(f, "{} µs since 1970-01-01T00:00:00Z", self.0);
        };
        let seconds = of_day / 1_000_000;
        let fraction = of_day % 1_000_000;
        write!(
            f,
            "{date}T{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        if fraction != 0 {
            let digits = format!("{fraction:06}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_timestamps_parse_back_and_nothing_else_does() {
        for micros in [
            0,
            1,
            1_616_436_000_000_000,
            1_764_368_148_429_519,
            -86_400_000_001,
        ] {
            let timestamp = Timestamp::from_unix_micros(micros);
            assert_eq!(
                Timestamp::parse_canonical(&timestamp.to_string()),
                Some(timestamp)
            );
        }
        for text in [
            "2021-03-22T18:00:00.0Z",
            "2021-03-22T18:00:00.500000Z",
            "2021-03-22T18:00:00z",
            "2021-03-22T24:00:00Z",
            "2021-03-22 18:00:00Z",
            "2021-03-22T18:00:00+00:00",
            "2021-03-22T18:00:60Z",
            "2021-03-22T+8:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_canonical(text), None, "{text}");
        }
    }

    #[test]
    fn real_calendar_dates_only() {
        assert!(CivilDate::parse("2021-03-22").is_ok());
        assert!(CivilDate::parse("2020-02-29").is_ok());
        assert!(CivilDate::parse("2000-02-29").is_ok());
        assert!(matches!(
            CivilDate::parse("1900-02-29"),
            Err(DateError::Day { .. })
        ));
        assert!(matches!(
            CivilDate::parse("2021-02-29"),
            Err(DateError::Day { .. })
        ));
        assert!(matches!(
            CivilDate::parse("2021-02-30"),
            Err(DateError::Day { .. })
        ));
        assert!(matches!(
            CivilDate::parse("2021-04-31"),
            Err(DateError::Day { .. })
        ));
        assert_eq!(CivilDate::parse("2021-13-01"), Err(DateError::Month(13)));
        assert_eq!(CivilDate::parse("2021-00-01"), Err(DateError::Month(0)));
        assert_eq!(CivilDate::parse("0999-01-01"), Err(DateError::Year(999)));
        for bad in [
            "2021-3-22",
            "22.03.2021",
            "2021-03-22T00:00",
            "",
            "２０２１-03-22",
            "+021-03-22",
        ] {
            assert_eq!(CivilDate::parse(bad), Err(DateError::Syntax), "{bad}");
        }
    }

    #[test]
    fn day_arithmetic_crosses_months_years_and_leap_days() {
        let date = |text| CivilDate::parse(text).unwrap();
        assert_eq!(date("1970-01-01").to_days(), 0);
        assert_eq!(date("2021-03-01").previous_day(), date("2021-02-28"));
        assert_eq!(date("2020-03-01").previous_day(), date("2020-02-29"));
        assert_eq!(date("2021-01-01").previous_day(), date("2020-12-31"));
        assert_eq!(date("2021-12-31").next_day(), date("2022-01-01"));
        for days in (-200_000..200_000).step_by(997) {
            let parsed = CivilDate::from_days(days).unwrap();
            assert_eq!(parsed.to_days(), days);
        }
    }

    #[test]
    fn timestamps_print_as_rfc3339() {
        assert_eq!(
            Timestamp::from_unix_micros(1_616_436_000_000_000).to_string(),
            "2021-03-22T18:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix_micros(1_616_436_000_500_000).to_string(),
            "2021-03-22T18:00:00.5Z"
        );
        assert_eq!(
            Timestamp::from_unix_micros(1_616_436_000_000_001).to_string(),
            "2021-03-22T18:00:00.000001Z"
        );
        assert_eq!(
            Timestamp::from_unix_micros(-1).to_string(),
            "1969-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn dates_order_and_print() {
        let earlier = CivilDate::parse("2020-07-09").unwrap();
        let later = CivilDate::parse("2021-03-22").unwrap();
        assert!(earlier < later);
        assert_eq!(later.to_string(), "2021-03-22");
    }
}
