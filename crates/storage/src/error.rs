//! The storage error: what we were doing, where, and whether trying again may help.

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The store URL cannot be used.
    #[error("store url `{url}`: {message}")]
    Url {
        /// The URL as given (credentials removed).
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// An operation on one object failed.
    #[error("{op} {store}/{path}: {source}")]
    Op {
        /// The operation (`put`, `get`, `rename`, ...).
        op: &'static str,
        /// The store, for messages (credentials removed).
        store: String,
        /// The object path inside the store.
        path: String,
        /// The backend's error (boxed: it is large, and errors travel in every `Result`).
        #[source]
        source: Box<object_store::Error>,
    },
}

impl StorageError {
    /// Whether the same call may succeed later: network, I/O and service errors are worth a
    /// retry; a missing object, a refused precondition, a bad path or missing permissions are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            StorageError::Url { .. } => false,
            StorageError::Op { source, .. } => matches!(
                **source,
                object_store::Error::Generic { .. } | object_store::Error::JoinError { .. }
            ),
        }
    }

    /// Whether the object was not found.
    pub fn is_not_found(&self) -> bool {
        match self {
            StorageError::Op { source, .. } => {
                matches!(**source, object_store::Error::NotFound { .. })
            }
            StorageError::Url { .. } => false,
        }
    }
}
