//! Calendar dates without time zones, as the DOJ file and the courts use them.
//!
//! A `Date` is a proleptic Gregorian day. It is deliberately small (one `i32`) because the person
//! model keeps one or more per conviction for hundreds of thousands of rows. Arithmetic offers two
//! flavours of "add years": [`Date::add_years_normalized`], which mirrors Go's `time.AddDate` (Feb 29
//! plus one year is Mar 1) and is what the gogen compatibility mode needs, and
//! [`Date::add_months_clamped`], which clamps to the end of the month as people count sentence
//! lengths.

use std::fmt;

/// A calendar day, stored as the number of days since 1970-01-01 (negative before).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days_since_epoch: i32,
}

/// The day Prop 64 took effect (the day after the 2016-11-08 election).
pub const PROP64_EFFECTIVE_DATE: Date = Date::from_ymd_const(2016, 11, 9);

/// The People's last day to challenge relief for the convictions DOJ identified (HS
/// § 11361.9(b)); the court shall grant relief for any not challenged by then (§ 11361.9(f)).
pub const CHALLENGE_DEADLINE: Date = Date::from_ymd_const(2020, 7, 1);

impl Date {
    /// Builds a date from year, month (1–12) and day (1–31); `None` when the day does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date::from_ymd_const(year, month, day))
    }

    /// Builds a date known to be valid at compile time.
    pub const fn from_ymd_const(year: i32, month: u32, day: u32) -> Date {
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date {
            days_since_epoch: era * 146_097 + doe - 719_468,
        }
    }

    /// Builds a date from a count of days since 1970-01-01.
    pub const fn from_days_since_epoch(days: i32) -> Date {
        Date {
            days_since_epoch: days,
        }
    }

    /// Days since 1970-01-01.
    pub const fn days_since_epoch(self) -> i32 {
        self.days_since_epoch
    }

    /// Year, month and day.
    pub const fn ymd(self) -> (i32, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = self.days_since_epoch + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    pub const fn year(self) -> i32 {
        self.ymd().0
    }

    /// Parses the DOJ `YYYYMMDD` form exactly as Go's `time.Parse("20060102", s)` does: eight ASCII
    /// digits forming a real calendar day. Anything else (blank, spaces, `x`, `YYYY0000`) is
    /// unknown and gives `None`; a made-up date would be worse than none.
    pub fn parse_yyyymmdd(text: &[u8]) -> Option<Date> {
        if text.len() != 8 || !text.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let number = |range: std::ops::Range<usize>| {
            text[range]
                .iter()
                .fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'))
        };
        Date::from_ymd(number(0..4) as i32, number(4..6), number(6..8))
    }

    /// Parses `YYYY-MM-DD` (the form of `--as-of`).
    pub fn parse_iso(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let mut compact = [0u8; 8];
        compact[..4].copy_from_slice(&bytes[..4]);
        compact[4..6].copy_from_slice(&bytes[5..7]);
        compact[6..].copy_from_slice(&bytes[8..]);
        Date::parse_yyyymmdd(&compact)
    }

    #[must_use]
    pub const fn add_days(self, days: i32) -> Date {
        Date {
            days_since_epoch: self.days_since_epoch + days,
        }
    }

    /// Adds years the way Go's `AddDate(years, 0, 0)` does: the day-of-month overflows into the
    /// next month, so 2000-02-29 plus one year is 2001-03-01.
    #[must_use]
    pub fn add_years_normalized(self, years: i32) -> Date {
        let (year, month, day) = self.ymd();
        let target_year = year + years;
        let month_length = days_in_month(target_year, month);
        if day <= month_length {
            Date::from_ymd_const(target_year, month, day)
        } else {
            Date::from_ymd_const(target_year, month, month_length)
                .add_days((day - month_length) as i32)
        }
    }

    /// Adds calendar months, clamping to the last day of the target month (Jan 31 + 1 month =
    /// Feb 28/29), which is how a sentence of "1 month" is counted.
    #[must_use]
    pub fn add_months_clamped(self, months: i32) -> Date {
        let (year, month, day) = self.ymd();
        let month_index = year * 12 + (month as i32 - 1) + months;
        let target_year = month_index.div_euclid(12);
        let target_month = (month_index.rem_euclid(12) + 1) as u32;
        let clamped_day = day.min(days_in_month(target_year, target_month));
        Date::from_ymd_const(target_year, target_month, clamped_day)
    }

    /// Whole years from `self` to `later` (an age), counting a birthday on Feb 29 as reached on
    /// Mar 1 in common years.
    pub fn whole_years_until(self, later: Date) -> i32 {
        let (y1, m1, d1) = self.ymd();
        let (y2, m2, d2) = later.ymd();
        let mut years = y2 - y1;
        if (m2, d2) < (m1, d1) {
            years -= 1;
        }
        years
    }

    /// `MM/DD/YYYY`, the form gogen's CSVs use.
    pub fn format_us(self) -> String {
        let (year, month, day) = self.ymd();
        format!("{month:02}/{day:02}/{year:04}")
    }

    /// "November 9, 2016", for documents.
    pub fn format_long(self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let (year, month, day) = self.ymd();
        format!("{} {day}, {year}", MONTHS[month as usize - 1])
    }

    /// Today's date in UTC from the system clock. Only the binary edge calls this; the pipeline
    /// takes the as-of date as an argument.
    pub fn today_utc() -> Date {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Date::from_days_since_epoch((seconds / 86_400) as i32)
    }
}

pub const fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub const fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    /// ISO 8601 `YYYY-MM-DD`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse_iso(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_civil_dates_across_eras() {
        for (year, month, day) in [
            (1970, 1, 1),
            (1, 1, 1),
            (0, 3, 1),
            (1600, 2, 29),
            (1969, 12, 31),
            (2016, 11, 9),
            (2400, 12, 31),
        ] {
            let date = Date::from_ymd(year, month, day).unwrap();
            assert_eq!(date.ymd(), (year, month, day));
        }
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::from_ymd(2000, 3, 1).unwrap().days_since_epoch(),
            11_017
        );
    }

    #[test]
    fn parses_only_real_yyyymmdd_dates() {
        assert_eq!(
            Date::parse_yyyymmdd(b"19790601"),
            Date::from_ymd(1979, 6, 1)
        );
        for unknown in [
            &b""[..],
            b"        ",
            b"x",
            b"x       ",
            b"19790000",
            b"19791301",
            b"19790230",
            b"1979060",
            b"197906011",
            b"1979-06-",
            b" 9790601",
        ] {
            assert_eq!(Date::parse_yyyymmdd(unknown), None, "{unknown:?}");
        }
        assert_eq!(
            Date::parse_yyyymmdd(b"20000229"),
            Date::from_ymd(2000, 2, 29)
        );
        assert_eq!(Date::parse_yyyymmdd(b"19000229"), None);
    }

    #[test]
    fn add_years_overflows_like_go() {
        let leap_day = Date::from_ymd(2000, 2, 29).unwrap();
        assert_eq!(
            leap_day.add_years_normalized(1),
            Date::from_ymd(2001, 3, 1).unwrap()
        );
        assert_eq!(
            leap_day.add_years_normalized(4),
            Date::from_ymd(2004, 2, 29).unwrap()
        );
        assert_eq!(
            Date::from_ymd(2020, 7, 1)
                .unwrap()
                .add_years_normalized(-10),
            Date::from_ymd(2010, 7, 1).unwrap()
        );
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        let jan31 = Date::from_ymd(2019, 1, 31).unwrap();
        assert_eq!(
            jan31.add_months_clamped(1),
            Date::from_ymd(2019, 2, 28).unwrap()
        );
        assert_eq!(
            jan31.add_months_clamped(13),
            Date::from_ymd(2020, 2, 29).unwrap()
        );
        assert_eq!(
            jan31.add_months_clamped(-2),
            Date::from_ymd(2018, 11, 30).unwrap()
        );
    }

    #[test]
    fn whole_years_counts_birthdays() {
        let dob = Date::from_ymd(1990, 6, 15).unwrap();
        assert_eq!(
            dob.whole_years_until(Date::from_ymd(2011, 6, 14).unwrap()),
            20
        );
        assert_eq!(
            dob.whole_years_until(Date::from_ymd(2011, 6, 15).unwrap()),
            21
        );
        let leapling = Date::from_ymd(1992, 2, 29).unwrap();
        assert_eq!(
            leapling.whole_years_until(Date::from_ymd(2013, 2, 28).unwrap()),
            20
        );
        assert_eq!(
            leapling.whole_years_until(Date::from_ymd(2013, 3, 1).unwrap()),
            21
        );
    }

    #[test]
    fn formats() {
        let date = Date::from_ymd(2016, 11, 9).unwrap();
        assert_eq!(date.to_string(), "2016-11-09");
        assert_eq!(date.format_us(), "11/09/2016");
        assert_eq!(date.format_long(), "November 9, 2016");
        assert_eq!(Date::from_ymd(1, 1, 1).unwrap().format_us(), "01/01/0001");
        assert_eq!(Date::parse_iso("2019-11-11"), Date::from_ymd(2019, 11, 11));
        assert_eq!(Date::parse_iso("2019-02-30"), None);
    }
}
