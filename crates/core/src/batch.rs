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
use lakeshore_format::{find_field, find_fields, JsonRef};

/// A split: one independently ordered part of the input (a Kafka partition; the landed files
/// of one partition). Watermarks are tracked per split.
pub type SplitId = u32;

/// Column: the record's position in its split (Kafka offset), `Int64`.
pub const POSITION: &str = "position";
/// Column: event time in epoch milliseconds, `Int64`.
pub const EVENT_TIME: &str = "event_time";
/// Column: the grouping key, `Utf8`.
pub const KEY: &str = "key";

/// The schema of every batch: position, event time, key.
pub fn schema() -> SchemaRef {
    static SCHEMA: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(POSITION, DataType::Int64, false),
                Field::new(EVENT_TIME, DataType::Int64, false),
                Field::new(KEY, DataType::Utf8, false),
            ]))
        })
        .clone()
}

/// Records of one split, in split order, as Arrow columns (see [`schema`]).
#[derive(Debug, Clone)]
pub struct Batch {
    /// The split all records come from.
    pub split: SplitId,
    /// Columns `position`, `event_time`, `key`.
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
    range: Option<(i64, i64)>,
    positions: Int64Builder,
    times: Int64Builder,
    keys: StringBuilder,
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
            range,
            positions: Int64Builder::new(),
            times: Int64Builder::new(),
            keys: StringBuilder::new(),
            rejects: Vec::new(),
            out_of_range: 0,
        }
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
            Ok((k, ts)) => {
                if let Some((from, to)) = self.range {
                    if ts < from || ts >= to {
                        self.out_of_range += 1;
                        return;
                    }
                }
                self.positions.append_value(position);
                self.times.append_value(ts);
                self.keys.append_value(&k);
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
    ) -> Result<(std::borrow::Cow<'a, str>, i64), String> {
        // The scanner stops once it has the fields; a cut-off record must still fail.
        if payload
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map(|i| payload[i])
            != Some(b'}')
        {
            return Err("not a JSON object (does not end with '}')".into());
        }
        let not_json = |e: lakeshore_format::ScanError| format!("not JSON: {e}");
        let (key, ts) = match &self.event_time {
            EventTime::RecordTimestamp => {
                let key = find_field(payload, &[&self.key_field]).map_err(not_json)?;
                let ts = record_ts.ok_or("the record has no timestamp")?;
                (key, ts)
            }
            EventTime::Field(f) => {
                let [key, ts] = find_fields(payload, [&self.key_field, f]).map_err(not_json)?;
                let ts = match ts {
                    Some(v) => v
                        .as_i64()
                        .ok_or_else(|| format!("{f} is not an integer (epoch ms): {v:?}"))?,
                    None => return Err(format!("no {f} field (event time)")),
                };
                (key, ts)
            }
        };
        match key {
            Some(JsonRef::String(s)) => Ok((s, ts)),
            Some(other) => Err(format!("{} is not a string: {other:?}", self.key_field)),
            None => Err(format!("no {} field", self.key_field)),
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
}
