//! Confluent's `timestamp.extractor`: which instant a record is filed under.
//!
//! Time partitioners bucket records by a timestamp, and Confluent lets the connector choose
//! where it comes from: the wall clock when the record is written (`Wallclock`, the default),
//! the Kafka record timestamp (`Record`), or a field of the record value (`RecordField`, with
//! `timestamp.field`, which may be a dotted path into nested objects). This module owns that
//! choice and the reading of the field: a JSON number is epoch milliseconds (a fraction is
//! truncated, as Java's `Number.longValue` does), a JSON string is an ISO-8601 / RFC 3339
//! date-time in the subset Joda's `ISODateTimeFormat.dateTimeParser` reads for calendar dates.
//!
//! Differences from Confluent: a string without an offset is read as UTC (Joda uses the JVM's
//! default zone, which Connect workers usually run as UTC); ISO week dates (`2025-W01-1`) and
//! ordinal dates (`2025-032`) are not accepted; a space or lowercase `t` between date and time
//! and a lowercase `z` are accepted (RFC 3339 allows them, Joda does not).

use chrono::NaiveDate;

use crate::error::{ConfigError, RecordError};

const CLASS_KEY: &str = "timestamp.extractor";
const FIELD_KEY: &str = "timestamp.field";
const NESTED_PREFIX: &str = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$";

/// Where a time partitioner takes a record's timestamp from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampExtractor {
    /// The time the sink processes the record (Confluent's default).
    Wallclock,
    /// The Kafka record's timestamp.
    Record,
    /// A field of the JSON record value.
    RecordField {
        /// The field, as configured: a top-level name or a dotted path (`meta.ts`).
        field: String,
    },
}

impl TimestampExtractor {
    /// Builds the extractor from `timestamp.extractor` and `timestamp.field`.
    ///
    /// Accepts `Wallclock`, `Record` and `RecordField`, and the classes Confluent resolves them
    /// to, `io.confluent.connect.storage.partitioner.TimeBasedPartitioner$WallclockTimestampExtractor`
    /// and so on (also without the `TimestampExtractor` suffix). Absent means `Wallclock`.
    /// `RecordField` requires `timestamp.field` (Confluent would default it to `timestamp`;
    /// here it must be written out); every dot-separated part must be non-empty.
    pub fn from_settings(
        class: Option<&str>,
        timestamp_field: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let Some(class) = class.map(str::trim) else {
            return Ok(TimestampExtractor::Wallclock);
        };
        let short = class
            .strip_prefix(NESTED_PREFIX)
            .map(|s| s.strip_suffix("TimestampExtractor").unwrap_or(s))
            .unwrap_or(class);
        match short {
            "Wallclock" => Ok(TimestampExtractor::Wallclock),
            "Record" => Ok(TimestampExtractor::Record),
            "RecordField" => {
                let field = timestamp_field
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .ok_or_else(|| {
                        ConfigError::new(
                            FIELD_KEY,
                            "required with timestamp.extractor=RecordField (Confluent's \
                             default is `timestamp`: write timestamp.field=timestamp to keep it)",
                        )
                    })?;
                if field.split('.').any(str::is_empty) {
                    return Err(ConfigError::new(
                        FIELD_KEY,
                        format!("`{field}` has an empty part; use a field name or a dotted path like meta.ts"),
                    ));
                }
                Ok(TimestampExtractor::RecordField {
                    field: field.to_string(),
                })
            }
            _ => Err(ConfigError::new(
                CLASS_KEY,
                format!(
                    "unsupported timestamp extractor `{class}`; use Wallclock, Record or \
                     RecordField (or {NESTED_PREFIX}WallclockTimestampExtractor etc.)"
                ),
            )),
        }
    }

    /// The record's timestamp in epoch milliseconds.
    ///
    /// `now_ms` is the wall clock (one value per batch keeps a batch together, as Confluent's
    /// `extract(record, nowInMillis)` does); `record_ts_ms` is the Kafka timestamp, `None` when
    /// the record has none; `value_json` the record value.
    pub fn extract(
        &self,
        now_ms: i64,
        record_ts_ms: Option<i64>,
        value_json: &[u8],
    ) -> Result<i64, RecordError> {
        match self {
            TimestampExtractor::Wallclock => Ok(now_ms),
            TimestampExtractor::Record => record_ts_ms.ok_or_else(|| {
                RecordError(
                    "the record has no Kafka timestamp, which timestamp.extractor=Record needs"
                        .to_string(),
                )
            }),
            TimestampExtractor::RecordField { field } => field_timestamp(field, value_json),
        }
    }

    /// Whether [`TimestampExtractor::extract`] reads the record value.
    pub fn reads_value(&self) -> bool {
        matches!(self, TimestampExtractor::RecordField { .. })
    }
}

fn field_timestamp(field: &str, value_json: &[u8]) -> Result<i64, RecordError> {
    use lakeshore_format::JsonRef;
    let path: Vec<&str> = field.split('.').collect();
    let value = lakeshore_format::find_field(value_json, &path).map_err(|e| {
        RecordError(format!(
            "timestamp field `{field}` cannot be read: record value: {e}"
        ))
    })?;
    match value {
        None => Err(RecordError(format!(
            "timestamp field `{field}` is absent from the record value"
        ))),
        Some(JsonRef::Null) => Err(RecordError(format!("timestamp field `{field}` is null"))),
        Some(JsonRef::Number(n)) => number_millis(n).ok_or_else(|| {
            RecordError(format!(
                "timestamp field `{field}`: {n} is out of range for epoch milliseconds"
            ))
        }),
        Some(JsonRef::String(s)) => parse_iso_millis(&s).ok_or_else(|| {
            let shown: String = s.chars().take(64).collect();
            let more = if s.chars().nth(64).is_some() {
                "..."
            } else {
                ""
            };
            RecordError(format!(
                "timestamp field `{field}`: `{shown}{more}` is not an ISO-8601 date-time \
                 (e.g. 2025-03-07T10:15:30.123Z)"
            ))
        }),
        Some(JsonRef::Bool(_)) | Some(JsonRef::Raw(_)) => Err(RecordError(format!(
            "timestamp field `{field}` is not a number (epoch milliseconds) or an ISO-8601 string"
        ))),
    }
}

/// A JSON number as epoch milliseconds: integers exactly, others truncated toward zero.
fn number_millis(text: &str) -> Option<i64> {
    if let Ok(v) = text.parse::<i64>() {
        return Some(v);
    }
    let v: f64 = text.parse().ok()?;
    // [-2^63, 2^63): exactly the doubles whose truncation fits an i64.
    let two_63 = -(i64::MIN as f64);
    (-two_63..two_63).contains(&v).then(|| v.trunc() as i64)
}

/// A cursor over ASCII bytes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Between `min` and `max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// A `.` or `,` decimal fraction as (numerator, denominator), at most 9 digits kept.
    fn fraction(&mut self) -> Option<(u64, u64)> {
        if !(self.eat(b'.') || self.eat(b',')) {
            return Some((0, 1));
        }
        let start = self.i;
        let (mut num, mut den) = (0u64, 1u64);
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if self.i - start < 9 {
                num = num * 10 + u64::from(c - b'0');
                den *= 10;
            }
            self.i += 1;
        }
        (self.i > start).then_some((num, den))
    }
}

/// Parses `yyyy[-MM[-dd]][('T'|'t'|' ')[HH[:mm[:ss]][.fraction]]][offset]` to epoch ms, where
/// the fraction belongs to the last time field given and the offset is `Z`/`z`, `±HH`,
/// `±HH:mm`, `±HHmm` or `±HH:mm:ss`; no offset means UTC. Fractions below a millisecond are
/// truncated, as in Joda.
pub fn parse_iso_millis(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.trim().as_bytes(),
        i: 0,
    };
    let negative_year = c.eat(b'-');
    if !negative_year {
        c.eat(b'+');
    }
    let year = i32::try_from(c.digits(4, 9)?).ok()?;
    let year = if negative_year { -year } else { year };
    let (mut month, mut day) = (1, 1);
    if c.eat(b'-') {
        month = c.digits(1, 2)?;
        if c.eat(b'-') {
            day = c.digits(1, 2)?;
        }
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut millis_of_day: i64 = 0;
    let mut offset_ms: i64 = 0;
    let has_time = c.eat(b'T') || c.eat(b't') || (c.peek() == Some(b' ') && c.eat(b' '));
    if has_time {
        if c.peek().is_some_and(|ch| ch.is_ascii_digit()) {
            let hour = c.digits(1, 2)?;
            let (mut minute, mut second) = (None, None);
            if c.eat(b':') {
                minute = Some(c.digits(1, 2)?);
                if c.eat(b':') {
                    second = Some(c.digits(1, 2)?);
                }
            }
            if hour > 23 || minute.unwrap_or(0) > 59 || second.unwrap_or(0) > 59 {
                return None;
            }
            let (num, den) = c.fraction()?;
            // The fraction is of the last field written.
            let unit: u64 = match (minute, second) {
                (_, Some(_)) => 1_000,
                (Some(_), None) => 60_000,
                (None, None) => 3_600_000,
            };
            let frac = i64::try_from(num * unit / den).ok()?;
            millis_of_day = i64::from(hour) * 3_600_000
                + i64::from(minute.unwrap_or(0)) * 60_000
                + i64::from(second.unwrap_or(0)) * 1_000
                + frac;
        }
        if c.eat(b'Z') || c.eat(b'z') {
        } else if let Some(sign) = c.peek().filter(|ch| *ch == b'+' || *ch == b'-') {
            c.i += 1;
            let hours = c.digits(2, 2)?;
            let mut minutes = 0;
            let mut seconds = 0;
            if c.eat(b':') {
                minutes = c.digits(2, 2)?;
                if c.eat(b':') {
                    seconds = c.digits(2, 2)?;
                }
            } else if c.peek().is_some_and(|ch| ch.is_ascii_digit()) {
                minutes = c.digits(2, 2)?;
            }
            if hours > 23 || minutes > 59 || seconds > 59 {
                return None;
            }
            let magnitude = i64::from(hours) * 3_600_000
                + i64::from(minutes) * 60_000
                + i64::from(seconds) * 1_000;
            offset_ms = if sign == b'-' { -magnitude } else { magnitude };
        }
    }
    if c.i != c.b.len() {
        return None;
    }
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    Some(midnight + millis_of_day - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn settings() {
        use TimestampExtractor::*;
        let ok =
            |c: Option<&str>, f: Option<&str>| TimestampExtractor::from_settings(c, f).unwrap();
        assert_eq!(ok(None, None), Wallclock);
        assert_eq!(ok(Some("Wallclock"), None), Wallclock);
        assert_eq!(ok(Some(" Record "), None), Record);
        assert_eq!(
            ok(Some("RecordField"), Some("ts")),
            RecordField { field: "ts".into() }
        );
        assert_eq!(
            ok(Some("RecordField"), Some("meta.created_at")),
            RecordField {
                field: "meta.created_at".into()
            }
        );
        let fq = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$";
        assert_eq!(
            ok(Some(&format!("{fq}WallclockTimestampExtractor")), None),
            Wallclock
        );
        assert_eq!(
            ok(Some(&format!("{fq}RecordTimestampExtractor")), None),
            Record
        );
        assert_eq!(
            ok(
                Some(&format!("{fq}RecordFieldTimestampExtractor")),
                Some("t")
            ),
            RecordField { field: "t".into() }
        );
        assert_eq!(ok(Some(&format!("{fq}Wallclock")), None), Wallclock);
        assert_eq!(ok(Some(&format!("{fq}Record")), None), Record);
        assert!(!Record.reads_value());
        assert!(RecordField { field: "x".into() }.reads_value());
    }

    #[test]
    fn settings_errors() {
        let err =
            |c: Option<&str>, f: Option<&str>| TimestampExtractor::from_settings(c, f).unwrap_err();
        for bad in [
            "wallclock",
            "",
            "com.example.MyExtractor",
            "RecordTimestampExtractor",
        ] {
            assert_eq!(err(Some(bad), None).key, "timestamp.extractor", "{bad}");
        }
        let e = err(Some("RecordField"), None);
        assert_eq!(e.key, "timestamp.field");
        assert!(e.message.contains("timestamp.field=timestamp"), "{e}");
        assert_eq!(err(Some("RecordField"), Some(" ")).key, "timestamp.field");
        assert_eq!(
            err(Some("RecordField"), Some("a..b")).key,
            "timestamp.field"
        );
        assert_eq!(err(Some("RecordField"), Some(".a")).key, "timestamp.field");
    }

    #[test]
    fn wallclock_and_record() {
        let w = TimestampExtractor::Wallclock;
        assert_eq!(w.extract(42, Some(7), b"not json").unwrap(), 42);
        let r = TimestampExtractor::Record;
        assert_eq!(r.extract(42, Some(7), b"").unwrap(), 7);
        assert_eq!(r.extract(42, Some(-5), b"").unwrap(), -5);
        let e = r.extract(42, None, b"").unwrap_err();
        assert!(e.0.contains("no Kafka timestamp"), "{e}");
    }

    #[test]
    fn record_field_numbers_and_strings() {
        let f = |field: &str, json: &str| {
            TimestampExtractor::RecordField {
                field: field.into(),
            }
            .extract(0, None, json.as_bytes())
        };
        assert_eq!(
            f("ts", r#"{"ts": 1741341967089}"#).unwrap(),
            1_741_341_967_089
        );
        assert_eq!(f("ts", r#"{"ts": -1}"#).unwrap(), -1);
        assert_eq!(
            f("ts", r#"{"ts": 1.7413419670899E12}"#).unwrap(),
            1_741_341_967_089
        );
        assert_eq!(f("ts", r#"{"ts": -2.9}"#).unwrap(), -2);
        assert_eq!(
            f("ts", r#"{"ts": "2025-03-07T10:06:07.089Z"}"#).unwrap(),
            ms("2025-03-07T10:06:07.089Z")
        );
        assert_eq!(
            f("ts", r#"{"ts": "2025-03-07T11:06:07.089+01:00"}"#).unwrap(),
            ms("2025-03-07T10:06:07.089Z")
        );
        assert_eq!(
            f(
                "meta.created",
                r#"{"id": 1, "meta": {"created": "2025-03-07T10:06:07"}}"#
            )
            .unwrap(),
            ms("2025-03-07T10:06:07Z")
        );
        assert_eq!(f("a.b.c", r#"{"a": {"b": {"c": 5}}}"#).unwrap(), 5);
    }

    #[test]
    fn record_field_errors() {
        let f = |json: &str| {
            TimestampExtractor::RecordField {
                field: "m.ts".into(),
            }
            .extract(0, None, json.as_bytes())
            .unwrap_err()
            .0
        };
        assert!(f(r#"{"m": {}}"#).contains("`m.ts` is absent"));
        assert!(f(r#"{"m": 1}"#).contains("`m.ts` is absent"));
        assert!(f(r#"{"m": {"ts": null}}"#).contains("`m.ts` is null"));
        assert!(f(r#"{"m": {"ts": true}}"#).contains("not a number"));
        assert!(f(r#"{"m": {"ts": [1]}}"#).contains("not a number"));
        assert!(f(r#"{"m": {"ts": "yesterday"}}"#).contains("`yesterday` is not an ISO-8601"));
        assert!(f(r#"{"m": {"ts": 1e300}}"#).contains("out of range"));
        assert!(f("[1, 2]").contains("`m.ts`"));
        assert!(f("{oops").contains("invalid JSON"));
        let long = format!(r#"{{"m": {{"ts": "{}"}}}}"#, "x".repeat(500));
        assert!(f(&long).len() < 300);
    }

    #[test]
    fn iso_forms() {
        let p = |s: &str| parse_iso_millis(s);
        let base = ms("2025-03-07T10:06:07Z");
        assert_eq!(p("2025-03-07T10:06:07Z"), Some(base));
        assert_eq!(p("2025-03-07t10:06:07z"), Some(base));
        assert_eq!(p("2025-03-07 10:06:07Z"), Some(base));
        assert_eq!(p("2025-03-07T10:06:07"), Some(base));
        assert_eq!(p("2025-03-07T10:06:07.5Z"), Some(base + 500));
        assert_eq!(p("2025-03-07T10:06:07,123Z"), Some(base + 123));
        assert_eq!(p("2025-03-07T10:06:07.123456789Z"), Some(base + 123));
        assert_eq!(p("2025-03-07T10:06:07.999999999999Z"), Some(base + 999));
        assert_eq!(p("2025-03-07T12:06:07+02:00"), Some(base));
        assert_eq!(p("2025-03-07T12:06:07+0200"), Some(base));
        assert_eq!(p("2025-03-07T12:06:07+02"), Some(base));
        assert_eq!(p("2025-03-07T04:36:07-05:30"), Some(base));
        assert_eq!(p("2025-03-07T10:06Z"), Some(base - 7_000));
        assert_eq!(p("2025-03-07T10Z"), Some(ms("2025-03-07T10:00:00Z")));
        assert_eq!(p("2025-03-07T10.5Z"), Some(ms("2025-03-07T10:30:00Z")));
        assert_eq!(p("2025-03-07T10:06.5"), Some(ms("2025-03-07T10:06:30Z")));
        assert_eq!(p("2025-03-07"), Some(ms("2025-03-07T00:00:00Z")));
        assert_eq!(p("2025-03"), Some(ms("2025-03-01T00:00:00Z")));
        assert_eq!(p("2025"), Some(ms("2025-01-01T00:00:00Z")));
        assert_eq!(p("2025-3-7T1:2:3Z"), Some(ms("2025-03-07T01:02:03Z")));
        assert_eq!(p(" 2025-03-07T10:06:07Z "), Some(base));
        assert_eq!(p("1969-12-31T23:59:59.999Z"), Some(-1));
        for bad in [
            "",
            "yesterday",
            "25-03-07",
            "2025-13-01",
            "2025-02-30",
            "2025-03-07T24:00:00Z",
            "2025-03-07T10:60",
            "2025-03-07T10:06:60Z",
            "2025-03-07T10:06:07ZZ",
            "2025-03-07T10:06:07+2",
            "2025-03-07T10:06:07+25:00",
            "2025-03-07T10:06:07.Z",
            "2025-W10-5",
            "1741341967089x",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
