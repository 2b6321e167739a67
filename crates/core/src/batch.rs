//! The unit of data between a source and the pipeline: a [`Batch`] of one split's records as
//! Arrow columns, and the [`RecordDecoder`] that builds it from JSON payloads.
//!
//! A job needs three things from a 25 KB `embeddings.ready` record: where it is (its position
//! in the split), when it happened (event time) and whom it belongs to (the key). The decoder
//! pulls exactly those out of the payload with `lakeshore-format`'s scanner, which steps over
//! the 1536-float vector by bracket matching, and appends them to Arrow builders: no tree, no
//! per-record heap object, no copy of the payload.

use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, Int64Builder, StringBuilder};
use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use lakeshore_format::{ends_object, find_fields, JsonRef};

/// A split: one independently ordered part of the input (a Kafka partition; the landed files
/// of one partition). Watermarks are tracked per split.
pub type SplitId = u32;

/// Column: the record's position in its split (Kafka offset), `Int64`.
pub const POSITION: &str = "position";
/// Column: event time in epoch milliseconds, `Int64`.
pub const EVENT_TIME: &str = "event_time";
/// Column: the grouping key, `Utf8`.
pub const KEY: &str = "key";
/// Column: the value a `Sum` aggregates, `Int64` (1 when the job has no value field).
pub const VALUE: &str = "value";

/// The schema of every batch: position, event time, key, value.
pub fn schema() -> SchemaRef {
    static SCHEMA: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(POSITION, DataType::Int64, false),
                Field::new(EVENT_TIME, DataType::Int64, false),
                Field::new(KEY, DataType::Utf8, false),
                Field::new(VALUE, DataType::Int64, false),
            ]))
        })
        .clone()
}

/// Records of one split, in split order, as Arrow columns (see [`schema`]).
#[derive(Debug, Clone)]
pub struct Batch {
    /// The split all records come from.
    pub split: SplitId,
    /// Columns `position`, `event_time`, `key`, `value`.
    pub records: RecordBatch,
    /// Records that could not be decoded, in order, with their reasons.
    pub rejects: Vec<Reject>,
    /// Records skipped because their event time is outside the run's time range.
    pub out_of_range: u64,
    /// Position of the next record after this batch: where a restart resumes.
    pub next_position: i64,
}

impl Batch {
    /// Typed views of the three columns.
    pub fn columns(&self) -> (&Int64Array, &Int64Array, &StringArray) {
        let col = |i: usize| self.records.column(i).as_any();
        (
            col(0).downcast_ref().expect("position is Int64"),
            col(1).downcast_ref().expect("event_time is Int64"),
            col(2).downcast_ref().expect("key is Utf8"),
        )
    }

    /// The `value` column.
    pub fn values(&self) -> &Int64Array {
        self.records
            .column(3)
            .as_any()
            .downcast_ref()
            .expect("value is Int64")
    }

    /// Number of decoded records.
    pub fn len(&self) -> usize {
        self.records.num_rows()
    }

    /// Whether the batch holds no decoded record (it may still hold rejects).
    pub fn is_empty(&self) -> bool {
        self.records.num_rows() == 0
    }
}

/// A record the job could not use, kept whole so it can be dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub split: SplitId,
    pub position: i64,
    /// Where it is, for people: `embeddings.ready[3]@1234` or `<file>:17`.
    pub origin: String,
    /// What is wrong with it.
    pub reason: String,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

/// Where a record's event time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTime {
    /// The Kafka record timestamp (what the PyFlink job used).
    RecordTimestamp,
    /// A top-level JSON field holding epoch milliseconds, e.g. the `kafka_timestamp` field the
    /// landing's `InsertField$Value` transform adds.
    Field(String),
}

/// Decodes JSON payloads into a [`Batch`]: the key field, the event time, the position.
#[derive(Debug)]
pub struct RecordDecoder {
    key_field: String,
    event_time: EventTime,
    value_field: Option<String>,
    range: Option<(i64, i64)>,
    positions: Int64Builder,
    times: Int64Builder,
    keys: StringBuilder,
    values: Int64Builder,
    rejects: Vec<Reject>,
    out_of_range: u64,
}

impl RecordDecoder {
    /// `key_field`: the top-level string field to group by. `range`: keep only event times in
    /// `[from, to)` (others are counted in [`Batch::out_of_range`]).
    pub fn new(key_field: &str, event_time: EventTime, range: Option<(i64, i64)>) -> Self {
        RecordDecoder {
            key_field: key_field.to_string(),
            event_time,
            value_field: None,
            range,
            positions: Int64Builder::new(),
            times: Int64Builder::new(),
            keys: StringBuilder::new(),
            values: Int64Builder::new(),
            rejects: Vec::new(),
            out_of_range: 0,
        }
    }

    /// Also reads this integer field into the `value` column (for `Sum`); without it every
    /// record's value is 1.
    pub fn with_value_field(mut self, field: &str) -> Self {
        self.value_field = Some(field.to_string());
        self
    }

    /// Records decoded since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.positions.len() == 0 && self.rejects.is_empty() && self.out_of_range == 0
    }

    /// Decodes one record. A record that cannot be used becomes a [`Reject`] (with
    /// `origin()` naming where it is); nothing is dropped without a count.
    pub fn push(
        &mut self,
        split: SplitId,
        position: i64,
        payload: &[u8],
        record_ts: Option<i64>,
        key: Option<&[u8]>,
        origin: impl FnOnce() -> String,
    ) {
        match self.extract(payload, record_ts) {
            Ok((k, ts, v)) => {
                if let Some((from, to)) = self.range {
                    if ts < from || ts >= to {
                        self.out_of_range += 1;
                        return;
                    }
                }
                self.positions.append_value(position);
                self.times.append_value(ts);
                self.keys.append_value(&k);
                self.values.append_value(v);
            }
            Err(reason) => self.rejects.push(Reject {
                split,
                position,
                origin: origin(),
                reason,
                key: key.map(<[u8]>::to_vec),
                payload: payload.to_vec(),
            }),
        }
    }

    fn extract<'a>(
        &self,
        payload: &'a [u8],
        record_ts: Option<i64>,
    ) -> Result<(std::borrow::Cow<'a, str>, i64, i64), String> {
        // The scanner stops once it has the fields; a cut-off record must still fail.
        if !ends_object(payload) {
            return Err("not a JSON object (does not end with '}')".into());
        }
        let key_field = self.key_field.as_str();
        let ts_field = match &self.event_time {
            EventTime::Field(f) => f.as_str(),
            EventTime::RecordTimestamp => key_field, // a repeated name is looked up once
        };
        let value_field = self.value_field.as_deref().unwrap_or(key_field);
        let [key, ts, value] = find_fields(payload, [key_field, ts_field, value_field])
            .map_err(|e| format!("not JSON: {e}"))?;
        let ts = match &self.event_time {
            EventTime::RecordTimestamp => record_ts.ok_or("the record has no timestamp")?,
            EventTime::Field(f) => match ts {
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| format!("{f} is not an integer (epoch ms): {v:?}"))?,
                None => return Err(format!("no {f} field (event time)")),
            },
        };
        let value = match &self.value_field {
            None => 1,
            Some(f) => match value {
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| format!("{f} is not an integer: {v:?}"))?,
                None => return Err(format!("no {f} field (value)")),
            },
        };
        match key {
            Some(JsonRef::String(s)) => Ok((s, ts, value)),
            Some(other) => Err(format!("{key_field} is not a string: {other:?}")),
            None => Err(format!("no {key_field} field")),
        }
    }

    /// Takes what was decoded as one batch of `split`.
    pub fn finish(&mut self, split: SplitId, next_position: i64) -> Batch {
        let records = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(self.positions.finish()),
                Arc::new(self.times.finish()),
                Arc::new(self.keys.finish()),
                Arc::new(self.values.finish()),
            ],
        )
        .expect("columns match the schema");
        Batch {
            split,
            records,
            rejects: std::mem::take(&mut self.rejects),
            out_of_range: std::mem::take(&mut self.out_of_range),
            next_position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(dec: &mut RecordDecoder, lines: &[&str]) -> Batch {
        for (i, l) in lines.iter().enumerate() {
            dec.push(
                7,
                100 + i as i64,
                l.as_bytes(),
                Some(5_000 + i as i64),
                None,
                || format!("line {i}"),
            );
        }
        dec.finish(7, 100 + lines.len() as i64)
    }

    #[test]
    fn takes_key_and_time_and_rejects_the_rest() {
        let mut dec = RecordDecoder::new("company_id", EventTime::RecordTimestamp, None);
        let b = decode(
            &mut dec,
            &[
                r#"{"chunk_id":"c1","company_id":"acme","vector":[0.1,-2e-3]}"#,
                r#"not json"#,
                r#"{"company_id":"acme","vector":[0.1"#,
                r#"{"document_id":"d"}"#,
                r#"{"company_id":42}"#,
                r#"{"company_id":"glob\u00e9x"}"#,
            ],
        );
        let (pos, ts, key) = b.columns();
        assert_eq!(pos.values(), &[100, 105]);
        assert_eq!(ts.values(), &[5_000, 5_005]);
        assert_eq!(key.value(0), "acme");
        assert_eq!(key.value(1), "globéx");
        let reasons: Vec<_> = b
            .rejects
            .iter()
            .map(|r| (r.position, r.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].1.contains("not a JSON object"), "{reasons:?}");
        assert!(reasons[1].1.contains("not a JSON object"), "{reasons:?}");
        assert_eq!(reasons[2], (103, "no company_id field"));
        assert!(reasons[3].1.contains("company_id is not a string"));
        assert_eq!(b.rejects[0].origin, "line 1");
        assert_eq!(b.rejects[0].payload, b"not json");
        assert_eq!(b.next_position, 106);
    }

    #[test]
    fn event_time_from_a_field_and_a_range() {
        let mut dec = RecordDecoder::new(
            "company_id",
            EventTime::Field("kafka_timestamp".into()),
            Some((1_000, 2_000)),
        );
        let b = decode(
            &mut dec,
            &[
                r#"{"company_id":"a","vector":[1,2],"kafka_timestamp":1500}"#,
                r#"{"company_id":"a","kafka_timestamp":2000}"#,
                r#"{"company_id":"a","kafka_timestamp":999}"#,
                r#"{"company_id":"a","kafka_timestamp":"1500"}"#,
                r#"{"company_id":"a"}"#,
            ],
        );
        assert_eq!(b.columns().1.values(), &[1500]);
        assert_eq!(b.out_of_range, 2);
        assert_eq!(b.rejects.len(), 2);
        assert!(b.rejects[0]
            .reason
            .contains("kafka_timestamp is not an integer"));
        assert_eq!(b.rejects[1].reason, "no kafka_timestamp field (event time)");
        assert!(dec.is_empty(), "finish resets the decoder");
    }

    #[test]
    fn value_field_for_sums() {
        let mut dec = RecordDecoder::new("company_id", EventTime::RecordTimestamp, None)
            .with_value_field("page");
        let b = decode(
            &mut dec,
            &[
                r#"{"company_id":"a","page":7}"#,
                r#"{"page":3,"company_id":"b","text":"x"}"#,
                r#"{"company_id":"a","page":"7"}"#,
                r#"{"company_id":"a"}"#,
            ],
        );
        assert_eq!(b.values().values(), &[7, 3]);
        assert!(b.rejects[0].reason.contains("page is not an integer"));
        assert_eq!(b.rejects[1].reason, "no page field (value)");
        let mut plain = RecordDecoder::new("company_id", EventTime::RecordTimestamp, None);
        let b = decode(&mut plain, &[r#"{"company_id":"a"}"#]);
        assert_eq!(
            b.values().values(),
            &[1],
            "without a value field every record counts 1"
        );
    }
}
