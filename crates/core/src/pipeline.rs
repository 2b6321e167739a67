//! The loop that runs a keyed window job: source → event time → windows → sink, with
//! checkpoints.
//!
//! Per record: the record is judged against the current watermark (late for every window →
//! side output and count), added to its windows, then the watermark sees its time; whenever the
//! watermark advances, every window it passed fires. Watermark and window state therefore
//! evolve record by record, as in Flink with per-record watermark generation: the result of a
//! run depends only on the order records arrive in, not on how they were batched.
//!
//! The only thing a bounded input changes is that [`Poll::End`] arrives: the watermark jumps to
//! the maximum, and the same `on_watermark` call that fires windows in a streaming run fires
//! all the rest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checkpoint::{Checkpoint, CheckpointStore, Counters, VERSION};
use crate::metrics::{self, Metrics};
use crate::sink::Sink;
use crate::source::{Poll, Source};
use crate::time::format_utc;
use crate::watermark::{WatermarkConfig, Watermarks};
use crate::window::{Aggregate, LateRecord, WindowKind, WindowOperator, WindowResult};
use crate::{Batch, Result};

/// How a pipeline runs.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Identifies the job in checkpoints (input, key, window): a checkpoint of a different job
    /// is refused rather than misapplied.
    pub job: String,
    pub watermarks: WatermarkConfig,
    pub window: WindowKind,
    pub aggregate: Aggregate,
    pub allowed_lateness: Duration,
    /// Time between checkpoints (when a checkpoint store is given).
    pub checkpoint_interval: Duration,
    /// How long one poll of the source may wait.
    pub poll_timeout: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Totals, including those carried over from the restored checkpoint.
    pub counters: Counters,
    /// The input ended (bounded) rather than the run being stopped.
    pub ended: bool,
    pub checkpoints: u64,
    /// The checkpoint the run started from.
    pub restored_from: Option<u64>,
    pub watermark: i64,
}

/// A source, a keyed window operator and a sink, with optional checkpoints.
pub struct Pipeline {
    cfg: PipelineConfig,
    source: Box<dyn Source>,
    sink: Box<dyn Sink>,
    checkpoints: Option<CheckpointStore>,
    metrics: Arc<Metrics>,
    watermarks: Watermarks,
    windows: WindowOperator,
    counters: Counters,
    out: Vec<WindowResult>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("source", &self.source.describe())
            .field("sink", &self.sink.describe())
            .field("checkpoints", &self.checkpoints)
            .finish()
    }
}

impl Pipeline {
    pub fn new(
        cfg: PipelineConfig,
        source: Box<dyn Source>,
        sink: Box<dyn Sink>,
        checkpoints: Option<CheckpointStore>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let lateness = i64::try_from(cfg.allowed_lateness.as_millis()).unwrap_or(i64::MAX / 4);
        Pipeline {
            watermarks: Watermarks::new(&cfg.watermarks),
            windows: WindowOperator::new(cfg.window, cfg.aggregate, lateness),
            cfg,
            source,
            sink,
            checkpoints,
            metrics,
            counters: Counters::default(),
            out: Vec::new(),
        }
    }

    /// Runs until the input ends (bounded) or `stop` is set; a stopped run takes a last
    /// checkpoint, an ended run fires every window. Either way the sink is flushed.
    pub fn run(mut self, stop: &AtomicBool) -> Result<RunSummary> {
        let restored = match &self.checkpoints {
            Some(cs) => cs.latest(&self.cfg.job)?,
            None => None,
        };
        let now = Instant::now();
        if let Some(c) = &restored {
            tracing::info!(
                checkpoint = c.id,
                created = %c.created,
                watermark = %fmt_wm(c.watermarks.current),
                open_windows = c.windows.panes.len(),
                "restoring from checkpoint"
            );
            self.watermarks.restore(&c.watermarks, now);
            self.windows.restore(&c.windows);
            self.counters = c.counters.clone();
        }
        let splits = self.source.open(restored.as_ref().map(|c| &c.source))?;
        self.sink.open(restored.as_ref().map(|c| &c.sink))?;
        for s in &splits {
            self.watermarks.add_split(*s, now);
        }
        tracing::info!(
            source = %self.source.describe(),
            bounded = self.source.bounded(),
            splits = splits.len(),
            sink = %self.sink.describe(),
            checkpoints = self.checkpoints.as_ref().map(|c| c.location()).unwrap_or_else(|| "off".into()),
            "pipeline started"
        );
        let mut summary = RunSummary {
            restored_from: restored.as_ref().map(|c| c.id),
            ..Default::default()
        };
        let fresh = restored.is_none();
        let mut next_id = restored.map_or(1, |c| c.id + 1);
        if fresh && self.checkpoints.is_some() {
            // A first run killed before its first periodic checkpoint would leave nothing to
            // restore, so its successor could not tell its output from new output and would
            // write it again. Checkpoint the starting point before writing anything.
            self.flush_and_checkpoint(&mut next_id, &mut summary)?;
        }
        let mut next_checkpoint = now + self.cfg.checkpoint_interval;
        loop {
            if stop.load(Ordering::Relaxed) {
                tracing::info!("stopping: flushing output and taking a last checkpoint");
                self.flush_and_checkpoint(&mut next_id, &mut summary)?;
                break;
            }
            match self.source.poll(self.cfg.poll_timeout)? {
                Poll::Batch(batch) => self.process(&batch)?,
                Poll::Finished(split) => {
                    if self.watermarks.finish_split(split, Instant::now()) {
                        self.fire()?;
                    }
                }
                Poll::Idle => {}
                Poll::End => {
                    self.watermarks.end_of_input();
                    self.fire()?;
                    self.flush_and_checkpoint(&mut next_id, &mut summary)?;
                    summary.ended = true;
                    break;
                }
            }
            let now = Instant::now();
            if self.watermarks.update(now) {
                self.fire()?;
            }
            if self.checkpoints.is_some() && now >= next_checkpoint {
                self.flush_and_checkpoint(&mut next_id, &mut summary)?;
                next_checkpoint = Instant::now() + self.cfg.checkpoint_interval;
            }
        }
        summary.counters = self.counters.clone();
        summary.watermark = self.watermarks.current();
        Ok(summary)
    }

    fn process(&mut self, batch: &Batch) -> Result<()> {
        for r in &batch.rejects {
            tracing::warn!(record = %r.origin, reason = %r.reason, "bad record skipped");
            self.sink.reject(r)?;
        }
        self.counters.rejected += batch.rejects.len() as u64;
        metrics::add(&self.metrics.bad_records, batch.rejects.len() as i64);
        self.counters.out_of_range += batch.out_of_range;
        metrics::add(&self.metrics.out_of_range, batch.out_of_range as i64);

        let now = Instant::now();
        let (positions, times, keys) = batch.columns();
        let values = batch.values();
        for i in 0..batch.len() {
            let (key, ts) = (keys.value(i), times.value(i));
            let watermark = self.watermarks.current();
            if !self
                .windows
                .on_record(key, ts, values.value(i), watermark, &mut self.out)
            {
                let late = LateRecord {
                    split: batch.split,
                    position: positions.value(i),
                    key: key.to_string(),
                    event_time: ts,
                    watermark,
                };
                let origin = self.source.locate(batch.split, late.position);
                tracing::debug!(record = %origin, key, event_time = %format_utc(ts), watermark = %fmt_wm(watermark), "late record");
                self.counters.late += 1;
                metrics::add(&self.metrics.late_records, 1);
                self.sink.late(&late, &origin)?;
            }
            if self.watermarks.observe(batch.split, ts, now) {
                self.windows
                    .on_watermark(self.watermarks.current(), &mut self.out);
            }
        }
        self.counters.records += batch.len() as u64;
        metrics::add(&self.metrics.records_in, batch.len() as i64);
        self.emit()
    }

    fn fire(&mut self) -> Result<()> {
        self.windows
            .on_watermark(self.watermarks.current(), &mut self.out);
        self.emit()
    }

    fn emit(&mut self) -> Result<()> {
        for r in self.out.drain(..) {
            self.sink.emit(&r)?;
            self.counters.emitted += 1;
            metrics::add(&self.metrics.windows_emitted, 1);
            if r.update {
                metrics::add(&self.metrics.window_updates, 1);
            }
            self.metrics.window_fired(&r);
        }
        metrics::set(&self.metrics.watermark_ms, self.watermarks.current());
        self.metrics
            .splits_seen(self.watermarks.split_maxima(), self.watermarks.bound_ms());
        self.metrics.splits_backlog(self.source.backlog());
        metrics::set(
            &self.metrics.open_windows,
            self.windows.open_windows() as i64,
        );
        Ok(())
    }

    fn flush_and_checkpoint(&mut self, next_id: &mut u64, summary: &mut RunSummary) -> Result<()> {
        let started = Instant::now();
        self.sink.flush()?;
        let Some(cs) = &self.checkpoints else {
            return Ok(());
        };
        let ckpt = Checkpoint {
            version: VERSION,
            id: *next_id,
            created: chrono::Utc::now().to_rfc3339(),
            job: self.cfg.job.clone(),
            source: self.source.snapshot(),
            watermarks: self.watermarks.snapshot(),
            windows: self.windows.snapshot(),
            sink: self.sink.snapshot()?,
            counters: self.counters.clone(),
        };
        let bytes = cs.save(&ckpt)?;
        self.source.checkpointed(&ckpt.source);
        *next_id += 1;
        summary.checkpoints += 1;
        let took = started.elapsed().as_millis() as i64;
        self.metrics.checkpoint_written(ckpt.id, bytes, took);
        tracing::debug!(id = ckpt.id, bytes, took_ms = took, watermark = %fmt_wm(ckpt.watermarks.current), "checkpoint written");
        Ok(())
    }
}

/// A watermark for logs: a time, or `-inf` / `+inf` at the extremes.
pub fn fmt_wm(wm: i64) -> String {
    match wm {
        i64::MIN => "-inf".into(),
        i64::MAX => "+inf".into(),
        t => format_utc(t),
    }
}
