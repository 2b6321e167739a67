//! Errors of the landing sink, each with the context an operator needs and a verdict.
//!
//! Three families, because each has a different outcome:
//! - [`ConfigError`]: the properties file or a flag is wrong. Fatal at start-up, names the key.
//! - [`RecordError`]: one record cannot be landed as it is (not JSON, null, a path field that
//!   would escape its directory). Routed by `errors.tolerance` / `behavior.on.null.values`.
//! - [`SinkError`]: everything else at run time (storage, broker, a fenced commit), with a
//!   retry verdict.

use lakeshore_storage::StorageError;

/// A configuration key is missing, malformed or unsupported.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    /// The key at fault, exactly as the user wrote it.
    pub key: String,
    /// What is wrong and, where possible, what would be right.
    pub message: String,
}

impl ConfigError {
    /// Builds an error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Why one record cannot be landed as it is. The caller adds topic/partition/offset.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct RecordError(pub String);

/// Run-time failures of the sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Bad configuration (never worth retrying).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A storage operation failed; see [`StorageError::is_retryable`].
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The Kafka client failed.
    #[error("kafka {context}: {}", lakeshore_kafka::describe(source))]
    Kafka {
        /// What we were doing.
        context: String,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A record could not be landed and `errors.tolerance=none` says stop.
    #[error("{topic}/{partition}@{offset}: {reason}")]
    BadRecord {
        /// Topic of the record.
        topic: String,
        /// Kafka partition.
        partition: i32,
        /// Offset of the record.
        offset: i64,
        /// Why it cannot be landed.
        reason: RecordError,
    },
    /// The commit log of a partition is unreadable or inconsistent: never guess, stop.
    #[error("commit log {path}: {message}")]
    CorruptLog {
        /// The log object at fault.
        path: String,
        /// What is inconsistent.
        message: String,
    },
}

impl SinkError {
    /// Whether retrying the same operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SinkError::Storage(e) => e.is_retryable(),
            SinkError::Kafka { .. } => true,
            _ => false,
        }
    }
}
