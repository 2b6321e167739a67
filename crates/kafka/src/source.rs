//! A Kafka topic as a source of the execution core: one split per partition.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use lakeshore_core::batch::{EventTime, RecordDecoder, SplitId};
use lakeshore_core::{CoreError, Poll, Result, Source};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::client::{ClientOptions, EndOffsets};

/// Where a job without a checkpoint starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// The consumer group's committed offsets, or the earliest offset where there are none.
    Committed,
    Earliest,
    Latest,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct KafkaSourceOptions {
    pub client: ClientOptions,
    pub topic: String,
    /// Consumer group: offsets are committed there after each checkpoint (for lag monitoring
    /// and for [`StartFrom::Committed`]); positions themselves come from the checkpoint.
    pub group: String,
    pub key_field: String,
    pub start: StartFrom,
    /// Bounded run: records with timestamps in `[from, to)` (ms), located with
    /// `offsetsForTimes`; the source ends when every partition has passed `to`.
    pub range: Option<(i64, i64)>,
    /// Most records in one batch.
    pub batch_records: usize,
}

/// One split per partition of `topic`.
pub struct KafkaSource {
    opts: KafkaSourceOptions,
    consumer: Option<BaseConsumer<EndOffsets>>,
    /// Partition end offsets, from the consumer's statistics.
    ends: EndOffsets,
    decoder: RecordDecoder,
    /// Next offset to read, per partition.
    positions: BTreeMap<i32, i64>,
    /// Next offset after the batches handed to the pipeline, per partition: what a checkpoint
    /// may record (batches still queued in `pending` have not been counted yet).
    delivered: BTreeMap<i32, i64>,
    /// Bounded runs: the first offset not to read, per partition.
    stops: BTreeMap<i32, i64>,
    finished: BTreeMap<i32, bool>,
    pending: VecDeque<Poll>,
    ended: bool,
    last_error: Option<(String, Instant)>,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource")
            .field("topic", &self.opts.topic)
            .field("positions", &self.positions)
            .field("stops", &self.stops)
            .finish()
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

fn kafka_err(what: String, e: KafkaError) -> CoreError {
    CoreError::Source {
        what,
        reason: crate::describe(&e),
        retryable: true,
    }
}

impl KafkaSource {
    pub fn new(opts: KafkaSourceOptions) -> Self {
        let decoder = RecordDecoder::new(&opts.key_field, EventTime::RecordTimestamp, opts.range);
        KafkaSource {
            opts,
            consumer: None,
            decoder,
            positions: BTreeMap::new(),
            delivered: BTreeMap::new(),
            stops: BTreeMap::new(),
            finished: BTreeMap::new(),
            pending: VecDeque::new(),
            ended: false,
            last_error: None,
            ends: EndOffsets::default(),
        }
    }

    fn consumer(&self) -> &BaseConsumer<EndOffsets> {
        self.consumer.as_ref().expect("open() before use")
    }

    fn what(&self) -> String {
        format!(
            "kafka topic {} at {}",
            self.opts.topic, self.opts.client.brokers
        )
    }

    /// Offsets of the first record at or after `ts` per partition; `None` where there is none.
    fn offsets_for_time(&self, partitions: &[i32], ts: i64) -> Result<BTreeMap<i32, Option<i64>>> {
        let mut tpl = TopicPartitionList::new();
        for p in partitions {
            tpl.add_partition_offset(&self.opts.topic, *p, Offset::Offset(ts))
                .map_err(|e| kafka_err(self.what(), e))?;
        }
        let found = self
            .consumer()
            .offsets_for_times(tpl, TIMEOUT)
            .map_err(|e| kafka_err(format!("{} (offsets for time {ts})", self.what()), e))?;
        Ok(found
            .elements()
            .iter()
            .map(|e| {
                let off = match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                };
                (e.partition(), off)
            })
            .collect())
    }

    fn finish_batch(&mut self, partition: i32) {
        if !self.decoder.is_empty() {
            let next = self.positions[&partition];
            self.pending
                .push_back(Poll::Batch(self.decoder.finish(partition as SplitId, next)));
        }
    }

    fn check_finished(&mut self, partition: i32) {
        let consumer = self.consumer.take();
        self.check_finished_with(consumer.as_ref(), partition);
        self.consumer = consumer;
    }

    fn check_finished_with(&mut self, consumer: Option<&BaseConsumer<EndOffsets>>, partition: i32) {
        if let Some(stop) = self.stops.get(&partition) {
            let done = self.positions.get(&partition).is_some_and(|p| p >= stop);
            let was = self.finished.insert(partition, done).unwrap_or(false);
            if done && !was {
                self.pending.push_back(Poll::Finished(partition as SplitId));
                // Nothing more to read there: stop fetching it.
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition(&self.opts.topic, partition);
                if let Some(c) = consumer {
                    let _ = c.pause(&tpl);
                }
            }
        }
    }
}

impl Source for KafkaSource {
    fn describe(&self) -> String {
        match self.opts.range {
            Some((from, to)) => format!(
                "{} from {} to {}",
                self.what(),
                lakeshore_core::time::format_utc(from),
                lakeshore_core::time::format_utc(to)
            ),
            None => self.what(),
        }
    }

    fn bounded(&self) -> bool {
        self.opts.range.is_some()
    }

    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<Vec<SplitId>> {
        let consumer: BaseConsumer<EndOffsets> = self
            .opts
            .client
            .config(&[
                ("group.id", self.opts.group.as_str()),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                ("auto.offset.reset", "earliest"),
                ("fetch.wait.max.ms", "100"),
                ("queued.max.messages.kbytes", "16384"),
                // Partition end offsets for the lag on /metrics and the status page.
                ("statistics.interval.ms", "2000"),
            ])
            .create_with_context(self.ends.clone())
            .map_err(|e| kafka_err(self.what(), e))?;
        let md = consumer
            .fetch_metadata(Some(&self.opts.topic), TIMEOUT)
            .map_err(|e| kafka_err(self.what(), e))?;
        let partitions: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.name() == self.opts.topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(CoreError::Source {
                what: self.what(),
                reason: "the topic does not exist (or has no partitions)".into(),
                retryable: false,
            });
        }
        self.consumer = Some(consumer);

        let restored: BTreeMap<i32, i64> = restored
            .and_then(|v| v.get("partitions"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let committed: BTreeMap<i32, i64> =
            if restored.is_empty() && self.opts.start == StartFrom::Committed {
                let mut tpl = TopicPartitionList::new();
                for p in &partitions {
                    tpl.add_partition(&self.opts.topic, *p);
                }
                self.consumer()
                    .committed_offsets(tpl, TIMEOUT)
                    .map_err(|e| kafka_err(format!("{} (committed offsets)", self.what()), e))?
                    .elements()
                    .iter()
                    .filter_map(|e| match e.offset() {
                        Offset::Offset(o) => Some((e.partition(), o)),
                        _ => None,
                    })
                    .collect()
            } else {
                BTreeMap::new()
            };
        if !committed.is_empty() {
            tracing::warn!(
                group = %self.opts.group,
                "no checkpoint to restore: starting from the group's committed offsets; windows that were open when the previous run stopped will miss the records before those offsets"
            );
        }
        let (starts, stops) = match self.opts.range {
            Some((from, to)) => (
                Some(self.offsets_for_time(&partitions, from)?),
                Some(self.offsets_for_time(&partitions, to)?),
            ),
            None => (None, None),
        };

        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            let (low, high) = self
                .consumer()
                .fetch_watermarks(&self.opts.topic, p, TIMEOUT)
                .map_err(|e| kafka_err(format!("{}[{p}] (watermarks)", self.what()), e))?;
            let start = if let Some(o) = restored.get(&p) {
                *o
            } else if let Some(starts) = &starts {
                starts[&p].unwrap_or(high)
            } else if let Some(o) = committed.get(&p) {
                *o
            } else {
                match self.opts.start {
                    StartFrom::Latest => high,
                    StartFrom::Earliest | StartFrom::Committed => low,
                }
            };
            let start = start.max(low);
            if let Some(stops) = &stops {
                // The first offset at or after `to`; none (nothing that late yet) means the
                // current end. An answer at or before the start is not trusted (some brokers
                // answer 0 for "none"): read to the current end then; records past `to` are
                // filtered by timestamp either way, so this costs reading, never correctness.
                let stop = match stops[&p] {
                    Some(o) if o > start => o.min(high),
                    _ => high,
                };
                self.stops.insert(p, stop);
            }
            self.positions.insert(p, start);
            self.delivered.insert(p, start);
            tpl.add_partition_offset(&self.opts.topic, p, Offset::Offset(start))
                .map_err(|e| kafka_err(self.what(), e))?;
            tracing::info!(topic = %self.opts.topic, partition = p, start, low, high, stop = ?self.stops.get(&p), "partition assigned");
        }
        self.consumer()
            .assign(&tpl)
            .map_err(|e| kafka_err(format!("{} (assign)", self.what()), e))?;
        for &p in &partitions {
            self.check_finished(p);
        }
        Ok(partitions.iter().map(|p| *p as SplitId).collect())
    }

    fn poll(&mut self, timeout: Duration) -> Result<Poll> {
        let next = self.next_event(timeout)?;
        if let Poll::Batch(b) = &next {
            self.delivered.insert(b.split as i32, b.next_position);
        }
        Ok(next)
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({ "topic": self.opts.topic, "partitions": self.delivered })
    }

    fn checkpointed(&mut self, _snapshot: &serde_json::Value) {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &self.delivered {
            let _ = tpl.add_partition_offset(&self.opts.topic, *p, Offset::Offset(*o));
        }
        if let Err(e) = self.consumer().commit(&tpl, CommitMode::Async) {
            tracing::debug!(error = %e, "committing offsets to the group (for lag monitoring) failed");
        }
    }

    fn backlog(&self) -> Vec<(SplitId, i64)> {
        let Ok(ends) = self.ends.0.lock() else {
            return Vec::new();
        };
        self.positions
            .iter()
            .filter_map(|(p, next)| Some((*p as SplitId, (ends.get(p)? - next).max(0))))
            .collect()
    }

    fn locate(&self, split: SplitId, position: i64) -> String {
        format!("{}[{split}]@{position}", self.opts.topic)
    }
}

impl KafkaSource {
    /// The next batch, finished split or end: queued ones first, else read more.
    fn next_event(&mut self, timeout: Duration) -> Result<Poll> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(p);
        }
        if !self.stops.is_empty() && self.finished.values().all(|f| *f) {
            if self.ended {
                return Ok(Poll::Idle);
            }
            self.ended = true;
            return Ok(Poll::End);
        }
        let consumer = self.consumer.take().expect("open() before poll()");
        let res = self.read(&consumer, timeout);
        self.consumer = Some(consumer);
        res?;
        Ok(self.pending.pop_front().unwrap_or(Poll::Idle))
    }

    /// Reads up to a batch worth of records, queueing batches and finished splits.
    fn read(&mut self, consumer: &BaseConsumer<EndOffsets>, timeout: Duration) -> Result<()> {
        let mut current: Option<i32> = None;
        let mut wait = timeout;
        while self.decoder.len() < self.opts.batch_records {
            let Some(res) = consumer.poll(wait) else {
                break;
            };
            wait = Duration::ZERO;
            let msg = match res {
                Ok(m) => m,
                Err(KafkaError::PartitionEOF(p)) => {
                    if let Some(c) = current.take() {
                        self.finish_batch(c);
                    }
                    self.check_finished_with(Some(consumer), p);
                    continue;
                }
                Err(e) => {
                    // librdkafka retries broker and network errors itself; say so once a
                    // minute rather than once a poll.
                    let text = e.to_string();
                    let repeat = self.last_error.as_ref().is_some_and(|(t, at)| {
                        *t == text && at.elapsed() < Duration::from_secs(60)
                    });
                    if !repeat {
                        tracing::warn!(source = %self.what(), error = %text, "consumer error (retrying)");
                        self.last_error = Some((text, Instant::now()));
                    }
                    break;
                }
            };
            let (p, offset) = (msg.partition(), msg.offset());
            if self.stops.get(&p).is_some_and(|s| offset >= *s) {
                continue; // past the end of a bounded range
            }
            if current.is_some_and(|c| c != p) {
                let c = current.take().expect("checked");
                self.finish_batch(c);
                self.check_finished_with(Some(consumer), c);
            }
            current = Some(p);
            self.positions.insert(p, offset + 1);
            let topic = &self.opts.topic;
            let origin = || format!("{topic}[{p}]@{offset}");
            match msg.payload() {
                Some(payload) => self.decoder.push(
                    p as SplitId,
                    offset,
                    payload,
                    msg.timestamp().to_millis(),
                    msg.key(),
                    origin,
                ),
                None => self
                    .decoder
                    .push(p as SplitId, offset, b"null", None, msg.key(), origin),
            }
        }
        if let Some(c) = current {
            self.finish_batch(c);
            self.check_finished_with(Some(consumer), c);
        }
        Ok(())
    }
}
