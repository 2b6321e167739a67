//! What the sink counts, in one place: every event that matters to an operator is logged
//! where it happens and counted here; `/metrics` and the exit summary read these counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

macro_rules! metrics {
    ($( $field:ident : $name:literal, $help:literal; )*) => {
        /// Counters of one sink process (all tasks), and each assigned partition's state.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $( #[doc = $help] pub $field: AtomicU64, )*
            partitions: Mutex<BTreeMap<(String, i32), PartitionStatus>>,
        }

        impl Metrics {
            /// Prometheus text exposition of every counter.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let _ = writeln!(out, "# HELP {} {}", $name, $help);
                    let _ = writeln!(out, "# TYPE {} counter", $name);
                    let _ = writeln!(out, "{} {}", $name, self.$field.load(Ordering::Relaxed));
                )*
                self.render_partitions(&mut out);
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
    bytes_in: "lakeshore_land_bytes_consumed_total", "Value bytes consumed from Kafka.";
    records_landed: "lakeshore_land_records_committed_total", "Records in committed files.";
    bytes_landed: "lakeshore_land_bytes_committed_total", "Bytes in committed files.";
    files_committed: "lakeshore_land_files_committed_total", "Files committed.";
    commits: "lakeshore_land_commits_total", "Partition commits (claims).";
    commit_millis: "lakeshore_land_commit_milliseconds_total", "Time spent in partition commits (divide by commits for the mean latency).";
    commit_wait_millis: "lakeshore_land_commit_wait_milliseconds_total", "Time consumption stood still waiting for running commits (to write their files, or to finish before their partition's next one): the store is slower than Kafka.";
    commits_fenced: "lakeshore_land_commits_fenced_total", "Commits refused because another writer owned the range.";
    bad_records: "lakeshore_land_bad_records_total", "Records that could not be landed (not JSON, bad field, ...).";
    null_records: "lakeshore_land_null_records_total", "Null values (tombstones) skipped.";
    dead_lettered: "lakeshore_land_dead_lettered_total", "Records sent to the dead-letter topic.";
    records_expired: "lakeshore_land_records_expired_total", "Records the broker deleted (retention) before they were landed: lost, each range logged as an error.";
    duplicates_skipped: "lakeshore_land_duplicates_skipped_total", "Records below the committed position (already landed), skipped.";
    early_flushes: "lakeshore_land_early_flushes_total", "Commits forced by the memory bound.";
    markers_written: "lakeshore_land_markers_written_total", "Hour completeness markers written.";
    recoveries: "lakeshore_land_recoveries_total", "Partition recoveries (assignments).";
    consumer_errors: "lakeshore_land_consumer_errors_total", "Errors the Kafka consumer reported (broker unreachable, ...); it retries.";
}

/// One assigned partition, for the status page and the per-partition gauges.
#[derive(Debug, Default, Clone)]
struct PartitionStatus {
    /// The next offset to land: everything below it is in committed files.
    committed: Option<i64>,
    /// The partition's end (high watermark) as the consumer last saw it.
    high_watermark: Option<i64>,
    /// Files of the range awaiting its commit.
    open_files: usize,
    last_commit_unix_ms: Option<i64>,
    last_commit_ms: Option<u64>,
}

impl PartitionStatus {
    fn lag(&self) -> Option<i64> {
        Some((self.high_watermark? - self.committed.unwrap_or(0)).max(0))
    }
}

impl Metrics {
    /// A partition was assigned to this process; `committed` is where its commit log ends.
    pub fn partition_assigned(&self, topic: &str, partition: i32, committed: Option<i64>) {
        if let Ok(mut p) = self.partitions.lock() {
            let s = p.entry((topic.to_string(), partition)).or_default();
            s.committed = committed;
        }
    }

    /// How many partitions this process has assigned.
    pub fn assigned_partitions(&self) -> usize {
        self.partitions.lock().map_or(0, |p| p.len())
    }

    /// A partition went to another process.
    pub fn partition_revoked(&self, topic: &str, partition: i32) {
        if let Ok(mut p) = self.partitions.lock() {
            p.remove(&(topic.to_string(), partition));
        }
    }

    /// A commit of `records` records, ending before offset `next`, took `millis`.
    pub fn committed(&self, topic: &str, partition: i32, next: i64, records: u64, millis: u64) {
        add(&self.commits, 1);
        add(&self.records_landed, records);
        add(&self.commit_millis, millis);
        if let Ok(mut p) = self.partitions.lock() {
            let s = p.entry((topic.to_string(), partition)).or_default();
            s.committed = Some(next);
            s.last_commit_unix_ms = Some(chrono::Utc::now().timestamp_millis());
            s.last_commit_ms = Some(millis);
        }
    }

    /// The consumer's view of a partition: its end offset, and the files awaiting a commit.
    pub fn partition_seen(
        &self,
        topic: &str,
        partition: i32,
        high_watermark: i64,
        open_files: usize,
    ) {
        if let Ok(mut p) = self.partitions.lock() {
            if let Some(s) = p.get_mut(&(topic.to_string(), partition)) {
                s.high_watermark = (high_watermark >= 0).then_some(high_watermark);
                s.open_files = open_files;
            }
        }
    }

    fn render_partitions(&self, out: &mut String) {
        let Ok(p) = self.partitions.lock() else {
            return;
        };
        let _ = writeln!(out, "# HELP lakeshore_land_lag_records Records of the partition not yet in committed files (end offset - committed).");
        let _ = writeln!(out, "# TYPE lakeshore_land_lag_records gauge");
        for ((topic, partition), s) in p.iter() {
            if let Some(lag) = s.lag() {
                let _ = writeln!(
                    out,
                    "lakeshore_land_lag_records{{topic=\"{topic}\",partition=\"{partition}\"}} {lag}"
                );
            }
        }
        let _ = writeln!(out, "# HELP lakeshore_land_committed_offset The next offset to land per partition (all below are committed).");
        let _ = writeln!(out, "# TYPE lakeshore_land_committed_offset gauge");
        for ((topic, partition), s) in p.iter() {
            if let Some(c) = s.committed {
                let _ = writeln!(
                    out,
                    "lakeshore_land_committed_offset{{topic=\"{topic}\",partition=\"{partition}\"}} {c}"
                );
            }
        }
    }

    /// The `/status` document: totals and one row per assigned partition.
    pub fn status(&self) -> Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let commits = get(&self.commits);
        let mut doc = json!({
            "records_consumed": get(&self.records_in),
            "bytes_consumed": get(&self.bytes_in),
            "records_committed": get(&self.records_landed),
            "bytes_committed": get(&self.bytes_landed),
            "files_committed": get(&self.files_committed),
            "commits": commits,
            "commit_mean_ms": get(&self.commit_millis).checked_div(commits),
            "bad_records": get(&self.bad_records),
            "dead_lettered": get(&self.dead_lettered),
            "commits_fenced": get(&self.commits_fenced),
            "consumer_errors": get(&self.consumer_errors),
            "markers_written": get(&self.markers_written),
        });
        if let Ok(p) = self.partitions.lock() {
            doc["files_open"] = json!(p.values().map(|s| s.open_files).sum::<usize>());
            let now = chrono::Utc::now().timestamp_millis();
            doc["partitions"] = p
                .iter()
                .map(|((topic, partition), s)| {
                    json!({
                        "topic": topic,
                        "partition": partition,
                        "committed_offset": s.committed,
                        "end_offset": s.high_watermark,
                        "lag": s.lag(),
                        "open_files": s.open_files,
                        "last_commit_seconds_ago": s.last_commit_unix_ms.map(|t| (now - t) / 1000),
                        "last_commit_ms": s.last_commit_ms,
                    })
                })
                .collect();
        }
        doc
    }
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
