//! Per-partition buffers: the records consumed since the partition's last commit, grouped by
//! the directory the partitioner chose, with the bookkeeping that decides when to commit.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::commit::{Head, PendingFile, PendingRange};

/// A file's buffer grows (by doubling) up to this size, then is sealed and a new one of this
/// size started: memory held stays within one chunk of the bytes buffered, and nothing is
/// copied again once written (a single growing buffer would reserve up to twice its content
/// and copy it at each doubling).
const CHUNK: usize = 1 << 20;

/// One file being filled: all buffered records of one partition bound for one directory.
#[derive(Debug)]
struct OpenFile {
    /// Sealed chunks, in order.
    sealed: Vec<Bytes>,
    /// The chunk being filled.
    buf: Vec<u8>,
    first_offset: i64,
    last_offset: i64,
    records: u64,
}

/// What a partition has consumed and not yet committed.
#[derive(Debug)]
pub struct PartitionBuffer {
    /// Topic.
    pub topic: String,
    /// Kafka partition.
    pub partition: i32,
    /// The chain head as this writer knows it (`None`: nothing ever committed).
    pub head: Option<Head>,
    /// Recovery kept in-flight files of the open slot: remove them after our next claim.
    pub gc_tmp: bool,
    /// First offset of the pending range (the slot to claim), once a record was consumed.
    start: Option<i64>,
    /// Last offset consumed (landed, skipped or dead-lettered).
    last: Option<i64>,
    files: BTreeMap<String, OpenFile>,
    bytes: usize,
    opened_wall_ms: Option<i64>,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
}

impl PartitionBuffer {
    /// An empty buffer resuming after `head`.
    pub fn new(topic: String, partition: i32, head: Option<Head>) -> Self {
        Self {
            topic,
            partition,
            head,
            gc_tmp: false,
            start: None,
            last: None,
            files: BTreeMap::new(),
            bytes: 0,
            opened_wall_ms: None,
            min_ts: None,
            max_ts: None,
        }
    }

    /// The first offset this partition still needs (records below it are committed).
    pub fn next_needed(&self) -> Option<i64> {
        self.last
            .map(|l| l + 1)
            .or(self.head.as_ref().map(|h| h.next))
    }

    /// Marks `offset` consumed without landing it (skipped or dead-lettered).
    pub fn skip(&mut self, offset: i64, now_ms: i64) {
        self.touch(offset, now_ms);
    }

    fn touch(&mut self, offset: i64, now_ms: i64) {
        if self.start.is_none() {
            // The slot is the chain's next offset; a partition's first commit starts at its
            // first record.
            self.start = Some(self.head.as_ref().map_or(offset, |h| h.next));
            self.opened_wall_ms = Some(now_ms);
        }
        self.last = Some(offset);
    }

    /// Appends one JSON line (without its newline) bound for `dir`.
    /// Returns the number of records now in that file.
    pub fn push(&mut self, dir: &str, line: &[u8], offset: i64, ts_ms: i64, now_ms: i64) -> u64 {
        self.touch(offset, now_ms);
        self.min_ts = Some(self.min_ts.map_or(ts_ms, |m| m.min(ts_ms)));
        self.max_ts = Some(self.max_ts.map_or(ts_ms, |m| m.max(ts_ms)));
        let file = match self.files.get_mut(dir) {
            Some(f) => f,
            None => self.files.entry(dir.to_string()).or_insert(OpenFile {
                sealed: Vec::new(),
                buf: Vec::with_capacity((line.len() * 4 + 64).min(CHUNK)),
                first_offset: offset,
                last_offset: offset,
                records: 0,
            }),
        };
        let (len, need) = (file.buf.len(), line.len() + 1);
        let grows = len + need > file.buf.capacity();
        // Seal the chunk where the line would take it past CHUNK, or where it would have to
        // grow (a copy) although it is already half a chunk: a new chunk costs no copy.
        if len > 0 && (len + need > CHUNK || (grows && file.buf.capacity() >= CHUNK / 2)) {
            let full = std::mem::replace(&mut file.buf, Vec::with_capacity(CHUNK.max(need)));
            file.sealed.push(Bytes::from(full));
        } else if grows {
            // Double, but never past CHUNK (or the one line, if that is longer). Left to
            // itself, Vec would double past it: the newline alone can double a full buffer.
            let target = (file.buf.capacity() * 2)
                .max(len + need)
                .min(CHUNK.max(len + need));
            file.buf.reserve_exact(target - len);
        }
        file.buf.extend_from_slice(line);
        file.buf.push(b'\n');
        file.last_offset = offset;
        file.records += 1;
        self.bytes += line.len() + 1;
        file.records
    }

    /// Bytes buffered.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Files of the pending range (one per time partition it spans).
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Whether anything (even only skipped records) awaits a commit.
    pub fn has_pending(&self) -> bool {
        self.last.is_some()
    }

    /// Wall time when the pending range was opened.
    pub fn opened_wall_ms(&self) -> Option<i64> {
        self.opened_wall_ms
    }

    /// The pending range: files named the Confluent way, and the offsets they cover.
    pub fn take(&mut self, topics_dir: &str, pad: usize) -> Option<PendingRange> {
        let (start, end) = (self.start.take()?, self.last?);
        let files = std::mem::take(&mut self.files)
            .into_iter()
            .map(|(dir, f)| PendingFile {
                path: format!(
                    "{topics_dir}/{topic}/{dir}/{topic}+{p}+{a:0pad$}+{b:0pad$}.json",
                    topic = self.topic,
                    p = self.partition,
                    a = f.first_offset,
                    b = f.last_offset,
                ),
                bytes: f.sealed.into_iter().chain([Bytes::from(f.buf)]).collect(),
                records: f.records,
            })
            .collect();
        self.bytes = 0;
        self.opened_wall_ms = None;
        Some(PendingRange {
            start,
            end,
            files,
            min_ts: self.min_ts.take(),
            max_ts: self.max_ts.take(),
        })
    }

    /// Forgets everything pending and resumes after `head` (after a commit, or when fenced).
    pub fn reset(&mut self, head: Head) {
        let gc_tmp = self.gc_tmp;
        *self = PartitionBuffer::new(std::mem::take(&mut self.topic), self.partition, Some(head));
        self.gc_tmp = gc_tmp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn content(f: &PendingFile) -> Vec<u8> {
        f.bytes.iter().flat_map(|b| b.iter().copied()).collect()
    }

    #[test]
    fn files_are_named_like_confluent_and_interleaved_hours_split() {
        let mut b = PartitionBuffer::new("t".into(), 3, None);
        b.push("hour=09", b"{\"a\":1}", 100, 1, 0);
        b.push("hour=10", b"{\"a\":2}", 101, 2, 0);
        assert_eq!(b.push("hour=09", b"{\"a\":3}", 102, 3, 0), 2);
        let r = b.take("topics", 10).unwrap();
        assert_eq!((r.start, r.end), (100, 102));
        let names: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "topics/t/hour=09/t+3+0000000100+0000000102.json",
                "topics/t/hour=10/t+3+0000000101+0000000101.json"
            ]
        );
        assert_eq!(content(&r.files[0]), b"{\"a\":1}\n{\"a\":3}\n");
        assert_eq!((r.min_ts, r.max_ts), (Some(1), Some(3)));
        assert!(b.take("topics", 10).is_none());
    }

    #[test]
    fn the_slot_is_the_chain_head_even_across_offset_gaps() {
        let head = Head {
            next: 50,
            max_timestamp_ms: None,
            first_timestamp_ms: None,
        };
        let mut b = PartitionBuffer::new("t".into(), 0, Some(head));
        assert_eq!(b.next_needed(), Some(50));
        b.skip(53, 0);
        b.push("d", b"1", 54, 0, 0);
        assert_eq!(b.next_needed(), Some(55));
        let r = b.take("x", 10).unwrap();
        assert_eq!((r.start, r.end), (50, 54));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Chunking never changes a file: its content is exactly the lines pushed, in order,
        /// no chunk passes CHUNK unless it holds one line alone, and none reserves more.
        #[test]
        fn a_file_is_exactly_its_lines_however_it_is_chunked(
            lens in proptest::collection::vec(0usize..400_000, 1..24)
        ) {
            let mut b = PartitionBuffer::new("t".into(), 0, None);
            let mut want = Vec::new();
            for (i, n) in lens.iter().enumerate() {
                let line = vec![b'a' + (i % 26) as u8; *n];
                b.push("d", &line, i as i64, 0, 0);
                want.extend_from_slice(&line);
                want.push(b'\n');
            }
            // Memory: the open chunk never reserves past a chunk (or its longest line).
            let longest = lens.iter().max().unwrap() + 1;
            for f in b.files.values() {
                prop_assert!(f.buf.capacity() <= CHUNK.max(longest), "capacity {}", f.buf.capacity());
            }
            let r = b.take("x", 10).unwrap();
            prop_assert_eq!(r.files.len(), 1);
            prop_assert_eq!(content(&r.files[0]), want);
            for chunk in r.files[0].bytes.iter() {
                let lines = chunk.iter().filter(|c| **c == b'\n').count();
                prop_assert!(chunk.len() <= CHUNK || lines == 1, "{} bytes, {} lines", chunk.len(), lines);
            }
        }
    }
}
