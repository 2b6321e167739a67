//! [`Store`]: an object store chosen by URL, with a root prefix and outcome-returning calls.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RenameOptions,
    RenameTargetMode,
};
use url::Url;

use crate::{Result, StorageError};

/// Outcome of [`Store::create`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The object did not exist and now holds our bytes.
    Created,
    /// Another object was already there; nothing was written.
    AlreadyExists,
}

/// Outcome of [`Store::rename_if_absent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renamed {
    /// The source now lives at the target.
    Renamed,
    /// The target already existed; the source is untouched.
    TargetExists,
    /// There was no source object.
    SourceMissing,
}

/// An object store rooted at a URL. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// Prefix applied to every path (the URL's path for HDFS/S3; empty for local, whose
    /// backend is rooted at the directory itself).
    root: Path,
    /// The URL without credentials, for messages.
    display: String,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("url", &self.display).finish()
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl Store {
    /// Opens the store a URL names. `options` are backend settings: Hadoop configuration keys
    /// for `hdfs://` (e.g. `dfs.ha.namenodes.ns`), `aws_*` keys for `s3://`.
    pub fn from_url(url: &str, options: &HashMap<String, String>) -> Result<Store> {
        let parsed = Url::parse(url).map_err(|e| StorageError::Url {
            url: redact(url),
            message: format!(
                "{e} (expected file:///path, hdfs://host:port/path, s3://bucket/path or memory://)"
            ),
        })?;
        let display = redact_url(&parsed);
        let bad = |message: String| StorageError::Url {
            url: display.clone(),
            message,
        };
        let url_path = parsed.path().trim_matches('/').to_string();
        let (inner, root): (Arc<dyn ObjectStore>, Path) = match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|_| bad("not an absolute local path".into()))?;
                std::fs::create_dir_all(&dir)
                    .map_err(|e| bad(format!("cannot create {}: {e}", dir.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| bad(e.to_string()))?
                    .with_automatic_cleanup(true);
                (Arc::new(fs), Path::default())
            }
            "memory" => (
                Arc::new(object_store::memory::InMemory::new()),
                parse_root(&url_path).map_err(bad)?,
            ),
            "hdfs" | "viewfs" => {
                let authority = format!(
                    "{}://{}",
                    parsed.scheme(),
                    &parsed[url::Position::BeforeHost..url::Position::AfterPort]
                );
                // hdfs-native retries an unreachable NameNode for minutes by default, silently;
                // keep its own retries short so ours (logged, see `with_retry`) take over.
                let mut config: HashMap<String, String> = [
                    ("dfs.client.failover.max.attempts", "2"),
                    ("dfs.client.failover.sleep.base.millis", "200"),
                    ("dfs.client.failover.sleep.max.millis", "1000"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                config.extend(options.clone());
                let hdfs = hdfs_native_object_store::HdfsObjectStoreBuilder::new()
                    .with_url(authority)
                    .with_config(config)
                    .build()
                    .map_err(|e| bad(e.to_string()))?;
                (Arc::new(hdfs), parse_root(&url_path).map_err(bad)?)
            }
            "s3" | "s3a" => {
                let bucket = parsed.host_str().ok_or_else(|| bad("no bucket".into()))?;
                let mut builder =
                    object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (k, v) in options {
                    let key = k
                        .parse()
                        .map_err(|e: object_store::Error| bad(e.to_string()))?;
                    builder = builder.with_config(key, v);
                }
                let s3 = builder.build().map_err(|e| bad(e.to_string()))?;
                (Arc::new(s3), parse_root(&url_path).map_err(bad)?)
            }
            other => return Err(bad(format!("unsupported scheme `{other}`"))),
        };
        Ok(Store {
            inner,
            root,
            display,
        })
    }

    /// The store's URL without credentials.
    pub fn url(&self) -> &str {
        &self.display
    }

    fn full(&self, path: &Path) -> Path {
        if self.root.as_ref().is_empty() {
            path.clone()
        } else {
            self.root.parts().chain(path.parts()).collect()
        }
    }

    fn strip(&self, path: Path) -> Path {
        let stripped: Option<Path> = path.prefix_match(&self.root).map(|rest| rest.collect());
        stripped.unwrap_or(path)
    }

    fn err(&self, op: &'static str, path: &Path, source: object_store::Error) -> StorageError {
        StorageError::Op {
            op,
            store: self.display.clone(),
            path: path.to_string(),
            source: Box::new(source),
        }
    }

    /// Writes `bytes` at `path`, replacing any object there.
    pub async fn put(&self, path: &Path, bytes: Bytes) -> Result<()> {
        self.put_payload(path, PutPayload::from(bytes)).await
    }

    /// Writes the buffers of `payload`, in order, as one object at `path`, replacing any
    /// object there (no copy into one buffer first).
    pub async fn put_payload(&self, path: &Path, payload: PutPayload) -> Result<()> {
        self.inner
            .put(&self.full(path), payload)
            .await
            .map(|_| ())
            .map_err(|e| self.err("put", path, e))
    }

    /// Writes `bytes` at `path` only if nothing is there. Atomic: of two concurrent callers,
    /// exactly one sees [`Created::Created`].
    pub async fn create(&self, path: &Path, bytes: Bytes) -> Result<Created> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .inner
            .put_opts(&self.full(path), PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(Created::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
            Err(e) => Err(self.err("create", path, e)),
        }
    }

    /// Reads a whole object; `None` when it does not exist.
    pub async fn get(&self, path: &Path) -> Result<Option<Bytes>> {
        let result = match self.inner.get(&self.full(path)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err("get", path, e)),
        };
        result
            .bytes()
            .await
            .map(Some)
            .map_err(|e| self.err("get", path, e))
    }

    /// Reads a whole object into `buf` (replacing its contents) in ranges of at most 4 MiB, so
    /// that a caller reading many large objects reuses one buffer and the allocator reuses the
    /// ranges' memory (allocations of 8 MiB and more bypass jemalloc's caches: every one would
    /// fault in fresh pages); `false` when the object does not exist.
    pub async fn get_into(&self, path: &Path, buf: &mut Vec<u8>) -> Result<bool> {
        const RANGE: u64 = 4 << 20;
        buf.clear();
        let Some(meta) = self.head(path).await? else {
            return Ok(false);
        };
        buf.reserve(usize::try_from(meta.size).unwrap_or(0));
        let full = self.full(path);
        let mut at = 0;
        while at < meta.size {
            let end = (at + RANGE).min(meta.size);
            match self.inner.get_range(&full, at..end).await {
                Ok(bytes) => buf.extend_from_slice(&bytes),
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(self.err("get", path, e)),
            }
            at = end;
        }
        Ok(true)
    }

    /// [`get_into`](Self::get_into), retrying retryable errors (a DataNode dropping a
    /// transfer) with [`with_retry`](crate::with_retry)'s logged backoff until `policy`'s
    /// deadline.
    pub async fn get_into_retrying(
        &self,
        path: &Path,
        buf: &mut Vec<u8>,
        policy: crate::RetryPolicy,
    ) -> Result<bool> {
        // The buffer goes through a lock so that each attempt's future can borrow it.
        let what = format!("read {path}");
        let cell = tokio::sync::Mutex::new(std::mem::take(buf));
        let result = crate::with_retry(&what, policy, || async {
            self.get_into(path, &mut *cell.lock().await).await
        })
        .await;
        *buf = cell.into_inner();
        result
    }

    /// Metadata of an object; `None` when it does not exist.
    pub async fn head(&self, path: &Path) -> Result<Option<ObjectMeta>> {
        match self.inner.head(&self.full(path)).await {
            Ok(mut meta) => {
                meta.location = self.strip(meta.location);
                Ok(Some(meta))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("head", path, e)),
        }
    }

    /// Moves `from` to `to` unless `to` exists. Atomic on local files and HDFS.
    pub async fn rename_if_absent(&self, from: &Path, to: &Path) -> Result<Renamed> {
        let opts = RenameOptions {
            target_mode: RenameTargetMode::Create,
            ..Default::default()
        };
        match self
            .inner
            .rename_opts(&self.full(from), &self.full(to), opts)
            .await
        {
            Ok(()) => Ok(Renamed::Renamed),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Renamed::TargetExists),
            Err(object_store::Error::NotFound { .. }) => Ok(Renamed::SourceMissing),
            Err(e) => {
                // Some backends report a missing source as a generic error; tell the two apart
                // by looking, so the caller gets an outcome it can act on.
                if self.head(from).await?.is_none() {
                    return Ok(Renamed::SourceMissing);
                }
                if self.head(to).await?.is_some() {
                    return Ok(Renamed::TargetExists);
                }
                Err(self.err("rename", from, e))
            }
        }
    }

    /// Deletes an object; a missing object is not an error.
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.inner.delete(&self.full(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", path, e)),
        }
    }

    /// Moves a whole directory to a path that must not exist yet (one rename on the local
    /// filesystem and on HDFS, so readers see the old tree or the new one, never a mix).
    /// Object stores without directories (`s3://`, `memory://`) have no such operation and
    /// answer an error.
    pub async fn move_dir(&self, from: &Path, to: &Path) -> Result<()> {
        if self.display.starts_with("s3://") || self.display.starts_with("memory://") {
            let source = object_store::Error::NotImplemented {
                operation: "directory rename".into(),
                implementer: self.display.clone(),
            };
            return Err(self.err("move directory", from, source));
        }
        self.inner
            .rename(&self.full(from), &self.full(to))
            .await
            .map_err(|e| self.err("move directory", from, e))
    }

    /// Deletes every object below `prefix` (best effort for the directories themselves).
    pub async fn delete_all(&self, prefix: &Path) -> Result<()> {
        for meta in self.list(prefix).await? {
            self.delete(&meta.location).await?;
        }
        Ok(())
    }

    /// Every object below `prefix`, recursively, paths relative to the store root.
    /// Hidden in-flight objects of the backends (names starting with `.`) are included: callers
    /// that read data must skip them.
    pub async fn list(&self, prefix: &Path) -> Result<Vec<ObjectMeta>> {
        let full = self.full(prefix);
        let listed: Vec<ObjectMeta> = match self.inner.list(Some(&full)).try_collect().await {
            Ok(v) => v,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(self.err("list", prefix, e)),
        };
        Ok(listed
            .into_iter()
            .map(|mut m| {
                m.location = self.strip(m.location);
                m
            })
            .collect())
    }

    /// The objects and sub-directories directly below `prefix`.
    pub async fn list_dir(&self, prefix: &Path) -> Result<(Vec<ObjectMeta>, Vec<Path>)> {
        let full = self.full(prefix);
        match self.inner.list_with_delimiter(Some(&full)).await {
            Ok(r) => Ok((
                r.objects
                    .into_iter()
                    .map(|mut m| {
                        m.location = self.strip(m.location);
                        m
                    })
                    .collect(),
                r.common_prefixes
                    .into_iter()
                    .map(|p| self.strip(p))
                    .collect(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok((Vec::new(), Vec::new())),
            Err(e) => Err(self.err("list", prefix, e)),
        }
    }
}

/// Parses a `/`-separated relative path literally (no percent-encoding), rejecting `.`/`..`
/// and empty segments: paths built from record data can never escape their directory.
pub fn parse_path(s: &str) -> std::result::Result<Path, String> {
    let trimmed = s.trim_matches('/');
    if trimmed
        .split('/')
        .any(|seg| seg.is_empty() && !trimmed.is_empty())
    {
        return Err(format!("path `{s}` has an empty segment"));
    }
    Path::parse(trimmed).map_err(|e| format!("path `{s}`: {e}"))
}

fn parse_root(url_path: &str) -> std::result::Result<Path, String> {
    parse_path(url_path)
}

fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => redact_url(&u),
        Err(_) => url.split('@').next_back().unwrap_or(url).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_taken_literally_and_never_escape() {
        let p = parse_path("/atenex/kafka-landing/t+0+0000000001.json").unwrap();
        assert_eq!(p.as_ref(), "atenex/kafka-landing/t+0+0000000001.json");
        let p = parse_path("a/name=x%2Fy").unwrap();
        assert_eq!(p.parts().count(), 2);
        assert_eq!(p.as_ref(), "a/name=x%2Fy");
        assert!(parse_path("a/../b").is_err());
        assert!(parse_path("a//b").is_err());
    }

    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(
            redact("s3://key:secret@bucket/x"),
            "s3://key:***@bucket/x".to_string()
        );
        let err = Store::from_url("ftp://u:pw@host/x", &HashMap::new()).unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
        assert!(
            err.to_string().contains("unsupported scheme `ftp`"),
            "{err}"
        );
    }

    #[test]
    fn memory_root_is_applied() {
        let store = Store::from_url("memory:///base/dir", &HashMap::new()).unwrap();
        assert_eq!(store.full(&Path::from("x")).as_ref(), "base/dir/x");
        assert_eq!(store.strip(Path::from("base/dir/x/y")).as_ref(), "x/y");
    }
}
