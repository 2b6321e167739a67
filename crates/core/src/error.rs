//! The core's one error type. Each variant says what failed and where, and
//! [`CoreError::is_retryable`] gives the caller a verdict.

use lakeshore_storage::StorageError;

/// Everything that can stop a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Reading or writing the store (landed files, checkpoints, output files).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A checkpoint that exists but cannot be used.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: String, reason: String },
    /// The input cannot be read as configured (missing directory, bad file name, ...).
    #[error("input {what}: {reason}")]
    Input { what: String, reason: String },
    /// A source failed (broker, file system); the message names the topic/partition or file.
    #[error("source {what}: {reason}")]
    Source {
        what: String,
        reason: String,
        retryable: bool,
    },
    /// A sink failed to write or to make its output durable.
    #[error("sink {what}: {reason}")]
    Sink {
        what: String,
        reason: String,
        retryable: bool,
    },
    /// A local file (output file) could not be written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl CoreError {
    /// Whether retrying the same operation later may succeed (a storage or broker hiccup)
    /// rather than fail the same way (bad input, corrupt state).
    pub fn is_retryable(&self) -> bool {
        match self {
            CoreError::Storage(e) => e.is_retryable(),
            CoreError::Source { retryable, .. } | CoreError::Sink { retryable, .. } => *retryable,
            CoreError::Checkpoint { .. } | CoreError::Input { .. } | CoreError::Io { .. } => false,
        }
    }
}
