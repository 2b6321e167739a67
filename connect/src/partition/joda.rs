//! Joda-Time `DateTimeFormat` patterns, for formatting only.
//!
//! Confluent's `path.format` is handed to Joda's `DateTimeFormat.forPattern`, so directory names
//! follow Joda's rules, not java.time's and not strftime's. The difference that bites is `Y`:
//! in Joda it is the *year of era* (`YYYY` on 2025-12-29 is `2025`), while java.time's `YYYY`
//! is the week-based year (`2026`). This module owns the pattern grammar (letter runs, quoting
//! with `'`, `''` for a quote, other characters literal) and the printing of each field exactly
//! as Joda prints it, padding, signs and fraction truncation included.
//!
//! Only English text is available (month, day, era and AM/PM names, as Java's `en` symbols);
//! a pattern with text fields and a non-English `locale` is rejected rather than printed in the
//! wrong language. Zone names come from the IANA data of `chrono-tz`, so `z` prints the tzdb
//! abbreviation (`CET`, `IST`, `UTC`), which can differ from Java's zone strings for zones that
//! have no tzdb abbreviation (tzdb says `+04` where Java may say `GST`).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike};

use crate::error::ConfigError;

const PATH_FORMAT: &str = "path.format";
const LOCALE: &str = "locale";

const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const HALFDAY_MS: i64 = 12 * HOUR_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

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
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One element of a parsed pattern. Numbers carry the minimum digit count (letter count).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    /// `G`
    Era,
    /// `C`
    CenturyOfEra(usize),
    /// `Y` (not two letters)
    YearOfEra(usize),
    /// `y` (not two letters)
    Year(usize),
    /// `x` (not two letters)
    Weekyear(usize),
    /// `yy`, `YY`
    TwoDigitYear,
    /// `xx`
    TwoDigitWeekyear,
    /// `w`
    WeekOfWeekyear(usize),
    /// `e`
    DayOfWeek(usize),
    /// `E`..`EEE` (short) and `EEEE`+ (full)
    DayOfWeekText {
        short: bool,
    },
    /// `D`
    DayOfYear(usize),
    /// `M`, `MM`
    Month(usize),
    /// `MMM` (short) and `MMMM`+ (full)
    MonthText {
        short: bool,
    },
    /// `d`
    DayOfMonth(usize),
    /// `a`
    HalfdayText,
    /// `K`, 0..11
    HourOfHalfday(usize),
    /// `h`, 1..12
    ClockhourOfHalfday(usize),
    /// `H`, 0..23
    HourOfDay(usize),
    /// `k`, 1..24
    ClockhourOfDay(usize),
    /// `m`
    Minute(usize),
    /// `s`
    Second(usize),
    /// `S`: fraction of second with exactly this many digits (Joda truncates, never rounds)
    Fraction(usize),
    /// `z`..`zzz`
    ZoneShortName,
    /// `Z` (`+0100`) and `ZZ` (`+01:00`)
    ZoneOffset {
        colon: bool,
    },
    /// `ZZZ`+ (`Europe/Berlin`)
    ZoneId,
}

impl Item {
    /// Whether printing depends on the locale's names.
    fn is_text(&self) -> bool {
        matches!(
            self,
            Item::Era
                | Item::DayOfWeekText { .. }
                | Item::MonthText { .. }
                | Item::HalfdayText
                | Item::ZoneShortName
        )
    }

    /// The fixed length of the field's unit: `Some(Some(ms))` for fixed units, `Some(None)` for
    /// calendar units without a fixed length (week, month, year...), `None` for non-time items.
    fn unit_ms(&self) -> Option<Option<i64>> {
        match self {
            Item::Literal(_) | Item::ZoneShortName | Item::ZoneOffset { .. } | Item::ZoneId => None,
            Item::Era
            | Item::CenturyOfEra(_)
            | Item::YearOfEra(_)
            | Item::Year(_)
            | Item::Weekyear(_)
            | Item::TwoDigitYear
            | Item::TwoDigitWeekyear
            | Item::WeekOfWeekyear(_)
            | Item::Month(_)
            | Item::MonthText { .. } => Some(None),
            Item::DayOfWeek(_)
            | Item::DayOfWeekText { .. }
            | Item::DayOfYear(_)
            | Item::DayOfMonth(_) => Some(Some(DAY_MS)),
            Item::HalfdayText => Some(Some(HALFDAY_MS)),
            Item::HourOfHalfday(_)
            | Item::ClockhourOfHalfday(_)
            | Item::HourOfDay(_)
            | Item::ClockhourOfDay(_) => Some(Some(HOUR_MS)),
            Item::Minute(_) => Some(Some(MINUTE_MS)),
            Item::Second(_) => Some(Some(SECOND_MS)),
            Item::Fraction(n) => Some(Some(match n {
                1 => 100,
                2 => 10,
                _ => 1,
            })),
        }
    }
}

/// Zone names a [`JodaFormat`] prints for `z` (short name) and `ZZZ` (zone id).
///
/// Implemented for the offsets of [`chrono_tz::Tz`], [`chrono::Utc`] and
/// [`chrono::FixedOffset`].
pub trait ZoneText {
    /// The short name for `z`, e.g. `CET`, `CEST`, `UTC`.
    fn short_name(&self) -> String;
    /// The zone id for `ZZZ`, e.g. `Europe/Berlin`.
    fn zone_id(&self) -> String;
}

impl ZoneText for chrono_tz::TzOffset {
    fn short_name(&self) -> String {
        // The tzdb abbreviation, or a numeric name (`+04`, `+0530`) where tzdb has none.
        self.to_string()
    }
    fn zone_id(&self) -> String {
        use chrono_tz::OffsetName;
        self.tz_id().to_string()
    }
}

impl ZoneText for chrono::Utc {
    fn short_name(&self) -> String {
        "UTC".to_string()
    }
    fn zone_id(&self) -> String {
        "UTC".to_string()
    }
}

impl ZoneText for chrono::FixedOffset {
    /// Joda names a fixed-offset zone by its id (`+01:00`), and the zero offset `UTC`.
    fn short_name(&self) -> String {
        self.zone_id()
    }
    fn zone_id(&self) -> String {
        let secs = self.local_minus_utc();
        if secs == 0 {
            return "UTC".to_string();
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let a = secs.unsigned_abs();
        let mut s = format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
        if a % 60 != 0 {
            let _ = write!(s, ":{:02}", a % 60);
        }
        s
    }
}

/// A parsed Joda-Time pattern, ready to format instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JodaFormat {
    pattern: String,
    items: Vec<Item>,
}

impl JodaFormat {
    /// Parses a Joda `DateTimeFormat` pattern.
    ///
    /// Letters `G C Y y x w e E D M d a K h H k m s S z Z` are fields (the count of letters is
    /// the minimum number of digits, or selects short/full text); text between single quotes
    /// is literal, `''` is a literal quote (inside or outside quotes), an unterminated quote
    /// runs to the end (as in Joda); any other non-letter is literal.
    ///
    /// `locale` is a Java locale string: empty or any English one (`en`, `en_US`, `en-GB`...)
    /// uses English names; other locales are accepted only when the pattern has no text
    /// fields. Errors name `path.format` (bad pattern) or `locale` (non-English text).
    /// Long zone names (`zzzz`) are not supported.
    pub fn parse(pattern: &str, locale: &str) -> Result<JodaFormat, ConfigError> {
        let items = tokenize(pattern)?;
        if !is_english(locale) {
            if let Some(item) = items.iter().find(|i| i.is_text()) {
                return Err(ConfigError::new(
                    LOCALE,
                    format!(
                        "locale `{locale}`: only English month/day names are supported, and \
                         path.format `{pattern}` has a text field ({}); use an English locale \
                         such as en_US, or numeric fields only",
                        describe(item)
                    ),
                ));
            }
        }
        Ok(JodaFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats `t` in its own time zone, as Joda's `DateTime.toString(formatter)` does.
    pub fn format<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> String
    where
        Tz::Offset: ZoneText,
    {
        let mut out = String::with_capacity(self.pattern.len() + 16);
        for item in &self.items {
            print_item(&mut out, item, t);
        }
        out
    }

    /// The finest calendar field of the pattern as a fixed duration in milliseconds: second
    /// 1000, minute 60000, hour 3600000, half-day 43200000, day 86400000 (and 100/10/1 for
    /// `S`/`SS`/`SSS`). `None` when the finest field is a week, month, year or coarser (no
    /// fixed length), or when the pattern has no date/time field at all.
    pub fn finest_unit_ms(&self) -> Option<i64> {
        self.items
            .iter()
            .filter_map(|i| i.unit_ms().flatten())
            .min()
    }

    /// Whether the pattern has text fields (names that depend on the locale).
    pub fn has_text_fields(&self) -> bool {
        self.items.iter().any(Item::is_text)
    }
}

/// Is `locale` empty or English (`en`, `en_US`, `en-GB`, `EN_us`...)?
fn is_english(locale: &str) -> bool {
    let locale = locale.trim();
    let language = locale.split(['_', '-']).next().unwrap_or("");
    locale.is_empty() || language.eq_ignore_ascii_case("en")
}

fn describe(item: &Item) -> &'static str {
    match item {
        Item::Era => "era G",
        Item::DayOfWeekText { .. } => "day name E",
        Item::MonthText { .. } => "month name MMM",
        Item::HalfdayText => "AM/PM a",
        Item::ZoneShortName => "zone name z",
        _ => "field",
    }
}

/// Joda's `DateTimeFormat.parseToken` / `parsePatternTo`, building [`Item`]s.
fn tokenize(pattern: &str) -> Result<Vec<Item>, ConfigError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() {
            let mut n = 1;
            while i + n < chars.len() && chars[i + n] == c {
                n += 1;
            }
            i += n;
            items.push(field(c, n, pattern)?);
        } else {
            // Literal text up to the next letter outside quotes.
            let mut text = String::new();
            let mut in_literal = false;
            while i < chars.len() {
                let c = chars[i];
                if c == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        text.push('\'');
                        i += 1;
                    } else {
                        in_literal = !in_literal;
                    }
                } else if !in_literal && c.is_ascii_alphabetic() {
                    break;
                } else {
                    text.push(c);
                }
                i += 1;
            }
            if !text.is_empty() {
                match items.last_mut() {
                    Some(Item::Literal(prev)) => prev.push_str(&text),
                    _ => items.push(Item::Literal(text)),
                }
            }
        }
    }
    Ok(items)
}

fn field(c: char, n: usize, pattern: &str) -> Result<Item, ConfigError> {
    Ok(match c {
        'G' => Item::Era,
        'C' => Item::CenturyOfEra(n),
        'x' if n == 2 => Item::TwoDigitWeekyear,
        'y' | 'Y' if n == 2 => Item::TwoDigitYear,
        'x' => Item::Weekyear(n),
        'y' => Item::Year(n),
        'Y' => Item::YearOfEra(n),
        'M' if n >= 4 => Item::MonthText { short: false },
        'M' if n == 3 => Item::MonthText { short: true },
        'M' => Item::Month(n),
        'd' => Item::DayOfMonth(n),
        'a' => Item::HalfdayText,
        'h' => Item::ClockhourOfHalfday(n),
        'H' => Item::HourOfDay(n),
        'k' => Item::ClockhourOfDay(n),
        'K' => Item::HourOfHalfday(n),
        'm' => Item::Minute(n),
        's' => Item::Second(n),
        'S' => Item::Fraction(n),
        'e' => Item::DayOfWeek(n),
        'E' => Item::DayOfWeekText { short: n < 4 },
        'D' => Item::DayOfYear(n),
        'w' => Item::WeekOfWeekyear(n),
        'z' if n >= 4 => {
            return Err(ConfigError::new(
                PATH_FORMAT,
                format!(
                    "`{pattern}`: long time-zone names (zzzz) are not supported; use z \
                     (short name), Z (+0100), ZZ (+01:00) or ZZZ (zone id)"
                ),
            ))
        }
        'z' => Item::ZoneShortName,
        'Z' if n == 1 => Item::ZoneOffset { colon: false },
        'Z' if n == 2 => Item::ZoneOffset { colon: true },
        'Z' => Item::ZoneId,
        other => {
            return Err(ConfigError::new(
                PATH_FORMAT,
                format!(
                    "`{pattern}`: illegal pattern letter `{other}` (Joda-Time letters are \
                     G C Y y x w e E D M d a K h H k m s S z Z; quote literal text with ')"
                ),
            ))
        }
    })
}

/// Joda's `FormatUtils.appendPaddedInteger`: a `-` sign, then the magnitude zero-padded to
/// `min` digits.
fn push_padded(out: &mut String, value: i64, min: usize) {
    if value < 0 {
        out.push('-');
    }
    let _ = write!(out, "{:0min$}", value.unsigned_abs());
}

fn print_item<Tz: TimeZone>(out: &mut String, item: &Item, t: &DateTime<Tz>)
where
    Tz::Offset: ZoneText,
{
    let year = i64::from(t.year());
    match item {
        Item::Literal(s) => out.push_str(s),
        Item::Era => out.push_str(if year <= 0 { "BC" } else { "AD" }),
        // ISO chronology: century of era drops the year's sign.
        Item::CenturyOfEra(n) => push_padded(out, year.abs() / 100, *n),
        Item::YearOfEra(n) => push_padded(out, if year <= 0 { 1 - year } else { year }, *n),
        Item::Year(n) => push_padded(out, year, *n),
        Item::Weekyear(n) => push_padded(out, i64::from(t.iso_week().year()), *n),
        Item::TwoDigitYear => push_padded(out, year.abs() % 100, 2),
        Item::TwoDigitWeekyear => push_padded(out, i64::from(t.iso_week().year()).abs() % 100, 2),
        Item::WeekOfWeekyear(n) => push_padded(out, i64::from(t.iso_week().week()), *n),
        Item::DayOfWeek(n) => push_padded(out, i64::from(t.weekday().number_from_monday()), *n),
        Item::DayOfWeekText { short } => {
            let name = WEEKDAYS[t.weekday().num_days_from_monday() as usize];
            out.push_str(if *short { &name[..3] } else { name });
        }
        Item::DayOfYear(n) => push_padded(out, i64::from(t.ordinal()), *n),
        Item::Month(n) => push_padded(out, i64::from(t.month()), *n),
        Item::MonthText { short } => {
            let name = MONTHS[t.month0() as usize];
            out.push_str(if *short { &name[..3] } else { name });
        }
        Item::DayOfMonth(n) => push_padded(out, i64::from(t.day()), *n),
        Item::HalfdayText => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
        Item::HourOfHalfday(n) => push_padded(out, i64::from(t.hour() % 12), *n),
        Item::ClockhourOfHalfday(n) => {
            let h = t.hour() % 12;
            push_padded(out, i64::from(if h == 0 { 12 } else { h }), *n)
        }
        Item::HourOfDay(n) => push_padded(out, i64::from(t.hour()), *n),
        Item::ClockhourOfDay(n) => {
            let h = t.hour();
            push_padded(out, i64::from(if h == 0 { 24 } else { h }), *n)
        }
        Item::Minute(n) => push_padded(out, i64::from(t.minute()), *n),
        Item::Second(n) => push_padded(out, i64::from(t.second()), *n),
        Item::Fraction(n) => push_fraction(out, i64::from(t.timestamp_subsec_millis() % 1000), *n),
        Item::ZoneShortName => out.push_str(&t.offset().short_name()),
        Item::ZoneOffset { colon } => {
            // Joda prints hours and minutes only (seconds of odd historical offsets dropped),
            // and `+0000` (not `Z`) for UTC.
            let secs = t.offset().fix().local_minus_utc();
            out.push(if secs < 0 { '-' } else { '+' });
            let a = secs.unsigned_abs();
            let _ = write!(out, "{:02}", a / 3600);
            if *colon {
                out.push(':');
            }
            let _ = write!(out, "{:02}", a / 60 % 60);
        }
        Item::ZoneId => out.push_str(&t.offset().zone_id()),
    }
}

/// Joda's `DateTimeFormatterBuilder.Fraction.printTo` for `appendFractionOfSecond(n, n)`,
/// with millisecond precision: the digits are truncated, and Joda's overflow guard caps the
/// output at 15 digits for 16..=18 letters (19 or more print zeros).
fn push_fraction(out: &mut String, millis: i64, n: usize) {
    if millis == 0 {
        out.extend(std::iter::repeat_n('0', n));
        return;
    }
    let mut max_digits = n;
    let scalar = loop {
        let scalar: i64 = match max_digits {
            1..=18 => 10i64.pow(max_digits as u32),
            _ => 1,
        };
        if 1000i64.wrapping_mul(scalar).wrapping_div(scalar) == 1000 {
            break scalar;
        }
        max_digits -= 1;
    };
    let digits_str = (millis * scalar / 1000).to_string();
    let length = digits_str.len();
    let mut digits = max_digits as isize;
    let mut min_digits = n as isize;
    while (length as isize) < digits {
        out.push('0');
        min_digits -= 1;
        digits -= 1;
    }
    let mut len = length as isize;
    if min_digits < digits {
        while min_digits < digits {
            if len <= 1 || digits_str.as_bytes()[len as usize - 1] != b'0' {
                break;
            }
            digits -= 1;
            len -= 1;
        }
        if (len as usize) < length {
            out.push_str(&digits_str[..len as usize]);
            return;
        }
    }
    out.push_str(&digits_str);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use chrono_tz::Tz;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fmt(pattern: &str, s: &str) -> String {
        JodaFormat::parse(pattern, "en_US").unwrap().format(&utc(s))
    }

    fn fmt_tz(pattern: &str, s: &str, tz: Tz) -> String {
        JodaFormat::parse(pattern, "en")
            .unwrap()
            .format(&utc(s).with_timezone(&tz))
    }

    const HOURLY: &str = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";

    #[test]
    fn confluent_hourly_pattern() {
        assert_eq!(
            fmt(HOURLY, "2025-03-07T05:06:07Z"),
            "year=2025/month=03/day=07/hour=05"
        );
    }

    #[test]
    fn year_of_era_is_not_week_year() {
        // java.time's YYYY would say 2026 here; Joda's Y is the year of era.
        assert_eq!(fmt("YYYY", "2025-12-29T00:00:00Z"), "2025");
        assert_eq!(fmt("xxxx", "2025-12-29T00:00:00Z"), "2026");
        assert_eq!(fmt("ww", "2025-12-29T00:00:00Z"), "01");
        assert_eq!(fmt("yyyy", "2025-12-29T00:00:00Z"), "2025");
        assert_eq!(
            fmt(HOURLY, "2026-12-31T23:59:59Z"),
            "year=2026/month=12/day=31/hour=23"
        );
        assert_eq!(
            fmt(HOURLY, "2027-01-01T00:00:00Z"),
            "year=2027/month=01/day=01/hour=00"
        );
        // 2027-01-01 is a Friday: ISO week 53 of week-year 2026.
        assert_eq!(fmt("xxxx-'W'ww-e", "2027-01-01T00:00:00Z"), "2026-W53-5");
        assert_eq!(fmt("YYYY", "2027-01-01T00:00:00Z"), "2027");
    }

    #[test]
    fn numbers_and_padding() {
        let t = "2025-03-07T05:06:07.089Z";
        assert_eq!(fmt("y", t), "2025");
        assert_eq!(fmt("yyyyyy", t), "002025");
        assert_eq!(fmt("yy", t), "25");
        assert_eq!(fmt("YY", t), "25");
        assert_eq!(fmt("xx", t), "25");
        assert_eq!(fmt("C", t), "20");
        assert_eq!(fmt("CCC", t), "020");
        assert_eq!(fmt("M", t), "3");
        assert_eq!(fmt("MM", t), "03");
        assert_eq!(fmt("d", t), "7");
        assert_eq!(fmt("dd", t), "07");
        assert_eq!(fmt("D", t), "66");
        assert_eq!(fmt("DDD", t), "066");
        assert_eq!(fmt("H", t), "5");
        assert_eq!(fmt("HH", t), "05");
        assert_eq!(fmt("m", t), "6");
        assert_eq!(fmt("mm", t), "06");
        assert_eq!(fmt("s", t), "7");
        assert_eq!(fmt("ss", t), "07");
        assert_eq!(fmt("e", t), "5");
        assert_eq!(fmt("w", t), "10");
        assert_eq!(fmt("yyyy-MM-dd'T'HH:mm:ss", t), "2025-03-07T05:06:07");
        // Padding is a minimum, never a truncation.
        assert_eq!(fmt("Y", "0987-01-01T00:00:00Z"), "987");
        assert_eq!(fmt("YYYY", "0987-01-01T00:00:00Z"), "0987");
    }

    #[test]
    fn hours_of_all_kinds() {
        let midnight = "2025-03-07T00:30:00Z";
        let noon = "2025-03-07T12:30:00Z";
        let evening = "2025-03-07T23:30:00Z";
        assert_eq!(fmt("H k K h a", midnight), "0 24 0 12 AM");
        assert_eq!(fmt("H k K h a", noon), "12 12 0 12 PM");
        assert_eq!(fmt("HH kk KK hh a", evening), "23 23 11 11 PM");
    }

    #[test]
    fn fractions_truncate() {
        let t = "2025-03-07T05:06:07.089Z";
        assert_eq!(fmt("S", t), "0");
        assert_eq!(fmt("SS", t), "08");
        assert_eq!(fmt("SSS", t), "089");
        assert_eq!(fmt("SSSS", t), "0890");
        assert_eq!(fmt("SSSSSS", t), "089000");
        assert_eq!(fmt("S", "2025-03-07T05:06:07.999Z"), "9");
        assert_eq!(fmt("SS", "2025-03-07T05:06:07.999Z"), "99");
        assert_eq!(fmt("SSS", "2025-03-07T05:06:07Z"), "000");
        // Joda's overflow guard: 16 letters print 15 digits.
        assert_eq!(fmt(&"S".repeat(16), t), "089000000000000");
        assert_eq!(fmt(&"S".repeat(20), t), "0".repeat(20));
    }

    #[test]
    fn text_fields() {
        let t = "2025-09-07T15:00:00Z"; // a Sunday
        assert_eq!(fmt("MMM", t), "Sep");
        assert_eq!(fmt("MMMM", t), "September");
        assert_eq!(fmt("MMMMMM", t), "September");
        assert_eq!(fmt("E", t), "Sun");
        assert_eq!(fmt("EEE", t), "Sun");
        assert_eq!(fmt("EEEE", t), "Sunday");
        assert_eq!(fmt("G", t), "AD");
        assert_eq!(fmt("GGGG", t), "AD");
        assert_eq!(fmt("a", t), "PM");
        assert_eq!(fmt("e", t), "7");
        assert_eq!(
            fmt("EEEE, d MMMM yyyy", "2025-01-01T00:00:00Z"),
            "Wednesday, 1 January 2025"
        );
    }

    #[test]
    fn before_the_common_era() {
        // Year 0 is 1 BC; year -44 is 45 BC.
        let t = chrono::NaiveDate::from_ymd_opt(-44, 3, 15)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let f = |p: &str| JodaFormat::parse(p, "en").unwrap().format(&t);
        assert_eq!(f("G"), "BC");
        assert_eq!(f("YYYY"), "0045");
        assert_eq!(f("yyyy"), "-0044");
        assert_eq!(f("yy"), "44");
        assert_eq!(f("C"), "0");
    }

    #[test]
    fn quoting() {
        let t = "2025-03-07T05:06:07Z";
        assert_eq!(fmt("'year'=YYYY", t), "year=2025");
        assert_eq!(fmt("''", t), "'");
        assert_eq!(fmt("HH''mm", t), "05'06");
        assert_eq!(fmt("'o''clock' HH", t), "o'clock 05");
        assert_eq!(fmt("'it''s'", t), "it's");
        assert_eq!(fmt("'a-b_c d/e'", t), "a-b_c d/e");
        // Non-letters need no quotes; non-ASCII letters are literal too.
        assert_eq!(fmt("dd.MM.yyyy - é", t), "07.03.2025 - é");
        // An unterminated quote runs to the end, as in Joda.
        assert_eq!(fmt("HH'h and more", t), "05h and more");
        assert_eq!(fmt("", t), "");
    }

    #[test]
    fn zones() {
        let berlin = chrono_tz::Europe::Berlin;
        let kolkata = chrono_tz::Asia::Kolkata;
        let ny = chrono_tz::America::New_York;
        let winter = "2026-01-15T12:00:00Z";
        let summer = "2026-07-15T12:00:00Z";
        assert_eq!(
            fmt_tz("HH z Z ZZ ZZZ", winter, berlin),
            "13 CET +0100 +01:00 Europe/Berlin"
        );
        assert_eq!(fmt_tz("HH z Z ZZ", summer, berlin), "14 CEST +0200 +02:00");
        assert_eq!(
            fmt_tz("HH:mm z Z ZZ", winter, kolkata),
            "17:30 IST +0530 +05:30"
        );
        assert_eq!(fmt_tz("HH z Z ZZ", winter, ny), "07 EST -0500 -05:00");
        assert_eq!(
            fmt_tz("z Z ZZ ZZZ", winter, chrono_tz::UTC),
            "UTC +0000 +00:00 UTC"
        );
        assert_eq!(fmt("z Z ZZ ZZZ", winter), "UTC +0000 +00:00 UTC");
        let fixed = chrono::FixedOffset::east_opt(-(3 * 3600 + 30 * 60)).unwrap();
        let t = utc(winter).with_timezone(&fixed);
        let f = JodaFormat::parse("HH:mm z Z ZZ ZZZ", "en").unwrap();
        assert_eq!(f.format(&t), "08:30 -03:30 -0330 -03:30 -03:30");
    }

    #[test]
    fn errors() {
        let e = JodaFormat::parse("'year'=YYYY/'q'=q", "en").unwrap_err();
        assert_eq!(e.key, "path.format");
        assert!(e.message.contains("`q`"), "{e}");
        let e = JodaFormat::parse("year=YYYY", "en").unwrap_err();
        assert!(e.message.contains("`r`"), "{e}");
        let e = JodaFormat::parse("zzzz", "en").unwrap_err();
        assert_eq!(e.key, "path.format");
        assert!(e.message.contains("zzzz"), "{e}");
    }

    #[test]
    fn locales() {
        for ok in ["", "en", "en_US", "en_GB", "en-AU", "EN_us", " en_US "] {
            assert!(JodaFormat::parse("MMM EEEE a G z", ok).is_ok(), "{ok}");
        }
        for bad in ["de", "de_DE", "fr-FR", "english_x", "eng"] {
            let e = JodaFormat::parse("'m'=MMM", bad).unwrap_err();
            assert_eq!(e.key, "locale");
            assert!(e.message.contains("only English"), "{e}");
            // Numeric-only patterns accept any locale.
            assert!(JodaFormat::parse(HOURLY, bad).is_ok());
        }
    }

    #[test]
    fn finest_unit() {
        let f = |p: &str| JodaFormat::parse(p, "en").unwrap().finest_unit_ms();
        assert_eq!(f(HOURLY), Some(3_600_000));
        assert_eq!(f("'year'=YYYY/'month'=MM/'day'=dd"), Some(86_400_000));
        assert_eq!(f("YYYY/MM/dd/HH/mm"), Some(60_000));
        assert_eq!(f("HH:mm:ss"), Some(1_000));
        assert_eq!(f("ss.SSS"), Some(1));
        assert_eq!(f("'x'=EEE"), Some(86_400_000));
        assert_eq!(f("D"), Some(86_400_000));
        assert_eq!(f("a"), Some(43_200_000));
        assert_eq!(f("'year'=YYYY/'month'=MM"), None);
        assert_eq!(f("xxxx/ww"), None);
        assert_eq!(f("YYYY"), None);
        assert_eq!(f("'static'"), None);
        // Zone fields are not calendar fields.
        assert_eq!(f("YYYY/Z"), None);
        assert_eq!(f("dd/ZZZ"), Some(86_400_000));
    }
}
