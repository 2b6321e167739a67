//! What a pipeline counts, in one place: each event is logged where it happens and counted
//! here; `/metrics` and the exit summary read these.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};

macro_rules! metrics {
    ($( $field:ident : $name:literal, $kind:literal, $help:literal; )*) => {
        /// Counters and gauges of one pipeline.
        #[derive(Debug)]
        pub struct Metrics { $( #[doc = $help] pub $field: AtomicI64, )* }

        impl Default for Metrics {
            fn default() -> Self {
                let m = Metrics { $( $field: AtomicI64::new(0), )* };
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

/// Adds `n` to a counter.
pub fn add(counter: &AtomicI64, n: i64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Sets a gauge.
pub fn set(gauge: &AtomicI64, v: i64) {
    gauge.store(v, Ordering::Relaxed);
}
