//! `lakeshore gen` against the real broker: what it says it published is on the topics, at
//! about the rate asked for, with the platform's payloads.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const TOPICS: [&str; 3] = ["documents.raw", "chunks.processed", "embeddings.ready"];

#[test]
fn gen_publishes_what_it_reports_with_the_platform_payloads() {
    let Some(brokers) = brokers() else { return };
    let prefix = format!("{}.", unique("gen"));
    let topics: Vec<String> = TOPICS.iter().map(|t| format!("{prefix}{t}")).collect();
    create_topics(
        &brokers,
        &topics.iter().map(String::as_str).collect::<Vec<_>>(),
        2,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .args([
            "gen",
            "--brokers",
            &brokers,
            "--rate",
            "300",
            "--duration",
            "3s",
        ])
        .args(["--topic-prefix", &prefix, "--seed", "9"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", unique("gen-check"))
        .create()
        .unwrap();
    let mut total = 0;
    for topic in &topics {
        let reported: i64 = stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{topic}=")))
            .unwrap_or_else(|| panic!("{topic} not in {stdout}"))
            .parse()
            .unwrap();
        let on_topic: i64 = (0..2)
            .map(|p| {
                let (low, high) = consumer
                    .fetch_watermarks(topic, p, Duration::from_secs(10))
                    .unwrap();
                high - low
            })
            .sum();
        assert_eq!(on_topic, reported, "{topic}");
        assert!(reported > 0, "{topic}");
        total += reported;
    }
    // 3 s at 300 records/s, give or take the last document.
    assert!((800..=1000).contains(&total), "{total} records");

    // An embedding: the platform's fields and 1536 floats.
    let mut tpl = TopicPartitionList::new();
    for p in 0..2 {
        tpl.add_partition_offset(&topics[2], p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let msg = match consumer.poll(Duration::from_secs(10)) {
        Some(Ok(m)) => m.detach(),
        Some(Err(e)) => panic!("{e}"),
        None => panic!("no embedding read back"),
    };
    let v: serde_json::Value = serde_json::from_slice(msg.payload().unwrap()).unwrap();
    assert_eq!(v["vector"].as_array().unwrap().len(), 1536);
    assert_eq!(
        msg.key().unwrap(),
        v["document_id"].as_str().unwrap().as_bytes()
    );
    assert!(v["company_id"].is_string() && v["chunk_id"].is_string());
}
