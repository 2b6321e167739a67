//! Keyed event-time windows with incremental aggregation.
//!
//! State is one [`Pane`] per window start: a map from key to a running aggregate (a count or a
//! sum: one `i64` per key and window, never the records). A window `[start, end)` fires when the
//! watermark reaches `end − 1` (Flink's `window.maxTimestamp()`); its panes are then kept for
//! the allowed lateness, during which a late record updates the aggregate and the window is
//! emitted again with `update = true`. A record whose every window is past `end − 1 + lateness`
//! is late: it goes to the side output ([`LateRecord`]) and is counted.
//!
//! Results come out ordered by window start, then key, so a run's output is reproducible.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::batch::SplitId;

/// How records are assigned to windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Back-to-back windows of `size_ms`, aligned to the epoch.
    Tumbling { size_ms: i64 },
    /// Windows of `size_ms` starting every `slide_ms` (a record is in `size / slide` windows).
    Sliding { size_ms: i64, slide_ms: i64 },
}

impl WindowKind {
    fn size(&self) -> i64 {
        match *self {
            WindowKind::Tumbling { size_ms } | WindowKind::Sliding { size_ms, .. } => size_ms,
        }
    }

    /// Calls `f(start)` for every window containing `ts`, earliest first.
    fn assign(&self, ts: i64, mut f: impl FnMut(i64)) {
        match *self {
            WindowKind::Tumbling { size_ms } => f(ts - ts.rem_euclid(size_ms)),
            WindowKind::Sliding { size_ms, slide_ms } => {
                let last = ts - ts.rem_euclid(slide_ms);
                let mut start = last - size_ms + slide_ms;
                while start <= last {
                    if start > ts - size_ms {
                        f(start);
                    }
                    start += slide_ms;
                }
            }
        }
    }
}

/// The incremental aggregate kept per key and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Number of records.
    Count,
    /// Sum of the records' `value` column.
    Sum,
}

/// One window's result for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowResult {
    pub key: String,
    /// Inclusive, epoch ms.
    pub start: i64,
    /// Exclusive, epoch ms.
    pub end: i64,
    pub value: i64,
    /// `true` when this re-emits a fired window that a late record (within the allowed
    /// lateness) changed.
    pub update: bool,
}

/// A record that arrived after all its windows were closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateRecord {
    pub split: SplitId,
    pub position: i64,
    pub key: String,
    pub event_time: i64,
    /// The watermark it was judged against.
    pub watermark: i64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Pane {
    fired: bool,
    values: HashMap<String, i64>,
}

/// One window in a checkpoint: `(start, fired, [(key, value)])`, keys sorted.
pub type PaneSnapshot = (i64, bool, Vec<(String, i64)>);

/// What a checkpoint keeps of the operator: the open (and retained) windows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSnapshot {
    pub panes: Vec<PaneSnapshot>,
}

/// A keyed window aggregate.
#[derive(Debug)]
pub struct WindowOperator {
    kind: WindowKind,
    aggregate: Aggregate,
    lateness_ms: i64,
    panes: BTreeMap<i64, Pane>,
}

impl WindowOperator {
    pub fn new(kind: WindowKind, aggregate: Aggregate, allowed_lateness_ms: i64) -> Self {
        WindowOperator {
            kind,
            aggregate,
            lateness_ms: allowed_lateness_ms,
            panes: BTreeMap::new(),
        }
    }

    /// Windows currently held (open or retained for lateness).
    pub fn open_windows(&self) -> usize {
        self.panes.len()
    }

    /// Adds one record, judged against `watermark`. Updates of fired windows (allowed
    /// lateness) go to `out`; returns `false` if the record was late for every window.
    pub fn on_record(
        &mut self,
        key: &str,
        ts: i64,
        value: i64,
        watermark: i64,
        out: &mut Vec<WindowResult>,
    ) -> bool {
        let size = self.kind.size();
        let lateness = self.lateness_ms;
        let aggregate = self.aggregate;
        let panes = &mut self.panes;
        let mut accepted = false;
        self.kind.assign(ts, |start| {
            let max_ts = start + size - 1;
            if max_ts.saturating_add(lateness) <= watermark {
                return; // this window is closed for good
            }
            accepted = true;
            let pane = panes.entry(start).or_default();
            let acc = match pane.values.get_mut(key) {
                Some(v) => v,
                None => pane.values.entry(key.to_string()).or_insert(0),
            };
            match aggregate {
                Aggregate::Count => *acc += 1,
                Aggregate::Sum => *acc += value,
            }
            if max_ts <= watermark {
                // Behind the watermark but within the allowed lateness: emit the updated value
                // now (an update if the window had fired; a first firing if this record opened
                // it).
                let value = *acc;
                out.push(WindowResult {
                    key: key.to_string(),
                    start,
                    end: start + size,
                    value,
                    update: pane.fired,
                });
                pane.fired = true;
            }
        });
        accepted
    }

    /// Fires every window the watermark has passed, and drops those past the allowed lateness.
    pub fn on_watermark(&mut self, watermark: i64, out: &mut Vec<WindowResult>) {
        let size = self.kind.size();
        for (&start, pane) in self.panes.iter_mut() {
            if start.saturating_add(size - 1) > watermark {
                break;
            }
            if pane.fired {
                continue;
            }
            pane.fired = true;
            let mut keys: Vec<_> = pane.values.iter().collect();
            keys.sort_unstable();
            out.extend(keys.into_iter().map(|(k, v)| WindowResult {
                key: k.clone(),
                start,
                end: start + size,
                value: *v,
                update: false,
            }));
        }
        while let Some(entry) = self.panes.first_entry() {
            let start = *entry.key();
            if (start + size - 1).saturating_add(self.lateness_ms) > watermark {
                break;
            }
            entry.remove();
        }
    }

    /// State for a checkpoint.
    pub fn snapshot(&self) -> WindowSnapshot {
        WindowSnapshot {
            panes: self
                .panes
                .iter()
                .map(|(start, p)| {
                    let mut values: Vec<_> =
                        p.values.iter().map(|(k, v)| (k.clone(), *v)).collect();
                    values.sort_unstable();
                    (*start, p.fired, values)
                })
                .collect(),
        }
    }

    /// Restores a checkpoint's state (replacing any).
    pub fn restore(&mut self, snap: &WindowSnapshot) {
        self.panes = snap
            .panes
            .iter()
            .map(|(start, fired, values)| {
                (
                    *start,
                    Pane {
                        fired: *fired,
                        values: values.iter().cloned().collect(),
                    },
                )
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;

    fn tumbling(lateness: i64) -> WindowOperator {
        WindowOperator::new(
            WindowKind::Tumbling { size_ms: MIN },
            Aggregate::Count,
            lateness,
        )
    }

    fn r(key: &str, start: i64, value: i64, update: bool) -> WindowResult {
        WindowResult {
            key: key.into(),
            start,
            end: start + MIN,
            value,
            update,
        }
    }

    #[test]
    fn fires_at_end_minus_one_sorted_by_key() {
        let mut op = tumbling(0);
        let mut out = vec![];
        for (k, ts) in [("b", 0), ("a", 59_999), ("a", 60_000), ("b", 1)] {
            assert!(op.on_record(k, ts, 1, i64::MIN, &mut out));
        }
        op.on_watermark(59_998, &mut out);
        assert!(
            out.is_empty(),
            "the window ends at 60 000: max timestamp 59 999"
        );
        op.on_watermark(59_999, &mut out);
        assert_eq!(out, vec![r("a", 0, 1, false), r("b", 0, 2, false)]);
        assert_eq!(
            op.open_windows(),
            1,
            "the fired window is gone without lateness"
        );
        out.clear();
        assert!(
            !op.on_record("a", 30_000, 1, 59_999, &mut out),
            "late: dropped"
        );
        assert!(out.is_empty());
        op.on_watermark(i64::MAX, &mut out);
        assert_eq!(out, vec![r("a", MIN, 1, false)]);
        assert_eq!(op.open_windows(), 0);
    }

    #[test]
    fn allowed_lateness_re_emits_then_drops() {
        let mut op = tumbling(10_000);
        let mut out = vec![];
        op.on_record("a", 5, 1, i64::MIN, &mut out);
        op.on_watermark(60_000, &mut out);
        assert_eq!(out, vec![r("a", 0, 1, false)]);
        out.clear();
        assert!(op.on_record("a", 7, 1, 60_000, &mut out));
        assert!(op.on_record("b", 8, 1, 60_000, &mut out));
        assert_eq!(out, vec![r("a", 0, 2, true), r("b", 0, 1, true)]);
        out.clear();
        op.on_watermark(69_999, &mut out);
        assert!(out.is_empty());
        assert_eq!(
            op.open_windows(),
            0,
            "past end - 1 + lateness: state dropped"
        );
        assert!(!op.on_record("a", 9, 1, 69_999, &mut out));
    }

    #[test]
    fn sums_add_the_value_column() {
        let mut op = WindowOperator::new(WindowKind::Tumbling { size_ms: MIN }, Aggregate::Sum, 0);
        let mut out = vec![];
        op.on_record("a", 1, 5, i64::MIN, &mut out);
        op.on_record("a", 2, -2, i64::MIN, &mut out);
        op.on_watermark(i64::MAX, &mut out);
        assert_eq!(out, vec![r("a", 0, 3, false)]);
    }

    #[test]
    fn sliding_windows_take_a_record_in_each() {
        let mut op = WindowOperator::new(
            WindowKind::Sliding {
                size_ms: 3 * MIN,
                slide_ms: MIN,
            },
            Aggregate::Count,
            0,
        );
        let mut out = vec![];
        op.on_record("a", 2 * MIN + 5, 1, i64::MIN, &mut out);
        op.on_watermark(i64::MAX, &mut out);
        let starts: Vec<_> = out.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(
            starts,
            vec![(0, 3 * MIN), (MIN, 4 * MIN), (2 * MIN, 5 * MIN)]
        );
    }

    #[test]
    fn negative_times_align_to_the_epoch() {
        let mut op = tumbling(0);
        let mut out = vec![];
        op.on_record("a", -1, 1, i64::MIN, &mut out);
        op.on_watermark(i64::MAX, &mut out);
        assert_eq!(out, vec![r("a", -MIN, 1, false)]);
    }

    #[test]
    fn snapshot_restores_the_same_future() {
        let mut a = tumbling(5_000);
        let mut out = vec![];
        for ts in [1, 70_000, 70_001, 130_000] {
            a.on_record("k", ts, 1, i64::MIN, &mut out);
        }
        a.on_watermark(60_500, &mut out);
        let mut b = tumbling(5_000);
        b.restore(&a.snapshot());
        assert_eq!(a.snapshot(), b.snapshot());
        let (mut oa, mut ob) = (vec![], vec![]);
        for op_out in [(&mut a, &mut oa), (&mut b, &mut ob)] {
            op_out.0.on_record("k", 2, 1, 60_500, op_out.1);
            op_out.0.on_watermark(i64::MAX, op_out.1);
        }
        assert_eq!(oa, ob);
        assert_eq!(oa[0], r("k", 0, 2, true));
    }

    proptest! {
        /// Tumbling windows: every record is in exactly one window, the one containing it;
        /// sliding windows: in size/slide windows, each containing it.
        #[test]
        fn window_assignment(ts in -10_000_000_000i64..10_000_000_000, size in 1i64..100_000, k in 1i64..5) {
            let mut starts = vec![];
            WindowKind::Tumbling { size_ms: size }.assign(ts, |s| starts.push(s));
            prop_assert_eq!(starts.len(), 1);
            prop_assert!(starts[0] <= ts && ts < starts[0] + size && starts[0].rem_euclid(size) == 0);
            let mut starts = vec![];
            WindowKind::Sliding { size_ms: size * k, slide_ms: size }.assign(ts, |s| starts.push(s));
            prop_assert_eq!(starts.len() as i64, k);
            for s in starts {
                prop_assert!(s <= ts && ts < s + size * k && s.rem_euclid(size) == 0);
            }
        }

        /// Without lateness, with the watermark only at the end: the counts are exactly the
        /// per-(key, window) record counts, whatever the arrival order.
        #[test]
        fn counts_are_exact(records in proptest::collection::vec((0u8..4, 0i64..600_000), 0..300)) {
            let mut op = tumbling(0);
            let mut out = vec![];
            let mut expected: BTreeMap<(i64, String), i64> = BTreeMap::new();
            for (k, ts) in &records {
                let key = format!("k{k}");
                op.on_record(&key, *ts, 1, i64::MIN, &mut out);
                *expected.entry((ts - ts % MIN, key)).or_default() += 1;
            }
            op.on_watermark(i64::MAX, &mut out);
            let got: BTreeMap<(i64, String), i64> =
                out.into_iter().map(|w| ((w.start, w.key), w.value)).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
