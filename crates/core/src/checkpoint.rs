//! Checkpoints: a consistent snapshot of a pipeline, on any store the storage layer takes.
//!
//! A checkpoint is taken between two batches, after the sink has made everything emitted so far
//! durable, so its parts agree: the source positions (what has been read), the watermarks and
//! open windows (what has been counted), and the sink position (what has been written). It is
//! one JSON object at `<dir>/chk-<id>.json`, written create-if-absent: two instances sharing a
//! checkpoint directory collide on the next id instead of silently interleaving. The newest
//! `retain` are kept. On start the newest readable one is restored; an unreadable newest one
//! (a store without atomic writes, a truncated copy) is reported and the one before it used.

use bytes::Bytes;
use lakeshore_storage::{Created, Path, Store};
use serde::{Deserialize, Serialize};

use crate::watermark::WatermarkSnapshot;
use crate::window::WindowSnapshot;
use crate::{CoreError, Result};

/// Format version of the checkpoint file.
pub const VERSION: u32 = 1;

/// Running totals carried across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub records: u64,
    pub late: u64,
    pub rejected: u64,
    pub out_of_range: u64,
    pub emitted: u64,
}

/// One consistent snapshot of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub id: u64,
    /// When it was taken (RFC 3339).
    pub created: String,
    /// What the job is (input, key, window): a checkpoint of another job is refused.
    pub job: String,
    pub source: serde_json::Value,
    pub watermarks: WatermarkSnapshot,
    pub windows: WindowSnapshot,
    pub sink: serde_json::Value,
    pub counters: Counters,
}

/// Where a job's checkpoints live.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    store: Store,
    dir: Path,
    retain: usize,
    runtime: tokio::runtime::Handle,
}

impl CheckpointStore {
    /// Checkpoints under `dir` (relative to the store's root), keeping the newest `retain`.
    pub fn new(store: Store, dir: &str, retain: usize, runtime: tokio::runtime::Handle) -> Self {
        CheckpointStore {
            store,
            dir: Path::from(dir),
            retain: retain.max(1),
            runtime,
        }
    }

    /// For logs: the checkpoint directory as a URL.
    pub fn location(&self) -> String {
        format!("{}/{}", self.store.url().trim_end_matches('/'), self.dir)
    }

    fn path(&self, id: u64) -> Path {
        self.dir.clone().join(format!("chk-{id:020}.json").as_str())
    }

    /// Ids of the checkpoints present, newest first.
    pub fn ids(&self) -> Result<Vec<u64>> {
        let listed = self.runtime.block_on(self.store.list(&self.dir))?;
        let mut ids: Vec<u64> = listed
            .iter()
            .filter_map(|m| m.location.filename())
            .filter_map(|n| n.strip_prefix("chk-")?.strip_suffix(".json")?.parse().ok())
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// The newest readable checkpoint of `job`, if any.
    pub fn latest(&self, job: &str) -> Result<Option<Checkpoint>> {
        for id in self.ids()? {
            let path = self.path(id);
            let Some(bytes) = self.runtime.block_on(self.store.get(&path))? else {
                continue; // pruned meanwhile
            };
            match serde_json::from_slice::<Checkpoint>(&bytes) {
                Ok(c) if c.version != VERSION => {
                    return Err(CoreError::Checkpoint {
                        path: path.to_string(),
                        reason: format!("format version {} (this build reads {VERSION})", c.version),
                    })
                }
                Ok(c) if c.job != job => {
                    return Err(CoreError::Checkpoint {
                        path: path.to_string(),
                        reason: format!(
                            "belongs to another job ({:?}, this is {job:?}); use another checkpoint directory",
                            c.job
                        ),
                    })
                }
                Ok(c) => return Ok(Some(c)),
                Err(e) => tracing::error!(
                    checkpoint = %path,
                    error = %e,
                    "unreadable checkpoint; trying the one before it"
                ),
            }
        }
        Ok(None)
    }

    /// Writes a checkpoint (fails if its id exists: another instance is writing here), then
    /// prunes old ones. Returns its size in bytes.
    pub fn save(&self, ckpt: &Checkpoint) -> Result<u64> {
        let path = self.path(ckpt.id);
        let bytes = serde_json::to_vec(ckpt).map_err(|e| CoreError::Checkpoint {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        let size = bytes.len() as u64;
        match self.runtime.block_on(self.store.create(&path, Bytes::from(bytes)))? {
            Created::Created => {}
            Created::AlreadyExists => {
                return Err(CoreError::Checkpoint {
                    path: path.to_string(),
                    reason: "already exists: is another instance of this job writing to the same checkpoint directory?".into(),
                })
            }
        }
        for old in self.ids()?.into_iter().skip(self.retain) {
            let p = self.path(old);
            if let Err(e) = self.runtime.block_on(self.store.delete(&p)) {
                tracing::warn!(checkpoint = %p, error = %e, "could not prune an old checkpoint");
            }
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ckpt(id: u64, job: &str) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            id,
            created: "2026-11-22T00:00:00Z".into(),
            job: job.into(),
            source: serde_json::json!({"0": 12}),
            watermarks: Default::default(),
            windows: Default::default(),
            sink: serde_json::Value::Null,
            counters: Default::default(),
        }
    }

    #[test]
    fn save_restore_prune_fence_and_skip_corrupt() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let store = Store::from_url(&url, &HashMap::new()).unwrap();
        let cs = CheckpointStore::new(store.clone(), "ckpt/job", 2, rt.handle().clone());
        assert_eq!(cs.latest("j").unwrap(), None);
        for id in 1..=4 {
            cs.save(&ckpt(id, "j")).unwrap();
        }
        assert_eq!(cs.ids().unwrap(), vec![4, 3], "only the newest 2 are kept");
        assert_eq!(cs.latest("j").unwrap().unwrap().id, 4);
        let err = cs.save(&ckpt(4, "j")).unwrap_err().to_string();
        assert!(err.contains("another instance"), "{err}");
        // A torn newest checkpoint: the one before it is used.
        std::fs::write(
            dir.path().join("ckpt/job/chk-00000000000000000005.json"),
            "{\"vers",
        )
        .unwrap();
        assert_eq!(cs.latest("j").unwrap().unwrap().id, 4);
        let err = cs.latest("other").unwrap_err().to_string();
        assert!(err.contains("belongs to another job"), "{err}");
    }
}
