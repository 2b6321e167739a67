//! The landing benchmark's baseline: a bare rdkafka consumer reading a whole topic to nowhere
//! (`scripts/bench/land.sh`; see docs/benchmarks.md).
//!
//! ```text
//! cargo run --release --example bare_consume -- --brokers 127.0.0.1:9092 \
//!     --topic bench.embeddings.ready [--consumers 2] [-X fetch.wait.max.ms=10 ...]
//! ```
//!
//! librdkafka's best case: no group membership (a plain `assign` of every partition from the
//! beginning, so no group join, no rebalance and no offset commits; librdkafka still wants a
//! `group.id` for `assign`, so a throwaway one is set), librdkafka's default fetch settings
//! unless overridden with `-X key=value`. It reads until every partition reaches the high
//! watermark it had at start, touches each payload (its length and last byte) and drops it.
//! With `--consumers N`, N such consumers on N threads share the partitions round-robin (the
//! counterpart of the sink's `tasks.max=N`: N connections, N fetches in flight).
//!
//! Output: one line `consumed records=N bytes=B seconds=S mb_per_s=M ...` (bytes = value
//! bytes; seconds from start to the last record).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Message, Offset, TopicPartitionList};

fn usage() -> ! {
    eprintln!(
        "usage: bare_consume --brokers HOST:PORT --topic NAME [--consumers 1] [-X librdkafka.key=value ...]"
    );
    std::process::exit(2)
}

/// What one consumer read.
#[derive(Debug, Default)]
struct Read {
    records: u64,
    bytes: u64,
    touched: u8,
}

fn client_config(brokers: &str, extra: &[(String, String)], index: usize) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("bare-consume-{}-{index}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    for (k, v) in extra {
        config.set(k, v);
    }
    config
}

/// Reads `partitions` (with their high watermarks) from the beginning to those watermarks.
fn consume(config: ClientConfig, topic: &str, partitions: &[(i32, i64)]) -> KafkaResult<Read> {
    let consumer: BaseConsumer = config.create()?;
    let mut tpl = TopicPartitionList::new();
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for &(p, hi) in partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        remaining.insert(p, hi);
    }
    consumer.assign(&tpl)?;
    let mut read = Read::default();
    while !remaining.is_empty() {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(msg)) => {
                if let Some(v) = msg.payload() {
                    read.bytes += v.len() as u64;
                    read.touched ^= v.last().copied().unwrap_or(0);
                }
                read.records += 1;
                let p = msg.partition();
                if remaining.get(&p).is_some_and(|&hi| msg.offset() + 1 >= hi) {
                    remaining.remove(&p);
                }
            }
            Some(Err(e)) => eprintln!("consumer error: {e}"),
            None => {}
        }
    }
    Ok(read)
}

fn main() -> KafkaResult<()> {
    let (mut brokers, mut topic, mut consumers) = ("127.0.0.1:9092".to_string(), None, 1usize);
    let mut extra = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let Some(v) = it.next() else { usage() };
        match flag.as_str() {
            "--brokers" => brokers = v,
            "--topic" => topic = Some(v),
            "--consumers" => {
                consumers = v.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| usage())
            }
            "-X" => match v.split_once('=') {
                Some((k, val)) => extra.push((k.to_string(), val.to_string())),
                None => usage(),
            },
            _ => usage(),
        }
    }
    let Some(topic) = topic else { usage() };

    let started = Instant::now();
    // Partitions and their high watermarks as of now: that is what gets read.
    let meta: BaseConsumer = client_config(&brokers, &extra, consumers).create()?;
    let md = meta.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
    let mut shares: Vec<Vec<(i32, i64)>> = vec![Vec::new(); consumers];
    let mut expected = 0i64;
    let mut ids: Vec<i32> = md
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    ids.sort_unstable();
    if ids.is_empty() {
        eprintln!("topic {topic} not found or has no partitions");
        std::process::exit(1);
    }
    for (i, &p) in ids.iter().enumerate() {
        let (lo, hi) = meta.fetch_watermarks(&topic, p, Duration::from_secs(10))?;
        expected += hi - lo;
        if hi > lo {
            // Round-robin, like a range/round-robin assignor would spread them.
            shares[i % consumers].push((p, hi));
        }
    }
    drop(meta);

    // One consumer per thread, each with its share of the partitions.
    let handles: Vec<_> = shares
        .into_iter()
        .enumerate()
        .filter(|(_, share)| !share.is_empty())
        .map(|(i, share)| {
            let config = client_config(&brokers, &extra, i);
            let topic = topic.clone();
            std::thread::spawn(move || consume(config, &topic, &share))
        })
        .collect();
    let mut total = Read::default();
    for h in handles {
        let r = h.join().expect("consumer thread")?;
        total.records += r.records;
        total.bytes += r.bytes;
        total.touched ^= r.touched;
    }
    let secs = started.elapsed().as_secs_f64();
    std::hint::black_box(total.touched);
    println!(
        "consumed records={} bytes={} seconds={secs:.3} mb_per_s={:.1} expected={expected} consumers={consumers}",
        total.records,
        total.bytes,
        total.bytes as f64 / 1e6 / secs
    );
    Ok(())
}
