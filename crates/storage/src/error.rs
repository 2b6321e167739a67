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
    /// retry (an unreachable NameNode, a DataNode dropping a transfer, HDFS safe mode, a full
    /// disk someone may clear); a missing object, a refused precondition, a bad path, missing
    /// permissions, an exceeded quota or failed authentication are not, whichever backend
    /// reports them (see `is_permanent`).
    pub fn is_retryable(&self) -> bool {
        match self {
            StorageError::Url { .. } => false,
            StorageError::Op { source, .. } => match &**source {
                object_store::Error::Generic { source, .. } => !is_permanent(source.as_ref()),
                object_store::Error::JoinError { .. } => true,
                _ => false,
            },
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

/// Remote exceptions of the NameNode that no retry can cure: the caller must change
/// something (permissions, quota, the path) first. Any other remote exception is retried
/// (safe mode, a standby NameNode, `RetriableException`, a DataNode out of space, ...).
const PERMANENT_HDFS_EXCEPTIONS: [&str; 9] = [
    "AccessControlException",
    "AuthorizationException",
    "DSQuotaExceededException",
    "NSQuotaExceededException",
    "QuotaByStorageTypeExceededException",
    "ParentNotDirectoryException",
    "PathIsNotEmptyDirectoryException",
    "InvalidPathException",
    "UnsupportedOperationException",
];

/// Whether a backend's generic error can never succeed on retry.
///
/// object_store reports most backend failures as `Generic`; the HDFS client and the local
/// filesystem keep their own error inside, which is what decides here.
fn is_permanent(error: &(dyn std::error::Error + 'static)) -> bool {
    use hdfs_native::HdfsError;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(hdfs) = e.downcast_ref::<HdfsError>() {
            return match hdfs {
                HdfsError::RPCError(class, _) => {
                    PERMANENT_HDFS_EXCEPTIONS.iter().any(|p| class.ends_with(p))
                }
                HdfsError::FatalRPCError(..)
                | HdfsError::InvalidPath(_)
                | HdfsError::InvalidArgument(_)
                | HdfsError::UrlParseError(_)
                | HdfsError::IsADirectoryError(_)
                | HdfsError::UnsupportedFeature(_)
                | HdfsError::UnsupportedErasureCodingPolicy(_)
                | HdfsError::SASLError(_)
                | HdfsError::GSSAPIError(..)
                | HdfsError::NoSASLMechanism => true,
                _ => false,
            };
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            return matches!(
                io.kind(),
                K::PermissionDenied
                    | K::ReadOnlyFilesystem
                    | K::NotADirectory
                    | K::IsADirectory
                    | K::InvalidInput
            );
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(source: object_store::Error) -> StorageError {
        StorageError::Op {
            op: "put",
            store: "test://".into(),
            path: "a/b".into(),
            source: Box::new(source),
        }
    }

    fn generic(source: impl std::error::Error + Send + Sync + 'static) -> StorageError {
        op(object_store::Error::Generic {
            store: "test",
            source: Box::new(source),
        })
    }

    #[test]
    fn hdfs_permission_and_quota_errors_are_final_safe_mode_is_not() {
        use hdfs_native::HdfsError;
        let rpc = |class: &str| HdfsError::RPCError(class.into(), "message".into());
        for class in [
            "org.apache.hadoop.security.AccessControlException",
            "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException",
            "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException",
            "org.apache.hadoop.fs.ParentNotDirectoryException",
        ] {
            assert!(!generic(rpc(class)).is_retryable(), "{class}");
        }
        for class in [
            "org.apache.hadoop.hdfs.server.namenode.SafeModeException",
            "org.apache.hadoop.ipc.RetriableException",
            "org.apache.hadoop.ipc.StandbyException",
            "java.io.IOException",
        ] {
            assert!(generic(rpc(class)).is_retryable(), "{class}");
        }
        assert!(!generic(HdfsError::FatalRPCError("x".into(), "y".into())).is_retryable());
        assert!(!generic(HdfsError::NoSASLMechanism).is_retryable());
        assert!(generic(HdfsError::DataTransferError("reset".into())).is_retryable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(generic(HdfsError::IOError(io)).is_retryable());
    }

    #[test]
    fn local_permission_errors_are_final_a_full_disk_is_not() {
        use std::io::{Error, ErrorKind};
        assert!(!generic(Error::from(ErrorKind::PermissionDenied)).is_retryable());
        assert!(!generic(Error::from(ErrorKind::ReadOnlyFilesystem)).is_retryable());
        assert!(generic(Error::from(ErrorKind::StorageFull)).is_retryable());
        assert!(generic(Error::from(ErrorKind::TimedOut)).is_retryable());
    }

    #[test]
    fn typed_object_store_errors_are_final() {
        assert!(!op(object_store::Error::NotFound {
            path: "a".into(),
            source: "gone".into()
        })
        .is_retryable());
        assert!(!op(object_store::Error::PermissionDenied {
            path: "a".into(),
            source: "no".into()
        })
        .is_retryable());
    }
}
