//! # lakeshore-core
//!
//! The execution core every Lakeshore job runs on. Its one idea: **a bounded input is just a
//! finite stream.** A [`Source`] says whether it is bounded; when a bounded source ends it
//! reports [`Poll::End`], the [`Pipeline`] raises the watermark to its maximum, and every open
//! window fires through the same operator code a streaming run uses. No operator knows or asks
//! which kind of input it reads.
//!
//! ```text
//!   Source ──Batch(Arrow columns: position, event_time, key)──▶ Pipeline ──▶ Sink
//!     │  (Kafka partitions, landed files:                         │  per record:
//!     │   one split each)                                         │   late? → LateRecord
//!     │                                                           │   WindowOperator::on_record
//!     └── Finished(split) / Idle / End                            │   Watermarks::observe
//!                                                                 │   → fire windows ≤ watermark
//!                                every interval: Checkpoint ◀─────┘   (WindowResult → Sink)
//!                        (source positions, watermarks, window state, sink position)
//! ```
//!
//! | module | owns |
//! |---|---|
//! | [`batch`] | the columnar [`Batch`] a source emits, and the JSON [`RecordDecoder`] that fills it with only the fields a job needs |
//! | [`watermark`] | per-split bounded-out-of-orderness watermarks, idleness, wall-clock advance |
//! | [`window`] | keyed tumbling/sliding windows with incremental aggregation and allowed lateness |
//! | [`source`] | the [`Source`] trait and the bounded [`source::LandingSource`] over landed JSON files |
//! | [`sink`] | the [`Sink`] trait and the JSON-lines file sink |
//! | [`checkpoint`] | consistent snapshots on any store URL, restore, pruning |
//! | [`pipeline`] | the loop that ties them together |
//!
//! This crate depends on neither librdkafka nor polars: `cargo test -p lakeshore-core` stays
//! quick. Kafka sources and sinks live in `lakeshore-kafka`.

pub mod batch;
pub mod checkpoint;
mod error;
pub mod metrics;
pub mod pipeline;
pub mod sink;
pub mod source;
pub mod time;
pub mod watermark;
pub mod window;

pub use batch::{Batch, RecordDecoder, Reject, SplitId};
pub use checkpoint::{Checkpoint, CheckpointStore};
pub use error::CoreError;
pub use pipeline::{Pipeline, PipelineConfig, RunSummary};
pub use sink::{Encode, Sink};
pub use source::{Poll, Source};
pub use watermark::{WatermarkConfig, Watermarks};
pub use window::{Aggregate, LateRecord, WindowKind, WindowOperator, WindowResult};

/// Result alias of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
