//! Completeness markers: `_COMPLETE` in a time bucket's directory once every partition of the
//! topic has committed everything up to the bucket's end.
//!
//! A partition's *watermark* is the largest record timestamp it has committed minus
//! `lakeshore.completeness.lateness.ms`; a partition that has committed everything Kafka holds
//! (its position is the high watermark) is idle and stops holding the topic back: its
//! watermark is the wall clock minus the lateness. The topic's watermark is the minimum over
//! all its partitions (from Kafka's metadata, so a partition that never landed anything still
//! counts). Every bucket ending at or before it gets a marker, empty buckets included, so a
//! batch job waiting for a day's 24 hours never waits for an hour that had no traffic.
//!
//! Markers are created only if absent (any process may write them; the result is the same),
//! and the topic's progress is kept in `<logs.dir>/<topic>/markers.json`, so each bucket is
//! considered once. Records that arrive later than the lateness still land (in the bucket's
//! directory, after its marker) and are counted.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lakeshore_storage::{parse_path, with_retry, RetryPolicy, Store};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::commit::Head;
use crate::error::SinkError;
use crate::events::{add, Metrics};
use crate::partition::Partitioner;

/// Name of the marker file.
pub const MARKER: &str = "_COMPLETE";

/// How often a process checks its topics (each check asks Kafka for metadata, and for
/// watermarks when timestamps alone cannot decide: cheap for Kafka, not for every broker).
const CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// Empty buckets get a marker only this close to the topic's watermark (7 days): a batch job
/// waiting for a day of recent data must not wait for a quiet hour, but a backfill of old data
/// must not write a marker for every empty hour since.
const EMPTY_BUCKET_WINDOW_MS: i64 = 7 * 86_400_000;

/// At most this many buckets are considered per topic per check (catching up after downtime).
const MAX_BUCKETS_PER_CHECK: usize = 1000;

/// How Kafka describes one partition, for the completeness check.
#[derive(Debug, Clone, Copy)]
pub struct KafkaPartition {
    /// Kafka partition.
    pub partition: i32,
    /// High watermark (next offset to be written), when it was asked for.
    pub high: Option<i64>,
    /// Low watermark (first offset still held), when it was asked for.
    pub low: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    /// Every bucket ending at or before this has its marker.
    marked_through_ms: i64,
}

/// The marker writer of one process.
#[derive(Debug, Clone)]
pub struct Markers {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    partitioner: Partitioner,
    topics_dir: String,
    logs_dir: String,
    lateness_ms: i64,
    retry: RetryPolicy,
    metrics: Arc<Metrics>,
    topics: Mutex<BTreeSet<String>>,
    last_check: Mutex<Option<Instant>>,
}

impl Markers {
    /// Markers for a time-based partitioner; `None`-like (does nothing) for the others.
    pub fn new(
        store: Store,
        partitioner: &Partitioner,
        topics_dir: &str,
        logs_dir: &str,
        lateness_ms: i64,
        retry: RetryPolicy,
        metrics: Arc<Metrics>,
    ) -> Self {
        let time_based = partitioner.bucket_bounds(0).is_some();
        Self {
            inner: time_based.then(|| {
                Arc::new(Inner {
                    store,
                    partitioner: partitioner.clone(),
                    topics_dir: topics_dir.into(),
                    logs_dir: logs_dir.into(),
                    lateness_ms,
                    retry,
                    metrics,
                    topics: Mutex::new(BTreeSet::new()),
                    last_check: Mutex::new(None),
                })
            }),
        }
    }

    /// Notes that `topic` is landed by this process (it will be checked periodically).
    pub fn touched(&self, topic: &str) {
        if let Some(i) = &self.inner {
            i.topics.lock().expect("markers").insert(topic.to_string());
        }
    }

    /// Topics to check, if a check is due (every few seconds per process).
    pub fn due(&self) -> Vec<String> {
        let Some(i) = &self.inner else {
            return Vec::new();
        };
        let mut last = i.last_check.lock().expect("markers");
        if last.is_some_and(|t| t.elapsed() < CHECK_INTERVAL) {
            return Vec::new();
        }
        let topics: Vec<String> = i.topics.lock().expect("markers").iter().cloned().collect();
        if !topics.is_empty() {
            *last = Some(Instant::now());
        }
        topics
    }

    /// Writes the markers `topic` has earned. `partitions` is Kafka's view of every partition.
    pub async fn check(
        &self,
        topic: &str,
        partitions: &[KafkaPartition],
        now_ms: i64,
    ) -> Result<usize, SinkError> {
        let Some(i) = &self.inner else { return Ok(0) };
        if partitions.is_empty() {
            return Ok(0);
        }
        let mut heads: HashMap<i32, Option<Head>> = HashMap::new();
        for p in partitions {
            let path = parse_path(&format!("{}/{topic}/{}/head.json", i.logs_dir, p.partition))
                .map_err(|m| SinkError::CorruptLog {
                    path: topic.into(),
                    message: m,
                })?;
            let bytes = with_retry("read head", i.retry, || i.store.get(&path)).await?;
            let head =
                match bytes {
                    Some(b) => Some(serde_json::from_slice::<Head>(&b).map_err(|e| {
                        SinkError::CorruptLog {
                            path: path.to_string(),
                            message: e.to_string(),
                        }
                    })?),
                    None => None,
                };
            heads.insert(p.partition, head);
        }
        let Some(watermark) = topic_watermark(partitions, &heads, now_ms, i.lateness_ms) else {
            return Ok(0);
        };
        let progress_path =
            parse_path(&format!("{}/{topic}/markers.json", i.logs_dir)).map_err(|m| {
                SinkError::CorruptLog {
                    path: topic.into(),
                    message: m,
                }
            })?;
        let progress = with_retry("read marker progress", i.retry, || {
            i.store.get(&progress_path)
        })
        .await?
        .and_then(|b| serde_json::from_slice::<Progress>(&b).ok());
        let first = heads
            .values()
            .flatten()
            .filter_map(|h| h.first_timestamp_ms)
            .min();
        let Some(mut from) = progress.map(|p| p.marked_through_ms).or(first) else {
            return Ok(0);
        };
        let mut written = 0;
        for _ in 0..MAX_BUCKETS_PER_CHECK {
            let Some((start, end)) = i.partitioner.bucket_bounds(from) else {
                break;
            };
            if end > watermark {
                break;
            }
            let dir = i
                .partitioner
                .encode(0, start, b"{}")
                .map_err(|e| SinkError::CorruptLog {
                    path: topic.into(),
                    message: e.0,
                })?;
            from = end;
            let dir_path = parse_path(&format!("{}/{topic}/{dir}", i.topics_dir)).map_err(|m| {
                SinkError::CorruptLog {
                    path: topic.into(),
                    message: m,
                }
            })?;
            if watermark - end > EMPTY_BUCKET_WINDOW_MS {
                // Far behind the watermark (a backfill's gap): mark only buckets with data.
                let (objects, _) =
                    with_retry("list bucket", i.retry, || i.store.list_dir(&dir_path)).await?;
                if objects.is_empty() {
                    continue;
                }
            }
            let marker = dir_path.clone().join(MARKER);
            let body = serde_json::json!({
                "topic": topic,
                "bucket_start_ms": start,
                "bucket_end_ms": end,
                "written_at_ms": now_ms,
                "partitions": heads.iter().map(|(p, h)| (p.to_string(), h.as_ref().map(|h| h.next))).collect::<HashMap<_, _>>(),
            });
            let bytes = Bytes::from(body.to_string());
            let created = with_retry("write marker", i.retry, || {
                i.store.create(&marker, bytes.clone())
            })
            .await?;
            if created == lakeshore_storage::Created::Created {
                add(&i.metrics.markers_written, 1);
                info!(topic, dir, "hour complete: marker written");
                written += 1;
            }
        }
        let body = Bytes::from(
            serde_json::to_vec(&Progress {
                marked_through_ms: from,
            })
            .expect("progress serialises"),
        );
        if let Err(e) = with_retry("write marker progress", i.retry, || {
            i.store.put(&progress_path, body.clone())
        })
        .await
        {
            warn!(topic, error = %e, "cannot save marker progress (markers are still correct)");
        }
        Ok(written)
    }
}

/// Runs the completeness checks of this process on their own thread (Kafka metadata and
/// watermark queries can take seconds; they must never stall consumption) until `done`, then
/// makes one last check (after the tasks' final commits).
pub fn run_checker(
    markers: &Markers,
    client: &rdkafka::consumer::BaseConsumer,
    rt: &tokio::runtime::Handle,
    done: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    loop {
        let last_round = done.load(Ordering::Relaxed);
        let topics = if last_round {
            markers.touched_topics()
        } else {
            markers.due()
        };
        for topic in topics {
            let started = Instant::now();
            if let Err(e) = check_topic(markers, client, rt, &topic) {
                warn!(%topic, error = %e, "completeness check failed; will retry");
            }
            tracing::debug!(%topic, elapsed_ms = started.elapsed().as_millis() as u64, "completeness check");
        }
        if last_round {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One check of one topic: first from the committed timestamps alone; only when that marks
/// nothing, again with Kafka's watermarks (which tell idle partitions apart).
fn check_topic(
    markers: &Markers,
    client: &rdkafka::consumer::BaseConsumer,
    rt: &tokio::runtime::Handle,
    topic: &str,
) -> Result<usize, SinkError> {
    use rdkafka::consumer::Consumer;
    let timeout = Duration::from_secs(10);
    let kafka = |context: &str, source| SinkError::Kafka {
        context: format!("{context} of {topic}"),
        source,
    };
    let md = client
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| kafka("metadata", e))?;
    let mut partitions: Vec<KafkaPartition> = md
        .topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| KafkaPartition {
            partition: p.id(),
            high: None,
            low: None,
        })
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    let written = rt.block_on(markers.check(topic, &partitions, now))?;
    if written > 0 {
        return Ok(written);
    }
    for p in &mut partitions {
        let (low, high) = client
            .fetch_watermarks(topic, p.partition, timeout)
            .map_err(|e| kafka("watermarks", e))?;
        (p.low, p.high) = (Some(low), Some(high));
    }
    rt.block_on(markers.check(topic, &partitions, now))
}

/// Whether markers are written at all (time-based partitioners only).
impl Markers {
    /// True for time-based partitioners.
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Every topic this process has landed, regardless of the check interval.
    pub fn touched_topics(&self) -> Vec<String> {
        self.inner
            .as_ref()
            .map(|i| i.topics.lock().expect("markers").iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The minimum over partitions of what each has committed completely, or `None` while some
/// partition has data but no commit yet.
fn topic_watermark(
    partitions: &[KafkaPartition],
    heads: &HashMap<i32, Option<Head>>,
    now_ms: i64,
    lateness_ms: i64,
) -> Option<i64> {
    let mut min = i64::MAX;
    for p in partitions {
        let head = heads.get(&p.partition).and_then(Option::as_ref);
        let next = head.map(|h| h.next);
        let caught_up = match (next, p.high, p.low) {
            (Some(n), Some(high), _) => n >= high,
            (None, Some(high), Some(low)) => high <= low, // never landed; Kafka holds nothing
            _ => false,                                   // not asked: decide from timestamps alone
        };
        let wm = if caught_up {
            now_ms - lateness_ms
        } else {
            head?.max_timestamp_ms? - lateness_ms
        };
        min = min.min(wm);
    }
    Some(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(next: i64, max: i64) -> Option<Head> {
        Some(Head {
            next,
            max_timestamp_ms: Some(max),
            first_timestamp_ms: Some(0),
        })
    }

    fn kp(partition: i32, high: Option<i64>, low: Option<i64>) -> KafkaPartition {
        KafkaPartition {
            partition,
            high,
            low,
        }
    }

    #[test]
    fn the_slowest_busy_partition_holds_the_topic_back() {
        let parts = [kp(0, Some(100), Some(0)), kp(1, Some(100), Some(0))];
        let heads = HashMap::from([(0, head(50, 7_000)), (1, head(100, 9_000))]);
        // p1 is caught up (idle): it follows the wall clock; p0 holds at its max timestamp.
        assert_eq!(topic_watermark(&parts, &heads, 20_000, 1_000), Some(6_000));
        // A partition with data but no commit yet: nothing is complete.
        let heads = HashMap::from([(0, None), (1, head(100, 9_000))]);
        assert_eq!(topic_watermark(&parts, &heads, 20_000, 0), None);
        // An empty partition that never landed anything does not block.
        let parts = [kp(0, Some(0), Some(0))];
        let heads = HashMap::from([(0, None)]);
        assert_eq!(topic_watermark(&parts, &heads, 20_000, 0), Some(20_000));
        // Without Kafka's watermarks, only committed timestamps count: idle p1 holds at 9 s.
        let parts = [kp(0, None, None), kp(1, None, None)];
        let heads = HashMap::from([(0, head(100, 12_000)), (1, head(100, 9_000))]);
        assert_eq!(topic_watermark(&parts, &heads, 20_000, 1_000), Some(8_000));
    }
}
