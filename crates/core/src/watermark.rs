//! Event time and watermarks.
//!
//! Each split (Kafka partition) has a bounded-out-of-orderness generator: its watermark is the
//! largest event time it has seen minus the bound, minus 1 ms (exactly Flink's
//! `BoundedOutOfOrdernessWatermarks`, so a window `[s, e)` fires once a record at
//! `e + bound` or later has been seen). The job's watermark is the minimum over the splits that
//! are *active*:
//!
//! - a split that has seen nothing yet holds the watermark back (at `i64::MIN`) until it is idle;
//! - a split with no record for `idleness` is idle and stops holding it back, until its next record;
//! - a split a bounded source has finished never holds it back again;
//! - when no split is active, the watermark is what the splits that had records justify (the
//!   minimum of their own watermarks), and, with `idle_advance` on, it moves on with wall time
//!   from the newest event seen (`frontier + elapsed − bound − 1`), so the last minute of a
//!   quiet stream still fires;
//! - at the end of a bounded input it jumps to `i64::MAX`, which fires every window.
//!
//! The watermark never goes backwards: a split coming back from idleness behind the others
//! cannot lower it (its records are then late, as in Flink).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::batch::SplitId;

/// How watermarks are generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatermarkConfig {
    /// Bounded out-of-orderness (Flink's `forBoundedOutOfOrderness`).
    pub out_of_orderness: Duration,
    /// A split without records for this long stops holding the watermark back. `None`: never.
    pub idleness: Option<Duration>,
    /// When every split is idle, advance the watermark with wall time.
    pub idle_advance: bool,
}

impl Default for WatermarkConfig {
    fn default() -> Self {
        WatermarkConfig {
            out_of_orderness: Duration::from_secs(5),
            idleness: Some(Duration::from_secs(30)),
            idle_advance: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Split {
    max_ts: Option<i64>,
    last_record: Instant,
    finished: bool,
}

/// What a checkpoint keeps of the watermarks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkSnapshot {
    /// The job's watermark.
    pub current: i64,
    /// Largest event time seen per split.
    pub splits: BTreeMap<SplitId, Option<i64>>,
}

/// Per-split watermark generators and the job's combined watermark.
#[derive(Debug, Clone)]
pub struct Watermarks {
    bound_ms: i64,
    idleness: Option<Duration>,
    idle_advance: bool,
    splits: BTreeMap<SplitId, Split>,
    current: i64,
    /// The largest event time seen anywhere, and when it arrived.
    frontier: Option<(i64, Instant)>,
}

impl Watermarks {
    pub fn new(cfg: &WatermarkConfig) -> Self {
        Watermarks {
            bound_ms: i64::try_from(cfg.out_of_orderness.as_millis()).unwrap_or(i64::MAX / 4),
            idleness: cfg.idleness,
            idle_advance: cfg.idle_advance,
            splits: BTreeMap::new(),
            current: i64::MIN,
            frontier: None,
        }
    }

    /// The job's watermark: every window ending at or before `current + 1` may fire.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Declares a split; it holds the watermark back until it has records or is idle.
    pub fn add_split(&mut self, split: SplitId, now: Instant) {
        self.splits.entry(split).or_insert(Split {
            max_ts: None,
            last_record: now,
            finished: false,
        });
    }

    /// Sees one record; returns `true` if the job's watermark advanced.
    pub fn observe(&mut self, split: SplitId, ts: i64, now: Instant) -> bool {
        let s = self.splits.entry(split).or_insert(Split {
            max_ts: None,
            last_record: now,
            finished: false,
        });
        s.last_record = now;
        s.finished = false;
        if s.max_ts.is_some_and(|m| m >= ts) {
            return false;
        }
        s.max_ts = Some(ts);
        if self.frontier.is_none_or(|(f, _)| ts > f) {
            self.frontier = Some((ts, now));
        }
        self.update(now)
    }

    /// A bounded split has ended: it never holds the watermark back again.
    pub fn finish_split(&mut self, split: SplitId, now: Instant) -> bool {
        if let Some(s) = self.splits.get_mut(&split) {
            s.finished = true;
        }
        self.update(now)
    }

    /// The input has ended: every window may fire.
    pub fn end_of_input(&mut self) -> bool {
        let advanced = self.current < i64::MAX;
        self.current = i64::MAX;
        advanced
    }

    /// Recomputes the watermark at wall time `now` (idleness, wall-clock advance); returns
    /// `true` if it advanced.
    pub fn update(&mut self, now: Instant) -> bool {
        let mut active = false;
        let mut min = i64::MAX;
        for s in self.splits.values() {
            let idle = self
                .idleness
                .is_some_and(|d| now.saturating_duration_since(s.last_record) >= d);
            if s.finished || idle {
                continue;
            }
            active = true;
            let wm = s.max_ts.map_or(i64::MIN, |m| {
                m.saturating_sub(self.bound_ms).saturating_sub(1)
            });
            min = min.min(wm);
        }
        let candidate = if active {
            min
        } else {
            // Nothing active: what the splits' own records justify (a split that never had
            // a record justifies nothing), then, if on, the wall-clock advance from the
            // newest event. Only the end of the input raises it to the maximum.
            let justified = self
                .splits
                .values()
                .filter_map(|s| s.max_ts)
                .min()
                .map_or(i64::MIN, |m| {
                    m.saturating_sub(self.bound_ms).saturating_sub(1)
                });
            let advanced = match self.frontier {
                Some((ts, at))
                    if self.idle_advance && self.splits.values().any(|s| !s.finished) =>
                {
                    let elapsed = i64::try_from(now.saturating_duration_since(at).as_millis())
                        .unwrap_or(i64::MAX / 4);
                    ts.saturating_add(elapsed)
                        .saturating_sub(self.bound_ms)
                        .saturating_sub(1)
                }
                _ => i64::MIN,
            };
            justified.max(advanced)
        };
        if candidate > self.current {
            self.current = candidate;
            true
        } else {
            false
        }
    }

    /// State for a checkpoint.
    pub fn snapshot(&self) -> WatermarkSnapshot {
        WatermarkSnapshot {
            current: self.current,
            splits: self.splits.iter().map(|(k, s)| (*k, s.max_ts)).collect(),
        }
    }

    /// Restores a checkpoint's state; idleness clocks restart at `now`.
    pub fn restore(&mut self, snap: &WatermarkSnapshot, now: Instant) {
        self.current = snap.current;
        for (split, max_ts) in &snap.splits {
            self.splits.insert(
                *split,
                Split {
                    max_ts: *max_ts,
                    last_record: now,
                    finished: false,
                },
            );
            if let Some(m) = max_ts {
                if self.frontier.is_none_or(|(f, _)| *m > f) {
                    self.frontier = Some((*m, now));
                }
            }
        }
    }

    /// The out-of-orderness bound: a split's own watermark is its largest time minus this,
    /// minus 1 ms.
    pub fn bound_ms(&self) -> i64 {
        self.bound_ms
    }

    /// Largest event time seen per split (for metrics and the status page).
    pub fn split_maxima(&self) -> impl Iterator<Item = (SplitId, Option<i64>)> + '_ {
        self.splits.iter().map(|(k, s)| (*k, s.max_ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(idle_s: Option<u64>, advance: bool) -> WatermarkConfig {
        WatermarkConfig {
            out_of_orderness: Duration::from_secs(5),
            idleness: idle_s.map(Duration::from_secs),
            idle_advance: advance,
        }
    }

    #[test]
    fn minimum_over_splits_with_the_flink_bound() {
        let t0 = Instant::now();
        let mut w = Watermarks::new(&cfg(None, false));
        w.add_split(0, t0);
        w.add_split(1, t0);
        assert!(!w.observe(0, 100_000, t0), "split 1 has nothing yet");
        assert_eq!(w.current(), i64::MIN);
        assert!(w.observe(1, 70_000, t0));
        assert_eq!(w.current(), 70_000 - 5_000 - 1);
        assert!(!w.observe(1, 60_000, t0), "older records do not move it");
        assert!(w.observe(1, 200_000, t0));
        assert_eq!(w.current(), 100_000 - 5_001, "split 0 is now the minimum");
    }

    #[test]
    fn idle_split_stops_holding_back_and_all_idle_advances_with_wall_time() {
        let t0 = Instant::now();
        let mut w = Watermarks::new(&cfg(Some(30), true));
        w.add_split(0, t0);
        w.add_split(1, t0);
        w.observe(0, 100_000, t0);
        assert_eq!(w.current(), i64::MIN);
        let t10 = t0 + Duration::from_secs(10);
        w.observe(0, 110_000, t10);
        assert_eq!(w.current(), i64::MIN, "split 1 not idle yet");
        assert!(w.update(t0 + Duration::from_secs(30)));
        assert_eq!(w.current(), 110_000 - 5_001, "split 1 idle: split 0 alone");
        // Everything idle 30 s after split 0's last record: wall time takes over.
        let t41 = t10 + Duration::from_secs(31);
        assert!(w.update(t41));
        assert_eq!(w.current(), 110_000 + 31_000 - 5_001);
        // Split 1 comes back behind: the watermark does not go back.
        assert!(!w.observe(1, 50_000, t41));
        assert_eq!(w.current(), 110_000 + 31_000 - 5_001);
    }

    #[test]
    fn finished_splits_release_and_end_of_input_fires_all() {
        let t0 = Instant::now();
        let mut w = Watermarks::new(&cfg(None, false));
        w.add_split(0, t0);
        w.add_split(1, t0);
        w.observe(0, 100_000, t0);
        assert!(
            w.finish_split(1, t0),
            "a finished split no longer holds back"
        );
        assert_eq!(w.current(), 100_000 - 5_001);
        assert!(!w.finish_split(0, t0));
        assert!(w.end_of_input());
        assert_eq!(w.current(), i64::MAX);
    }

    #[test]
    fn snapshot_round_trip() {
        let t0 = Instant::now();
        let mut w = Watermarks::new(&cfg(Some(30), true));
        w.observe(3, 42_000, t0);
        let snap = w.snapshot();
        let mut r = Watermarks::new(&cfg(Some(30), true));
        r.restore(&snap, t0);
        assert_eq!(r.snapshot(), snap);
        assert_eq!(r.current(), 42_000 - 5_001);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Record(SplitId, i64),
        Wait(u64),
        Finish(SplitId),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u32..4, 0i64..1_000_000).prop_map(|(s, t)| Op::Record(s, t)),
            2 => (0u64..40_000).prop_map(Op::Wait),
            1 => (0u32..4).prop_map(Op::Finish),
        ]
    }

    proptest! {
        /// Whatever arrives, in whatever order, with whatever pauses: the watermark never goes
        /// backwards, and with wall-clock advance off it never passes any active split's
        /// bound.
        #[test]
        fn never_goes_backwards(ops in proptest::collection::vec(op(), 1..200),
                                idle in proptest::option::of(1u64..60),
                                advance in any::<bool>()) {
            let mut w = Watermarks::new(&cfg(idle, advance));
            let mut now = Instant::now();
            let mut last = w.current();
            let mut max_seen = i64::MIN;
            for op in ops {
                match op {
                    Op::Record(s, t) => { w.observe(s, t, now); max_seen = max_seen.max(t); }
                    Op::Wait(ms) => { now += Duration::from_millis(ms); w.update(now); }
                    Op::Finish(s) => { w.finish_split(s, now); }
                }
                prop_assert!(w.current() >= last, "went back from {} to {}", last, w.current());
                if !advance && max_seen > i64::MIN {
                    prop_assert!(w.current() <= max_seen - 5_001);
                }
                last = w.current();
            }
        }
    }
}
