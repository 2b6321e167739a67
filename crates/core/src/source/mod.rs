//! Sources: where records come from, split by split.
//!
//! A [`Source`] hands the pipeline [`Batch`]es of one split at a time, in split order, and
//! tells it when a split has [`Finished`](Poll::Finished), when nothing is there right now
//! ([`Idle`](Poll::Idle)) and when the whole input has ended ([`End`](Poll::End)). Being bounded
//! is a property a source declares; the only thing it changes is whether `End` ever comes.
//!
//! Implementations: [`LandingSource`] (the landed JSON files of a date range, bounded),
//! [`MemorySource`] (records in memory, bounded: examples and unit tests), and the Kafka
//! source in `lakeshore-kafka` (a topic, unbounded, or bounded by an offset/time range).

mod landing;
mod memory;

use std::time::Duration;

pub use landing::{
    is_hidden, landed_file, list_landed, LandedFile, LandingOptions, LandingSource, READ_RETRY,
};
pub use memory::MemorySource;

use crate::batch::{Batch, SplitId};
use crate::Result;

/// What a source has for the pipeline.
#[derive(Debug)]
pub enum Poll {
    /// Records of one split, in order.
    Batch(Batch),
    /// A split of a bounded input has no more records.
    Finished(SplitId),
    /// Nothing arrived within the timeout.
    Idle,
    /// The input has ended (only ever from a bounded source): every window may fire.
    End,
}

/// A split-aware, checkpointable input.
pub trait Source: Send {
    /// For logs: what this source reads, e.g. `kafka topic embeddings.ready`.
    fn describe(&self) -> String;

    /// Whether the input is finite (ends with [`Poll::End`]).
    fn bounded(&self) -> bool;

    /// Prepares reading, from a checkpoint's [`snapshot`](Self::snapshot) if there is one;
    /// returns the splits known now (each holds the watermark back until it has records or
    /// is idle).
    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<Vec<SplitId>>;

    /// Waits up to `timeout` for the next thing to report.
    fn poll(&mut self, timeout: Duration) -> Result<Poll>;

    /// The position after the last batch returned, per split: where a restart resumes.
    fn snapshot(&self) -> serde_json::Value;

    /// A checkpoint with this snapshot is durable (e.g. commit offsets to the consumer group
    /// so that lag shows in the usual tools). Default: nothing.
    fn checkpointed(&mut self, _snapshot: &serde_json::Value) {}

    /// Records not read yet per split (Kafka: end offset − position), for the status page
    /// and `/metrics`. Default: unknown (empty).
    fn backlog(&self) -> Vec<(SplitId, i64)> {
        Vec::new()
    }

    /// For people: where a record is, e.g. `embeddings.ready[3]@1234`.
    fn locate(&self, split: SplitId, position: i64) -> String {
        format!("split {split} position {position}")
    }
}
