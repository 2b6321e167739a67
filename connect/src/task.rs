//! One sink task: a Kafka consumer of the group `connect-<name>` on its own thread.
//!
//! The consumer is driven synchronously (`BaseConsumer::poll`) so that partition assignment
//! happens inside librdkafka's rebalance callback, where we can recover each newly assigned
//! partition from its commit log and assign it *at the recovered offset*: no record of a
//! partition is ever delivered before we know where its committed data ends. Storage calls
//! run on the process's tokio runtime (`Handle::block_on`); the task thread never holds its
//! state lock across `poll`, which is where the rebalance callback runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientConfig, ClientContext, Message, Offset, TopicPartitionList};
use tracing::{debug, error, info, warn};

use crate::commit::{next_head, CommitOutcome, LogSettings, PartitionLog, Unwritten};
use crate::config::{NullBehavior, SinkConfig, TopicSelection};
use crate::error::{RecordError, SinkError};
use crate::events::{add, Metrics};
use crate::hints::Hints;
use crate::markers::Markers;
use crate::transform::RecordMeta;
use crate::writer::PartitionBuffer;
use lakeshore_storage::Store;

/// What every task of a process shares.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub cfg: Arc<SinkConfig>,
    /// The store.
    pub store: Store,
    /// Runtime for storage calls.
    pub rt: tokio::runtime::Handle,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Set on SIGTERM/SIGINT: commit and stop.
    pub stop: Arc<AtomicBool>,
    /// Where logs and in-flight files live.
    pub log_settings: LogSettings,
    /// Completeness markers.
    pub markers: Markers,
}

type Key = (String, i32);

/// A commit running on the runtime while the task consumes on.
#[derive(Debug)]
struct InFlight {
    handle: AbortOnDrop,
    start: i64,
    end: i64,
    records: u64,
    bytes: u64,
    files: u64,
    started: Instant,
    /// Bytes of its files still in memory (not yet written to `+tmp`).
    unwritten: Unwritten,
}

type CommitHandle = tokio::task::JoinHandle<Result<CommitOutcome, SinkError>>;

/// Never leaves a commit running detached (e.g. when the task stops on an error). Aborting a
/// commit is safe: it either claimed its slot (the next owner rolls it forward) or not.
#[derive(Debug)]
struct AbortOnDrop(Option<CommitHandle>);

impl AbortOnDrop {
    fn is_finished(&self) -> bool {
        self.0.as_ref().is_none_or(|h| h.is_finished())
    }

    fn take(mut self) -> CommitHandle {
        self.0.take().expect("handle present until taken")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}

#[derive(Debug, Default)]
struct TaskState {
    parts: HashMap<Key, PartitionBuffer>,
    inflight: HashMap<Key, InFlight>,
    /// The partitions' `head.json` hints, written behind their commits.
    hints: Hints,
    fatal: Option<SinkError>,
    dlq_pending: bool,
    /// Line scratch buffer (compaction, inserted fields), reused across records.
    scratch: Vec<u8>,
}

/// Counts failed dead-letter deliveries: a record is only skipped once its dead letter is safe.
#[derive(Debug, Default)]
struct DlqContext {
    failed: AtomicU64,
}

impl ClientContext for DlqContext {}
impl ProducerContext for DlqContext {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            error!(error = %e, "dead-letter delivery failed");
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The consumer's context: owns the task's state so the rebalance callback can commit and
/// recover partitions.
pub struct TaskContext {
    shared: Arc<Shared>,
    writer: String,
    state: Mutex<TaskState>,
    dlq: Option<BaseProducer<DlqContext>>,
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("writer", &self.writer)
            .finish()
    }
}

impl ClientContext for TaskContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => error!(target: "librdkafka", fac, "{log_message}"),
            RDKafkaLogLevel::Warning => warn!(target: "librdkafka", fac, "{log_message}"),
            _ => debug!(target: "librdkafka", fac, "{log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        warn!(target: "librdkafka", error = %error, "{reason}");
    }

    /// librdkafka's statistics (every `statistics.interval.ms`): each assigned partition's
    /// end offset, for its lag on the status page and in /metrics.
    fn stats(&self, statistics: rdkafka::Statistics) {
        let state = self.state.lock().expect("task state");
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                let key = (topic.clone(), *partition);
                if let Some(buffer) = state.parts.get(&key) {
                    self.shared.metrics.partition_seen(
                        topic,
                        *partition,
                        p.hi_offset,
                        buffer.open_files(),
                    );
                }
            }
        }
    }
}

impl ConsumerContext for TaskContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let mut state = self.state.lock().expect("task state");
        let keys: Vec<Key> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                for (topic, partition) in keys {
                    match self.recover(&topic, partition) {
                        Ok(buffer) => {
                            let offset = match buffer.next_needed() {
                                Some(next) => Offset::Offset(next),
                                // Never landed by Lakeshore: resume where the group's committed
                                // offset says (e.g. after Confluent's connector), else from
                                // the earliest record.
                                None => Offset::Stored,
                            };
                            info!(%topic, partition, ?offset, "partition assigned");
                            self.shared.metrics.partition_assigned(
                                &topic,
                                partition,
                                buffer.next_needed(),
                            );
                            let _ = tpl.set_partition_offset(&topic, partition, offset);
                            state.parts.insert((topic, partition), buffer);
                        }
                        Err(e) => {
                            error!(%topic, partition, error = %e, "cannot recover partition; stopping");
                            state.fatal.get_or_insert(e);
                        }
                    }
                }
                if state.fatal.is_some() {
                    return;
                }
                let result = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = result {
                    state.fatal.get_or_insert(SinkError::Kafka {
                        context: "assign partitions".into(),
                        source: e,
                    });
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                // Land what we have before another process takes over: start every revoked
                // partition's commit, then wait for them all (they run in parallel). A fenced
                // or failed commit only means the new owner reads those records again.
                for key in &keys {
                    if let Err(e) = self.commit_partition(consumer, &mut state, key, false) {
                        warn!(topic = %key.0, partition = key.1, error = %e, "commit on revoke failed; the new owner will re-read");
                    }
                }
                for key in &keys {
                    if let Err(e) = self.finish_inflight(consumer, &mut state, key) {
                        warn!(topic = %key.0, partition = key.1, error = %e, "commit on revoke failed; the new owner will re-read");
                    }
                    state.parts.remove(key);
                    self.shared.metrics.partition_revoked(&key.0, key.1);
                    info!(topic = %key.0, partition = key.1, "partition revoked");
                }
                // The new owner's recovery starts from the hints: bring them up to date.
                state.hints.flush(&self.shared.rt, &keys);
                let result = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = result {
                    warn!(error = %e, "unassign failed");
                }
            }
            other => {
                error!(error = ?other, "rebalance error");
                let _ = consumer.unassign();
            }
        }
    }
}

impl TaskContext {
    fn log(&self, topic: &str, partition: i32) -> PartitionLog {
        PartitionLog::new(
            self.shared.store.clone(),
            &self.shared.log_settings,
            topic,
            partition,
            self.writer.clone(),
        )
    }

    fn recover(&self, topic: &str, partition: i32) -> Result<PartitionBuffer, SinkError> {
        let started = Instant::now();
        let recovered = self
            .shared
            .rt
            .block_on(self.log(topic, partition).recover())?;
        add(&self.shared.metrics.recoveries, 1);
        info!(
            topic,
            partition,
            next = recovered.head.as_ref().map(|h| h.next),
            walked = recovered.walked,
            removed_tmp = recovered.removed_tmp,
            kept_tmp = recovered.kept_tmp,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "recovered partition from its commit log"
        );
        let mut buffer = PartitionBuffer::new(topic.to_string(), partition, recovered.head);
        buffer.gc_tmp = recovered.kept_tmp > 0;
        Ok(buffer)
    }

    /// Starts committing one partition's pending range on the runtime and returns at once:
    /// the task keeps consuming while HDFS works (each close waits for the NameNode). At most
    /// one commit per partition is in flight; the partition's next range is buffered on the
    /// head the in-flight commit will produce, and a new commit first finishes the previous
    /// one. With `wait`, the commit is finished before returning (revoke, shutdown).
    fn commit_partition(
        &self,
        consumer: &BaseConsumer<Self>,
        state: &mut TaskState,
        key: &Key,
        wait: bool,
    ) -> Result<(), SinkError> {
        self.finish_inflight(consumer, state, key)?;
        if state.dlq_pending {
            self.flush_dlq()?;
            state.dlq_pending = false;
        }
        let cfg = &self.shared.cfg;
        let Some(buffer) = state.parts.get_mut(key) else {
            return Ok(());
        };
        let Some(range) = buffer.take(&cfg.topics_dir, cfg.zero_pad_width) else {
            return Ok(());
        };
        let bytes: usize = range.files.iter().map(|f| f.bytes.content_length()).sum();
        let unwritten = Unwritten::new(bytes);
        let next = next_head(
            buffer.head.as_ref(),
            range.start,
            range.end,
            range.min_ts,
            range.max_ts,
        );
        let inflight = InFlight {
            start: range.start,
            end: range.end,
            records: range.files.iter().map(|f| f.records).sum(),
            bytes: bytes as u64,
            files: range.files.len() as u64,
            started: Instant::now(),
            unwritten: unwritten.clone(),
            handle: AbortOnDrop(Some({
                let log = self.log(&key.0, key.1);
                let head = buffer.head.clone();
                self.shared
                    .rt
                    .spawn(async move { log.commit(head.as_ref(), range, unwritten).await })
            })),
        };
        buffer.head = Some(next);
        state.inflight.insert(key.clone(), inflight);
        if wait {
            self.finish_inflight(consumer, state, key)?;
        }
        Ok(())
    }

    /// Finishes the partition's in-flight commit, if any: counts it, or, when another writer
    /// won the claim, drops everything buffered for the partition and seeks to the winner's end.
    fn finish_inflight(
        &self,
        consumer: &BaseConsumer<Self>,
        state: &mut TaskState,
        key: &Key,
    ) -> Result<(), SinkError> {
        let Some(inflight) = state.inflight.remove(key) else {
            return Ok(());
        };
        let waits = !inflight.handle.is_finished();
        let waiting = Instant::now();
        let joined = self.shared.rt.block_on(inflight.handle.take());
        if waits {
            let waited_ms = waiting.elapsed().as_millis() as u64;
            add(&self.shared.metrics.commit_wait_millis, waited_ms);
            debug!(topic = %key.0, partition = key.1, waited_ms, "waited for the partition's previous commit");
        }
        let result = match joined {
            Ok(r) => r,
            Err(e) => Err(SinkError::CorruptLog {
                path: format!("{}/{}", key.0, key.1),
                message: format!("commit task failed: {e}"),
            }),
        };
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                // The partition's next range was buffered on the head this commit would have
                // produced: committing it would leave a gap in the chain. Forget the partition
                // here; whoever owns it next recovers from the log.
                state.parts.remove(key);
                return Err(e);
            }
        };
        let m = &self.shared.metrics;
        let Some(buffer) = state.parts.get_mut(key) else {
            return Ok(());
        };
        match outcome {
            CommitOutcome::Committed { head } => {
                let next = head.next;
                let took_ms = inflight.started.elapsed().as_millis() as u64;
                m.committed(&key.0, key.1, next, inflight.records, took_ms);
                add(&m.bytes_landed, inflight.bytes);
                add(&m.files_committed, inflight.files);
                debug!(topic = %key.0, partition = key.1, start = inflight.start, end = inflight.end, records = inflight.records, files = inflight.files, elapsed_ms = took_ms, "committed");
                if buffer.gc_tmp {
                    // The open slot's leftovers are now below the chain head: remove them.
                    let log = self.log(&key.0, key.1);
                    match self.shared.rt.block_on(log.remove_stale_tmp(Some(next))) {
                        Ok(_) => buffer.gc_tmp = false,
                        Err(e) => {
                            warn!(topic = %key.0, partition = key.1, error = %e, "cannot clean +tmp; will retry")
                        }
                    }
                }
                state.hints.committed(key, head, || self.log(&key.0, key.1));
                self.shared.markers.touched(&key.0);
                // Kafka's committed offsets are for lag monitoring only; the commit log is
                // the source of truth.
                let mut tpl = TopicPartitionList::new();
                let _ = tpl.add_partition_offset(&key.0, key.1, Offset::Offset(next));
                if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
                    debug!(error = %e, "offset commit (monitoring only) failed");
                }
            }
            CommitOutcome::Fenced { head } => {
                add(&m.commits_fenced, 1);
                warn!(topic = %key.0, partition = key.1, start = inflight.start, end = inflight.end, resume = head.next, "another writer committed this range first; discarding ours");
                let next = head.next;
                buffer.reset(head);
                state.hints.fenced(key);
                if let Err(e) =
                    consumer.seek(&key.0, key.1, Offset::Offset(next), Duration::from_secs(10))
                {
                    return Err(SinkError::Kafka {
                        context: format!("seek {}/{} to {next} after fencing", key.0, key.1),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    /// Finishes every in-flight commit that is done (or all of them, with `all`).
    fn finish_done(&self, consumer: &BaseConsumer<Self>, state: &mut TaskState, all: bool) {
        let keys: Vec<Key> = state
            .inflight
            .iter()
            .filter(|(_, f)| all || f.handle.is_finished())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Err(e) = self.finish_inflight(consumer, state, &key) {
                state.fatal.get_or_insert(e);
            }
        }
        state.hints.pump(&self.shared.rt);
    }

    fn flush_dlq(&self) -> Result<(), SinkError> {
        let Some(p) = &self.dlq else { return Ok(()) };
        p.flush(Duration::from_secs(60))
            .map_err(|e| SinkError::Kafka {
                context: "flush dead-letter topic".into(),
                source: e,
            })?;
        let failed = p.context().failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            return Err(SinkError::Kafka {
                context: format!(
                    "{failed} dead-letter deliveries failed; not skipping those records"
                ),
                source: KafkaError::Canceled,
            });
        }
        Ok(())
    }

    /// Routes one record that cannot be landed, as `errors.*` says.
    fn bad_record(
        &self,
        state: &mut TaskState,
        msg: &BorrowedMessage<'_>,
        reason: RecordError,
        now: i64,
    ) {
        let cfg = &self.shared.cfg;
        let (topic, partition, offset) = (msg.topic(), msg.partition(), msg.offset());
        add(&self.shared.metrics.bad_records, 1);
        if !cfg.errors.tolerate {
            error!(topic, partition, offset, %reason, "bad record and errors.tolerance=none: stopping");
            state.fatal.get_or_insert(SinkError::BadRecord {
                topic: topic.into(),
                partition,
                offset,
                reason,
            });
            return;
        }
        if cfg.errors.log {
            let value = cfg
                .errors
                .log_messages
                .then(|| String::from_utf8_lossy(msg.payload().unwrap_or_default()).into_owned());
            warn!(topic, partition, offset, %reason, value, "bad record skipped");
        }
        if let (Some(p), Some(dlq)) = (&self.dlq, &cfg.errors.dead_letter_topic) {
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(dlq);
            if let Some(k) = msg.key() {
                record = record.key(k);
            }
            if let Some(v) = msg.payload() {
                record = record.payload(v);
            }
            if cfg.errors.context_headers {
                let (p_s, o_s) = (partition.to_string(), offset.to_string());
                let headers = OwnedHeaders::new()
                    .insert(Header {
                        key: "__connect.errors.topic",
                        value: Some(topic),
                    })
                    .insert(Header {
                        key: "__connect.errors.partition",
                        value: Some(&p_s),
                    })
                    .insert(Header {
                        key: "__connect.errors.offset",
                        value: Some(&o_s),
                    })
                    .insert(Header {
                        key: "__connect.errors.exception.message",
                        value: Some(&reason.0),
                    });
                record = record.headers(headers);
            }
            if let Err((e, _)) = p.send(record) {
                state.fatal.get_or_insert(SinkError::Kafka {
                    context: format!("dead-letter {topic}/{partition}@{offset}"),
                    source: e,
                });
                return;
            }
            p.poll(Duration::ZERO);
            state.dlq_pending = true;
            add(&self.shared.metrics.dead_lettered, 1);
        }
        if let Some(b) = state.parts.get_mut(&(topic.to_string(), partition)) {
            b.skip(offset, now);
        }
    }

    /// Lands one consumed record into its partition's buffer.
    fn handle(&self, consumer: &BaseConsumer<Self>, msg: &BorrowedMessage<'_>) {
        let cfg = &self.shared.cfg;
        let m = &self.shared.metrics;
        add(&m.records_in, 1);
        add(&m.bytes_in, msg.payload_len() as u64);
        let now = chrono::Utc::now().timestamp_millis();
        let mut guard = self.state.lock().expect("task state");
        let state = &mut *guard;
        let key = (msg.topic().to_string(), msg.partition());
        let Some(buffer) = state.parts.get(&key) else {
            return; // revoked while in flight
        };
        match buffer.next_needed() {
            Some(n) if msg.offset() < n => {
                add(&m.duplicates_skipped, 1);
                return;
            }
            Some(n) if msg.offset() > n => self.gap(consumer, &key, n, msg.offset()),
            Some(_) => {}
            None => info!(
                topic = %key.0,
                partition = key.1,
                offset = msg.offset(),
                "first record of a partition never landed before: its landing starts here"
            ),
        }
        let Some(value) = msg.payload() else {
            add(&m.null_records, 1);
            match cfg.null_values {
                NullBehavior::Ignore => {
                    if let Some(b) = state.parts.get_mut(&key) {
                        b.skip(msg.offset(), now);
                    }
                }
                NullBehavior::Fail => self.bad_record(
                    state,
                    msg,
                    RecordError("null value and behavior.on.null.values=fail".into()),
                    now,
                ),
            }
            return;
        };
        let record_ts = msg.timestamp().to_millis();
        let prepared = prepare_line(cfg, value, msg, record_ts, now, &mut state.scratch);
        let (dir, ts, use_scratch) = match prepared {
            Ok(p) => p,
            Err(reason) => return self.bad_record(state, msg, reason, now),
        };
        let line: &[u8] = if use_scratch { &state.scratch } else { value };
        let buffer = state.parts.get_mut(&key).expect("checked above");
        let in_file = buffer.push(&dir, line, msg.offset(), ts, now);
        if in_file >= cfg.flush_size {
            self.commit_or_fail(consumer, state, &key, false);
        } else if held_bytes(state) > cfg.buffer_max_bytes / cfg.tasks {
            self.relieve_memory(consumer, state, cfg.buffer_max_bytes / cfg.tasks);
        }
    }

    /// Offsets `expected..next` of a partition never arrived. Kafka leaves such gaps for
    /// transaction markers, aborted transactions and compacted records; but if the broker's
    /// log now starts past `expected`, it deleted records (retention, DeleteRecords) before
    /// they were landed. Those are lost: logged as an error naming the range, and counted.
    /// (The claim chain stays continuous either way: the next claim starts at `expected`.)
    fn gap(&self, consumer: &BaseConsumer<Self>, key: &Key, expected: i64, next: i64) {
        let (topic, partition) = (&key.0, key.1);
        match consumer.fetch_watermarks(topic, partition, Duration::from_secs(10)) {
            Ok((log_start, _)) if log_start > expected => {
                let lost_end = log_start.min(next);
                let records = lost_end - expected;
                add(&self.shared.metrics.records_expired, records as u64);
                error!(
                    %topic,
                    partition,
                    first = expected,
                    last = lost_end - 1,
                    records,
                    log_start,
                    "records were deleted from the broker (retention or DeleteRecords) before \
                     they were landed: they are lost; give the topic a longer retention.ms / \
                     retention.bytes, or land faster"
                );
            }
            Ok(_) => debug!(
                %topic,
                partition,
                first = expected,
                last = next - 1,
                "offsets skipped by the broker (transaction markers or compaction)"
            ),
            Err(e) => warn!(
                %topic,
                partition,
                first = expected,
                last = next - 1,
                error = %e,
                "offsets never arrived and the broker's log start is unknown: transaction \
                 markers, compaction, or records deleted by retention (see \
                 lakeshore_land_records_expired_total)"
            ),
        }
    }

    /// The task holds more than its share of `lakeshore.buffer.max.bytes`. Finished commits
    /// give their bytes back; then the largest partition whose previous commit is done starts
    /// its commit, without waiting for anything. Only when no such partition has enough
    /// buffered to be worth a file of its own (what is held is in running commits, or queued
    /// behind them) does consumption wait ([`Self::wait_for_memory`]): the store is slower
    /// than Kafka, and memory stays bounded. (Committing the largest partition regardless
    /// would often mean first waiting for the commit that partition had just started: about
    /// three HDFS file closes.)
    fn relieve_memory(&self, consumer: &BaseConsumer<Self>, state: &mut TaskState, budget: usize) {
        self.finish_done(consumer, state, false);
        if held_bytes(state) <= budget {
            return;
        }
        let worth_a_file = budget / (4 * state.parts.len().max(1));
        let idle_largest = state
            .parts
            .iter()
            .filter(|(k, _)| !state.inflight.contains_key(*k))
            .max_by_key(|(_, b)| b.bytes())
            .map(|(k, b)| (k.clone(), b.bytes()));
        match idle_largest {
            // With nothing in flight, every partition is small only because many share the
            // budget: commit the largest anyway.
            Some((key, bytes)) if bytes >= worth_a_file || state.inflight.is_empty() => {
                add(&self.shared.metrics.early_flushes, 1);
                self.commit_or_fail(consumer, state, &key, false);
            }
            _ => self.wait_for_memory(consumer, state, budget),
        }
    }

    /// Holds consumption until running commits have written enough of their files to bring
    /// the task back under `budget`, or one of them has finished (its partition may then
    /// commit what it buffered meanwhile). A commit's memory is free once its files are in
    /// `+tmp`; its claim, renames and hint (on HDFS, two more file closes of about 0.5 s
    /// each) need not be waited for.
    fn wait_for_memory(&self, consumer: &BaseConsumer<Self>, state: &mut TaskState, budget: usize) {
        let started = Instant::now();
        while held_bytes(state) > budget && !state.inflight.values().any(|f| f.handle.is_finished())
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let waited_ms = started.elapsed().as_millis() as u64;
        add(&self.shared.metrics.commit_wait_millis, waited_ms);
        debug!(
            waited_ms,
            "waited for running commits to write their files (memory bound)"
        );
        self.finish_done(consumer, state, false);
    }

    fn commit_or_fail(
        &self,
        consumer: &BaseConsumer<Self>,
        state: &mut TaskState,
        key: &Key,
        wait: bool,
    ) {
        if let Err(e) = self.commit_partition(consumer, state, key, wait) {
            state.fatal.get_or_insert(e);
        }
    }

    /// Commits partitions whose rotation interval or schedule is due (quiet partitions too).
    fn commit_due(&self, consumer: &BaseConsumer<Self>, all: bool) {
        let cfg = &self.shared.cfg;
        let now = chrono::Utc::now().timestamp_millis();
        let mut guard = self.state.lock().expect("task state");
        let state = &mut *guard;
        self.finish_done(consumer, state, all);
        let due: Vec<Key> = state
            .parts
            .iter()
            .filter(|(_, b)| b.has_pending())
            .filter(|(_, b)| {
                let opened = b.opened_wall_ms().unwrap_or(now);
                all || cfg
                    .rotate_interval_ms
                    .is_some_and(|i| now - opened >= i as i64)
                    || cfg.rotate_schedule_interval_ms.is_some_and(|i| {
                        crossed_schedule_boundary(
                            i as i64,
                            schedule_offset_ms(cfg, now),
                            opened,
                            now,
                        )
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        // Commits of different partitions run in parallel; with `all` (shutdown), wait for
        // every one of them at the end.
        for key in due {
            self.commit_or_fail(consumer, state, &key, false);
            if state.fatal.is_some() {
                break;
            }
        }
        if all {
            self.finish_done(consumer, state, true);
            state.hints.flush_all(&self.shared.rt);
        }
    }
}

/// Bytes a task holds: buffered, and the files of running commits not yet written.
fn held_bytes(state: &TaskState) -> usize {
    state
        .parts
        .values()
        .map(PartitionBuffer::bytes)
        .sum::<usize>()
        + state
            .inflight
            .values()
            .map(|f| f.unwritten.get())
            .sum::<usize>()
}

/// Whether a `rotate.schedule.interval.ms` boundary (aligned to local wall-clock time, given
/// the zone's offset) lies between `opened_ms` and `now_ms`.
fn crossed_schedule_boundary(
    interval_ms: i64,
    zone_offset_ms: i64,
    opened_ms: i64,
    now_ms: i64,
) -> bool {
    (now_ms + zone_offset_ms).div_euclid(interval_ms)
        > (opened_ms + zone_offset_ms).div_euclid(interval_ms)
}

/// The zone offset used to align `rotate.schedule.interval.ms` to local wall-clock time.
fn schedule_offset_ms(cfg: &SinkConfig, now: i64) -> i64 {
    use chrono::{Offset as _, TimeZone};
    let utc = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    let local = cfg.timezone.offset_from_utc_datetime(&utc.naive_utc());
    i64::from(local.fix().local_minus_utc()) * 1000
}

/// Validates and shapes one value into the line to land; returns the directory, the record's
/// timestamp per the extractor, and whether the line is in `scratch` (else the value as is).
fn prepare_line(
    cfg: &SinkConfig,
    value: &[u8],
    msg: &BorrowedMessage<'_>,
    record_ts: Option<i64>,
    now: i64,
    scratch: &mut Vec<u8>,
) -> Result<(String, i64, bool), RecordError> {
    lakeshore_format::validate(value)
        .map_err(|e| RecordError(format!("value is not JSON: {e}")))?;
    let mut use_scratch = false;
    if !lakeshore_format::is_single_line(value) {
        // One value per line: a value spanning lines is re-serialised compactly (same JSON).
        *scratch = lakeshore_format::compact(value)
            .map_err(|e| RecordError(format!("value is not JSON: {e}")))?;
        use_scratch = true;
    }
    if let Some(insert) = &cfg.insert_field {
        let base = if use_scratch {
            std::mem::take(scratch)
        } else {
            value.to_vec()
        };
        scratch.clear();
        insert.apply(
            &base,
            &RecordMeta {
                topic: msg.topic(),
                partition: msg.partition(),
                offset: msg.offset(),
                timestamp_ms: record_ts,
            },
            scratch,
        )?;
        use_scratch = true;
    }
    let ts = cfg.timestamp.extract(now, record_ts, value)?;
    let dir = cfg.partitioner.encode(msg.partition(), ts, value)?;
    Ok((dir, ts, use_scratch))
}

/// Builds the consumer configuration of a task.
pub(crate) fn consumer_config(cfg: &SinkConfig, brokers_override: Option<&str>) -> ClientConfig {
    let mut c = ClientConfig::new();
    // Defaults sized for landing: bounded prefetch (memory), earliest for new groups (no
    // record is skipped), offsets committed by us after each claim.
    c.set("group.id", cfg.group_id())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("queued.max.messages.kbytes", "8192")
        .set("fetch.max.bytes", "8388608")
        // With a queue that small, librdkafka's default (1 s) pause of fetching whenever the
        // queue is full leaves the sink idle after any short hold-up (a commit it waits for);
        // its documentation says to lower it with low queue thresholds. Measured
        // (docs/benchmarks.md, landing to HDFS, two tasks): 1000 ms -> 50 ms took it from 75%
        // to 85% of a bare consumer; halving the queue as well cost more than that gained.
        .set("fetch.queue.backoff.ms", "50")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("client.id", format!("lakeshore-{}", cfg.name))
        // Partition end offsets for the lag shown by /metrics and the status page.
        .set("statistics.interval.ms", "2000")
        .set_log_level(RDKafkaLogLevel::Warning);
    for (k, v) in &cfg.kafka {
        c.set(k, v);
    }
    if let Some(b) = brokers_override {
        c.set("bootstrap.servers", b);
    }
    c
}

/// Runs one task until `shared.stop` is set or a fatal error occurs.
pub fn run_task(
    shared: Arc<Shared>,
    index: usize,
    brokers_override: Option<String>,
) -> Result<(), SinkError> {
    let cfg = shared.cfg.clone();
    let writer = format!(
        "{}-{}-t{index}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let dlq = match &cfg.errors.dead_letter_topic {
        None => None,
        Some(_) => {
            let mut pc = ClientConfig::new();
            for (k, v) in &cfg.kafka {
                if !is_consumer_only(k) {
                    pc.set(k, v);
                }
            }
            if let Some(b) = &brokers_override {
                pc.set("bootstrap.servers", b);
            }
            pc.set("enable.idempotence", "true");
            Some(
                pc.create_with_context(DlqContext::default())
                    .map_err(|e| SinkError::Kafka {
                        context: "create dead-letter producer".into(),
                        source: e,
                    })?,
            )
        }
    };
    let ctx = TaskContext {
        shared: shared.clone(),
        writer,
        state: Mutex::new(TaskState::default()),
        dlq,
    };
    let consumer: BaseConsumer<TaskContext> = consumer_config(&cfg, brokers_override.as_deref())
        .create_with_context(ctx)
        .map_err(|e| SinkError::Kafka {
            context: "create consumer".into(),
            source: e,
        })?;
    let topics: Vec<&str> = match &cfg.topics {
        TopicSelection::List(t) => t.iter().map(String::as_str).collect(),
        TopicSelection::Regex(r) => vec![r.as_str()],
    };
    consumer.subscribe(&topics).map_err(|e| SinkError::Kafka {
        context: format!("subscribe to {topics:?}"),
        source: e,
    })?;
    info!(task = index, writer = %consumer.context().writer, group = %cfg.group_id(), "task started");

    let ctx = consumer.context();
    let mut last_tick = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(msg)) => ctx.handle(&consumer, &msg),
            Some(Err(e)) => {
                add(&shared.metrics.consumer_errors, 1);
                warn!(task = index, error = %e, "consumer error");
            }
            None => {}
        }
        if last_tick.elapsed() >= Duration::from_millis(250) {
            last_tick = Instant::now();
            ctx.commit_due(&consumer, false);
        }
        if ctx.state.lock().expect("task state").fatal.is_some() {
            break;
        }
    }
    // Graceful stop (or a fatal record error): land everything consumed before stopping.
    ctx.commit_due(&consumer, true);
    let fatal = ctx.state.lock().expect("task state").fatal.take();
    consumer.unsubscribe();
    info!(task = index, "task stopped");
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

pub(crate) fn is_consumer_only(key: &str) -> bool {
    [
        "group.id",
        "auto.offset.reset",
        "enable.auto.commit",
        "fetch.max.bytes",
        "queued.max.messages.kbytes",
        "fetch.queue.backoff.ms",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "partition.assignment.strategy",
        "max.poll.interval.ms",
        "fetch.min.bytes",
        "fetch.wait.max.ms",
        "isolation.level",
    ]
    .contains(&key)
}

#[cfg(test)]
mod tests {
    use super::crossed_schedule_boundary;

    #[test]
    fn schedule_boundaries_follow_local_midnight() {
        let (day, hour) = (86_400_000, 3_600_000);
        let berlin_winter = hour; // UTC+1
        let utc = |h: i64, m: i64| 1_763_683_200_000 + h * hour + m * 60_000; // 2025-11-21
                                                                              // 22:30Z is 23:30 in Berlin, 23:10Z is 00:10: local midnight was crossed.
        assert!(crossed_schedule_boundary(
            day,
            berlin_winter,
            utc(22, 30),
            utc(23, 10)
        ));
        // 21:00Z..22:50Z is 22:00..23:50 local: no midnight in between (UTC midnight neither).
        assert!(!crossed_schedule_boundary(
            day,
            berlin_winter,
            utc(21, 0),
            utc(22, 50)
        ));
        // The same span in UTC crosses nothing either; 23:30Z..00:10Z does.
        assert!(!crossed_schedule_boundary(day, 0, utc(21, 0), utc(22, 50)));
        assert!(crossed_schedule_boundary(day, 0, utc(23, 30), utc(24, 10)));
        // Hourly schedule.
        assert!(crossed_schedule_boundary(hour, 0, utc(9, 59), utc(10, 0)));
        assert!(!crossed_schedule_boundary(hour, 0, utc(10, 0), utc(10, 59)));
    }
}
