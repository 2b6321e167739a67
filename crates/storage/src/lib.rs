//! # lakeshore-storage
//!
//! One interface to every place Lakeshore reads and writes, chosen by URL scheme:
//!
//! | URL | backend |
//! |---|---|
//! | `file:///var/lib/lakeshore` | local filesystem (the embedded default) |
//! | `hdfs://namenode:8020[/base]` | HDFS through `hdfs-native` (no JVM, no libhdfs) |
//! | `s3://bucket[/prefix]` | Amazon S3 (credentials from the usual `AWS_*` environment) |
//! | `memory://` | in-process memory, for tests and the demo |
//!
//! A [`Store`] is an `object_store::ObjectStore` plus a root prefix, with the few operations
//! Lakeshore's commit protocols are built from, each returning an *outcome* rather than an error
//! for the cases a protocol must branch on:
//!
//! - [`Store::create`]: write an object only if absent ([`Created`]); atomic on local files and
//!   HDFS (and on S3 with conditional puts). This is the primitive that fences zombies.
//! - [`Store::rename_if_absent`]: move an object into place without ever replacing another
//!   ([`Renamed`]); atomic on local files and HDFS (a NameNode rename).
//! - [`Store::get`] / [`Store::head`] answer `None` for a missing object.
//!
//! Errors carry the operation, the path and a retry verdict ([`StorageError::is_retryable`]),
//! so callers can back off on a storage hiccup and stop on anything else.

mod error;
mod retry;
mod store;

pub use error::StorageError;
pub use object_store::path::Path;
pub use object_store::{ObjectMeta, PutPayload};
pub use retry::{with_retry, RetryPolicy};
pub use store::{parse_path, Created, Renamed, Store};

/// Result alias of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
