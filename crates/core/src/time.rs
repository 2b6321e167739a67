//! Durations and timestamps as operators write them on the command line and as
//! downstream consumers parse them.

use chrono::{DateTime, NaiveDate};

/// Parses `250ms`, `5s`, `2m`, `1h`, `1d` or a plain number of seconds (`30`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration like 250ms, 5s, 2m, 1h"))?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n * 1_000,
        "m" | "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use ms, s, m, h or d)"
            ))
        }
    };
    Ok(std::time::Duration::from_millis(ms))
}

/// Epoch milliseconds as `2026-11-21T10:05:00` (UTC, no offset suffix), with `.123` only when
/// the milliseconds are not zero.
pub fn format_utc(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) if ms.rem_euclid(1000) == 0 => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        None => ms.to_string(),
    }
}

/// Parses an RFC 3339 time (`2026-11-21T00:00:00Z`) or a date (`2026-11-21`, midnight UTC)
/// into epoch milliseconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(d
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    Err(format!(
        "{text:?}: expected an RFC 3339 time like 2026-11-21T00:00:00Z or a date like 2026-11-21"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(parse_duration("5s").unwrap().as_millis(), 5_000);
        assert_eq!(parse_duration("30").unwrap().as_millis(), 30_000);
        assert_eq!(parse_duration("2m").unwrap().as_millis(), 120_000);
        assert_eq!(parse_duration("1h").unwrap().as_millis(), 3_600_000);
        assert_eq!(parse_duration("0s").unwrap().as_millis(), 0);
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn timestamps() {
        let t = parse_time("2026-11-21T10:05:00Z").unwrap();
        assert_eq!(format_utc(t), "2026-11-21T10:05:00");
        assert_eq!(format_utc(t + 59_999), "2026-11-21T10:05:59.999");
        assert_eq!(parse_time("2026-11-21").unwrap(), t - 36_300_000);
        assert_eq!(
            parse_time("2026-11-21T11:05:00+01:00").unwrap(),
            t,
            "offsets are honoured"
        );
        assert!(parse_time("yesterday").is_err());
    }
}
