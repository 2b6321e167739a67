//! Window results to a Kafka topic, exactly once across restarts.
//!
//! **Without transactions** (the default; the test broker has none): at each checkpoint the
//! producer is flushed (every result acknowledged by the broker, `acks=all`, idempotent) and
//! the output partitions' end offsets go into the checkpoint. After a crash the job restores
//! the checkpoint and replays its input; before writing anything the sink reads the output
//! topic from the checkpointed offsets to its end and remembers every (key, value) found. A
//! replayed result that is already there is not written again. Replay is deterministic (same
//! records, same order per partition, same state), so each window result is either found or
//! written, never both. A checkpoint taken while the replay is still catching up lists the
//! results read back but not yet produced again ("pending"): they sit below the checkpointed
//! end offsets, so a restart from that checkpoint would not read them back. Consumers may see
//! a result before the checkpoint that covers it: no result is ever withdrawn, so that is
//! harmless.
//!
//! **With transactions** ([`ExactlyOnce::Transactions`]): the same, and every checkpoint
//! interval's output is one transaction committed just before the checkpoint is written, so
//! `read_committed` consumers see only results that will not be rolled back; a crash aborts
//! the open transaction (the restarted producer fences it with the same `transactional.id`).
//!
//! Late records and dead letters go to their own topics, at least once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lakeshore_core::batch::Reject;
use lakeshore_core::{CoreError, Encode, LateRecord, Result, Sink, WindowResult};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::client::{ClientOptions, Logged};

/// How output is made exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExactlyOnce {
    /// Checkpoint + read-back of what was already written (works on any broker).
    ReadBack,
    /// Read-back plus one Kafka transaction per checkpoint (`transactional.id`).
    Transactions { transactional_id: String },
}

/// What to write.
#[derive(Debug)]
pub struct KafkaSinkOptions {
    pub client: ClientOptions,
    pub topic: String,
    pub encoder: Box<dyn Encode>,
    pub late_topic: Option<String>,
    pub dead_letter_topic: Option<String>,
    pub exactly_once: ExactlyOnce,
}

#[derive(Debug, Default)]
struct Deliveries {
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

#[derive(Debug, Clone, Default)]
struct Context(Arc<Deliveries>);

impl ClientContext for Context {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        Logged.log(level, fac, message)
    }
    fn error(&self, error: KafkaError, reason: &str) {
        Logged.error(error, reason)
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, msg)) = result {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
            let text = format!("{}[{}]: {e}", msg.topic(), msg.partition());
            *self.0.last_error.lock().expect("lock") = Some(text);
        }
    }
}

/// Window results (and late records, dead letters) to Kafka.
pub struct KafkaSink {
    opts: KafkaSinkOptions,
    producer: Option<BaseProducer<Context>>,
    deliveries: Arc<Deliveries>,
    /// Results already in the topic after the restored checkpoint: (key, value) → count.
    already: HashMap<(Vec<u8>, Vec<u8>), u32>,
    skipped: u64,
    value: Vec<u8>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("topic", &self.opts.topic)
            .field("exactly_once", &self.opts.exactly_once)
            .finish()
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);
/// How long the output topic's end must stay put before a restarted run trusts its read-back.
const SETTLE: Duration = Duration::from_secs(1);

impl KafkaSink {
    pub fn new(opts: KafkaSinkOptions) -> Self {
        KafkaSink {
            opts,
            producer: None,
            deliveries: Arc::default(),
            already: HashMap::new(),
            skipped: 0,
            value: Vec::with_capacity(256),
        }
    }

    /// Results not written because a previous run had already written them.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn err(&self, what: &str, e: KafkaError) -> CoreError {
        let retryable = !matches!(
            e.rdkafka_error_code(),
            Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced)
        );
        CoreError::Sink {
            what: format!("kafka topic {} ({what})", self.opts.topic),
            reason: crate::describe(&e),
            retryable,
        }
    }

    /// A field of the restored checkpoint's sink state: absent is `None` (a checkpoint
    /// written before the field existed); present but unreadable is an error naming it — a
    /// damaged checkpoint must not silently turn into "nothing was written".
    fn restored_field<T: serde::de::DeserializeOwned>(
        &self,
        restored: Option<&serde_json::Value>,
        field: &str,
    ) -> Result<Option<T>> {
        let Some(value) = restored.and_then(|v| v.get(field)) else {
            return Ok(None);
        };
        serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| CoreError::Sink {
                what: format!("kafka topic {} (restoring the checkpoint)", self.opts.topic),
                reason: format!("its sink field `{field}` is damaged: {e}; restore an older checkpoint or remove this one to start over"),
                retryable: false,
            })
    }

    fn producer(&self) -> &BaseProducer<Context> {
        self.producer.as_ref().expect("open() before use")
    }

    fn send(&self, record: BaseRecord<'_, [u8], [u8]>) -> Result<()> {
        let mut record = record;
        loop {
            match self.producer().send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    self.producer().poll(Duration::from_millis(50));
                }
                Err((e, r)) => return Err(self.err(&format!("produce to {}", r.topic), e)),
            }
        }
    }

    /// End offset of each partition of the output topic.
    fn end_offsets(&self) -> Result<BTreeMap<i32, i64>> {
        let client = self.producer().client();
        let md = client
            .fetch_metadata(Some(&self.opts.topic), TIMEOUT)
            .map_err(|e| self.err("metadata", e))?;
        let mut out = BTreeMap::new();
        for t in md.topics().iter().filter(|t| t.name() == self.opts.topic) {
            if let Some(e) = t.error() {
                return Err(CoreError::Sink {
                    what: format!("kafka topic {}", self.opts.topic),
                    reason: format!("{e:?} (does the output topic exist?)"),
                    retryable: false,
                });
            }
            for p in t.partitions() {
                let (_, high) = client
                    .fetch_watermarks(&self.opts.topic, p.id(), TIMEOUT)
                    .map_err(|e| self.err("end offsets", e))?;
                out.insert(p.id(), high);
            }
        }
        Ok(out)
    }

    /// Reads back what a previous run wrote after its last checkpoint (`from`), then waits
    /// for the topic's end to stay put for [`SETTLE`]: a killed run's last produce request
    /// can still be in the broker's queue when its successor starts, and a result appended
    /// after the read-back would otherwise be written a second time.
    fn read_back_settled(&mut self, from: &BTreeMap<i32, i64>) -> Result<()> {
        let mut at = self.read_back(from)?;
        loop {
            std::thread::sleep(SETTLE);
            if self.end_offsets()? == at {
                return Ok(());
            }
            tracing::info!(topic = %self.opts.topic, "the output topic grew during read-back (a previous run's last writes); reading on");
            at = self.read_back(&at)?;
        }
    }

    /// Reads the output topic from `from` to its current end and remembers every result
    /// found; returns the end offsets read to.
    fn read_back(&mut self, from: &BTreeMap<i32, i64>) -> Result<BTreeMap<i32, i64>> {
        let ends = self.end_offsets()?;
        let consumer: BaseConsumer<Logged> = self
            .opts
            .client
            .config(&[
                ("group.id", "lakeshore-read-back"),
                ("enable.auto.commit", "false"),
                ("isolation.level", "read_committed"),
                ("fetch.wait.max.ms", "50"),
            ])
            .create_with_context(Logged)
            .map_err(|e| self.err("read-back consumer", e))?;
        let mut tpl = TopicPartitionList::new();
        let mut todo = BTreeMap::new();
        for (p, end) in &ends {
            let start = from.get(p).copied().unwrap_or(0);
            if start < *end {
                tpl.add_partition_offset(&self.opts.topic, *p, Offset::Offset(start))
                    .map_err(|e| self.err("read-back", e))?;
                todo.insert(*p, *end);
            }
        }
        if todo.is_empty() {
            tracing::info!(topic = %self.opts.topic, from = ?from, to = ?ends, "nothing written after the checkpoint");
            return Ok(ends);
        }
        consumer
            .assign(&tpl)
            .map_err(|e| self.err("read-back assign", e))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut found = 0u64;
        while !todo.is_empty() {
            if Instant::now() > deadline {
                return Err(CoreError::Sink {
                    what: format!("kafka topic {} (read-back)", self.opts.topic),
                    reason: format!("could not read back to the end offsets {todo:?} within 120 s"),
                    retryable: true,
                });
            }
            let Some(res) = consumer.poll(Duration::from_millis(200)) else {
                // Transaction markers take offsets too: the last records may sit below `end`.
                if let Ok(pos) = consumer.position() {
                    todo.retain(|p, end| {
                        !matches!(
                            pos.find_partition(&self.opts.topic, *p).map(|e| e.offset()),
                            Some(Offset::Offset(o)) if o >= *end
                        )
                    });
                }
                continue;
            };
            let msg = res.map_err(|e| self.err("read-back", e))?;
            let end = todo.get(&msg.partition()).copied().unwrap_or(i64::MIN);
            if msg.offset() < end {
                let key = msg.key().unwrap_or_default().to_vec();
                let value = msg.payload().unwrap_or_default().to_vec();
                *self.already.entry((key, value)).or_default() += 1;
                found += 1;
            }
            if msg.offset() + 1 >= end {
                todo.remove(&msg.partition());
            }
        }
        tracing::info!(
            topic = %self.opts.topic,
            results = found,
            from = ?from,
            to = ?ends,
            "read back the results written after the checkpoint; they will not be written again"
        );
        Ok(ends)
    }
}

impl Sink for KafkaSink {
    fn describe(&self) -> String {
        let mode = match &self.opts.exactly_once {
            ExactlyOnce::ReadBack => "exactly once by read-back".to_string(),
            ExactlyOnce::Transactions { transactional_id } => {
                format!("exactly once by transactions ({transactional_id})")
            }
        };
        format!(
            "kafka topic {} at {}, {mode}",
            self.opts.topic, self.opts.client.brokers
        )
    }

    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<()> {
        let mut defaults = vec![
            ("acks", "all"),
            ("enable.idempotence", "true"),
            ("linger.ms", "20"),
            ("message.timeout.ms", "60000"),
        ];
        if let ExactlyOnce::Transactions { transactional_id } = &self.opts.exactly_once {
            defaults.push(("transactional.id", transactional_id.as_str()));
        }
        let ctx = Context(self.deliveries.clone());
        let producer: BaseProducer<Context> = self
            .opts
            .client
            .config(&defaults)
            .create_with_context(ctx)
            .map_err(|e| self.err("create producer", e))?;
        self.producer = Some(producer);
        if matches!(self.opts.exactly_once, ExactlyOnce::Transactions { .. }) {
            self.producer()
                .init_transactions(TIMEOUT)
                .map_err(|e| self.err("init transactions", e))?;
            self.producer()
                .begin_transaction()
                .map_err(|e| self.err("begin transaction", e))?;
        }
        let from: Option<BTreeMap<i32, i64>> = self.restored_field(restored, "offsets")?;
        let pending: Vec<(Vec<u8>, Vec<u8>, u32)> = self
            .restored_field(restored, "pending")?
            .unwrap_or_default();
        if !pending.is_empty() {
            tracing::info!(
                topic = %self.opts.topic,
                results = pending.len(),
                "the checkpoint lists results already written that its replay has still to produce; they will not be written again"
            );
        }
        self.already = pending.into_iter().map(|(k, v, n)| ((k, v), n)).collect();
        match from {
            Some(from) => self.read_back_settled(&from),
            None => {
                self.end_offsets()?; // the output topic must exist
                Ok(())
            }
        }
    }

    fn emit(&mut self, result: &WindowResult) -> Result<()> {
        let mut value = std::mem::take(&mut self.value);
        value.clear();
        self.opts.encoder.value(result, &mut value);
        let key = self.opts.encoder.key(result);
        if !self.already.is_empty() {
            if let Some(n) = self.already.get_mut(&(key.to_vec(), value.clone())) {
                *n -= 1;
                if *n == 0 {
                    self.already.remove(&(key.to_vec(), value.clone()));
                }
                self.skipped += 1;
                self.value = value;
                return Ok(());
            }
        }
        let ts = self.opts.encoder.timestamp(result);
        let res = self.send(
            BaseRecord::to(&self.opts.topic)
                .key(key)
                .payload(&value[..])
                .timestamp(ts),
        );
        self.value = value;
        self.producer().poll(Duration::ZERO);
        res
    }

    fn late(&mut self, late: &LateRecord, origin: &str) -> Result<()> {
        let Some(topic) = self.opts.late_topic.clone() else {
            return Ok(());
        };
        let value = serde_json::json!({
            "record": origin,
            "partition": late.split,
            "offset": late.position,
            "key": late.key,
            "event_time": lakeshore_core::time::format_utc(late.event_time),
            "watermark": lakeshore_core::time::format_utc(late.watermark),
        })
        .to_string();
        self.send(
            BaseRecord::to(&topic)
                .key(late.key.as_bytes())
                .payload(value.as_bytes()),
        )
    }

    fn reject(&mut self, reject: &Reject) -> Result<()> {
        let Some(topic) = self.opts.dead_letter_topic.clone() else {
            return Ok(());
        };
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "lakeshore.error.reason",
                value: Some(reject.reason.as_bytes()),
            })
            .insert(Header {
                key: "lakeshore.error.origin",
                value: Some(reject.origin.as_bytes()),
            });
        let mut record = BaseRecord::to(&topic)
            .payload(&reject.payload[..])
            .headers(headers);
        if let Some(k) = &reject.key {
            record = record.key(&k[..]);
        }
        self.send(record)
    }

    fn flush(&mut self) -> Result<()> {
        let p = self.producer();
        if matches!(self.opts.exactly_once, ExactlyOnce::Transactions { .. }) {
            p.commit_transaction(TIMEOUT)
                .map_err(|e| self.err("commit transaction", e))?;
            p.begin_transaction()
                .map_err(|e| self.err("begin transaction", e))?;
        } else {
            p.flush(TIMEOUT).map_err(|e| self.err("flush", e))?;
        }
        let failed = self.deliveries.failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            let last = self.deliveries.last_error.lock().expect("lock").take();
            return Err(CoreError::Sink {
                what: format!("kafka topic {}", self.opts.topic),
                reason: format!(
                    "{failed} record(s) not delivered (last: {}); restarting from the checkpoint re-sends them",
                    last.unwrap_or_default()
                ),
                retryable: true,
            });
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<serde_json::Value> {
        let offsets = self.end_offsets()?;
        // Results read back but not yet produced again by the replay sit below `offsets`, yet
        // the checkpoint's state has not produced them: they go into the checkpoint so that a
        // restart from it still recognises them.
        let pending: Vec<(&[u8], &[u8], u32)> = self
            .already
            .iter()
            .map(|((k, v), n)| (&k[..], &v[..], *n))
            .collect();
        Ok(serde_json::json!({ "topic": self.opts.topic, "offsets": offsets, "pending": pending }))
    }
}
