//! A bounded source over records held in memory.

use std::collections::VecDeque;
use std::time::Duration;

use crate::batch::{EventTime, RecordDecoder, SplitId};
use crate::source::{Poll, Source};
use crate::Result;

/// Records given up front as `(split, JSON payload, record timestamp)`, delivered in that
/// order, `batch_size` at a time per split run. Bounded: it ends when they are delivered.
#[derive(Debug)]
pub struct MemorySource {
    records: VecDeque<(SplitId, Vec<u8>, Option<i64>)>,
    decoder: RecordDecoder,
    batch_size: usize,
    splits: Vec<SplitId>,
    positions: std::collections::BTreeMap<SplitId, i64>,
    ended: bool,
}

impl MemorySource {
    pub fn new(
        records: Vec<(SplitId, Vec<u8>, Option<i64>)>,
        key_field: &str,
        event_time: EventTime,
        batch_size: usize,
    ) -> Self {
        let mut splits: Vec<SplitId> = records.iter().map(|r| r.0).collect();
        splits.sort_unstable();
        splits.dedup();
        MemorySource {
            records: records.into(),
            decoder: RecordDecoder::new(key_field, event_time, None),
            batch_size: batch_size.max(1),
            splits,
            positions: Default::default(),
            ended: false,
        }
    }
}

impl Source for MemorySource {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn bounded(&self) -> bool {
        true
    }

    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<Vec<SplitId>> {
        // Resume: drop what the checkpoint says was read.
        let done: std::collections::BTreeMap<SplitId, i64> = restored
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let mut seen: std::collections::BTreeMap<SplitId, i64> = Default::default();
        self.records.retain(|(split, _, _)| {
            let n = seen.entry(*split).or_insert(0);
            *n += 1;
            *n > done.get(split).copied().unwrap_or(0)
        });
        self.positions = done;
        Ok(self.splits.clone())
    }

    fn poll(&mut self, _timeout: Duration) -> Result<Poll> {
        let Some(split) = self.records.front().map(|r| r.0) else {
            if self.ended {
                return Ok(Poll::Idle);
            }
            self.ended = true;
            return Ok(Poll::End);
        };
        let mut n = 0;
        while n < self.batch_size && self.records.front().is_some_and(|r| r.0 == split) {
            let (_, payload, ts) = self.records.pop_front().expect("front exists");
            let pos = self.positions.entry(split).or_insert(0);
            let at = *pos;
            self.decoder.push(split, at, &payload, ts, None, || {
                format!("memory[{split}]@{at}")
            });
            *pos += 1;
            n += 1;
        }
        let next = self.positions[&split];
        Ok(Poll::Batch(self.decoder.finish(split, next)))
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(&self.positions).unwrap_or_default()
    }
}
