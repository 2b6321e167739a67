//! # lakeshore-jobs
//!
//! The jobs Lakeshore runs, each a thin definition on top of the shared execution core
//! (`lakeshore-core`) and its Kafka and file connectors:
//!
//! - [`stream::chunk_counts`]: per-minute, per-company chunk counts from `embeddings.ready`
//!   to `analytics.flink` (the PyFlink job it replaces), streaming or bounded.
//! - [`batch::daily_chunks`]: the daily Parquet report of chunks per company and document
//!   (the PySpark EMR step it replaces).
//!
//! Each job owns its command-line arguments (clap derive, with help text) so that
//! `lakeshore <job> --help` and the job's code cannot drift apart.

pub mod batch;
pub mod stream;
