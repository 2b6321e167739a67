//! Synthetic traffic of the document-AI platform, for the demo and for load tests
//! (`lakeshore gen`): documents of a few companies (some much busier than others), each
//! split into chunks and embedded, published to `documents.raw`, `chunks.processed` and
//! `embeddings.ready` with the payloads of SPEC.md.
//!
//! Like the real services, it does not publish in perfect time order: record timestamps
//! jitter by up to 3 s (within the streaming job's 5 s bound), and about one embedding in a
//! hundred is a retried upload that arrives 30–90 minutes after its time — a late record the
//! streaming job drops and counts, while the landing and the daily report keep it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};

/// The topics the generator writes, in the order a document's events go out.
pub const TOPICS: [&str; 3] = ["documents.raw", "chunks.processed", "embeddings.ready"];

/// Companies and their share of the documents.
const COMPANIES: [(&str, u32); 7] = [
    ("acme", 30),
    ("globex", 20),
    ("initech", 15),
    ("umbrella", 12),
    ("hooli", 10),
    ("stark", 8),
    ("wayne", 5),
];

/// Share of the day's documents per UTC hour: a working day with a lunch dip.
const HOURLY_PROFILE: [u32; 24] = [
    2, 1, 1, 1, 2, 3, 6, 10, 14, 16, 15, 12, 9, 13, 15, 14, 12, 9, 6, 5, 4, 3, 3, 2,
];

/// Embedding dimensions, as the embedding service produces them.
pub const DIMENSIONS: usize = 1536;

/// Distinct vectors rendered up front: formatting 1536 floats per record would make the
/// generator, not the system under test, the bottleneck of a load test.
const VECTOR_POOL: usize = 32;

/// One record to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// One of [`TOPICS`].
    pub topic: &'static str,
    /// The record key: the document id.
    pub key: String,
    /// The JSON value.
    pub value: String,
    /// The record timestamp, epoch ms (event time).
    pub timestamp_ms: i64,
}

/// Deterministic for a seed: the same seed gives the same events.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    next_document: u64,
    late_percent: f64,
    vectors: Vec<String>,
}

impl Generator {
    /// A generator; `late_percent` of the embeddings are retried uploads, 30–90 min late.
    pub fn new(seed: u64, late_percent: f64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let vectors = (0..VECTOR_POOL)
            .map(|_| {
                let mut v = String::with_capacity(DIMENSIONS * 12);
                v.push('[');
                for i in 0..DIMENSIONS {
                    if i > 0 {
                        v.push(',');
                    }
                    let x: f64 = rng.random_range(-0.2..0.2);
                    v.push_str(&format!("{x:.8}"));
                }
                v.push(']');
                v
            })
            .collect();
        Generator {
            rng,
            next_document: 0,
            late_percent,
            vectors,
        }
    }

    /// The events of the next document, created at `at_ms`: the document, then its 2–8
    /// chunks about a second apart, each embedded a second or two later. Returned in
    /// publishing order.
    pub fn document(&mut self, at_ms: i64) -> Vec<Event> {
        let n = self.next_document;
        self.next_document += 1;
        let company = self.company();
        let doc = format!("doc-{n:06}");
        let mut events = vec![Event {
            topic: TOPICS[0],
            key: doc.clone(),
            value: format!(
                r#"{{"document_id":"{doc}","company_id":"{company}","s3_path":"s3://atenex-ingest/{company}/{doc}.pdf"}}"#
            ),
            timestamp_ms: at_ms,
        }];
        let chunks = self.rng.random_range(2..=8);
        for c in 0..chunks {
            let chunk = format!("{doc}-c{c:02}");
            let page = c / 2 + 1;
            let chunked_at = at_ms + 1_000 * (c as i64 + 1) + self.jitter();
            events.push(Event {
                topic: TOPICS[1],
                key: doc.clone(),
                value: format!(
                    r#"{{"chunk_id":"{chunk}","document_id":"{doc}","company_id":"{company}","text":"Page {page} of {doc}: revenue, risks and outlook for the quarter.","page":{page}}}"#
                ),
                timestamp_ms: chunked_at,
            });
            let late = self
                .rng
                .random_bool((self.late_percent / 100.0).clamp(0.0, 1.0));
            let embedded_at = if late {
                at_ms - self.rng.random_range(30 * 60_000..90 * 60_000)
            } else {
                chunked_at + self.rng.random_range(500..2_000) + self.jitter()
            };
            let vector = &self.vectors[self.rng.random_range(0..VECTOR_POOL)];
            events.push(Event {
                topic: TOPICS[2],
                key: doc.clone(),
                value: format!(
                    r#"{{"chunk_id":"{chunk}","document_id":"{doc}","company_id":"{company}","vector":{vector}}}"#
                ),
                timestamp_ms: embedded_at,
            });
        }
        events
    }

    /// Creation times of `documents` documents over one simulated day starting at
    /// `day_start_ms`, following [`HOURLY_PROFILE`], sorted. They keep 2 hours clear of the
    /// day's start (late embeddings stay in the day) and 5 minutes clear of its end.
    pub fn day_schedule(&mut self, day_start_ms: i64, documents: usize) -> Vec<i64> {
        const HOUR: i64 = 3_600_000;
        let total: u32 = HOURLY_PROFILE.iter().sum();
        let mut times: Vec<i64> = (0..documents)
            .map(|_| {
                let mut pick = self.rng.random_range(0..total);
                let mut hour = 0;
                while pick >= HOURLY_PROFILE[hour] {
                    pick -= HOURLY_PROFILE[hour];
                    hour += 1;
                }
                let t = day_start_ms + hour as i64 * HOUR + self.rng.random_range(0..HOUR);
                t.clamp(
                    day_start_ms + 2 * HOUR,
                    day_start_ms + 24 * HOUR - 5 * 60_000,
                )
            })
            .collect();
        times.sort_unstable();
        times
    }

    /// Changes the share of late embeddings from now on.
    pub fn set_late_percent(&mut self, late_percent: f64) {
        self.late_percent = late_percent;
    }

    fn company(&mut self) -> &'static str {
        let total: u32 = COMPANIES.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.random_range(0..total);
        for (name, weight) in COMPANIES {
            if pick < weight {
                return name;
            }
            pick -= weight;
        }
        COMPANIES[0].0
    }

    /// Up to ±3 s: out of order, but within the streaming job's default 5 s bound.
    fn jitter(&mut self) -> i64 {
        self.rng.random_range(-3_000..=3_000)
    }
}

/// Counts deliveries; keeps the first failure to report it.
#[derive(Debug, Default)]
pub struct Deliveries {
    /// Records the broker acknowledged.
    pub delivered: AtomicU64,
    /// Records that could not be delivered.
    pub failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Deliveries {
    /// The first delivery error, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }
}

/// A producer context that counts deliveries.
#[derive(Debug, Clone)]
struct Counting(Arc<Deliveries>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.0.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, msg)) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.0.first_error.lock() {
                    first.get_or_insert_with(|| {
                        use rdkafka::Message;
                        format!("{} [{}]: {e}", msg.topic(), msg.partition())
                    });
                }
            }
        }
    }
}

/// An idempotent producer that counts its deliveries.
pub struct Publisher {
    producer: ThreadedProducer<Counting>,
    /// What was delivered so far.
    pub deliveries: Arc<Deliveries>,
    /// Records handed to the producer, per topic of [`TOPICS`].
    pub sent: [u64; 3],
    /// Put before each topic name (load tests on a shared cluster).
    topic_prefix: String,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("sent", &self.sent)
            .finish()
    }
}

impl Publisher {
    /// Connects to `brokers`; `extra` librdkafka settings (security, tuning) win.
    pub fn new(brokers: &str, extra: &[(String, String)]) -> anyhow::Result<Self> {
        let deliveries = Arc::new(Deliveries::default());
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("linger.ms", "20")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", "60000");
        for (k, v) in extra {
            config.set(k, v);
        }
        let producer = config
            .create_with_context(Counting(deliveries.clone()))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot create a producer for {brokers}: {}",
                    lakeshore_kafka::describe(&e)
                )
            })?;
        Ok(Publisher {
            producer,
            deliveries,
            sent: [0; 3],
            topic_prefix: String::new(),
        })
    }

    /// Publishes to `<prefix><topic>` instead of the platform's topic names.
    pub fn with_topic_prefix(mut self, prefix: &str) -> Self {
        self.topic_prefix = prefix.to_string();
        self
    }

    /// Hands `event` to the producer, waiting while its queue is full.
    pub fn send(&mut self, event: &Event) -> anyhow::Result<()> {
        let prefixed;
        let topic = if self.topic_prefix.is_empty() {
            event.topic
        } else {
            prefixed = format!("{}{}", self.topic_prefix, event.topic);
            &prefixed
        };
        let mut record = BaseRecord::to(topic)
            .key(&event.key)
            .payload(&event.value)
            .timestamp(event.timestamp_ms);
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => anyhow::bail!("cannot produce to {topic}: {e}"),
            }
        }
        if let Some(i) = TOPICS.iter().position(|t| *t == event.topic) {
            self.sent[i] += 1;
        }
        Ok(())
    }

    /// Waits until every record is delivered or failed; an error if any failed.
    pub fn flush(&self, timeout: Duration) -> anyhow::Result<()> {
        self.producer
            .flush(timeout)
            .map_err(|e| anyhow::anyhow!("flushing the producer: {e}"))?;
        let failed = self.deliveries.failed.load(Ordering::Relaxed);
        if failed > 0 {
            anyhow::bail!(
                "{failed} records were not delivered; the first: {}",
                self.deliveries.first_error().unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Records handed to the producer, all topics.
    pub fn total_sent(&self) -> u64 {
        self.sent.iter().sum()
    }
}

/// `lakeshore gen`: synthetic traffic at a steady rate, with wall-clock timestamps.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # One minute at 500 records/s against a test broker:
  lakeshore gen --brokers 127.0.0.1:9092 --rate 500 --duration 60s

  # Until Ctrl-C, through SASL (any librdkafka setting with --kafka-option):
  lakeshore gen --brokers b1:9096 --rate 2000 --duration 0s \\
      --kafka-option security.protocol=SASL_SSL --kafka-option sasl.mechanism=SCRAM-SHA-512")]
pub struct GenArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "LAKESHORE_BROKERS")]
    pub brokers: String,

    /// Records per second, all three topics together (one document is about 11 records,
    /// half of them 17 KB embeddings).
    #[arg(long, default_value_t = 200)]
    pub rate: u32,

    /// How long to publish (`0s`: until SIGTERM/SIGINT).
    #[arg(long, default_value = "60s", value_parser = lakeshore_core::time::parse_duration)]
    pub duration: Duration,

    /// Percent of embeddings that are retried uploads, 30–90 minutes late.
    #[arg(long, default_value_t = 1.0)]
    pub late_percent: f64,

    /// Seed of the generator (the same seed gives the same documents).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Put this before each topic name, e.g. `loadtest.` publishes to
    /// `loadtest.documents.raw`, ... (the topics must exist or be auto-created).
    #[arg(long, default_value = "")]
    pub topic_prefix: String,

    /// Extra librdkafka setting, e.g. `security.protocol=SASL_SSL` (repeatable).
    #[arg(long = "kafka-option", value_name = "KEY=VALUE")]
    pub kafka_options: Vec<String>,
}

/// Publishes at `args.rate` until the duration is over or `stop` is set; returns the
/// publisher (its counts) after flushing.
pub fn run(args: &GenArgs, stop: &std::sync::atomic::AtomicBool) -> anyhow::Result<Publisher> {
    let mut publisher = Publisher::new(
        &args.brokers,
        &lakeshore_kafka::parse_options(&args.kafka_options).map_err(anyhow::Error::msg)?,
    )?
    .with_topic_prefix(&args.topic_prefix);
    let mut generator = Generator::new(args.seed, args.late_percent);
    let started = Instant::now();
    let rate = f64::from(args.rate.max(1));
    let mut last_report = Instant::now();
    while !stop.load(Ordering::Relaxed)
        && (args.duration.is_zero() || started.elapsed() < args.duration)
    {
        for event in generator.document(chrono::Utc::now().timestamp_millis()) {
            publisher.send(&event)?;
        }
        // Hold the rate: sleep until the records sent so far are due.
        let due = Duration::from_secs_f64(publisher.total_sent() as f64 / rate);
        if let Some(ahead) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(ahead);
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            tracing::info!(
                sent = publisher.total_sent(),
                delivered = publisher.deliveries.delivered.load(Ordering::Relaxed),
                failed = publisher.deliveries.failed.load(Ordering::Relaxed),
                "publishing"
            );
        }
    }
    publisher.flush(Duration::from_secs(60))?;
    Ok(publisher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_events_and_payloads_follow_the_spec() {
        let mut a = Generator::new(7, 1.0);
        let mut b = Generator::new(7, 1.0);
        let (ea, eb) = (a.document(1_000_000), b.document(1_000_000));
        assert_eq!(ea, eb);
        assert_eq!(ea[0].topic, "documents.raw");
        for e in &ea {
            let v: serde_json::Value = serde_json::from_str(&e.value).unwrap();
            assert_eq!(v["document_id"], e.key.as_str());
            assert!(v["company_id"].is_string());
            match e.topic {
                "documents.raw" => assert!(v["s3_path"].is_string()),
                "chunks.processed" => {
                    assert!(v["chunk_id"].is_string() && v["text"].is_string());
                    assert!(v["page"].is_u64());
                }
                "embeddings.ready" => {
                    assert_eq!(v["vector"].as_array().unwrap().len(), DIMENSIONS);
                    assert!(e.value.len() > 15_000, "{} bytes", e.value.len());
                }
                other => panic!("unexpected topic {other}"),
            }
        }
        let chunks = ea.iter().filter(|e| e.topic == "chunks.processed").count();
        let embeddings = ea.iter().filter(|e| e.topic == "embeddings.ready").count();
        assert!((2..=8).contains(&chunks));
        assert_eq!(chunks, embeddings);
    }

    #[test]
    fn out_of_order_within_bound_and_late_ones_far_behind() {
        let mut g = Generator::new(3, 10.0);
        let (mut late, mut on_time) = (0, 0);
        for d in 0..500 {
            let at = 10_000_000_000 + d * 600_000;
            for e in g
                .document(at)
                .iter()
                .filter(|e| e.topic == "embeddings.ready")
            {
                let behind = at - e.timestamp_ms;
                if behind >= 30 * 60_000 {
                    assert!(behind < 90 * 60_000);
                    late += 1;
                } else {
                    // Within 3 s jitter of the chunk, itself after the document.
                    assert!(e.timestamp_ms > at - 6_000, "{behind}");
                    on_time += 1;
                }
            }
        }
        let share = f64::from(late) / f64::from(late + on_time);
        assert!((0.07..0.13).contains(&share), "late share {share}");
    }

    #[test]
    fn day_schedule_stays_inside_the_day_and_is_sorted() {
        let mut g = Generator::new(1, 1.0);
        let start = 1_763_769_600_000; // 2025-11-22T00:00Z
        let times = g.day_schedule(start, 1000);
        assert_eq!(times.len(), 1000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(times[0] >= start + 2 * 3_600_000);
        assert!(*times.last().unwrap() <= start + 24 * 3_600_000 - 5 * 60_000);
        // The working day is busier than the night.
        let hour = |h: i64| {
            times
                .iter()
                .filter(|t| (**t - start) / 3_600_000 == h)
                .count()
        };
        assert!(hour(9) > 3 * hour(3), "{} vs {}", hour(9), hour(3));
    }
}
