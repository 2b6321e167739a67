//! Writes each partition's `head.json` hint behind its commits.
//!
//! A commit is done once its claim exists and its files are renamed; the hint only shortens
//! the next recovery's walk (see [`crate::commit`]). Writing it inside the commit cost every
//! commit a third HDFS file close (about 0.5 s) before the partition could start its next
//! one. Here the hint is written on the runtime while the partition commits on, at most one
//! write per partition at a time and at most one every [`HINT_INTERVAL`], always with the
//! newest head: under load a recovery walks at most the claims of the last few seconds; a
//! partition that goes quiet gets its final hint within the interval. Revoking a partition or
//! stopping the task writes its newest head before returning.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::task::{JoinError, JoinHandle};
use tracing::{debug, warn};

use crate::commit::{Head, PartitionLog};
use crate::error::SinkError;

/// Least time between two hint writes of one partition.
pub const HINT_INTERVAL: Duration = Duration::from_secs(5);

type Key = (String, i32);
type Write = JoinHandle<(Head, Result<(), SinkError>)>;

/// The hints of one task's partitions.
#[derive(Debug, Default)]
pub struct Hints {
    by_key: HashMap<Key, Hint>,
}

#[derive(Debug)]
struct Hint {
    log: PartitionLog,
    /// The newest committed head not yet handed to a write.
    pending: Option<Head>,
    /// The write running, if any (aborted when dropped: a half-written hint is harmless).
    running: Option<Write>,
    /// When the last write started.
    started: Option<Instant>,
}

impl Drop for Hint {
    fn drop(&mut self) {
        if let Some(w) = &self.running {
            w.abort();
        }
    }
}

impl Hints {
    /// `head` was committed by the partition `key`: it is the hint to write next. `log` gives
    /// the partition's log the first time the partition is seen.
    pub fn committed(&mut self, key: &Key, head: Head, log: impl FnOnce() -> PartitionLog) {
        let hint = self.by_key.entry(key.clone()).or_insert_with(|| Hint {
            log: log(),
            pending: None,
            running: None,
            started: None,
        });
        hint.pending = Some(head);
    }

    /// Another writer committed the partition's next range: our newest head is behind the
    /// chain, so there is no point writing it (it would be correct, only stale).
    pub fn fenced(&mut self, key: &Key) {
        if let Some(hint) = self.by_key.get_mut(key) {
            hint.pending = None;
        }
    }

    /// Reaps finished writes and starts the writes that are due. Never blocks.
    pub fn pump(&mut self, rt: &Handle) {
        for (key, hint) in &mut self.by_key {
            if hint.running.as_ref().is_some_and(|w| w.is_finished()) {
                let w = hint.running.take().expect("checked");
                if let Some(failed) = report(key, rt.block_on(w)) {
                    // Retried at the next interval, unless a newer head is waiting.
                    hint.pending.get_or_insert(failed);
                }
            }
            let due = hint.started.is_none_or(|t| t.elapsed() >= HINT_INTERVAL);
            if hint.running.is_none() && due {
                if let Some(head) = hint.pending.take() {
                    let log = hint.log.clone();
                    hint.started = Some(Instant::now());
                    hint.running = Some(rt.spawn(async move {
                        let result = log.write_hint(&head).await;
                        (head, result)
                    }));
                }
            }
        }
    }

    /// Writes the newest head of each of `keys` now, all partitions at once, and forgets
    /// them (revoke, stop). A failed write is logged and left: the next owner walks further.
    pub fn flush(&mut self, rt: &Handle, keys: &[Key]) {
        let writes: Vec<_> = keys
            .iter()
            .filter_map(|k| self.by_key.remove_entry(k))
            .map(|(key, mut hint)| {
                let (running, mut pending) = (hint.running.take(), hint.pending.take());
                let log = hint.log.clone();
                async move {
                    if let Some(w) = running {
                        if let Some(failed) = report(&key, w.await) {
                            pending.get_or_insert(failed);
                        }
                    }
                    if let Some(head) = pending {
                        let result = log.write_hint(&head).await;
                        report(&key, Ok((head, result)));
                    }
                }
            })
            .collect();
        rt.block_on(futures::future::join_all(writes));
    }

    /// [`Self::flush`] for every partition.
    pub fn flush_all(&mut self, rt: &Handle) {
        let keys: Vec<Key> = self.by_key.keys().cloned().collect();
        self.flush(rt, &keys);
    }
}

/// Logs how a write ended; returns the head of a write that failed.
fn report(key: &Key, joined: Result<(Head, Result<(), SinkError>), JoinError>) -> Option<Head> {
    match joined {
        Ok((head, Ok(()))) => {
            debug!(topic = %key.0, partition = key.1, next = head.next, "hint written");
            None
        }
        Ok((head, Err(e))) => {
            warn!(topic = %key.0, partition = key.1, next = head.next, error = %e, "cannot write the commit log's hint; recovery will walk further");
            Some(head)
        }
        Err(e) => {
            warn!(topic = %key.0, partition = key.1, error = %e, "hint write task failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::LogSettings;
    use lakeshore_storage::{RetryPolicy, Store};

    fn head(next: i64) -> Head {
        Head {
            next,
            max_timestamp_ms: Some(next * 10),
            first_timestamp_ms: Some(0),
        }
    }

    fn written(rt: &tokio::runtime::Runtime, log: &PartitionLog) -> Option<i64> {
        rt.block_on(log.read_head()).unwrap().map(|h| h.next)
    }

    fn settle(rt: &tokio::runtime::Runtime, hints: &mut Hints) {
        for _ in 0..100 {
            hints.pump(rt.handle());
            if hints.by_key.values().all(|h| h.running.is_none()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("hint write did not finish");
    }

    #[test]
    fn writes_the_first_head_at_once_then_at_most_one_per_interval_and_the_newest_on_flush() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let settings = LogSettings {
            topics_dir: "topics".into(),
            logs_dir: "logs".into(),
            retry: RetryPolicy::default(),
            tmp_retention_ms: 86_400_000,
        };
        let key = ("t".to_string(), 0);
        let log = PartitionLog::new(store, &settings, "t", 0, "w".into());
        let mut hints = Hints::default();

        hints.committed(&key, head(10), || log.clone());
        settle(&rt, &mut hints);
        assert_eq!(written(&rt, &log), Some(10));

        // Within the interval, newer heads wait, and only the newest is kept.
        hints.committed(&key, head(20), || log.clone());
        hints.committed(&key, head(30), || log.clone());
        settle(&rt, &mut hints);
        assert_eq!(written(&rt, &log), Some(10));

        // Fenced: our newest head is behind the chain and is not written.
        hints.fenced(&key);
        hints.flush(rt.handle(), std::slice::from_ref(&key));
        assert_eq!(written(&rt, &log), Some(10));

        // Revoke or stop writes the newest head without waiting for the interval.
        hints.committed(&key, head(40), || log.clone());
        hints.flush(rt.handle(), std::slice::from_ref(&key));
        assert_eq!(written(&rt, &log), Some(40));
        assert!(hints.by_key.is_empty());
    }
}
