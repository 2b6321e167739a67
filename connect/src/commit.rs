//! The exactly-once commit protocol of one Kafka partition.
//!
//! The committed data files are named by offsets, but names alone cannot say which writer
//! owns the next range (a zombie and a new owner would both land `start..end` under different
//! ends). So each partition keeps a *chain of claims* in `logs.dir`:
//!
//! ```text
//! <logs.dir>/<topic>/<partition>/00000000000000000000.commit   {start:0,   end:99,  files:[...]}
//! <logs.dir>/<topic>/<partition>/00000000000000000100.commit   {start:100, end:250, files:[...]}
//! <logs.dir>/<topic>/<partition>/head.json                      {next:251, ...}  (a hint)
//! ```
//!
//! A commit of offsets `S..=E` is:
//! 1. write each open file, and the claim listing them, to `+tmp` (names carry `S` and a
//!    writer id, never where readers look);
//! 2. **claim** slot `S` by renaming the claim to `S.commit` only if absent — the commit
//!    point. Of two writers that both believe they own `S` (a zombie and the new owner),
//!    exactly one succeeds; the other is *fenced*: it discards its buffers and re-reads the
//!    chain. (A rename is one NameNode call on HDFS; creating `S.commit` in place would cost
//!    another file close, about half a second, on every commit's path.)
//! 3. rename every tmp file to its final name (never replacing).
//!
//! The hint is advanced *behind* the commits, not as part of them ([`PartitionLog::write_hint`],
//! scheduled by [`crate::hints`]): on HDFS every file written costs a NameNode close of about
//! half a second, and a partition's next commit need not wait for it. Any slot that was ever
//! the chain's end is a correct hint, however stale: it only means more claims to walk.
//!
//! Recovery reads the hint and walks forward through existing claims (`E+1` is the next
//! slot), rolling every claim it passes forward (step 3 is idempotent), so a crash at any
//! instant leaves either no claim (the data will be read again from Kafka) or a claim whose
//! files appear. Its cost is one read per commit made since the hint was last written (a few
//! seconds of commits), not per file ever landed. A writer only ever claims the slot right
//! after the last claim it read, so a stale writer's slot is always already taken: it can
//! never commit over the new owner.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use lakeshore_storage::{
    parse_path, with_retry, Created, Path, PutPayload, Renamed, RetryPolicy, Store,
};
use serde::{Deserialize, Serialize};

use crate::error::SinkError;

/// One file of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedFile {
    /// Where the bytes wait, under `+tmp`.
    pub tmp: String,
    /// Where readers find them once committed.
    pub path: String,
    /// Records in the file.
    pub records: u64,
    /// Bytes in the file.
    pub bytes: u64,
}

/// The content of `S.commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// First offset of the range (the slot).
    pub start: i64,
    /// Last offset of the range, inclusive.
    pub end: i64,
    /// Writer that made the claim (process + task + incarnation).
    pub writer: String,
    /// Files that hold the range's landed records (skipped records have none).
    pub files: Vec<ClaimedFile>,
    /// Smallest record timestamp (extractor's clock) in the range; absent in claims written
    /// before it was recorded.
    #[serde(default)]
    pub min_timestamp_ms: Option<i64>,
    /// Largest record timestamp (extractor's clock) in the range.
    pub max_timestamp_ms: Option<i64>,
    /// Wall time of the claim.
    pub committed_at_ms: i64,
}

/// The hint `head.json`: where the chain probably ends. Always a real slot (possibly stale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Next slot to claim.
    pub next: i64,
    /// Largest record timestamp committed so far (for completeness markers).
    pub max_timestamp_ms: Option<i64>,
    /// Smallest record timestamp ever committed (where marker scanning starts).
    pub first_timestamp_ms: Option<i64>,
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The head after walking the chain; `None` if nothing was ever committed.
    pub head: Option<Head>,
    /// Claims walked past the hint (a measure of recovery work).
    pub walked: usize,
    /// Stale `+tmp` files removed.
    pub removed_tmp: usize,
    /// `+tmp` files of the open slot kept (they may belong to a live writer); call
    /// [`PartitionLog::remove_stale_tmp`] after the next successful claim.
    pub kept_tmp: usize,
}

/// Result of [`PartitionLog::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The range is committed; `head` is the chain's new head.
    Committed {
        /// The new head (next slot, timestamps).
        head: Head,
    },
    /// Another writer claimed the slot first: discard the buffers and resume from `head`.
    Fenced {
        /// The chain as the other writer left it.
        head: Head,
    },
}

/// A file ready to commit: its final path and bytes.
#[derive(Debug, Clone)]
pub struct PendingFile {
    /// Final path (relative to the store root).
    pub path: String,
    /// Content (the writer's chunks, written in order).
    pub bytes: PutPayload,
    /// Records in it.
    pub records: u64,
}

/// A range ready to commit.
#[derive(Debug)]
pub struct PendingRange {
    /// Slot.
    pub start: i64,
    /// Last offset.
    pub end: i64,
    /// Files.
    pub files: Vec<PendingFile>,
    /// Smallest record timestamp.
    pub min_ts: Option<i64>,
    /// Largest record timestamp.
    pub max_ts: Option<i64>,
}

/// How many bytes of a running commit's files are still in memory: each file's share is
/// released as soon as its in-flight copy is written (the commit drops its buffer then), so
/// the task's memory bound counts what is really held, not whole commits until they end.
#[derive(Debug, Clone, Default)]
pub struct Unwritten(Arc<AtomicUsize>);

impl Unwritten {
    /// `bytes` not yet written.
    pub fn new(bytes: usize) -> Self {
        Self(Arc::new(AtomicUsize::new(bytes)))
    }

    /// Bytes not yet written.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn release(&self, bytes: usize) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(bytes))
            });
    }
}

/// Where commit logs and in-flight files live, shared by every partition.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `topics.dir`: in-flight files go to `<topics.dir>/+tmp/<topic>/<partition>/`.
    pub topics_dir: String,
    /// `logs.dir`: claims go to `<logs.dir>/<topic>/<partition>/`.
    pub logs_dir: String,
    /// Retry policy of storage calls.
    pub retry: RetryPolicy,
    /// Age after which an unclaimed in-flight file is removed.
    pub tmp_retention_ms: i64,
}

/// The commit log of one topic partition.
#[derive(Debug, Clone)]
pub struct PartitionLog {
    store: Store,
    log_dir: String,
    tmp_dir: String,
    writer: String,
    retry: RetryPolicy,
    tmp_retention_ms: i64,
}

/// Files of one commit written or moved at once: enough to hide the NameNode's latency on
/// commits spanning many hours, few enough that the HDFS client's in-flight copies of the
/// data stay small (the benchmark measured 184 MB peak RSS with 16).
const FILE_CONCURRENCY: usize = 4;

fn slot_name(start: i64) -> String {
    format!("{start:020}.commit")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn path(s: &str) -> Result<Path, SinkError> {
    parse_path(s).map_err(|message| SinkError::CorruptLog {
        path: s.to_string(),
        message,
    })
}

impl PartitionLog {
    /// The log of `topic`/`partition`. `writer` identifies this writer incarnation in claims.
    pub fn new(
        store: Store,
        settings: &LogSettings,
        topic: &str,
        partition: i32,
        writer: String,
    ) -> Self {
        Self {
            store,
            log_dir: format!("{}/{topic}/{partition}", settings.logs_dir),
            tmp_dir: format!("{}/+tmp/{topic}/{partition}", settings.topics_dir),
            writer,
            retry: settings.retry,
            tmp_retention_ms: settings.tmp_retention_ms,
        }
    }

    fn head_path(&self) -> Result<Path, SinkError> {
        path(&format!("{}/head.json", self.log_dir))
    }

    fn claim_path(&self, start: i64) -> Result<Path, SinkError> {
        path(&format!("{}/{}", self.log_dir, slot_name(start)))
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        p: &Path,
    ) -> Result<Option<T>, SinkError> {
        let store = &self.store;
        let bytes = with_retry("read commit log", self.retry, || store.get(p)).await?;
        match bytes {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| SinkError::CorruptLog {
                    path: format!("{}/{p}", store.url()),
                    message: e.to_string(),
                }),
        }
    }

    /// Reads the chain, completes any claim whose files were not all moved into place, removes
    /// stale in-flight files, and says where to resume.
    pub async fn recover(&self) -> Result<Recovered, SinkError> {
        let Some(mut head) = self.get_json::<Head>(&self.head_path()?).await? else {
            let (removed_tmp, kept_tmp) = self.remove_stale_tmp(None).await?;
            return Ok(Recovered {
                head: None,
                walked: 0,
                removed_tmp,
                kept_tmp,
            });
        };
        let mut walked = 0;
        while let Some(claim) = self.get_json::<Claim>(&self.claim_path(head.next)?).await? {
            if claim.start != head.next || claim.end < claim.start {
                return Err(SinkError::CorruptLog {
                    path: format!("{}/{}", self.log_dir, slot_name(head.next)),
                    message: format!(
                        "claim covers {}..={} but sits in slot {}",
                        claim.start, claim.end, head.next
                    ),
                });
            }
            self.roll_forward(&claim).await?;
            head = advance(head, &claim);
            walked += 1;
        }
        if walked > 0 {
            self.write_hint(&head).await?;
        }
        let (removed_tmp, kept_tmp) = self.remove_stale_tmp(Some(head.next)).await?;
        Ok(Recovered {
            head: Some(head),
            walked,
            removed_tmp,
            kept_tmp,
        })
    }

    /// Moves a claim's files into place. Idempotent: a file already there is done. Files are
    /// moved concurrently: on HDFS each call is a NameNode round trip.
    async fn roll_forward(&self, claim: &Claim) -> Result<(), SinkError> {
        // Collected first: a stream over a borrowing closure is not `Send` for spawn (rustc's
        // higher-ranked closure limitation).
        let moves: Vec<_> = claim
            .files
            .iter()
            .map(|f| self.move_into_place(claim, f))
            .collect();
        futures::stream::iter(moves)
            .buffer_unordered(FILE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn move_into_place(&self, claim: &Claim, f: &ClaimedFile) -> Result<(), SinkError> {
        let (tmp, fin) = (path(&f.tmp)?, path(&f.path)?);
        let store = &self.store;
        let outcome = with_retry("commit file", self.retry, || {
            store.rename_if_absent(&tmp, &fin)
        })
        .await?;
        match outcome {
            Renamed::Renamed => Ok(()),
            Renamed::TargetExists => {
                // Done by an earlier attempt; the tmp copy (if any) is ours to drop.
                with_retry("remove tmp", self.retry, || store.delete(&tmp)).await?;
                Ok(())
            }
            Renamed::SourceMissing => {
                if with_retry("check file", self.retry, || store.head(&fin))
                    .await?
                    .is_none()
                {
                    return Err(SinkError::CorruptLog {
                        path: format!("{}/{}", self.log_dir, slot_name(claim.start)),
                        message: format!(
                            "claimed file {} is neither in +tmp nor committed",
                            f.path
                        ),
                    });
                }
                Ok(())
            }
        }
    }

    /// Writes the hint `head.json`. Safe at any time with any head a commit or recovery of
    /// this partition returned: a stale one only makes the next recovery walk further.
    pub async fn write_hint(&self, head: &Head) -> Result<(), SinkError> {
        let bytes = Bytes::from(serde_json::to_vec(head).expect("head serialises"));
        let p = self.head_path()?;
        let store = &self.store;
        with_retry("write head", self.retry, || store.put(&p, bytes.clone())).await?;
        Ok(())
    }

    /// `+tmp` files of slots already claimed (below `next`) can never be committed by anyone:
    /// remove them. Files of the open slot may belong to a live writer (a paused one that will
    /// lose its claim race, or win it and need them): they are kept until the retention
    /// passes. Returns (removed, kept).
    pub async fn remove_stale_tmp(&self, next: Option<i64>) -> Result<(usize, usize), SinkError> {
        let dir = path(&self.tmp_dir)?;
        let store = &self.store;
        let listed = with_retry("list tmp", self.retry, || store.list(&dir)).await?;
        let now = now_ms();
        let (mut removed, mut kept) = (0, 0);
        for meta in listed {
            // Backends may leave hidden in-flight copies (`.<name>.tmp.N` on HDFS) of a put a
            // writer died in; they carry the same slot after the dot.
            let name = meta.location.filename().unwrap_or_default();
            let slot = name
                .trim_start_matches('.')
                .split('.')
                .next()
                .and_then(|s| s.parse::<i64>().ok());
            let claimed = matches!((slot, next), (Some(s), Some(n)) if s < n);
            let expired = now - meta.last_modified.timestamp_millis() > self.tmp_retention_ms;
            if claimed || expired {
                let loc = meta.location.clone();
                with_retry("remove tmp", self.retry, || store.delete(&loc)).await?;
                removed += 1;
            } else {
                kept += 1;
            }
        }
        Ok((removed, kept))
    }

    /// Commits the range's offsets `start..=end` with its files (possibly none, when every
    /// record of the range was skipped). `head` is the chain head this writer believes in
    /// (`None` for a partition that never committed). `unwritten` is released file by file
    /// as their in-flight copies are written.
    pub async fn commit(
        &self,
        head: Option<&Head>,
        range: PendingRange,
        unwritten: Unwritten,
    ) -> Result<CommitOutcome, SinkError> {
        let PendingRange {
            start,
            end,
            files,
            min_ts: min_timestamp_ms,
            max_ts: max_timestamp_ms,
        } = range;
        debug_assert!(end >= start);
        let store = &self.store;
        // A never-committed partition starts its chain with a hint naming the first slot,
        // created only if absent: two first writers race here exactly as on a claim.
        if head.is_none() {
            let genesis = Head {
                next: start,
                max_timestamp_ms: None,
                first_timestamp_ms: min_timestamp_ms,
            };
            let bytes = Bytes::from(serde_json::to_vec(&genesis).expect("head serialises"));
            let p = self.head_path()?;
            if with_retry("create head", self.retry, || {
                store.create(&p, bytes.clone())
            })
            .await?
                == Created::AlreadyExists
            {
                return self.fenced().await;
            }
        }

        // 1. In-flight copies of the files and of the claim, written concurrently (on HDFS
        //    each close waits about 0.5 s for the NameNode to hear of the block).
        let claim = Claim {
            start,
            end,
            writer: self.writer.clone(),
            files: files
                .iter()
                .enumerate()
                .map(|(i, f)| ClaimedFile {
                    tmp: format!("{}/{start:020}.{}.{i}.json", self.tmp_dir, self.writer),
                    path: f.path.clone(),
                    records: f.records,
                    bytes: f.bytes.content_length() as u64,
                })
                .collect(),
            min_timestamp_ms,
            max_timestamp_ms,
            committed_at_ms: now_ms(),
        };
        let claim_tmp = format!("{}/{start:020}.{}.commit", self.tmp_dir, self.writer);
        let claim_bytes = Bytes::from(serde_json::to_vec(&claim).expect("claim serialises"));
        // Each file's buffer is moved into its write and dropped when the write is done.
        let puts: Vec<_> = claim
            .files
            .iter()
            .zip(files)
            .map(|(c, f)| {
                let unwritten = unwritten.clone();
                async move {
                    let n = f.bytes.content_length();
                    self.put_tmp(&c.tmp, f.bytes).await?;
                    unwritten.release(n);
                    Ok::<(), SinkError>(())
                }
            })
            .collect();
        let data = futures::stream::iter(puts)
            .buffer_unordered(FILE_CONCURRENCY)
            .try_collect::<Vec<()>>();
        futures::future::try_join(data, self.put_tmp(&claim_tmp, claim_bytes.into())).await?;

        // 2. The claim: moving it into the slot, only if the slot is free, is the commit point
        //    (one NameNode call on HDFS, where creating it would be another file close).
        let (claim_tmp, claim_path) = (path(&claim_tmp)?, self.claim_path(start)?);
        let renamed = with_retry("claim", self.retry, || {
            store.rename_if_absent(&claim_tmp, &claim_path)
        })
        .await?;
        if renamed != Renamed::Renamed {
            // Ours, if an earlier attempt's reply was lost; anyone else's means we are fenced.
            let existing: Option<Claim> = self.get_json(&claim_path).await?;
            with_retry("remove tmp", self.retry, || store.delete(&claim_tmp)).await?;
            if existing.as_ref() != Some(&claim) {
                for f in &claim.files {
                    let tmp = path(&f.tmp)?;
                    with_retry("remove tmp", self.retry, || store.delete(&tmp)).await?;
                }
                return self.fenced().await;
            }
        }

        // 3. Make the files visible. The hint is the caller's to advance, later.
        self.roll_forward(&claim).await?;
        let new_head = next_head(head, start, end, min_timestamp_ms, max_timestamp_ms);
        Ok(CommitOutcome::Committed { head: new_head })
    }

    async fn put_tmp(&self, tmp: &str, bytes: PutPayload) -> Result<(), SinkError> {
        let tmp_path = path(tmp)?;
        let store = &self.store;
        with_retry("write tmp", self.retry, || {
            store.put_payload(&tmp_path, bytes.clone())
        })
        .await?;
        Ok(())
    }

    async fn fenced(&self) -> Result<CommitOutcome, SinkError> {
        let recovered = self.recover().await?;
        let head = recovered.head.ok_or_else(|| SinkError::CorruptLog {
            path: self.log_dir.clone(),
            message: "fenced by another writer, but the chain has no head".into(),
        })?;
        Ok(CommitOutcome::Fenced { head })
    }

    /// The current hint, without walking (for completeness markers).
    pub async fn read_head(&self) -> Result<Option<Head>, SinkError> {
        self.get_json(&self.head_path()?).await
    }
}

/// The head after walking past `claim`: the same as [`next_head`] gave its writer.
fn advance(head: Head, claim: &Claim) -> Head {
    next_head(
        Some(&head),
        claim.start,
        claim.end,
        claim.min_timestamp_ms,
        claim.max_timestamp_ms,
    )
}

/// The head after committing `start..=end` on top of `head`: what [`PartitionLog::commit`]
/// returns, and what a writer pipelining its next range can assume meanwhile.
pub fn next_head(
    head: Option<&Head>,
    start: i64,
    end: i64,
    min_timestamp_ms: Option<i64>,
    max_timestamp_ms: Option<i64>,
) -> Head {
    let base = head.cloned().unwrap_or(Head {
        next: start,
        max_timestamp_ms: None,
        first_timestamp_ms: None,
    });
    Head {
        next: end + 1,
        max_timestamp_ms: max_opt(base.max_timestamp_ms, max_timestamp_ms),
        // The first range with a landed record (not only skipped ones) sets where markers start.
        first_timestamp_ms: base.first_timestamp_ms.or(min_timestamp_ms),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn log(store: &Store, writer: &str) -> PartitionLog {
        let settings = LogSettings {
            topics_dir: "topics".into(),
            logs_dir: "logs".into(),
            retry: RetryPolicy::default(),
            tmp_retention_ms: 86_400_000,
        };
        PartitionLog::new(store.clone(), &settings, "t", 0, writer.into())
    }

    fn file(name: &str, body: &str) -> PendingFile {
        PendingFile {
            path: format!("topics/t/{name}"),
            bytes: Bytes::from(body.to_string()).into(),
            records: body.lines().count() as u64,
        }
    }

    fn range(
        start: i64,
        end: i64,
        files: Vec<PendingFile>,
        min_ts: Option<i64>,
        max_ts: Option<i64>,
    ) -> PendingRange {
        PendingRange {
            start,
            end,
            files,
            min_ts,
            max_ts,
        }
    }

    async fn committed(store: &Store) -> Vec<String> {
        let mut v: Vec<String> = store
            .list(&Path::from("topics/t"))
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.location.to_string())
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn commit_then_recover_resumes_after_the_last_claim() {
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let a = log(&store, "a");
        assert_eq!(a.recover().await.unwrap().head, None);
        let out = a
            .commit(
                None,
                range(
                    5,
                    7,
                    vec![file("t+0+5+7.json", "1\n2\n3\n")],
                    Some(8),
                    Some(10),
                ),
                Unwritten::default(),
            )
            .await
            .unwrap();
        let CommitOutcome::Committed {
            head: committed_head,
        } = out
        else {
            panic!("{out:?}")
        };
        let head = a.recover().await.unwrap().head.unwrap();
        assert_eq!(head, committed_head);
        assert_eq!(head.next, 8);
        assert_eq!(head.max_timestamp_ms, Some(10));
        assert_eq!(head.first_timestamp_ms, Some(8));
        assert_eq!(committed(&store).await, vec!["topics/t/t+0+5+7.json"]);
        assert!(tmp_is_empty(&store).await);
    }

    /// The hint is written behind commits, so recovery must rebuild exactly the head the
    /// commits returned from the claims alone, whatever hint (initial, stale, or one written
    /// out of order) it starts from.
    #[tokio::test]
    async fn recovery_from_any_stale_hint_rebuilds_the_committed_head() {
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let a = log(&store, "a");
        // The first range was all skipped records (no timestamps, no files).
        let ranges = [
            range(0, 3, vec![], None, None),
            range(4, 5, vec![file("x.json", "1\n2\n")], Some(40), Some(50)),
            range(6, 9, vec![file("y.json", "3\n")], Some(30), Some(45)),
        ];
        let mut head: Option<Head> = None;
        let mut heads = Vec::new();
        for r in ranges {
            let out = a
                .commit(head.as_ref(), r, Unwritten::default())
                .await
                .unwrap();
            let CommitOutcome::Committed { head: h } = out else {
                panic!("{out:?}")
            };
            heads.push(h.clone());
            head = Some(h);
        }
        let last = heads.last().unwrap().clone();
        assert_eq!(
            last,
            Head {
                next: 10,
                max_timestamp_ms: Some(50),
                first_timestamp_ms: Some(40)
            }
        );
        // No hint written since the genesis one: all three claims are walked.
        let rec = log(&store, "b").recover().await.unwrap();
        assert_eq!((rec.head.as_ref(), rec.walked), (Some(&last), 3));
        // A hint that went backwards (an older write landing after a newer one).
        a.write_hint(&heads[0]).await.unwrap();
        let rec = log(&store, "c").recover().await.unwrap();
        assert_eq!((rec.head.as_ref(), rec.walked), (Some(&last), 2));
        // Recovery wrote the head it found: the next one walks nothing.
        let rec = log(&store, "d").recover().await.unwrap();
        assert_eq!((rec.head, rec.walked), (Some(last), 0));
    }

    async fn tmp_is_empty(store: &Store) -> bool {
        store
            .list(&Path::from("topics/+tmp"))
            .await
            .unwrap()
            .is_empty()
    }

    #[tokio::test]
    async fn a_zombie_cannot_commit_over_the_new_owner() {
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let (zombie, owner) = (log(&store, "zombie"), log(&store, "owner"));
        zombie
            .commit(
                None,
                range(0, 9, vec![file("a.json", "x\n")], None, None),
                Unwritten::default(),
            )
            .await
            .unwrap();
        let seen_by_zombie = zombie.recover().await.unwrap().head.unwrap();
        // The owner takes over and commits 10..=19.
        let head = owner.recover().await.unwrap().head.unwrap();
        owner
            .commit(
                Some(&head),
                range(10, 19, vec![file("b.json", "y\n")], None, None),
                Unwritten::default(),
            )
            .await
            .unwrap();
        // The zombie wakes up with its stale view and tries 10..=30.
        let out = zombie
            .commit(
                Some(&seen_by_zombie),
                range(10, 30, vec![file("c.json", "z\n")], None, None),
                Unwritten::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            out,
            CommitOutcome::Fenced {
                head: Head {
                    next: 20,
                    max_timestamp_ms: None,
                    first_timestamp_ms: None
                }
            }
        );
        assert_eq!(
            committed(&store).await,
            vec!["topics/t/a.json", "topics/t/b.json"]
        );
        assert!(tmp_is_empty(&store).await);
    }

    #[tokio::test]
    async fn a_claim_whose_files_were_not_moved_is_rolled_forward() {
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let a = log(&store, "a");
        a.commit(
            None,
            range(0, 1, vec![file("a.json", "1\n2\n")], None, None),
            Unwritten::default(),
        )
        .await
        .unwrap();
        // Simulate a crash after the claim of 2..=3, before the rename and the hint.
        let tmp = "topics/+tmp/t/0/00000000000000000002.a.0.json";
        store
            .put(&Path::from(tmp), Bytes::from_static(b"3\n4\n"))
            .await
            .unwrap();
        let claim = Claim {
            start: 2,
            end: 3,
            writer: "a".into(),
            files: vec![ClaimedFile {
                tmp: tmp.into(),
                path: "topics/t/b.json".into(),
                records: 2,
                bytes: 4,
            }],
            min_timestamp_ms: None,
            max_timestamp_ms: None,
            committed_at_ms: 0,
        };
        store
            .create(
                &Path::from("logs/t/0/00000000000000000002.commit"),
                Bytes::from(serde_json::to_vec(&claim).unwrap()),
            )
            .await
            .unwrap();
        // An orphan of a writer that died before claiming slot 0 (long claimed): removed.
        store
            .put(
                &Path::from("topics/+tmp/t/0/00000000000000000000.dead.0.json"),
                Bytes::from_static(b"x\n"),
            )
            .await
            .unwrap();
        let rec = log(&store, "b").recover().await.unwrap();
        assert_eq!(rec.head.unwrap().next, 4);
        // Both claims: the hint (written behind commits, by the task) still names slot 0.
        assert_eq!(rec.walked, 2);
        assert_eq!(rec.removed_tmp, 1);
        assert_eq!(
            committed(&store).await,
            vec!["topics/t/a.json", "topics/t/b.json"]
        );
    }

    #[tokio::test]
    async fn a_claim_with_lost_files_is_reported_not_guessed() {
        let store = Store::from_url("memory://", &HashMap::new()).unwrap();
        let a = log(&store, "a");
        a.commit(None, range(0, 0, vec![], None, None), Unwritten::default())
            .await
            .unwrap();
        let claim = Claim {
            start: 1,
            end: 1,
            writer: "a".into(),
            files: vec![ClaimedFile {
                tmp: "topics/+tmp/t/0/gone.json".into(),
                path: "topics/t/gone.json".into(),
                records: 1,
                bytes: 2,
            }],
            min_timestamp_ms: None,
            max_timestamp_ms: None,
            committed_at_ms: 0,
        };
        store
            .create(
                &Path::from("logs/t/0/00000000000000000001.commit"),
                Bytes::from(serde_json::to_vec(&claim).unwrap()),
            )
            .await
            .unwrap();
        let err = a.recover().await.unwrap_err();
        assert!(
            err.to_string()
                .contains("gone.json is neither in +tmp nor committed"),
            "{err}"
        );
    }

    /// Lays down `n` committed ranges of one record each, as a long-running sink leaves them
    /// (data files, claims, hint), directly through the store.
    async fn landed(store: &Store, n: i64) {
        for i in 0..n {
            let path = format!("topics/t/year=2026/t+0+{i:010}+{i:010}.json");
            store
                .put(&parse_path(&path).unwrap(), Bytes::from_static(b"{}\n"))
                .await
                .unwrap();
            let claim = Claim {
                start: i,
                end: i,
                writer: "w".into(),
                files: vec![ClaimedFile {
                    tmp: format!("topics/+tmp/t/0/{i:020}.w.0.json"),
                    path,
                    records: 1,
                    bytes: 3,
                }],
                min_timestamp_ms: None,
                max_timestamp_ms: None,
                committed_at_ms: 0,
            };
            store
                .put(
                    &parse_path(&format!("logs/t/0/{}", slot_name(i))).unwrap(),
                    Bytes::from(serde_json::to_vec(&claim).unwrap()),
                )
                .await
                .unwrap();
        }
        let head = Head {
            next: n,
            max_timestamp_ms: None,
            first_timestamp_ms: None,
        };
        store
            .put(
                &parse_path("logs/t/0/head.json").unwrap(),
                Bytes::from(serde_json::to_vec(&head).unwrap()),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn recovery_work_does_not_grow_with_the_files_landed() {
        let mut walked = Vec::new();
        for n in [10, 10_000] {
            let dir = tempfile::tempdir().unwrap();
            let store =
                Store::from_url(&format!("file://{}", dir.path().display()), &HashMap::new())
                    .unwrap();
            landed(&store, n).await;
            let started = std::time::Instant::now();
            let rec = log(&store, "r").recover().await.unwrap();
            eprintln!("recovery with {n} files landed: {:?}", started.elapsed());
            assert_eq!(rec.head.unwrap().next, n);
            walked.push(rec.walked);
        }
        // The hint is current: neither recovery walks a single claim, whatever was landed.
        assert_eq!(walked, vec![0, 0]);
    }
}
