//! The partitioners: which directory under `topics.dir/<topic>/` a record lands in.
//!
//! Directory names are what Hive tables, downstream jobs and operators see, so they must be
//! byte-for-byte those of Confluent's storage-common partitioners (`DefaultPartitioner`,
//! `FieldPartitioner`, `TimeBasedPartitioner` and its `Hourly`/`Daily` presets) for the sink to
//! be a drop-in replacement. This module owns the choice of partitioner from the connector
//! properties and the mapping record → directory, including Confluent's time bucketing:
//!
//! 1. the record's UTC timestamp is shifted to local wall time in `timezone` (Joda's
//!    `convertUTCToLocal`),
//! 2. that local epoch-ms is floored to a multiple of `partition.duration.ms`,
//! 3. the floored local time is converted back to an instant with Joda's
//!    `convertLocalToUTC(t, false)`, reproduced exactly (`local_to_utc`): a bucket start in a
//!    fall-back overlap resolves to the later instant east of Greenwich (Berlin 02:00 on
//!    2026-10-25 is 01:00Z, `+0100`) and to the earlier one west of it (New York 01:00 on
//!    2026-11-01 is 05:00Z, `-0400`); one in a spring-forward gap is named one DST shift
//!    later (Berlin 02:00 on 2026-03-29 is named 03:00), and
//! 4. that instant is formatted with the Joda `path.format` in `timezone`.
//!
//! Deliberate differences from Confluent: Java's `/` truncates toward zero, so Confluent puts
//! a pre-1970 (local) timestamp into the bucket *after* it; we floor. Field values are escaped
//! with [`encode_segment`] (Confluent writes them raw, so a `/` in a value adds a directory
//! level); numbers are written as their JSON text (`1.50e3` stays `1.50e3`; Confluent prints
//! the Java value of integer fields and rejects floating-point ones).

pub mod encode;
pub mod joda;

use std::borrow::Cow;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

pub use encode::encode_segment;
pub use joda::{JodaFormat, ZoneText};

use crate::error::{ConfigError, RecordError};

const STORAGE_PACKAGE: &str = "io.confluent.connect.storage.partitioner.";
const HDFS_PACKAGE: &str = "io.confluent.connect.hdfs.partitioner.";

/// The `path.format` of Confluent's `HourlyPartitioner`.
pub const HOURLY_PATH_FORMAT: &str = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
/// The `path.format` of Confluent's `DailyPartitioner`.
pub const DAILY_PATH_FORMAT: &str = "'year'=YYYY/'month'=MM/'day'=dd";

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Record timestamps further than this from the epoch (about 158,000 years) are refused.
pub const MAX_TIMESTAMP_MS: i64 = 5_000_000_000_000_000;
/// The largest accepted `partition.duration.ms` (about 31,700 years).
pub const MAX_DURATION_MS: i64 = 1_000_000_000_000_000;

/// How records are spread over directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitioner {
    /// `partition=<kafka partition>`.
    Default,
    /// `<name>=<value>` for each field, joined by `/`; values come from the JSON record value.
    Field {
        /// Top-level field names, in directory order.
        fields: Vec<String>,
    },
    /// Time buckets of `duration_ms` in `tz`, named with a Joda pattern (also Hourly/Daily).
    Time {
        /// The `path.format`.
        format: JodaFormat,
        /// The bucket length, `partition.duration.ms`.
        duration_ms: i64,
        /// The `timezone` buckets are computed and named in.
        tz: Tz,
    },
}

/// The connector properties a partitioner is built from, as written (not yet validated).
#[derive(Debug, Clone, Copy, Default)]
pub struct PartitionerSettings<'a> {
    /// `partitioner.class`.
    pub class: &'a str,
    /// `path.format`.
    pub path_format: Option<&'a str>,
    /// `partition.duration.ms`.
    pub partition_duration_ms: Option<i64>,
    /// `locale`.
    pub locale: Option<&'a str>,
    /// `timezone`.
    pub timezone: Option<&'a str>,
    /// `partition.field.name`.
    pub partition_field_name: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Default,
    Field,
    TimeBased,
    Hourly,
    Daily,
}

impl Partitioner {
    /// Builds the partitioner `s.class` names, validating the properties it uses.
    ///
    /// `partitioner.class` is accepted fully qualified (`io.confluent.connect.storage.partitioner.*`
    /// or the older `io.confluent.connect.hdfs.partitioner.*`) or by its short name.
    /// - `FieldPartitioner` needs `partition.field.name` (comma-separated top-level fields).
    /// - `HourlyPartitioner`/`DailyPartitioner` need `locale` and `timezone`, and ignore
    ///   `path.format` and `partition.duration.ms` (as Confluent does).
    /// - `TimeBasedPartitioner` needs `path.format`, `locale` and `timezone`;
    ///   `partition.duration.ms` defaults to the length of the pattern's finest field (an hour
    ///   for `...'hour'=HH`) when absent, and is an error when that field has no fixed length.
    ///
    /// `timezone` is an IANA zone id (case-sensitive, as in Joda) or a whole-hour fixed offset
    /// (`+01:00`, `-05`); fixed offsets with minutes are not supported. One trailing `/` of
    /// `path.format` is dropped, as Confluent does.
    pub fn from_settings(s: &PartitionerSettings) -> Result<Partitioner, ConfigError> {
        match kind(s.class)? {
            Kind::Default => Ok(Partitioner::Default),
            Kind::Field => field_partitioner(s.partition_field_name),
            Kind::Hourly => {
                time_partitioner(s, "HourlyPartitioner", HOURLY_PATH_FORMAT, Some(HOUR_MS))
            }
            Kind::Daily => time_partitioner(s, "DailyPartitioner", DAILY_PATH_FORMAT, Some(DAY_MS)),
            Kind::TimeBased => {
                let pattern = s
                    .path_format
                    .filter(|p| !p.trim().is_empty() && *p != "/")
                    .ok_or_else(|| {
                        ConfigError::new(
                            "path.format",
                            "required for TimeBasedPartitioner, e.g. \
                             path.format='year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
                        )
                    })?;
                let pattern = pattern.strip_suffix('/').unwrap_or(pattern);
                time_partitioner(s, "TimeBasedPartitioner", pattern, None)
            }
        }
    }

    /// The directory path for one record (no leading or trailing `/`).
    ///
    /// `timestamp_ms` is only read by time partitioners (see [`Partitioner::needs_timestamp`]),
    /// `value_json` only by the field partitioner.
    pub fn encode(
        &self,
        kafka_partition: i32,
        timestamp_ms: i64,
        value_json: &[u8],
    ) -> Result<String, RecordError> {
        match self {
            Partitioner::Default => Ok(format!("partition={kafka_partition}")),
            Partitioner::Field { fields } => field_path(fields, value_json),
            Partitioner::Time {
                format,
                duration_ms,
                tz,
            } => {
                if !(-MAX_TIMESTAMP_MS..=MAX_TIMESTAMP_MS).contains(&timestamp_ms) {
                    return Err(RecordError(format!(
                        "timestamp {timestamp_ms} ms is too far from 1970 to name a time \
                         partition (at most ±{MAX_TIMESTAMP_MS} ms)"
                    )));
                }
                let bucket = local_floor(*tz, *duration_ms, timestamp_ms);
                bucket_path(format, *tz, bucket).ok_or_else(|| {
                    RecordError(format!(
                        "timestamp {timestamp_ms} ms cannot be formatted in {}",
                        tz.name()
                    ))
                })
            }
        }
    }

    /// For time partitioners: the `[start, end)` epoch-ms bounds of the partition (directory)
    /// containing `timestamp_ms`, for completeness markers. `None` for Default/Field.
    ///
    /// `start` is the first and `end - 1` the last instant whose record lands in the same
    /// directory as `timestamp_ms`. Usually that is one bucket of `partition.duration.ms`; when
    /// the pattern is coarser than the duration (hourly directories, 10-minute buckets) it is
    /// all the neighbouring buckets that share the directory. Around DST changes the range
    /// follows the wall clock: in Europe/Berlin the fall-back `hour=02` directory spans two
    /// real hours, and a day directory 23 or 25 hours. Only when buckets are shorter than a DST
    /// shift (or misaligned with it) can a directory be non-contiguous in real time; the range
    /// then also covers instants of a neighbouring directory. Timestamps beyond
    /// ±[`MAX_TIMESTAMP_MS`] are clamped. Costs a few microseconds: call it once per new
    /// directory, not per record.
    pub fn bucket_bounds(&self, timestamp_ms: i64) -> Option<(i64, i64)> {
        let Partitioner::Time {
            format,
            duration_ms,
            tz,
        } = self
        else {
            return None;
        };
        let (tz, d) = (*tz, *duration_ms);
        let ts = timestamp_ms.clamp(-MAX_TIMESTAMP_MS, MAX_TIMESTAMP_MS);
        let bucket = local_floor(tz, d, ts);
        let path = bucket_path(format, tz, bucket);
        // Buckets near the ends of the supported range are never merged into the run.
        let limit = MAX_TIMESTAMP_MS + MAX_DURATION_MS;
        let same = |k: i64| -> bool {
            k.checked_mul(d)
                .and_then(|off| bucket.checked_add(off))
                .filter(|b| (-limit..=limit).contains(b))
                .is_some_and(|b| bucket_path(format, tz, b) == path)
        };
        let back = gallop(|k| same(-k));
        let forward = gallop(same);
        let local_start = bucket - back * d;
        let local_end = bucket + (forward + 1) * d;
        Some(instants_with_local_time_in(tz, local_start, local_end, ts))
    }

    /// Whether [`Partitioner::encode`] reads the timestamp (only time partitioners do).
    pub fn needs_timestamp(&self) -> bool {
        matches!(self, Partitioner::Time { .. })
    }
}

fn kind(class: &str) -> Result<Kind, ConfigError> {
    let class = class.trim();
    let short = class
        .strip_prefix(STORAGE_PACKAGE)
        .or_else(|| class.strip_prefix(HDFS_PACKAGE))
        .unwrap_or(class);
    Ok(match short {
        "DefaultPartitioner" => Kind::Default,
        "FieldPartitioner" => Kind::Field,
        "TimeBasedPartitioner" => Kind::TimeBased,
        "HourlyPartitioner" => Kind::Hourly,
        "DailyPartitioner" => Kind::Daily,
        _ => {
            return Err(ConfigError::new(
                "partitioner.class",
                format!(
                    "unsupported partitioner `{class}`; supported: \
                     {STORAGE_PACKAGE}DefaultPartitioner, {STORAGE_PACKAGE}FieldPartitioner, \
                     {STORAGE_PACKAGE}TimeBasedPartitioner, {STORAGE_PACKAGE}HourlyPartitioner, \
                     {STORAGE_PACKAGE}DailyPartitioner (also as {HDFS_PACKAGE}* or by the short \
                     class name)"
                ),
            ))
        }
    })
}

fn field_partitioner(names: Option<&str>) -> Result<Partitioner, ConfigError> {
    const KEY: &str = "partition.field.name";
    let raw = names
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                KEY,
                "required for FieldPartitioner: a comma-separated list of top-level record fields",
            )
        })?;
    let mut fields = Vec::new();
    for name in raw.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(ConfigError::new(
                KEY,
                format!("`{raw}` has an empty field name"),
            ));
        }
        if encode_segment(name).ok().as_deref() != Some(name) {
            return Err(ConfigError::new(
                KEY,
                format!(
                    "field name `{name}` cannot name a directory as is (it starts with `.`, \
                     has one of / \\ = : % # ? * ' \" {{ [ ] ^ or a control character, or is \
                     too long)"
                ),
            ));
        }
        fields.push(name.to_string());
    }
    Ok(Partitioner::Field { fields })
}

fn time_partitioner(
    s: &PartitionerSettings,
    class: &str,
    pattern: &str,
    fixed_duration: Option<i64>,
) -> Result<Partitioner, ConfigError> {
    let locale = s
        .locale
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                "locale",
                format!("required for {class}, as in Confluent (e.g. locale=en_US)"),
            )
        })?;
    let tz = parse_timezone(s.timezone, class)?;
    let format = JodaFormat::parse(pattern, locale)?;
    let duration_ms = match fixed_duration {
        Some(d) => d,
        None => match s.partition_duration_ms {
            Some(d) if d > 0 && d <= MAX_DURATION_MS => d,
            Some(d) => {
                return Err(ConfigError::new(
                    "partition.duration.ms",
                    format!(
                        "must be a positive number of milliseconds (at most {MAX_DURATION_MS}), \
                         got {d}"
                    ),
                ))
            }
            None => format.finest_unit_ms().ok_or_else(|| {
                ConfigError::new(
                    "partition.duration.ms",
                    format!(
                        "not set, and path.format `{pattern}` has no field of fixed length to \
                         derive it from (its finest field is a week, month or year); set \
                         partition.duration.ms"
                    ),
                )
            })?,
        },
    };
    check_path_shape(&format, tz)?;
    Ok(Partitioner::Time {
        format,
        duration_ms,
        tz,
    })
}

/// Joda's `DateTimeZone.forID`, within what `chrono-tz` can represent.
fn parse_timezone(value: Option<&str>, class: &str) -> Result<Tz, ConfigError> {
    const KEY: &str = "timezone";
    let v = value.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return Err(ConfigError::new(
            KEY,
            format!("required for {class}: Confluent has no default; set e.g. timezone=UTC"),
        ));
    }
    if let Ok(tz) = v.parse::<Tz>() {
        return Ok(tz);
    }
    if let Some(rest) = v.strip_prefix(['+', '-']) {
        let east = v.starts_with('+');
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        let parsed = match digits.len() {
            1 | 2 => digits.parse::<u32>().ok().map(|h| (h, 0)),
            4 => digits[..2]
                .parse::<u32>()
                .ok()
                .zip(digits[2..].parse::<u32>().ok()),
            _ => None,
        };
        if let Some((hours, minutes)) =
            parsed.filter(|_| digits.chars().all(|c| c.is_ascii_digit()))
        {
            let max = if east { 14 } else { 12 };
            if minutes == 0 && hours <= max {
                // Etc/GMT zones have POSIX signs: Etc/GMT-1 is +01:00.
                let id = match (hours, east) {
                    (0, _) => "UTC".to_string(),
                    (h, true) => format!("Etc/GMT-{h}"),
                    (h, false) => format!("Etc/GMT+{h}"),
                };
                if let Ok(tz) = id.parse::<Tz>() {
                    return Ok(tz);
                }
            }
            return Err(ConfigError::new(
                KEY,
                format!(
                    "fixed offset `{v}` is not supported: only whole hours from -12:00 to \
                     +14:00 are; use a zone id such as Asia/Kolkata instead"
                ),
            ));
        }
    }
    Err(ConfigError::new(
        KEY,
        format!(
            "unknown time zone `{v}`; use an IANA zone id such as UTC or Europe/Berlin \
             (case-sensitive), or a whole-hour offset such as +01:00"
        ),
    ))
}

/// Rejects patterns whose directories could not exist: empty, or with `.`/`..` segments.
fn check_path_shape(format: &JodaFormat, tz: Tz) -> Result<(), ConfigError> {
    let sample = bucket_path(format, tz, 1_767_225_600_000).unwrap_or_default();
    if sample.is_empty() {
        return Err(ConfigError::new(
            "path.format",
            format!("`{}` produces an empty directory path", format.pattern()),
        ));
    }
    if sample.split('/').any(|s| s == "." || s == "..") {
        return Err(ConfigError::new(
            "path.format",
            format!(
                "`{}` produces a `.` or `..` directory (e.g. `{sample}`)",
                format.pattern()
            ),
        ));
    }
    Ok(())
}

fn field_path(fields: &[String], value_json: &[u8]) -> Result<String, RecordError> {
    use lakeshore_format::JsonRef;
    let mut out = String::new();
    for name in fields {
        let value = lakeshore_format::find_field(value_json, &[name.as_str()]).map_err(|e| {
            RecordError(format!(
                "partition field `{name}` cannot be read: record value: {e}"
            ))
        })?;
        let text: Cow<'_, str> = match value {
            None => {
                return Err(RecordError(format!(
                    "partition field `{name}` is absent from the record value"
                )))
            }
            Some(JsonRef::Null) => {
                return Err(RecordError(format!("partition field `{name}` is null")))
            }
            Some(JsonRef::Bool(b)) => Cow::Borrowed(if b { "true" } else { "false" }),
            Some(JsonRef::Number(n)) => Cow::Borrowed(n),
            Some(JsonRef::String(s)) => s,
            Some(JsonRef::Raw(_)) => {
                return Err(RecordError(format!(
                    "partition field `{name}` is an object or array; only strings, numbers and \
                     booleans can name a directory"
                )))
            }
        };
        let segment = encode_segment(&text)
            .map_err(|e| RecordError(format!("partition field `{name}`: {}", e.0)))?;
        let len = name.len() + 1 + segment.len();
        if len > encode::MAX_SEGMENT_BYTES {
            return Err(RecordError(format!(
                "partition field `{name}`: directory `{name}=...` is {len} bytes encoded; a \
                 path segment is at most {}",
                encode::MAX_SEGMENT_BYTES
            )));
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(&segment);
    }
    Ok(out)
}

/// The directory of the bucket whose local start is `local_bucket` (local epoch ms).
fn bucket_path(format: &JodaFormat, tz: Tz, local_bucket: i64) -> Option<String> {
    let instant = local_to_utc(tz, local_bucket);
    let t = DateTime::from_timestamp_millis(instant)?.with_timezone(&tz);
    Some(normalize_path(format.format(&t)))
}

/// Drops empty segments (leading, trailing or doubled `/`), as HDFS's `Path` does with
/// Confluent's output.
fn normalize_path(p: String) -> String {
    if !p.starts_with('/') && !p.ends_with('/') && !p.contains("//") {
        return p;
    }
    p.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Joda's `getOffset(instant)`: the total offset from UTC in effect at `t`, in ms.
fn offset_ms(tz: Tz, t: i64) -> i64 {
    DateTime::from_timestamp_millis(t).map_or(0, |dt| {
        i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ) * 1000
    })
}

/// Steps 1–2 of the bucketing: local wall time of `ts`, floored to a multiple of `d`.
/// (Confluent truncates toward zero, which differs before 1970; see the module docs.)
fn local_floor(tz: Tz, d: i64, ts: i64) -> i64 {
    let local = ts + offset_ms(tz, ts);
    local.div_euclid(d) * d
}

/// Joda's `DateTimeZone.convertLocalToUTC(local, false)`, exactly:
///
/// ```text
/// offsetLocal = getOffset(local); offset = getOffset(local - offsetLocal)
/// if offsetLocal != offset && offsetLocal < 0 && local is in a DST gap: offset = offsetLocal
/// return local - offset
/// ```
///
/// What that means: in a fall-back overlap, zones east of Greenwich (Europe/Berlin) get the
/// *later* instant (standard time: local 02:00 on 2026-10-25 is 01:00Z, `+0100`), zones west
/// of it (America/New_York) the *earlier* one (daylight time); so Joda's choice is not simply
/// "the earlier offset". For a local time in a spring-forward gap the result is the instant
/// one shift later in wall time (Berlin 02:30 → 03:30 CEST; New York 02:30 → 03:30 EDT). Only
/// the formatted name depends on this choice (the `Z`/`z` fields, or the hour for gaps):
/// every record whose floored local time is `local` gets the same directory either way.
fn local_to_utc(tz: Tz, local: i64) -> i64 {
    let offset_local = offset_ms(tz, local);
    let offset = offset_ms(tz, local - offset_local);
    // Joda's gap test compares the next transitions after `local - offsetLocal` and
    // `local - offset`; with one transition between them that is "is `local - offset`
    // inconsistent with `offset`".
    if offset_local != offset && offset_local < 0 && offset_ms(tz, local - offset) != offset {
        return local - offset_local;
    }
    local - offset
}

/// The largest `k >= 0` with `same(1..=k)` all true, assuming they are (a run, then false).
fn gallop(same: impl Fn(i64) -> bool) -> i64 {
    if !same(1) {
        return 0;
    }
    let mut good = 1i64;
    let mut bad = loop {
        let next = good.saturating_mul(2);
        if next == good || !same(next) {
            break next;
        }
        good = next;
    };
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if same(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// Offsets never exceed this (tzdb's widest, local mean times, are under 16 hours).
const OFFSET_MARGIN_MS: i64 = 26 * HOUR_MS;
/// Offset changes are looked for at this step, then pinned to the millisecond.
const SCAN_STEP_MS: i64 = HOUR_MS;

/// The smallest `[start, end)` covering every instant `t` with `a <= local(t) < b`, where
/// `hint` is one of them.
fn instants_with_local_time_in(tz: Tz, a: i64, b: i64, hint: i64) -> (i64, i64) {
    let lo = a - OFFSET_MARGIN_MS;
    let hi = b + OFFSET_MARGIN_MS;
    let off = |t: i64| offset_ms(tz, t);

    // The first instant: walk the offset segments forward from `lo`.
    let mut start = None;
    let mut s = lo;
    while s < hi {
        let o = off(s);
        // In this segment, local(t) = t + o: the first t with local(t) >= a.
        let cand = s.max(a - o);
        if cand >= b - o {
            // Everything left of this segment is past `b`; try the next one.
            match change_after(tz, s, hi) {
                Some(x) => s = x,
                None => break,
            }
            continue;
        }
        match change_after(tz, s, cand) {
            None => {
                start = Some(cand);
                break;
            }
            Some(x) => s = x,
        }
    }

    // The last instant: walk the segments backward from `hi`.
    let mut end = None;
    let mut e = hi;
    while e > lo {
        let o = off(e - 1);
        // In this segment, the instants with local(t) < b are those t < b - o.
        let cand = e.min(b - o);
        match change_before(tz, e - 1, cand - 1) {
            None => {
                if cand - 1 + o >= a {
                    end = Some(cand);
                    break;
                }
                match change_before(tz, e - 1, lo) {
                    Some(x) => e = x,
                    None => break,
                }
            }
            Some(x) => e = x,
        }
    }

    match (start, end) {
        (Some(s), Some(e)) if s <= hint && hint < e => (s, e),
        _ => {
            debug_assert!(
                false,
                "no instant with local time in [{a}, {b}) around {hint}"
            );
            (hint, hint + 1)
        }
    }
}

/// The first instant in `(t, limit]` whose offset differs from `t`'s, if any.
fn change_after(tz: Tz, t: i64, limit: i64) -> Option<i64> {
    let o = offset_ms(tz, t);
    let mut x = t;
    while x < limit {
        let y = (x + SCAN_STEP_MS).min(limit);
        if offset_ms(tz, y) != o {
            let (mut same, mut diff) = (x, y);
            while diff - same > 1 {
                let mid = same + (diff - same) / 2;
                if offset_ms(tz, mid) == o {
                    same = mid;
                } else {
                    diff = mid;
                }
            }
            return Some(diff);
        }
        x = y;
    }
    None
}

/// If the offset changes in `[limit, t]`: the start of `t`'s segment (the first instant from
/// which the offset stays `t`'s up to `t`); `None` if the offset is constant on `[limit, t]`.
fn change_before(tz: Tz, t: i64, limit: i64) -> Option<i64> {
    let o = offset_ms(tz, t);
    let mut x = t;
    while x > limit {
        let y = (x - SCAN_STEP_MS).max(limit);
        if offset_ms(tz, y) != o {
            let (mut diff, mut same) = (y, x);
            while same - diff > 1 {
                let mid = diff + (same - diff) / 2;
                if offset_ms(tz, mid) == o {
                    same = mid;
                } else {
                    diff = mid;
                }
            }
            return Some(same);
        }
        x = y;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use proptest::prelude::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn iso(ms: i64) -> String {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn time(class: &str, tz: &str) -> Partitioner {
        Partitioner::from_settings(&PartitionerSettings {
            class,
            locale: Some("en_US"),
            timezone: Some(tz),
            ..Default::default()
        })
        .unwrap()
    }

    fn time_based(path_format: &str, duration: Option<i64>, tz: &str) -> Partitioner {
        Partitioner::from_settings(&PartitionerSettings {
            class: "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            path_format: Some(path_format),
            partition_duration_ms: duration,
            locale: Some("en_US"),
            timezone: Some(tz),
            partition_field_name: None,
        })
        .unwrap()
    }

    fn path(p: &Partitioner, t: &str) -> String {
        p.encode(0, ms(t), b"{}").unwrap()
    }

    fn bounds(p: &Partitioner, t: &str) -> (String, String) {
        let (s, e) = p.bucket_bounds(ms(t)).unwrap();
        (iso(s), iso(e))
    }

    fn b(s: &str, e: &str) -> (String, String) {
        (s.to_string(), e.to_string())
    }

    fn config_err(s: PartitionerSettings) -> ConfigError {
        Partitioner::from_settings(&s).unwrap_err()
    }

    #[test]
    fn class_names() {
        for class in [
            "io.confluent.connect.storage.partitioner.DefaultPartitioner",
            "io.confluent.connect.hdfs.partitioner.DefaultPartitioner",
            "DefaultPartitioner",
            " DefaultPartitioner ",
        ] {
            let p = Partitioner::from_settings(&PartitionerSettings {
                class,
                ..Default::default()
            });
            assert_eq!(p, Ok(Partitioner::Default), "{class}");
        }
        for class in [
            "HourlyPartitioner",
            "DailyPartitioner",
            "TimeBasedPartitioner",
        ] {
            for pkg in [STORAGE_PACKAGE, HDFS_PACKAGE, ""] {
                let p = Partitioner::from_settings(&PartitionerSettings {
                    class: &format!("{pkg}{class}"),
                    path_format: Some(HOURLY_PATH_FORMAT),
                    locale: Some("en"),
                    timezone: Some("UTC"),
                    ..Default::default()
                })
                .unwrap();
                assert!(p.needs_timestamp());
            }
        }
        for bad in [
            "com.example.DefaultPartitioner",
            "io.confluent.connect.storage.partitioner.FieldAndTimeBasedPartitioner",
            "defaultpartitioner",
            "",
        ] {
            let e = config_err(PartitionerSettings {
                class: bad,
                ..Default::default()
            });
            assert_eq!(e.key, "partitioner.class");
            assert!(e.message.contains("TimeBasedPartitioner"), "{e}");
            assert!(e.message.contains("DailyPartitioner"), "{e}");
        }
    }

    #[test]
    fn default_partitioner() {
        let p = Partitioner::from_settings(&PartitionerSettings {
            class: "DefaultPartitioner",
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p.encode(7, 0, b"not json").unwrap(), "partition=7");
        assert_eq!(p.encode(0, 0, b"").unwrap(), "partition=0");
        assert_eq!(p.bucket_bounds(123), None);
        assert!(!p.needs_timestamp());
    }

    fn field(names: &str) -> Partitioner {
        Partitioner::from_settings(&PartitionerSettings {
            class: "io.confluent.connect.storage.partitioner.FieldPartitioner",
            partition_field_name: Some(names),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn field_partitioner_values() {
        let p = field("country, year ,active");
        assert_eq!(
            p,
            Partitioner::Field {
                fields: vec!["country".into(), "year".into(), "active".into()]
            }
        );
        assert!(!p.needs_timestamp());
        assert_eq!(p.bucket_bounds(0), None);
        let rec = br#"{"year": 2025, "country": "DE", "active": true, "x": {"y": 1}}"#;
        assert_eq!(
            p.encode(0, 0, rec).unwrap(),
            "country=DE/year=2025/active=true"
        );
        let p = field("v");
        let enc = |json: &str| p.encode(0, 0, json.as_bytes());
        assert_eq!(enc(r#"{"v": "a/b"}"#).unwrap(), "v=a%2Fb");
        assert_eq!(enc(r#"{"v": ".."}"#).unwrap(), "v=%2E.");
        assert_eq!(enc(r#"{"v": ""}"#).unwrap(), "v=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(
            enc(r#"{"v": "caf\u00e9 \"q\""}"#).unwrap(),
            "v=café %22q%22"
        );
        assert_eq!(enc(r#"{"v": -1.50e3}"#).unwrap(), "v=-1.50e3");
        assert_eq!(enc(r#"{"v": false}"#).unwrap(), "v=false");
    }

    #[test]
    fn field_partitioner_bad_records() {
        let p = field("v");
        let err = |json: &str| p.encode(0, 0, json.as_bytes()).unwrap_err().0;
        assert!(err(r#"{"v": null}"#).contains("`v` is null"));
        assert!(err(r#"{"w": 1}"#).contains("`v` is absent"));
        assert!(err(r#"{"v": {"a": 1}}"#).contains("`v` is an object or array"));
        assert!(err(r#"{"v": [1]}"#).contains("`v` is an object or array"));
        assert!(err("{not json").contains("`v`"));
        let long = format!(r#"{{"v": "{}"}}"#, "x".repeat(300));
        assert!(err(&long).contains("at most 255"));
        // The whole `name=value` segment must fit too.
        let long = format!(r#"{{"v": "{}"}}"#, "x".repeat(254));
        assert!(err(&long).contains("`v`"));
    }

    #[test]
    fn field_partitioner_config() {
        let e = config_err(PartitionerSettings {
            class: "FieldPartitioner",
            ..Default::default()
        });
        assert_eq!(e.key, "partition.field.name");
        for bad in ["", "  ", "a,,b", "a/b", "a=b", ".hidden", "x,"] {
            let e = config_err(PartitionerSettings {
                class: "FieldPartitioner",
                partition_field_name: Some(bad),
                ..Default::default()
            });
            assert_eq!(e.key, "partition.field.name", "{bad}");
        }
    }

    #[test]
    fn hourly_and_daily_utc() {
        let hourly = time(
            "io.confluent.connect.storage.partitioner.HourlyPartitioner",
            "UTC",
        );
        let t = "2025-03-07T05:06:07.089Z";
        assert_eq!(path(&hourly, t), "year=2025/month=03/day=07/hour=05");
        assert_eq!(
            bounds(&hourly, t),
            b("2025-03-07T05:00:00Z", "2025-03-07T06:00:00Z")
        );
        let daily = time("DailyPartitioner", "UTC");
        assert_eq!(path(&daily, t), "year=2025/month=03/day=07");
        assert_eq!(
            bounds(&daily, t),
            b("2025-03-07T00:00:00Z", "2025-03-08T00:00:00Z")
        );
        match &hourly {
            Partitioner::Time { duration_ms, .. } => assert_eq!(*duration_ms, HOUR_MS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hourly_and_daily_ignore_path_format_and_duration() {
        let p = Partitioner::from_settings(&PartitionerSettings {
            class: "HourlyPartitioner",
            path_format: Some("'x'=YYYY"),
            partition_duration_ms: Some(60_000),
            locale: Some("en"),
            timezone: Some("UTC"),
            partition_field_name: None,
        })
        .unwrap();
        assert_eq!(
            path(&p, "2025-03-07T05:06:07Z"),
            "year=2025/month=03/day=07/hour=05"
        );
        assert_eq!(
            bounds(&p, "2025-03-07T05:06:07Z"),
            b("2025-03-07T05:00:00Z", "2025-03-07T06:00:00Z")
        );
    }

    #[test]
    fn year_boundary() {
        let hourly = time("HourlyPartitioner", "UTC");
        assert_eq!(
            path(&hourly, "2025-12-29T10:00:00Z"),
            "year=2025/month=12/day=29/hour=10"
        );
        assert_eq!(
            path(&hourly, "2026-12-31T23:59:59.999Z"),
            "year=2026/month=12/day=31/hour=23"
        );
        assert_eq!(
            path(&hourly, "2027-01-01T00:00:00Z"),
            "year=2027/month=01/day=01/hour=00"
        );
        let yearly = time_based("'year'=YYYY", Some(DAY_MS), "UTC");
        assert_eq!(
            bounds(&yearly, "2026-12-31T23:59:59Z"),
            b("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
        );
        // In Berlin the new year starts an hour earlier in UTC.
        let daily = time("DailyPartitioner", "Europe/Berlin");
        assert_eq!(
            path(&daily, "2026-12-31T22:59:59Z"),
            "year=2026/month=12/day=31"
        );
        assert_eq!(
            path(&daily, "2026-12-31T23:00:00Z"),
            "year=2027/month=01/day=01"
        );
        assert_eq!(
            bounds(&daily, "2026-12-31T23:30:00Z"),
            b("2026-12-31T23:00:00Z", "2027-01-01T23:00:00Z")
        );
    }

    #[test]
    fn berlin_spring_forward() {
        // 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST; there is no hour=02.
        let p = time("HourlyPartitioner", "Europe/Berlin");
        assert_eq!(
            path(&p, "2026-03-29T00:59:59Z"),
            "year=2026/month=03/day=29/hour=01"
        );
        assert_eq!(
            path(&p, "2026-03-29T01:00:00Z"),
            "year=2026/month=03/day=29/hour=03"
        );
        assert_eq!(
            bounds(&p, "2026-03-29T00:30:00Z"),
            b("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z")
        );
        assert_eq!(
            bounds(&p, "2026-03-29T01:30:00Z"),
            b("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z")
        );
        // The day is 23 hours long.
        let d = time("DailyPartitioner", "Europe/Berlin");
        assert_eq!(
            path(&d, "2026-03-29T12:00:00Z"),
            "year=2026/month=03/day=29"
        );
        assert_eq!(
            bounds(&d, "2026-03-29T12:00:00Z"),
            b("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
        );
    }

    #[test]
    fn berlin_fall_back() {
        // 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET; both 02:xx hours are hour=02.
        let p = time("HourlyPartitioner", "Europe/Berlin");
        assert_eq!(
            path(&p, "2026-10-24T23:59:59Z"),
            "year=2026/month=10/day=25/hour=01"
        );
        assert_eq!(
            path(&p, "2026-10-25T00:00:00Z"),
            "year=2026/month=10/day=25/hour=02"
        );
        assert_eq!(
            path(&p, "2026-10-25T00:30:00Z"),
            "year=2026/month=10/day=25/hour=02"
        );
        assert_eq!(
            path(&p, "2026-10-25T01:30:00Z"),
            "year=2026/month=10/day=25/hour=02"
        );
        assert_eq!(
            path(&p, "2026-10-25T02:00:00Z"),
            "year=2026/month=10/day=25/hour=03"
        );
        assert_eq!(
            bounds(&p, "2026-10-25T00:30:00Z"),
            b("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")
        );
        assert_eq!(
            bounds(&p, "2026-10-25T01:59:59Z"),
            b("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")
        );
        // Joda's convertLocalToUTC puts the 02:00 bucket at 01:00Z (CET) for both hours,
        // which shows in offset fields.
        let z = time_based("'hour'=HH/Z/z", Some(HOUR_MS), "Europe/Berlin");
        assert_eq!(path(&z, "2026-10-25T00:30:00Z"), "hour=02/+0100/CET");
        assert_eq!(path(&z, "2026-10-25T01:30:00Z"), "hour=02/+0100/CET");
        assert_eq!(path(&z, "2026-10-24T23:30:00Z"), "hour=01/+0200/CEST");
        // The day is 25 hours long.
        let d = time("DailyPartitioner", "Europe/Berlin");
        assert_eq!(
            bounds(&d, "2026-10-25T12:00:00Z"),
            b("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
        );
    }

    #[test]
    fn new_york_overlap_takes_the_earlier_instant() {
        // West of Greenwich Joda resolves the overlap to daylight time: 01:00 EDT.
        let z = time_based("'hour'=HH/Z", Some(HOUR_MS), "America/New_York");
        assert_eq!(path(&z, "2026-11-01T05:30:00Z"), "hour=01/-0400");
        assert_eq!(path(&z, "2026-11-01T06:30:00Z"), "hour=01/-0400");
        assert_eq!(path(&z, "2026-11-01T07:30:00Z"), "hour=02/-0500");
        assert_eq!(
            bounds(&z, "2026-11-01T06:30:00Z"),
            b("2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z")
        );
    }

    #[test]
    fn bucket_start_in_a_gap() {
        // Sao Paulo 2018-11-04: midnight did not exist (00:00 -03 became 01:00 -02). The day
        // bucket starts at the first real instant of the day, named like Joda names it.
        let d = time_based("YYYY-MM-dd/HH/Z", Some(DAY_MS), "America/Sao_Paulo");
        assert_eq!(path(&d, "2018-11-04T12:00:00Z"), "2018-11-04/01/-0200");
        assert_eq!(
            bounds(&d, "2018-11-04T12:00:00Z"),
            b("2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z")
        );
        // Two-hour buckets: on 2026-03-29 the 02:00-04:00 bucket starts at a local time that
        // does not exist in Berlin. East of Greenwich Joda resolves it to 01:00Z (03:00 CEST).
        let q = time_based("dd HH:mm", Some(2 * HOUR_MS), "Europe/Berlin");
        assert_eq!(path(&q, "2026-03-29T00:59:00Z"), "29 00:00");
        assert_eq!(path(&q, "2026-03-29T01:00:00Z"), "29 03:00");
        assert_eq!(path(&q, "2026-03-29T01:59:59Z"), "29 03:00");
        assert_eq!(path(&q, "2026-03-29T02:00:00Z"), "29 04:00");
        assert_eq!(
            bounds(&q, "2026-03-29T01:30:00Z"),
            b("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z")
        );
        // West of Greenwich the gap test applies and gives the same wall time: New York's
        // 02:00 on 2026-03-08 is 07:00Z (03:00 EDT).
        let q = time_based("dd HH:mm", Some(2 * HOUR_MS), "America/New_York");
        assert_eq!(path(&q, "2026-03-08T06:59:59Z"), "08 00:00");
        assert_eq!(path(&q, "2026-03-08T07:00:00Z"), "08 03:00");
        assert_eq!(path(&q, "2026-03-08T07:59:59Z"), "08 03:00");
        assert_eq!(path(&q, "2026-03-08T08:00:00Z"), "08 04:00");
    }

    #[test]
    fn kolkata_half_hour_offset() {
        let p = time("HourlyPartitioner", "Asia/Kolkata");
        assert_eq!(
            path(&p, "2026-01-15T12:00:00Z"),
            "year=2026/month=01/day=15/hour=17"
        );
        assert_eq!(
            path(&p, "2026-01-15T12:29:59.999Z"),
            "year=2026/month=01/day=15/hour=17"
        );
        assert_eq!(
            path(&p, "2026-01-15T12:30:00Z"),
            "year=2026/month=01/day=15/hour=18"
        );
        assert_eq!(
            bounds(&p, "2026-01-15T12:00:00Z"),
            b("2026-01-15T11:30:00Z", "2026-01-15T12:30:00Z")
        );
        let d = time("DailyPartitioner", "Asia/Kolkata");
        assert_eq!(
            path(&d, "2026-01-15T18:29:59Z"),
            "year=2026/month=01/day=15"
        );
        assert_eq!(
            path(&d, "2026-01-15T18:30:00Z"),
            "year=2026/month=01/day=16"
        );
        assert_eq!(
            bounds(&d, "2026-01-15T12:00:00Z"),
            b("2026-01-14T18:30:00Z", "2026-01-15T18:30:00Z")
        );
    }

    #[test]
    fn time_based_duration() {
        // Derived from the finest field.
        let p = time_based(HOURLY_PATH_FORMAT, None, "UTC");
        assert!(matches!(
            p,
            Partitioner::Time {
                duration_ms: HOUR_MS,
                ..
            }
        ));
        let p = time_based("YYYY/MM/dd/HH/mm", None, "UTC");
        assert!(matches!(
            p,
            Partitioner::Time {
                duration_ms: 60_000,
                ..
            }
        ));
        let p = time_based(DAILY_PATH_FORMAT, None, "UTC");
        assert!(matches!(
            p,
            Partitioner::Time {
                duration_ms: DAY_MS,
                ..
            }
        ));
        let e = config_err(PartitionerSettings {
            class: "TimeBasedPartitioner",
            path_format: Some("'year'=YYYY/'month'=MM"),
            locale: Some("en"),
            timezone: Some("UTC"),
            ..Default::default()
        });
        assert_eq!(e.key, "partition.duration.ms");
        for bad in [0, -1, MAX_DURATION_MS + 1] {
            let e = config_err(PartitionerSettings {
                class: "TimeBasedPartitioner",
                path_format: Some(HOURLY_PATH_FORMAT),
                partition_duration_ms: Some(bad),
                locale: Some("en"),
                timezone: Some("UTC"),
                ..Default::default()
            });
            assert_eq!(e.key, "partition.duration.ms", "{bad}");
        }
        // Monthly directories with daily buckets: bounds cover the whole month.
        let p = time_based("'year'=YYYY/'month'=MM", Some(DAY_MS), "UTC");
        assert_eq!(path(&p, "2026-02-14T10:00:00Z"), "year=2026/month=02");
        assert_eq!(
            bounds(&p, "2026-02-14T10:00:00Z"),
            b("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
        );
        // Ten-minute buckets under hourly directories: bounds cover the hour.
        let p = time_based(HOURLY_PATH_FORMAT, Some(600_000), "Europe/Berlin");
        assert_eq!(
            path(&p, "2026-10-25T00:45:00Z"),
            "year=2026/month=10/day=25/hour=02"
        );
        assert_eq!(
            bounds(&p, "2026-10-25T00:45:00Z"),
            b("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")
        );
        // Buckets coarser than the pattern: named after their start.
        let p = time_based(HOURLY_PATH_FORMAT, Some(6 * HOUR_MS), "UTC");
        assert_eq!(
            path(&p, "2026-02-14T10:00:00Z"),
            "year=2026/month=02/day=14/hour=06"
        );
        assert_eq!(
            bounds(&p, "2026-02-14T10:00:00Z"),
            b("2026-02-14T06:00:00Z", "2026-02-14T12:00:00Z")
        );
    }

    #[test]
    fn time_based_config_errors() {
        let base = PartitionerSettings {
            class: "TimeBasedPartitioner",
            path_format: Some(HOURLY_PATH_FORMAT),
            partition_duration_ms: Some(HOUR_MS),
            locale: Some("en_US"),
            timezone: Some("UTC"),
            partition_field_name: None,
        };
        assert!(Partitioner::from_settings(&base).is_ok());
        let key = |s: PartitionerSettings| config_err(s).key;
        assert_eq!(
            key(PartitionerSettings {
                path_format: None,
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some(" "),
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some("/"),
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some("'q'=q"),
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some("'..'/HH"),
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some("'//'"),
                ..base
            }),
            "path.format"
        );
        assert_eq!(
            key(PartitionerSettings {
                locale: None,
                ..base
            }),
            "locale"
        );
        assert_eq!(
            key(PartitionerSettings {
                locale: Some(""),
                ..base
            }),
            "locale"
        );
        assert_eq!(
            key(PartitionerSettings {
                path_format: Some("MMM"),
                locale: Some("de_DE"),
                ..base
            }),
            "locale"
        );
        assert_eq!(
            key(PartitionerSettings {
                timezone: None,
                ..base
            }),
            "timezone"
        );
        assert_eq!(
            key(PartitionerSettings {
                timezone: Some(" "),
                ..base
            }),
            "timezone"
        );
        assert_eq!(
            key(PartitionerSettings {
                timezone: Some("utc"),
                ..base
            }),
            "timezone"
        );
        assert_eq!(
            key(PartitionerSettings {
                timezone: Some("Mars/Olympus"),
                ..base
            }),
            "timezone"
        );
        assert_eq!(
            key(PartitionerSettings {
                timezone: Some("+05:30"),
                ..base
            }),
            "timezone"
        );
        let e = config_err(PartitionerSettings {
            timezone: None,
            ..base
        });
        assert!(e.message.contains("timezone=UTC"), "{e}");
        // Hourly and Daily need locale and timezone too.
        for class in ["HourlyPartitioner", "DailyPartitioner"] {
            let s = PartitionerSettings {
                class,
                path_format: None,
                ..base
            };
            assert!(Partitioner::from_settings(&s).is_ok());
            assert_eq!(
                key(PartitionerSettings {
                    timezone: None,
                    ..s
                }),
                "timezone"
            );
            assert_eq!(key(PartitionerSettings { locale: None, ..s }), "locale");
        }
    }

    #[test]
    fn path_format_normalization() {
        // One trailing `/` is dropped like Confluent; HDFS collapses the rest, and so do we.
        let p = time_based("'year'=YYYY/'hour'=HH/", None, "UTC");
        assert_eq!(path(&p, "2025-03-07T05:00:00Z"), "year=2025/hour=05");
        let p = time_based("/YYYY//HH//", Some(HOUR_MS), "UTC");
        assert_eq!(path(&p, "2025-03-07T05:00:00Z"), "2025/05");
        // A zone id adds levels, as in Confluent.
        let p = time_based("ZZZ/HH", None, "Europe/Berlin");
        assert_eq!(path(&p, "2025-03-07T05:00:00Z"), "Europe/Berlin/06");
    }

    #[test]
    fn timezones() {
        let p = time("HourlyPartitioner", "+01:00");
        assert_eq!(
            path(&p, "2025-03-07T05:00:00Z"),
            "year=2025/month=03/day=07/hour=06"
        );
        for (tz, hour) in [
            ("-05", "00"),
            ("+0200", "07"),
            ("+00:00", "05"),
            ("Etc/GMT-3", "08"),
        ] {
            let p = time_based("HH", None, tz);
            assert_eq!(path(&p, "2025-03-07T05:00:00Z"), hour, "{tz}");
        }
    }

    #[test]
    fn pre_epoch_floors() {
        // Confluent's truncating division would say 1970-01-01 hour 00 here.
        let p = time("HourlyPartitioner", "UTC");
        assert_eq!(
            p.encode(0, -1, b"").unwrap(),
            "year=1969/month=12/day=31/hour=23"
        );
        assert_eq!(p.bucket_bounds(-1), Some((-HOUR_MS, 0)));
    }

    #[test]
    fn out_of_range_timestamps() {
        let p = time("HourlyPartitioner", "UTC");
        assert!(p.encode(0, i64::MAX, b"").is_err());
        assert!(p.encode(0, i64::MIN, b"").is_err());
        assert!(p.encode(0, MAX_TIMESTAMP_MS, b"").is_ok());
        assert!(p.encode(0, -MAX_TIMESTAMP_MS, b"").is_ok());
        let (s, e) = p.bucket_bounds(i64::MAX).unwrap();
        assert!(s <= MAX_TIMESTAMP_MS && MAX_TIMESTAMP_MS < e);
        // A pattern without fields is one directory for all time.
        let p = time_based("'all'", Some(DAY_MS), "UTC");
        assert_eq!(p.encode(0, 0, b"").unwrap(), "all");
        let (s, e) = p.bucket_bounds(0).unwrap();
        assert!(s < -MAX_TIMESTAMP_MS / 2 && e > MAX_TIMESTAMP_MS / 2);
    }

    const ZONES: [&str; 6] = [
        "UTC",
        "Europe/Berlin",
        "Asia/Kolkata",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
    ];

    /// Time partitioners over several zones, each with whether its directories are
    /// contiguous ranges of real time (false when buckets are shorter than a DST shift).
    fn partitioners() -> Vec<(Partitioner, bool)> {
        let mut v = Vec::new();
        for tz in ZONES {
            v.push((time("HourlyPartitioner", tz), true));
            v.push((time("DailyPartitioner", tz), true));
            v.push((time_based(HOURLY_PATH_FORMAT, Some(600_000), tz), true));
            v.push((time_based(HOURLY_PATH_FORMAT, Some(2 * HOUR_MS), tz), true));
            v.push((time_based("'year'=YYYY/'month'=MM", Some(DAY_MS), tz), true));
            // Minute directories: the repeated fall-back minutes are two ranges each.
            v.push((
                time_based("YYYY/MM/dd/HH/mm", None, tz),
                tz == "UTC" || tz == "Asia/Kolkata",
            ));
        }
        v
    }

    /// Checks the bounds of the directory holding `ts`: they contain it, their first and last
    /// instants land in it, their neighbours do not, and (if `contiguous`) every instant in
    /// between lands in it too.
    fn check_bounds(
        p: &Partitioner,
        contiguous: bool,
        ts: i64,
        probes: &[f64],
    ) -> Result<(), TestCaseError> {
        let (start, end) = p.bucket_bounds(ts).unwrap();
        prop_assert!(start <= ts && ts < end, "{start} {ts} {end}");
        let name = p.encode(0, ts, b"").unwrap();
        prop_assert_eq!(
            &p.encode(0, start, b"").unwrap(),
            &name,
            "at start {}",
            start
        );
        prop_assert_eq!(
            &p.encode(0, end - 1, b"").unwrap(),
            &name,
            "at end {}",
            end - 1
        );
        prop_assert_ne!(&p.encode(0, start - 1, b"").unwrap(), &name);
        prop_assert_ne!(&p.encode(0, end, b"").unwrap(), &name);
        if contiguous {
            let step = ((end - start) / 97).max(1);
            for t in (start..end).step_by(step as usize) {
                prop_assert_eq!(&p.encode(0, t, b"").unwrap(), &name, "at {}", t);
            }
            for f in probes {
                let t = start + ((end - start - 1) as f64 * f) as i64;
                prop_assert_eq!(&p.encode(0, t, b"").unwrap(), &name, "at {}", t);
                prop_assert_eq!(p.bucket_bounds(t), Some((start, end)), "at {}", t);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn bounds_contain_and_name_one_directory(
            which in 0usize..36,
            // 1990..2100, and spring/autumn weeks in particular.
            ts in prop_oneof![
                631_152_000_000i64..4_102_444_800_000,
                (0i64..110).prop_flat_map(|y| {
                    let base = 631_152_000_000 + y * 31_556_952_000;
                    prop_oneof![
                        (base + 40 * DAY_MS)..(base + 100 * DAY_MS),
                        (base + 265 * DAY_MS)..(base + 320 * DAY_MS),
                    ]
                }),
            ],
            probes in proptest::collection::vec(0.0f64..1.0, 8),
        ) {
            let parts = partitioners();
            let (p, contiguous) = &parts[which % parts.len()];
            check_bounds(p, *contiguous, ts, &probes)?;
        }

        #[test]
        fn bounds_near_dst_transitions(
            which in 0usize..36,
            base in 631_152_000_000i64..4_102_444_800_000,
            delta in -6 * HOUR_MS..6 * HOUR_MS,
            probes in proptest::collection::vec(0.0f64..1.0, 8),
        ) {
            let parts = partitioners();
            let (p, contiguous) = &parts[which % parts.len()];
            let Partitioner::Time { tz, .. } = p else { unreachable!() };
            let transition = change_after(*tz, base, base + 400 * DAY_MS).unwrap_or(base);
            check_bounds(p, *contiguous, transition + delta, &probes)?;
        }

        #[test]
        fn any_timestamp_encodes(which in 0usize..36, ts in -MAX_TIMESTAMP_MS..=MAX_TIMESTAMP_MS) {
            let parts = partitioners();
            let (p, _) = &parts[which % parts.len()];
            let name = p.encode(0, ts, b"").unwrap();
            prop_assert!(!name.is_empty() && !name.starts_with('/') && !name.ends_with('/'));
            let (start, end) = p.bucket_bounds(ts).unwrap();
            prop_assert!(start <= ts && ts < end);
        }
    }
}
