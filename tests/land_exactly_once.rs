//! Exactly once under SIGKILL, against the real broker and real HDFS.
//!
//! Records are produced to 3 topics x 4 partitions while `lakeshore land` is killed with
//! SIGKILL at random moments (commits are frequent, so kills land before, during and after
//! claims and renames) and restarted, each time under a new consumer group name: the resume
//! point must come from the committed data, not from Kafka's committed offsets. At the end
//! every offset appears in exactly one committed file and nothing else is there.

mod common;

use std::time::Duration;

use common::*;
use rand::Rng;

const PARTITIONS: i32 = 4;
const PER_PARTITION: i64 = 300;
const KILLS: usize = 20;

#[test]
fn every_offset_lands_exactly_once_across_sigkills() {
    let (Some(brokers), Some(hdfs)) = (brokers(), hdfs()) else {
        return;
    };
    let topics: Vec<String> = ["documents", "chunks", "embeddings"]
        .iter()
        .map(|t| unique(&format!("eo-{t}")))
        .collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    create_topics(&brokers, &topic_refs, PARTITIONS);

    // Record timestamps spread over three hours, interleaved, so commits span hour directories.
    let base_ts = 1_763_712_000_000i64; // 2025-11-21T08:00:00Z
    let records = |from: i64, to: i64| -> Vec<Rec> {
        let mut v = Vec::new();
        for t in &topics {
            for p in 0..PARTITIONS {
                for i in from..to {
                    v.push(Rec {
                        topic: t.clone(),
                        partition: p,
                        key: Some(format!("doc-{i}").into_bytes()),
                        value: Some(value(p, i, "acme")),
                        timestamp_ms: Some(base_ts + (i % 3) * 3_600_000 + i * 1000),
                    });
                }
            }
        }
        v
    };
    produce(&brokers, &records(0, PER_PARTITION / 2));
    let late_producer = {
        let brokers = brokers.clone();
        let rest = records(PER_PARTITION / 2, PER_PARTITION);
        std::thread::spawn(move || {
            for chunk in rest.chunks(200) {
                produce(&brokers, chunk);
                std::thread::sleep(Duration::from_millis(700));
            }
        })
    };

    let store_url = format!("{hdfs}/{}", unique("eo"));
    let dir = tempfile::tempdir().unwrap();
    let props = fixture();
    let sets = |run: usize| {
        vec![
            format!("hdfs.url={store_url}"),
            format!("topics={}", topics.join(",")),
            format!("name=eo-run-{run}"),
            // Restarts also change the number of tasks.
            format!("tasks.max={}", 1 + run % 3),
            "flush.size=37".into(),
            "rotate.interval.ms=1500".into(),
            "timestamp.extractor=Record".into(),
            "consumer.override.session.timeout.ms=6000".into(),
        ]
    };
    let mut rng = rand::rng();
    for run in 0..KILLS {
        let land = Land::start(dir.path(), &props, &brokers, &sets(run));
        std::thread::sleep(Duration::from_millis(rng.random_range(1500..6000)));
        land.sigkill();
    }
    late_producer.join().unwrap();

    // A last run lands the rest, then stops gracefully.
    let land = Land::start(dir.path(), &props, &brokers, &sets(KILLS));
    let store = store(&store_url);
    let expected = (PARTITIONS as usize) * PER_PARTITION as usize;
    eventually(Duration::from_secs(180), "every record landed", || {
        topics.iter().all(|t| {
            Landed::read(&store, "atenex/kafka-landing", t)
                .occurrences(t)
                .len()
                == expected
        })
    });
    let log = land.log.clone();
    assert_eq!(land.stop(), 0, "{}", std::fs::read_to_string(log).unwrap());

    for t in &topics {
        let landed = Landed::read(&store, "atenex/kafka-landing", t);
        let seen = landed.occurrences(t);
        let dups: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
        assert!(
            dups.is_empty(),
            "{t}: offsets landed more than once: {dups:?}"
        );
        for p in 0..PARTITIONS {
            for i in 0..PER_PARTITION {
                assert_eq!(seen.get(&(p, i)), Some(&1), "{t} partition {p} offset {i}");
            }
        }
        // Every file sits in its hour directory, Confluent's layout.
        for path in landed.files.keys() {
            assert!(
                path.contains(&format!(
                    "atenex/kafka-landing/{t}/year=2025/month=11/day=21/hour="
                )),
                "{path}"
            );
        }
    }
    // Nothing left in flight.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = rt
        .block_on(store.list(&lakeshore_storage::parse_path("atenex/kafka-landing/+tmp").unwrap()))
        .unwrap();
    assert!(tmp.is_empty(), "left in +tmp: {tmp:?}");
}
