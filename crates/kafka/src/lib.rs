//! # lakeshore-kafka
//!
//! Kafka I/O for the execution core (`lakeshore-core`):
//!
//! - [`KafkaSource`]: one split per partition, positions kept in the job's checkpoints (not
//!   the consumer group, which only gets them as a courtesy for lag monitoring). Unbounded, or
//!   bounded by a time range (`offsetsForTimes` at both ends), in which case it ends and the
//!   pipeline fires every window — the same operators, no batch path.
//! - [`KafkaSink`]: window results to a topic, plus optional late-record and dead-letter
//!   topics. Exactly-once without broker transactions: after a restore it reads back what
//!   it wrote since the checkpoint and does not write it again. With
//!   [`ExactlyOnce::Transactions`], each checkpoint interval's output is also one Kafka
//!   transaction, so `read_committed` consumers never see output a crash later repeats.

mod client;
mod sink;
mod source;

pub use client::{describe, is_secret, parse_options, redacted, ClientOptions};
pub use sink::{ExactlyOnce, KafkaSink, KafkaSinkOptions};
pub use source::{KafkaSource, KafkaSourceOptions, StartFrom};
