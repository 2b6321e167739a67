//! Outages of the real services while `lakeshore land` runs: HDFS is stopped and restarted,
//! then the broker is, then the NameNode is put in safe mode (it refuses every write) and
//! taken out again. The sink retries with backoff and logs it, and once the services are back
//! every record lands exactly once.
//!
//! This binary restarts the shared services, so it holds one test only (cargo runs test
//! binaries one after another, never two at once).

mod common;

use std::time::Duration;

use common::*;

const PARTITIONS: i32 = 2;
const PER_PARTITION: i64 = 250;

/// The NameNode in safe mode until dropped (also when an assertion fails, so that later
/// tests get a writable HDFS).
struct SafeMode;

impl SafeMode {
    fn enter() -> SafeMode {
        service_script("hdfs.sh", &["dfsadmin", "-safemode", "enter"]);
        SafeMode
    }
}

impl Drop for SafeMode {
    fn drop(&mut self) {
        let left = run_script("hdfs.sh", &["dfsadmin", "-safemode", "leave"]);
        if !left.as_ref().is_ok_and(|s| s.success()) {
            eprintln!("could not take HDFS out of safe mode: {left:?}");
        }
    }
}

#[test]
fn records_land_exactly_once_across_hdfs_and_broker_restarts() {
    let (Some(brokers), Some(hdfs)) = (brokers(), hdfs()) else {
        return;
    };
    if std::env::var("LAKESHORE_RUN").is_err() {
        assert!(
            std::env::var("LAKESHORE_REQUIRE_SERVICES").is_err(),
            "LAKESHORE_RUN must name the services' run dir (scripts/test.sh sets it)"
        );
        eprintln!(
            "SKIPPED: LAKESHORE_RUN is not set; this test restarts the services of scripts/test.sh"
        );
        return;
    }
    let topic = unique("outage");
    create_topics(&brokers, &[&topic], PARTITIONS);
    let batch = |from: i64, to: i64| -> Vec<Rec> {
        (0..PARTITIONS)
            .flat_map(|p| (from..to).map(move |i| (p, i)))
            .map(|(p, i)| Rec {
                topic: topic.clone(),
                partition: p,
                key: None,
                value: Some(value(p, i, "acme")),
                timestamp_ms: None,
            })
            .collect()
    };
    let store_url = format!("{hdfs}/{}", unique("outage"));
    let dir = tempfile::tempdir().unwrap();
    let land = Land::start(
        dir.path(),
        &fixture(),
        &brokers,
        &[
            format!("hdfs.url={store_url}"),
            format!("topics={topic}"),
            format!("name={}", unique("outage")),
            "flush.size=20".into(),
            "rotate.interval.ms=1000".into(),
            "retry.backoff.ms=1000".into(),
            "consumer.override.session.timeout.ms=6000".into(),
        ],
    );
    produce(&brokers, &batch(0, 50));

    // HDFS goes away while records keep arriving.
    service_script("hdfs.sh", &["stop"]);
    produce(&brokers, &batch(50, 100));
    std::thread::sleep(Duration::from_secs(8));
    service_script("hdfs.sh", &["start"]);

    // Then the broker.
    produce(&brokers, &batch(100, 150));
    service_script("kafka.sh", &["stop"]);
    std::thread::sleep(Duration::from_secs(5));
    service_script("kafka.sh", &["start"]);
    produce(&brokers, &batch(150, 200));

    // Then the NameNode refuses writes (safe mode) for a while: retried as well, not fatal.
    let store = store(&store_url);
    let landed = || Landed::read(&store, "atenex/kafka-landing", &topic).occurrences(&topic);
    eventually_or(
        Duration::from_secs(120),
        "records before safe mode landed",
        &land,
        || landed().len() == (PARTITIONS * 200) as usize,
    );
    let safe_mode = SafeMode::enter();
    produce(&brokers, &batch(200, PER_PARTITION));
    eventually_or(
        Duration::from_secs(60),
        "a write refused in safe mode, logged",
        &land,
        || land.log_text().contains("SafeModeException"),
    );
    std::thread::sleep(Duration::from_secs(3));
    drop(safe_mode);

    let expected = (PARTITIONS as i64 * PER_PARTITION) as usize;
    eventually_or(
        Duration::from_secs(180),
        "every record landed",
        &land,
        || landed().len() == expected,
    );
    let log = land.log.clone();
    assert_eq!(land.stop(), 0);
    let log = std::fs::read_to_string(log).unwrap();
    // The outage was seen, retried and logged, not hidden.
    assert!(log.contains("storage call failed, retrying"), "{log}");

    let seen = landed();
    assert_eq!(seen.len(), expected);
    assert!(seen.values().all(|n| *n == 1), "duplicates after outages");
}
