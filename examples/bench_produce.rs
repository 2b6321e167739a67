//! Produces realistic `embeddings.ready` records for the landing benchmark
//! (`scripts/bench/land.sh`; see docs/benchmarks.md).
//!
//! ```text
//! cargo run --release --example bench_produce -- \
//!     --brokers 127.0.0.1:9092 --topic bench.embeddings.ready --partitions 4 \
//!     --bytes 1000000000 --day 2026-11-21
//! ```
//!
//! Each record is what the embedding service publishes: key = `document_id`, value
//! `{"chunk_id":"…","document_id":"…","company_id":"…","vector":[1536 floats]}` (≈ 21 KB),
//! with the chunks of one document in a row (same key, same partition), ~20 companies, and
//! CreateTime timestamps spread over the given UTC day in production order. The topic is
//! created (admin API) when absent. With `--if-empty`, a topic that already holds records is
//! left alone and its record count is reported instead.
//!
//! Output: one line `produced records=N bytes=B key_bytes=K seconds=S` (bytes = value bytes),
//! or `existing records=N` with `--if-empty` on a non-empty topic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::util::Timeout;
use rdkafka::ClientContext;

const DIMENSIONS: usize = 1536;

/// Tenants of the document-AI platform: short slugs, as the services emit them.
const COMPANIES: [&str; 20] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark-industries",
    "wayne-enterprises",
    "wonka",
    "soylent",
    "tyrell",
    "cyberdyne",
    "aperture",
    "black-mesa",
    "vandelay",
    "massive-dynamic",
    "oscorp",
    "gringotts",
    "monarch",
    "dunder-mifflin",
    "pied-piper",
];

/// Counts failed deliveries (the run fails if any record was not written).
#[derive(Debug, Default)]
struct Delivery {
    failed: AtomicU64,
}

impl ClientContext for Delivery {}
impl ProducerContext for Delivery {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            if self.failed.fetch_add(1, Ordering::Relaxed) < 5 {
                eprintln!("delivery failed: {e}");
            }
        }
    }
}

#[derive(Debug)]
struct Args {
    brokers: String,
    topic: String,
    partitions: i32,
    records: Option<u64>,
    bytes: Option<u64>,
    day: String,
    seed: u64,
    if_empty: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_produce --brokers HOST:PORT --topic NAME [--partitions 4] \
         (--records N | --bytes B) [--day 2026-11-21] [--seed 42] [--if-empty]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        brokers: "127.0.0.1:9092".into(),
        topic: "bench.embeddings.ready".into(),
        partitions: 4,
        records: None,
        bytes: None,
        day: "2026-11-21".into(),
        seed: 42,
        if_empty: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--if-empty" {
            a.if_empty = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            usage();
        }
        let Some(v) = it.next() else { usage() };
        let num = |v: &str| -> u64 {
            // Accept 1e9 and 1000000000 alike.
            v.parse::<u64>()
                .ok()
                .or_else(|| v.parse::<f64>().ok().map(|f| f as u64))
                .unwrap_or_else(|| usage())
        };
        match flag.as_str() {
            "--brokers" => a.brokers = v,
            "--topic" => a.topic = v,
            "--partitions" => a.partitions = num(&v) as i32,
            "--records" => a.records = Some(num(&v)),
            "--bytes" => a.bytes = Some(num(&v)),
            "--day" => a.day = v,
            "--seed" => a.seed = num(&v),
            _ => usage(),
        }
    }
    if a.records.is_none() && a.bytes.is_none() {
        usage();
    }
    a
}

/// Milliseconds since the epoch of 00:00 UTC on `day` (YYYY-MM-DD).
fn day_start_ms(day: &str) -> i64 {
    let parts: Vec<i64> = day.split('-').filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts[..] else {
        eprintln!("--day: expected YYYY-MM-DD, got {day}");
        std::process::exit(2)
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

/// Appends one embedding component: a signed float with 10 decimals, e.g. `-0.0123456789`
/// (magnitudes like a normalised 1536-d vector's, mostly below 0.1).
fn push_component(buf: &mut Vec<u8>, rng: &mut SmallRng) {
    use std::io::Write;
    let r: u64 = rng.random();
    if r & 1 == 1 {
        buf.push(b'-');
    }
    // 0.0000000000 .. 0.0999999999, skewed small like real embeddings.
    let mag = (r >> 1) % 1_000_000_000;
    let mag = if (r >> 40) & 3 == 0 { mag } else { mag / 3 };
    let _ = write!(buf, "0.{mag:010}");
}

fn hex_id(rng: &mut SmallRng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..len)
        .map(|_| HEX[rng.random_range(0..16)] as char)
        .collect()
}

fn ensure_topic(brokers: &str, topic: &str, partitions: i32) -> Result<bool, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = rt.block_on(admin.create_topics([&new], &opts))?;
    // One topic asked for, one result.
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | None => Ok(false),
        Some(Err((t, code))) => {
            eprintln!("create topic {t}: {code}");
            std::process::exit(1);
        }
    }
}

/// Records already in the topic (sum of high - low watermarks).
fn existing_records(brokers: &str, topic: &str) -> Result<u64, KafkaError> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let md = c.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut total = 0u64;
    for t in md.topics() {
        for p in t.partitions() {
            let (lo, hi) = c.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            total += (hi - lo).max(0) as u64;
        }
    }
    Ok(total)
}

fn main() -> Result<(), KafkaError> {
    let args = parse_args();
    let created = ensure_topic(&args.brokers, &args.topic, args.partitions)?;
    if !created && args.if_empty {
        let n = existing_records(&args.brokers, &args.topic)?;
        if n > 0 {
            println!("existing records={n}");
            return Ok(());
        }
    }
    eprintln!(
        "producing to {} ({} partitions, {})",
        args.topic,
        args.partitions,
        if created { "created" } else { "existed" }
    );

    let producer: BaseProducer<Delivery> = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "none")
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.kbytes", "65536")
        .set("message.max.bytes", "1000000")
        .create_with_context(Delivery::default())?;

    let mut rng = SmallRng::seed_from_u64(args.seed);
    let day0 = day_start_ms(&args.day);
    // Timestamps advance through the day in production order; the total count is only
    // known up front with --records, so with --bytes estimate it from a record's size.
    let approx_value = 21_600u64;
    let planned = args
        .records
        .unwrap_or_else(|| args.bytes.unwrap_or(0) / approx_value + 1)
        .max(1);
    let step_ms = 86_400_000f64 / planned as f64;

    let started = Instant::now();
    let (mut records, mut bytes, mut key_bytes) = (0u64, 0u64, 0u64);
    let mut value = Vec::with_capacity(32 * 1024);
    let mut last_report = Instant::now();
    'docs: loop {
        // One document: 5-60 chunks, all keyed by its id.
        let company = COMPANIES[rng.random_range(0..COMPANIES.len())];
        let document_id = format!("doc_{}", hex_id(&mut rng, 24));
        let chunks = rng.random_range(5..=60);
        for chunk in 0..chunks {
            let done = match (args.records, args.bytes) {
                (Some(n), _) => records >= n,
                (None, Some(b)) => bytes >= b,
                (None, None) => true,
            };
            if done {
                break 'docs;
            }
            value.clear();
            value.extend_from_slice(b"{\"chunk_id\":\"");
            value.extend_from_slice(document_id.as_bytes());
            value.extend_from_slice(format!("_c{chunk:04}\",\"document_id\":\"").as_bytes());
            value.extend_from_slice(document_id.as_bytes());
            value.extend_from_slice(b"\",\"company_id\":\"");
            value.extend_from_slice(company.as_bytes());
            value.extend_from_slice(b"\",\"vector\":[");
            for i in 0..DIMENSIONS {
                if i > 0 {
                    value.push(b',');
                }
                push_component(&mut value, &mut rng);
            }
            value.extend_from_slice(b"]}");
            let ts = day0 + ((records as f64 * step_ms) as i64).min(86_399_999);
            let mut record = BaseRecord::to(&args.topic)
                .key(document_id.as_bytes())
                .payload(&value[..])
                .timestamp(ts);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => return Err(e),
                }
            }
            producer.poll(Duration::ZERO);
            records += 1;
            bytes += value.len() as u64;
            key_bytes += document_id.len() as u64;
            if last_report.elapsed() >= Duration::from_secs(10) {
                last_report = Instant::now();
                eprintln!(
                    "  {records} records, {:.0} MB, {:.1} MB/s",
                    bytes as f64 / 1e6,
                    bytes as f64 / 1e6 / started.elapsed().as_secs_f64()
                );
            }
        }
    }
    producer.flush(Timeout::After(Duration::from_secs(300)))?;
    let in_flight = producer.in_flight_count();
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if in_flight != 0 || failed != 0 {
        eprintln!("{in_flight} records still in flight, {failed} deliveries failed");
        std::process::exit(1);
    }
    let secs = started.elapsed().as_secs_f64();
    println!("produced records={records} bytes={bytes} key_bytes={key_bytes} seconds={secs:.2}");
    Ok(())
}
