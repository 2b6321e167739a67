//! What the sink counts, in one place: every event that matters to an operator is logged
//! where it happens and counted here; `/metrics` and the exit summary read these counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    ($( $field:ident : $name:literal, $help:literal; )*) => {
        /// Counters of one sink process (all tasks).
        #[derive(Debug, Default)]
        pub struct Metrics { $( #[doc = $help] pub $field: AtomicU64, )* }

        impl Metrics {
            /// Prometheus text exposition of every counter.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let _ = writeln!(out, "# HELP {} {}", $name, $help);
                    let _ = writeln!(out, "# TYPE {} counter", $name);
                    let _ = writeln!(out, "{} {}", $name, self.$field.load(Ordering::Relaxed));
                )*
                out
            }

            /// `name=value` pairs for the exit summary log line.
            pub fn summary(&self) -> Vec<(&'static str, u64)> {
                vec![ $( ($name, self.$field.load(Ordering::Relaxed)), )* ]
            }
        }
    };
}

metrics! {
    records_in: "lakeshore_land_records_consumed_total", "Records consumed from Kafka.";
    records_landed: "lakeshore_land_records_committed_total", "Records in committed files.";
    bytes_landed: "lakeshore_land_bytes_committed_total", "Bytes in committed files.";
    files_committed: "lakeshore_land_files_committed_total", "Files committed.";
    commits: "lakeshore_land_commits_total", "Partition commits (claims).";
    commits_fenced: "lakeshore_land_commits_fenced_total", "Commits refused because another writer owned the range.";
    bad_records: "lakeshore_land_bad_records_total", "Records that could not be landed (not JSON, bad field, ...).";
    null_records: "lakeshore_land_null_records_total", "Null values (tombstones) skipped.";
    dead_lettered: "lakeshore_land_dead_lettered_total", "Records sent to the dead-letter topic.";
    duplicates_skipped: "lakeshore_land_duplicates_skipped_total", "Records below the committed position (already landed), skipped.";
    early_flushes: "lakeshore_land_early_flushes_total", "Commits forced by the memory bound.";
    markers_written: "lakeshore_land_markers_written_total", "Hour completeness markers written.";
    recoveries: "lakeshore_land_recoveries_total", "Partition recoveries (assignments).";
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        add(&m.records_landed, 3);
        let text = m.render();
        assert!(text.contains("# TYPE lakeshore_land_records_committed_total counter\nlakeshore_land_records_committed_total 3\n"));
    }
}
