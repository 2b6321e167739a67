//! The landing process: opens the store, starts `tasks.max` tasks, stops them gracefully.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use lakeshore_storage::{RetryPolicy, Store};
use tracing::{error, info, warn};

use crate::commit::LogSettings;
use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::events::Metrics;
use crate::markers::Markers;
use crate::task::{run_task, Shared};

/// How to run the sink beyond its configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides `bootstrap.servers`.
    pub brokers: Option<String>,
}

/// Runs the sink until `stop` is set (graceful: everything consumed is committed) or a fatal
/// error. Blocks the calling thread; storage I/O runs on `rt`.
pub fn run(
    cfg: SinkConfig,
    opts: RunOptions,
    rt: tokio::runtime::Handle,
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
) -> Result<(), SinkError> {
    let store = Store::from_url(&cfg.store_url, &cfg.store_options)?;
    for key in &cfg.ignored_keys {
        warn!(
            key,
            "config key has no effect in Lakeshore (accepted for compatibility)"
        );
    }
    let retry = RetryPolicy {
        initial: Duration::from_millis(100),
        max_backoff: Duration::from_millis(cfg.retry_backoff_ms.max(100)),
        deadline: None,
    };
    info!(
        name = %cfg.name,
        group = %cfg.group_id(),
        store = %store,
        topics = ?cfg.topics,
        tasks = cfg.tasks,
        kafka = ?cfg.redacted_kafka(),
        "landing sink starting"
    );
    let markers = Markers::new(
        store.clone(),
        &cfg.partitioner,
        &cfg.topics_dir,
        &cfg.logs_dir,
        cfg.lateness_ms,
        retry,
        metrics.clone(),
    );
    let shared = Arc::new(Shared {
        log_settings: LogSettings {
            topics_dir: cfg.topics_dir.clone(),
            logs_dir: cfg.logs_dir.clone(),
            retry,
            tmp_retention_ms: cfg.tmp_retention_ms,
        },
        cfg: Arc::new(cfg),
        store,
        rt,
        metrics: metrics.clone(),
        stop: stop.clone(),
        markers,
    });
    let handles: Vec<_> = (0..shared.cfg.tasks)
        .map(|i| {
            let shared = shared.clone();
            let brokers = opts.brokers.clone();
            std::thread::Builder::new()
                .name(format!("land-task-{i}"))
                .spawn(move || run_task(shared, i, brokers))
                .expect("spawn task thread")
        })
        .collect();
    // Completeness markers are checked on their own thread with their own metadata client;
    // `tasks_done` lets it make a last check after the tasks' final commits.
    let tasks_done = Arc::new(AtomicBool::new(false));
    let checker = if shared.markers.enabled() {
        let mut c = crate::task::consumer_config(&shared.cfg, opts.brokers.as_deref());
        c.remove("group.id");
        let client: rdkafka::consumer::BaseConsumer = c.create().map_err(|e| SinkError::Kafka {
            context: "create metadata client".into(),
            source: e,
        })?;
        let shared = shared.clone();
        let done = tasks_done.clone();
        Some(
            std::thread::Builder::new()
                .name("land-markers".into())
                .spawn(move || {
                    crate::markers::run_checker(&shared.markers, &client, &shared.rt, &done)
                })
                .expect("spawn marker thread"),
        )
    } else {
        None
    };
    let mut first_error = None;
    for h in handles {
        let result = h.join().unwrap_or_else(|_| {
            Err(SinkError::CorruptLog {
                path: "task".into(),
                message: "task thread panicked".into(),
            })
        });
        if let Err(e) = result {
            error!(error = %e, "task failed");
            // One task failing stops the others: they commit what they have and exit.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            first_error.get_or_insert(e);
        }
    }
    tasks_done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(c) = checker {
        let _ = c.join();
    }
    let summary: Vec<String> = metrics
        .summary()
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    info!(summary = %summary.join(" "), "landing sink stopped");
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
