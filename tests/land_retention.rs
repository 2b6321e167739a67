//! Records the broker deleted (retention) before the landing read them are lost, and the
//! sink says so instead of carrying on silently: an error naming the partition and the
//! offsets, and `lakeshore_land_records_expired_total`. Everything still on the broker lands
//! exactly once.
//!
//! The broker here is librdkafka's in-process mock cluster, not tansu: tansu's SQLite engine
//! neither applies size retention nor implements DeleteRecords, while the mock keeps only
//! the last 5 MiB of each partition and moves the log start past what it dropped, as a
//! broker's `retention.bytes` does. The sink is the real binary, talking to it over TCP.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::ClientConfig;

const DIR: &str = "atenex/kafka-landing";
/// About the size of an `embeddings.ready` record.
const PAD: usize = 20_000;

fn records(topic: &str, from: i64, to: i64) -> Vec<Rec> {
    let pad = "0.125,".repeat(PAD / 6);
    (from..to)
        .map(|i| Rec {
            topic: topic.into(),
            partition: 0,
            key: None,
            value: Some(padded_value(0, i, "acme", "vector", &format!("[{pad}0.5]"))),
            timestamp_ms: None,
        })
        .collect()
}

/// Starts the sink and waits for its status server.
fn start_land(dir: &std::path::Path, brokers: &str, sets: &[String]) -> Land {
    let land = Land::start(dir, &fixture(), brokers, sets);
    eventually_or(Duration::from_secs(30), "the status server", &land, || {
        land.log_text().contains("serving /metrics")
    });
    land
}

fn log_start(brokers: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap()
        .0
}

#[test]
fn records_deleted_by_retention_before_landing_are_reported_and_counted() {
    let cluster = MockCluster::new(1).unwrap();
    let topic = "embeddings.ready";
    cluster.create_topic(topic, 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let store_url = format!("file://{}", lake.display());
    let sets = vec![
        format!("hdfs.url={store_url}"),
        format!("topics={topic}"),
        format!("name={}", unique("retention")),
        "rotate.interval.ms=500".to_string(),
    ];

    // 50 records land.
    produce(&brokers, &records(topic, 0, 50));
    let land = start_land(&dir.path().join("run1"), &brokers, &sets);
    eventually_or(Duration::from_secs(60), "50 records landed", &land, || {
        metric(&land, "lakeshore_land_records_committed_total") == 50
    });
    assert_eq!(land.stop(), 0);

    // While the sink is down, 8 MB more: the broker drops the oldest (5 MiB kept).
    produce(&brokers, &records(topic, 50, 450));
    let start = log_start(&brokers, topic);
    assert!(
        start > 50 && start < 450,
        "the mock broker's log should start between 50 and 450, at {start}"
    );

    let land = start_land(&dir.path().join("run2"), &brokers, &sets);
    let remaining = (450 - start) as u64;
    eventually_or(
        Duration::from_secs(60),
        "what is left on the broker landed",
        &land,
        || metric(&land, "lakeshore_land_records_committed_total") == remaining,
    );
    assert_eq!(
        metric(&land, "lakeshore_land_records_expired_total"),
        (start - 50) as u64
    );
    let log = land.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("records were deleted from the broker"))
        .unwrap_or_else(|| panic!("no error about the deleted records in:\n{log}"));
    assert!(line.contains("ERROR"), "{line}");
    for part in [
        "partition=0".to_string(),
        "first=50".to_string(),
        format!("last={}", start - 1),
        format!("records={}", start - 50),
    ] {
        assert!(line.contains(&part), "{part} missing from: {line}");
    }
    assert_eq!(land.stop(), 0);

    // What landed: 0..50 and start..450, each once; nothing of 50..start.
    let landed = Landed::read(&store(&store_url), DIR, topic).occurrences(topic);
    let expected: HashMap<(i32, i64), usize> =
        (0..50).chain(start..450).map(|i| ((0, i), 1)).collect();
    assert_eq!(landed, expected);
}
