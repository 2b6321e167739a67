//! The Kafka sink across restarts, against the real broker (`LAKESHORE_TEST_BROKERS`, set by
//! `scripts/test.sh`): each test plays the runs of a job that crashes, by hand, so that the
//! moment of each checkpoint is exact rather than left to a kill's timing.

use std::time::Duration;

use lakeshore_core::{Encode, Sink, WindowResult};
use lakeshore_kafka::{ClientOptions, ExactlyOnce, KafkaSink, KafkaSinkOptions};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

#[derive(Debug)]
struct Plain;

impl Encode for Plain {
    fn value(&self, r: &WindowResult, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} {} {}", r.key, r.start, r.value).as_bytes());
    }
}

fn brokers() -> Option<String> {
    let b = std::env::var("LAKESHORE_TEST_BROKERS").ok();
    if b.is_none() {
        eprintln!("skipped: LAKESHORE_TEST_BROKERS is not set (scripts/test.sh starts a broker)");
    }
    b
}

fn create_topic(brokers: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let topic = format!("sink-restart-{}-{nanos}", std::process::id());
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let new = NewTopic::new(&topic, 1, TopicReplication::Fixed(1));
    for r in rt
        .block_on(admin.create_topics([&new], &AdminOptions::new()))
        .unwrap()
    {
        r.unwrap();
    }
    topic
}

fn sink(brokers: &str, topic: &str) -> KafkaSink {
    KafkaSink::new(KafkaSinkOptions {
        client: ClientOptions {
            brokers: brokers.to_string(),
            extra: Vec::new(),
        },
        topic: topic.to_string(),
        encoder: Box::new(Plain),
        late_topic: None,
        dead_letter_topic: None,
        exactly_once: ExactlyOnce::ReadBack,
    })
}

fn result(minute: i64) -> WindowResult {
    WindowResult {
        key: "acme".into(),
        start: minute * 60_000,
        end: (minute + 1) * 60_000,
        value: 10 + minute,
        update: false,
    }
}

fn records_in(brokers: &str, topic: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let (low, high) = c
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap();
    high - low
}

/// Run 2 restores, reads back run 1's results and checkpoints before its replay has produced
/// them all again; run 3 restores that checkpoint. The results run 2 had still to produce sit
/// below the checkpointed end offset, where run 3 does not read back: the checkpoint itself
/// must carry them.
#[test]
fn a_checkpoint_taken_mid_replay_still_recognises_what_the_replay_has_to_produce() {
    let Some(brokers) = brokers() else { return };
    let topic = create_topic(&brokers);

    let mut run1 = sink(&brokers, &topic);
    run1.open(None).unwrap();
    let first = run1.snapshot().unwrap();
    for m in 0..4 {
        run1.emit(&result(m)).unwrap();
    }
    run1.flush().unwrap();
    drop(run1); // killed before its next checkpoint

    let mut run2 = sink(&brokers, &topic);
    run2.open(Some(&first)).unwrap();
    run2.emit(&result(0)).unwrap();
    run2.flush().unwrap();
    let second = run2.snapshot().unwrap();
    assert_eq!(run2.skipped(), 1);
    drop(run2); // killed after checkpointing, the replay of minutes 1..3 still to come

    let mut run3 = sink(&brokers, &topic);
    run3.open(Some(&second)).unwrap();
    for m in 1..5 {
        run3.emit(&result(m)).unwrap();
    }
    run3.flush().unwrap();
    assert_eq!(run3.skipped(), 3, "minutes 1..3 were written by run 1");
    assert_eq!(records_in(&brokers, &topic), 5, "every minute exactly once");
}

#[test]
fn a_damaged_checkpoint_is_refused_naming_the_field() {
    // Refused before any broker round trip: no broker needed.
    for (field, damaged) in [
        (
            "pending",
            serde_json::json!({"offsets": {"0": 3}, "pending": "not a list"}),
        ),
        (
            "offsets",
            serde_json::json!({"offsets": [1, 2], "pending": []}),
        ),
    ] {
        let mut s = sink("127.0.0.1:9", "analytics.flink");
        let err = s.open(Some(&damaged)).unwrap_err().to_string();
        assert!(
            err.contains(&format!("`{field}` is damaged")),
            "{field}: {err}"
        );
        assert!(err.contains("analytics.flink"), "{err}");
    }
}
