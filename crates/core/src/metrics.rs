//! What a pipeline counts, in one place: each event is logged where it happens and counted
//! here; `/metrics` and the exit summary read these.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::time::format_utc;
use crate::window::WindowResult;
use crate::SplitId;

/// Fired windows and checkpoints the status page lists.
const HISTORY: usize = 20;

macro_rules! metrics {
    ($( $field:ident : $name:literal, $kind:literal, $help:literal; )*) => {
        /// Counters and gauges of one pipeline, and the recent history the status page shows.
        #[derive(Debug)]
        pub struct Metrics {
            $( #[doc = $help] pub $field: AtomicI64, )*
            detail: Mutex<Detail>,
        }

        impl Default for Metrics {
            fn default() -> Self {
                let m = Metrics { $( $field: AtomicI64::new(0), )* detail: Mutex::default() };
                m.watermark_ms.store(i64::MIN, Ordering::Relaxed);
                m
            }
        }

        impl Metrics {
            /// Prometheus text exposition.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let v = self.$field.load(Ordering::Relaxed);
                    if v != i64::MIN {
                        let _ = writeln!(out, "# HELP {} {}", $name, $help);
                        let _ = writeln!(out, "# TYPE {} {}", $name, $kind);
                        let _ = writeln!(out, "{} {}", $name, v);
                    }
                )*
                if let Ok(d) = self.detail.lock() {
                    if !d.splits.is_empty() {
                        let _ = writeln!(out, "# HELP lakeshore_stream_split_watermark_ms The watermark of one input split (Kafka partition), epoch ms.");
                        let _ = writeln!(out, "# TYPE lakeshore_stream_split_watermark_ms gauge");
                        for (split, s) in &d.splits {
                            if let Some(wm) = s.watermark {
                                let _ = writeln!(out, "lakeshore_stream_split_watermark_ms{{split=\"{split}\"}} {wm}");
                            }
                        }
                        let _ = writeln!(out, "# HELP lakeshore_stream_split_lag_records Records of one input split (Kafka partition) not read yet.");
                        let _ = writeln!(out, "# TYPE lakeshore_stream_split_lag_records gauge");
                        for (split, s) in &d.splits {
                            if let Some(lag) = s.lag {
                                let _ = writeln!(out, "lakeshore_stream_split_lag_records{{split=\"{split}\"}} {lag}");
                            }
                        }
                    }
                }
                out
            }

            /// `(name, value)` pairs for the exit summary.
            pub fn summary(&self) -> Vec<(&'static str, i64)> {
                vec![ $( ($name, self.$field.load(Ordering::Relaxed)), )* ]
            }
        }
    };
}

metrics! {
    records_in: "lakeshore_stream_records_total", "counter", "Records read and decoded.";
    late_records: "lakeshore_stream_late_records_total", "counter", "Records behind the watermark for all their windows (dropped from the counts, sent to the late output if any).";
    bad_records: "lakeshore_stream_bad_records_total", "counter", "Records that could not be decoded (not JSON, no key, no event time).";
    out_of_range: "lakeshore_stream_out_of_range_records_total", "counter", "Records outside the run's time range (bounded runs).";
    windows_emitted: "lakeshore_stream_windows_emitted_total", "counter", "Window results written (including updates).";
    window_updates: "lakeshore_stream_window_updates_total", "counter", "Window results re-emitted within the allowed lateness.";
    open_windows: "lakeshore_stream_open_windows", "gauge", "Windows held in state.";
    watermark_ms: "lakeshore_stream_watermark_ms", "gauge", "The job's watermark, epoch ms.";
    checkpoints: "lakeshore_stream_checkpoints_total", "counter", "Checkpoints written.";
    checkpoint_bytes: "lakeshore_stream_checkpoint_bytes", "gauge", "Size of the last checkpoint.";
    checkpoint_duration_ms: "lakeshore_stream_checkpoint_duration_ms", "gauge", "Time the last checkpoint took (flush included).";
    last_checkpoint_unix_ms: "lakeshore_stream_last_checkpoint_unix_ms", "gauge", "When the last checkpoint was written.";
}

/// One input split, as last seen.
#[derive(Debug, Default, Clone, Copy)]
struct SplitStatus {
    max_event_time: Option<i64>,
    watermark: Option<i64>,
    lag: Option<i64>,
}

/// A checkpoint, as written.
#[derive(Debug, Clone, Copy)]
struct CheckpointStatus {
    id: u64,
    unix_ms: i64,
    bytes: u64,
    duration_ms: i64,
}

#[derive(Debug, Default)]
struct Detail {
    splits: BTreeMap<SplitId, SplitStatus>,
    windows: VecDeque<WindowResult>,
    checkpoints: VecDeque<CheckpointStatus>,
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(item);
}

impl Metrics {
    /// Records the largest event time seen on each split; `bound_ms` is the out-of-orderness
    /// (a split's own watermark is its largest time minus the bound).
    pub fn splits_seen(&self, maxima: impl Iterator<Item = (SplitId, Option<i64>)>, bound_ms: i64) {
        if let Ok(mut d) = self.detail.lock() {
            for (split, max) in maxima {
                let s = d.splits.entry(split).or_default();
                s.max_event_time = max;
                s.watermark = max.map(|m| m.saturating_sub(bound_ms).saturating_sub(1));
            }
        }
    }

    /// Records each split's backlog (records not read yet).
    pub fn splits_backlog(&self, backlog: Vec<(SplitId, i64)>) {
        if let Ok(mut d) = self.detail.lock() {
            for (split, lag) in backlog {
                d.splits.entry(split).or_default().lag = Some(lag);
            }
        }
    }

    /// Records a fired window (the most recent [`HISTORY`] are kept).
    pub fn window_fired(&self, w: &WindowResult) {
        if let Ok(mut d) = self.detail.lock() {
            push_bounded(&mut d.windows, w.clone());
        }
    }

    /// Records a written checkpoint (the most recent [`HISTORY`] are kept).
    pub fn checkpoint_written(&self, id: u64, bytes: u64, duration_ms: i64) {
        let unix_ms = chrono::Utc::now().timestamp_millis();
        set(&self.checkpoint_bytes, bytes as i64);
        set(&self.checkpoint_duration_ms, duration_ms);
        set(&self.last_checkpoint_unix_ms, unix_ms);
        add(&self.checkpoints, 1);
        if let Ok(mut d) = self.detail.lock() {
            push_bounded(
                &mut d.checkpoints,
                CheckpointStatus {
                    id,
                    unix_ms,
                    bytes,
                    duration_ms,
                },
            );
        }
    }

    /// The `/status` document: counters, the watermark overall and per split, the latest
    /// windows and checkpoints (newest first).
    pub fn status(&self) -> Value {
        let get = |a: &AtomicI64| a.load(Ordering::Relaxed);
        let time = |ms: i64| match ms {
            i64::MIN => Value::Null,
            i64::MAX => json!("end of input"),
            t => json!(format_utc(t)),
        };
        let now = chrono::Utc::now().timestamp_millis();
        let last_ckpt = get(&self.last_checkpoint_unix_ms);
        let mut doc = json!({
            "watermark": time(get(&self.watermark_ms)),
            "records_in": get(&self.records_in),
            "windows_emitted": get(&self.windows_emitted),
            "window_updates": get(&self.window_updates),
            "open_windows": get(&self.open_windows),
            "late_records": get(&self.late_records),
            "bad_records": get(&self.bad_records),
            "checkpoints": get(&self.checkpoints),
            "checkpoint_age_seconds": if last_ckpt > 0 { json!((now - last_ckpt) / 1000) } else { Value::Null },
            "checkpoint_bytes": get(&self.checkpoint_bytes),
        });
        if let Ok(d) = self.detail.lock() {
            doc["splits"] = d
                .splits
                .iter()
                .map(|(split, s)| {
                    json!({
                        "split": split,
                        "max_event_time": s.max_event_time.map(format_utc),
                        "watermark": s.watermark.map(format_utc),
                        "lag": s.lag,
                    })
                })
                .collect();
            doc["recent_windows"] = d
                .windows
                .iter()
                .rev()
                .map(|w| {
                    json!({
                        "window_start": format_utc(w.start),
                        "key": w.key,
                        "count": w.value,
                        "update": w.update,
                    })
                })
                .collect();
            doc["checkpoint_history"] = d
                .checkpoints
                .iter()
                .rev()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "written": format_utc(c.unix_ms),
                        "bytes": c.bytes,
                        "duration_ms": c.duration_ms,
                    })
                })
                .collect();
        }
        doc
    }
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicI64, n: i64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Sets a gauge.
pub fn set(gauge: &AtomicI64, v: i64) {
    gauge.store(v, Ordering::Relaxed);
}
