//! A bounded source over landed JSON files (the `lakeshore land` / Confluent HDFS sink layout).
//!
//! Reads `<topic>/year=YYYY/month=MM/day=dd/**/<topic>+<partition>+<start>+<end>.json` for each
//! requested day, and only committed files: never `+tmp/`, nothing whose name starts with `_`
//! or `.`, nothing not named like a committed file. Each Kafka partition is a split, its
//! files read in order, so event time and watermarks behave as they did when the records
//! streamed through Kafka; files are visited hour directory by hour directory, all partitions
//! of an hour before the next hour, to keep the splits' event times close together.
//!
//! Files are fetched and decoded by `readers` threads in parallel and handed to the pipeline
//! in listing order. Each reader reuses one read buffer (a fresh 20 MB allocation per file
//! costs page faults, or, with glibc, memory that is never returned); decoded batches hold only
//! positions, times and keys, and at most `readers + 2` of them wait for the pipeline.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use lakeshore_format::lines;
use lakeshore_storage::{ObjectMeta, Path, RetryPolicy, Store};

/// Storage hiccups (a DataNode dropping a transfer) are retried, with logged backoff, for up
/// to two minutes before a read fails the run.
pub const READ_RETRY: RetryPolicy = RetryPolicy {
    initial: std::time::Duration::from_millis(200),
    max_backoff: std::time::Duration::from_secs(10),
    deadline: Some(std::time::Duration::from_secs(120)),
};

use crate::batch::{Batch, EventTime, RecordDecoder, SplitId};
use crate::source::{Poll, Source};
use crate::{CoreError, Result};

/// One committed landed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedFile {
    pub path: Path,
    pub partition: u32,
    /// First and last Kafka offset in the file (inclusive).
    pub start: i64,
    pub end: i64,
    pub size: u64,
}

/// Lists the committed files of `topic` landed under `<topic>/year=/month=/day=` for `day`
/// (path relative to the store's root), sorted by directory, partition and start offset.
/// A missing day directory is an empty list.
pub async fn list_landed(store: &Store, topic: &str, day: NaiveDate) -> Result<Vec<LandedFile>> {
    let prefix = Path::from(format!(
        "{topic}/year={:04}/month={:02}/day={:02}",
        day.year(),
        day.month(),
        day.day()
    ));
    let mut files = Vec::new();
    for meta in store.list(&prefix).await? {
        let rel: Vec<&str> = meta
            .location
            .as_ref()
            .strip_prefix(prefix.as_ref())
            .unwrap_or("")
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        if rel.iter().any(|p| is_hidden(p)) {
            continue;
        }
        if rel.is_empty() {
            continue;
        }
        files.extend(landed_file(topic, &meta));
    }
    files.sort_by(|a, b| {
        let dir = |f: &LandedFile| f.path.as_ref().rsplit_once('/').map(|x| x.0.to_string());
        (dir(a), a.partition, a.start).cmp(&(dir(b), b.partition, b.start))
    });
    Ok(files)
}

/// A directory or file name that is not landed data: in-flight (`+tmp`), a marker (`_`) or
/// hidden (`.`). The one rule for everything that walks the landing.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('+') || name.starts_with('_') || name.starts_with('.')
}

/// The object `meta` as a committed landed file of `topic`, judged by its name alone:
/// `<topic>+<partition>+<start>+<end>.json`, not hidden (`_`, `.`, `+` prefixes). `None` for
/// anything else (markers, in-flight files, other topics' files, stray names). Callers that
/// walk directories must also skip hidden directories (`+tmp/`, `_*`, `.*`).
pub fn landed_file(topic: &str, meta: &ObjectMeta) -> Option<LandedFile> {
    let name = meta.location.filename()?;
    if is_hidden(name) {
        return None;
    }
    let Some((partition, start, end)) = parse_file_name(topic, name) else {
        tracing::debug!(path = %meta.location, "not a committed landed file name; skipped");
        return None;
    };
    Some(LandedFile {
        path: meta.location.clone(),
        partition,
        start,
        end,
        size: meta.size,
    })
}

/// `<topic>+<partition>+<start>+<end>.json` → (partition, start, end).
fn parse_file_name(topic: &str, name: &str) -> Option<(u32, i64, i64)> {
    let rest = name
        .strip_prefix(topic)?
        .strip_prefix('+')?
        .strip_suffix(".json")?;
    let mut it = rest.split('+');
    let (p, s, e) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (s, e): (i64, i64) = (s.parse().ok()?, e.parse().ok()?);
    (s <= e).then_some((p.parse().ok()?, s, e))
}

/// What to read.
#[derive(Debug, Clone)]
pub struct LandingOptions {
    /// The landing root (`topics.dir` of the sink) as a store.
    pub store: Store,
    /// The topic's directory name, e.g. `embeddings.ready`.
    pub topic: String,
    /// The day directories to read.
    pub days: Vec<NaiveDate>,
    /// Keep only event times in `[from, to)`.
    pub range: Option<(i64, i64)>,
    pub key_field: String,
    pub event_time: EventTime,
    /// Threads fetching and decoding files.
    pub readers: usize,
    /// Runtime for the store's async calls.
    pub runtime: tokio::runtime::Handle,
}

/// The landed files of some days, as a bounded source.
#[derive(Debug)]
pub struct LandingSource {
    opts: LandingOptions,
    files: Arc<Vec<LandedFile>>,
    results: Option<Receiver<(usize, Result<Batch>)>>,
    ready: BTreeMap<usize, Result<Batch>>,
    next: usize,
    pending: VecDeque<Poll>,
    /// Files not yet delivered, per split.
    remaining: BTreeMap<SplitId, usize>,
    gate: Arc<(Mutex<usize>, Condvar)>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    ended: bool,
}

impl LandingSource {
    pub fn new(opts: LandingOptions) -> Self {
        LandingSource {
            opts,
            files: Arc::new(Vec::new()),
            results: None,
            ready: BTreeMap::new(),
            next: 0,
            pending: VecDeque::new(),
            remaining: BTreeMap::new(),
            gate: Arc::new((Mutex::new(0), Condvar::new())),
            stop: Arc::new(AtomicBool::new(false)),
            workers: Vec::new(),
            ended: false,
        }
    }

    /// The files this source reads (after [`Source::open`]).
    pub fn files(&self) -> &[LandedFile] {
        &self.files
    }

    /// Total bytes of the files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Reads and decodes one file; `buf` is the reader thread's reused read buffer.
fn read_file(opts: &LandingOptions, file: &LandedFile, buf: &mut Vec<u8>) -> Result<Batch> {
    let found = opts
        .runtime
        .block_on(opts.store.get_into_retrying(&file.path, buf, READ_RETRY))?;
    if !found {
        return Err(CoreError::Input {
            what: file.path.to_string(),
            reason: "disappeared while reading (was the landing cleaned up?)".into(),
        });
    }
    let bytes = &buf[..];
    let mut decoder = RecordDecoder::new(&opts.key_field, opts.event_time.clone(), opts.range);
    let mut last = file.start - 1;
    for (line, doc) in lines(bytes) {
        let position = file.start + line as i64 - 1;
        last = position;
        decoder.push(file.partition, position, doc, None, None, || {
            format!("{}:{line}", file.path)
        });
    }
    if last != file.end {
        tracing::warn!(
            file = %file.path,
            expected = file.end - file.start + 1,
            lines = last - file.start + 1,
            "landed file's line count does not match its offset range"
        );
    }
    Ok(decoder.finish(file.partition, file.end + 1))
}

impl Source for LandingSource {
    fn describe(&self) -> String {
        format!(
            "landed files of {} under {} ({} day(s))",
            self.opts.topic,
            self.opts.store.url(),
            self.opts.days.len()
        )
    }

    fn bounded(&self) -> bool {
        true
    }

    fn open(&mut self, _restored: Option<&serde_json::Value>) -> Result<Vec<SplitId>> {
        let mut files = Vec::new();
        for day in &self.opts.days {
            let found = self.opts.runtime.block_on(list_landed(
                &self.opts.store,
                &self.opts.topic,
                *day,
            ))?;
            tracing::info!(topic = %self.opts.topic, %day, files = found.len(), "listed landed files");
            files.extend(found);
        }
        for f in &files {
            *self.remaining.entry(f.partition).or_default() += 1;
        }
        self.files = Arc::new(files);
        let (tx, rx) = mpsc::channel();
        let taken = Arc::new(AtomicUsize::new(0));
        let readers = self.opts.readers.max(1);
        let max_in_flight = readers + 2;
        for i in 0..readers.min(self.files.len()) {
            let (tx, taken, files, gate, stop, opts) = (
                tx.clone(),
                taken.clone(),
                self.files.clone(),
                self.gate.clone(),
                self.stop.clone(),
                self.opts.clone(),
            );
            let handle = std::thread::Builder::new()
                .name(format!("landing-reader-{i}"))
                .spawn(move || {
                    let mut buf = Vec::new();
                    loop {
                        {
                            let (lock, cv) = &*gate;
                            let mut in_flight = lock.lock().expect("gate lock");
                            while *in_flight >= max_in_flight && !stop.load(Ordering::Relaxed) {
                                in_flight = cv.wait(in_flight).expect("gate lock");
                            }
                            *in_flight += 1;
                        }
                        let idx = taken.fetch_add(1, Ordering::Relaxed);
                        if idx >= files.len() || stop.load(Ordering::Relaxed) {
                            return;
                        }
                        if tx
                            .send((idx, read_file(&opts, &files[idx], &mut buf)))
                            .is_err()
                        {
                            return;
                        }
                    }
                })
                .map_err(|e| CoreError::Input {
                    what: "landing reader thread".into(),
                    reason: e.to_string(),
                })?;
            self.workers.push(handle);
        }
        self.results = Some(rx);
        Ok(self.remaining.keys().copied().collect())
    }

    fn poll(&mut self, timeout: Duration) -> Result<Poll> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(p);
        }
        if self.next >= self.files.len() {
            if self.ended {
                return Ok(Poll::Idle);
            }
            self.ended = true;
            return Ok(Poll::End);
        }
        let rx = self.results.as_ref().expect("open() before poll()");
        while !self.ready.contains_key(&self.next) {
            match rx.recv_timeout(timeout) {
                Ok((idx, res)) => {
                    self.ready.insert(idx, res);
                }
                Err(RecvTimeoutError::Timeout) => return Ok(Poll::Idle),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(CoreError::Input {
                        what: self.files[self.next].path.to_string(),
                        reason: "reader thread stopped".into(),
                    })
                }
            }
        }
        let batch = self.ready.remove(&self.next).expect("present")?;
        {
            let (lock, cv) = &*self.gate;
            *lock.lock().expect("gate lock") -= 1;
            cv.notify_one();
        }
        let split = self.files[self.next].partition;
        self.next += 1;
        let left = self.remaining.get_mut(&split).expect("counted in open");
        *left -= 1;
        if *left == 0 {
            self.pending.push_back(Poll::Finished(split));
        }
        Ok(Poll::Batch(batch))
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({ "files_done": self.next })
    }

    fn locate(&self, split: SplitId, position: i64) -> String {
        format!("{}[{split}]@{position} (landed)", self.opts.topic)
    }
}

impl Drop for LandingSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.gate.1.notify_all();
        self.results = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let t = "embeddings.ready";
        assert_eq!(
            parse_file_name(t, "embeddings.ready+3+0000000100+0000000199.json"),
            Some((3, 100, 199))
        );
        assert_eq!(parse_file_name(t, "embeddings.ready+3+100+99.json"), None);
        assert_eq!(parse_file_name(t, "chunks.processed+3+1+2.json"), None);
        assert_eq!(parse_file_name(t, "embeddings.ready+3+1+2.json.tmp"), None);
        assert_eq!(parse_file_name(t, "embeddings.ready+x+1+2.json"), None);
    }

    #[test]
    fn landed_files_by_name() {
        let meta = |p: &str| ObjectMeta {
            location: Path::from(p),
            last_modified: chrono::Utc::now(),
            size: 7,
            e_tag: None,
            version: None,
        };
        let t = "embeddings.ready";
        let f = landed_file(
            t,
            &meta("t/hour=01/embeddings.ready+3+0000000100+0000000199.json"),
        )
        .unwrap();
        assert_eq!((f.partition, f.start, f.end, f.size), (3, 100, 199, 7));
        for skipped in [
            "t/hour=01/_COMPLETE",
            "t/hour=01/.embeddings.ready+3+0000000100+0000000199.json",
            "t/hour=01/_embeddings.ready+3+0000000100+0000000199.json",
            "t/hour=01/notes.txt",
        ] {
            assert_eq!(landed_file(t, &meta(skipped)), None, "{skipped}");
        }
    }
}
