//! # lakeshore-connect: the landing sink
//!
//! A drop-in for Confluent's Kafka Connect HDFS 3 sink: it reads the connector's
//! `.properties` file verbatim and lands Kafka topics as JSON-lines files in the same layout,
//! `<topics.dir>/<topic>/year=…/month=…/day=…/hour=…/<topic>+<partition>+<start>+<end>.json`,
//! exactly once.
//!
//! | module | owns |
//! |---|---|
//! | [`properties`] | Java `.properties` parsing |
//! | [`config`] | typed, checked configuration; [`config::KEYS`], the documented key list |
//! | [`partition`] | partitioners and Joda-Time `path.format` |
//! | [`timestamp`] | `timestamp.extractor` |
//! | [`transform`] | Kafka Connect's `InsertField$Value` |
//! | [`writer`] | per-partition buffers and file naming |
//! | [`commit`] | the exactly-once commit protocol (claims, recovery, fencing) |
//! | [`hints`] | each partition's `head.json` hint, written behind its commits |
//! | [`markers`] | hour completeness markers |
//! | [`task`] | one consumer in the group, rebalance handling |
//! | [`sink`] | the process: tasks, shutdown, exit summary |
//! | [`events`] | counters |

pub mod commit;
pub mod config;
pub mod error;
pub mod events;
pub mod hints;
pub mod markers;
pub mod partition;
pub mod properties;
pub mod sink;
pub mod task;
pub mod timestamp;
pub mod transform;
pub mod writer;

pub use config::SinkConfig;
pub use error::{ConfigError, SinkError};
pub use sink::{run, RunOptions};
