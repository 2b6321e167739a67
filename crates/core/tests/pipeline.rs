//! The core end to end on in-memory input: hand-computed windows, and a checkpoint/restore
//! that yields exactly the output of an uninterrupted run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lakeshore_core::batch::EventTime;
use lakeshore_core::sink::JsonLinesSink;
use lakeshore_core::source::MemorySource;
use lakeshore_core::{
    Aggregate, CheckpointStore, Encode, Pipeline, PipelineConfig, Poll, Source, WatermarkConfig,
    WindowKind, WindowResult,
};
use lakeshore_storage::Store;

const T0: i64 = 1795255200000; // 2026-11-21T10:00:00Z

#[derive(Debug)]
struct Plain;
impl Encode for Plain {
    fn value(&self, r: &WindowResult, out: &mut Vec<u8>) {
        let start = lakeshore_core::time::format_utc(r.start);
        let upd = if r.update { " update" } else { "" };
        out.extend_from_slice(format!("{start} {} {}{upd}", r.key, r.value).as_bytes());
    }
}

fn rec(split: u32, company: &str, ts: i64) -> (u32, Vec<u8>, Option<i64>) {
    let doc = format!(r#"{{"chunk_id":"c","company_id":"{company}","vector":[0.5,-1.25e-3]}}"#);
    (split, doc.into_bytes(), Some(ts))
}

fn config(lateness_s: u64) -> PipelineConfig {
    PipelineConfig {
        job: "test".into(),
        watermarks: WatermarkConfig {
            out_of_orderness: Duration::from_secs(5),
            idleness: None,
            idle_advance: false,
        },
        window: WindowKind::Tumbling { size_ms: 60_000 },
        aggregate: Aggregate::Count,
        allowed_lateness: Duration::from_secs(lateness_s),
        checkpoint_interval: Duration::ZERO,
        poll_timeout: Duration::from_millis(10),
    }
}

fn run(
    records: Vec<(u32, Vec<u8>, Option<i64>)>,
    lateness_s: u64,
    out: &std::path::Path,
) -> lakeshore_core::RunSummary {
    let source = MemorySource::new(records, "company_id", EventTime::RecordTimestamp, 1);
    let sink = JsonLinesSink::new(out, Box::new(Plain));
    let p = Pipeline::new(
        config(lateness_s),
        Box::new(source),
        Box::new(sink),
        None,
        Default::default(),
    );
    p.run(&AtomicBool::new(false)).unwrap()
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// One split, records in arrival order; the watermark is max − 5 s − 1 ms.
fn golden_input() -> Vec<(u32, Vec<u8>, Option<i64>)> {
    vec![
        rec(0, "acme", T0),             // 10:00:00.000 exactly on the edge
        rec(0, "globex", T0 + 30_000),  //
        rec(0, "acme", T0 + 59_999),    // 10:00:59.999, last ms of the first window
        rec(0, "acme", T0 + 60_000),    // 10:01:00.000 opens the second window
        rec(0, "acme", T0 + 57_000),    // 3 s out of order, within the bound: counted
        rec(0, "acme", T0 + 65_000),    // watermark 10:00:59.999: first window fires
        rec(0, "acme", T0 + 50_000),    // late: dropped (or, with lateness, an update)
        rec(0, "globex", T0 + 125_000), // fires 10:01
        rec(0, "bad", T0 + 1).clone(),  // in window 10:00, late too
    ]
}

#[test]
fn golden_windows_with_late_records_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let mut input = golden_input();
    input.push((0, b"not json".to_vec(), Some(T0)));
    let s = run(input, 0, &out);
    assert_eq!(
        lines(&out),
        vec![
            "2026-11-21T10:00:00 acme 3",
            "2026-11-21T10:00:00 globex 1",
            "2026-11-21T10:01:00 acme 2",
            "2026-11-21T10:02:00 globex 1",
        ]
    );
    assert!(s.ended);
    assert_eq!(
        (s.counters.records, s.counters.late, s.counters.rejected),
        (9, 2, 1)
    );
}

#[test]
fn golden_windows_with_allowed_lateness() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let s = run(golden_input(), 10, &out);
    assert_eq!(
        lines(&out),
        vec![
            "2026-11-21T10:00:00 acme 3",
            "2026-11-21T10:00:00 globex 1",
            "2026-11-21T10:00:00 acme 4 update",
            "2026-11-21T10:01:00 acme 2",
            // 10:02:05 passed: the 10:00 window is past its lateness, "bad" is late.
            "2026-11-21T10:02:00 globex 1",
        ]
    );
    assert_eq!(s.counters.late, 1);
}

#[test]
fn splits_hold_back_until_finished_and_bounded_end_fires_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    // Split 1 is far behind split 0: split 0's late-looking record is not late, because the
    // watermark is the minimum over splits.
    let input = vec![
        rec(0, "a", T0 + 200_000),
        rec(1, "a", T0 + 1_000),
        rec(0, "a", T0 + 10_000),
        rec(1, "b", T0 + 61_000),
    ];
    let s = run(input, 0, &out);
    assert_eq!(
        lines(&out),
        vec![
            "2026-11-21T10:00:00 a 2",
            "2026-11-21T10:01:00 b 1",
            "2026-11-21T10:03:00 a 1",
        ]
    );
    assert_eq!(s.counters.late, 0);
}

/// Stops the pipeline after `polls` polls.
struct StopAfter<S> {
    inner: S,
    polls: usize,
    stop: Arc<AtomicBool>,
}

impl<S: Source> Source for StopAfter<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn bounded(&self) -> bool {
        self.inner.bounded()
    }
    fn open(&mut self, r: Option<&serde_json::Value>) -> lakeshore_core::Result<Vec<u32>> {
        self.inner.open(r)
    }
    fn poll(&mut self, t: Duration) -> lakeshore_core::Result<Poll> {
        self.polls = self.polls.saturating_sub(1);
        if self.polls == 0 {
            self.stop.store(true, Ordering::SeqCst);
        }
        self.inner.poll(t)
    }
    fn snapshot(&self) -> serde_json::Value {
        self.inner.snapshot()
    }
}

#[test]
fn restore_from_checkpoints_gives_the_uninterrupted_output() {
    let input: Vec<_> = (0..400i64)
        .map(|i| {
            rec(
                (i % 3) as u32,
                ["a", "b", "c", "d"][(i % 4) as usize],
                T0 + i * 997 - (i % 5) * 1_000,
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let once = dir.path().join("once.txt");
    run(input.clone(), 0, &once);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store =
        Store::from_url(&format!("file://{}", dir.path().display()), &HashMap::new()).unwrap();
    let out = dir.path().join("resumed.txt");
    let mut restarts = 0;
    loop {
        let stop = Arc::new(AtomicBool::new(false));
        let source = StopAfter {
            inner: MemorySource::new(input.clone(), "company_id", EventTime::RecordTimestamp, 7),
            polls: 9,
            stop: stop.clone(),
        };
        let sink = JsonLinesSink::new(&out, Box::new(Plain));
        let cs = CheckpointStore::new(store.clone(), "ckpt", 3, rt.handle().clone());
        let mut cfg = config(0);
        cfg.checkpoint_interval =
            Duration::from_millis(if restarts % 2 == 0 { 0 } else { 3_600_000 });
        let p = Pipeline::new(
            cfg,
            Box::new(source),
            Box::new(sink),
            Some(cs),
            Default::default(),
        );
        let s = p.run(&stop).unwrap();
        if s.ended {
            assert_eq!(s.counters.records, 400, "totals carry across restarts");
            break;
        }
        restarts += 1;
        // Output written after the last checkpoint would be a duplicate: the sink truncates it
        // on restore. Simulate a crash's torn tail too.
        std::fs::OpenOptions::new().append(true).open(&out).unwrap();
    }
    assert!(restarts > 5, "the test must actually restart ({restarts})");
    assert_eq!(lines(&out), lines(&once));
    assert!(!lines(&once).is_empty());
}

/// Checkpoints on the real HDFS (the services `scripts/test.sh` starts): save, prune, fence,
/// restore, and a whole pipeline resuming from them.
#[test]
fn checkpoints_on_real_hdfs() {
    let url = match std::env::var("LAKESHORE_TEST_HDFS") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("LAKESHORE_REQUIRE_SERVICES").is_err(),
                "LAKESHORE_REQUIRE_SERVICES is set but LAKESHORE_TEST_HDFS is not"
            );
            eprintln!("SKIPPED: LAKESHORE_TEST_HDFS is not set; run scripts/test.sh");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = format!(
        "{}/core-ckpt-{}-{nanos}",
        url.trim_end_matches('/'),
        std::process::id()
    );
    let store = Store::from_url(&base, &HashMap::new()).unwrap();
    let input: Vec<_> = (0..120i64)
        .map(|i| {
            rec(
                (i % 2) as u32,
                ["a", "b"][(i % 3 % 2) as usize],
                T0 + i * 2_000,
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let once = dir.path().join("once.txt");
    run(input.clone(), 0, &once);
    let out = dir.path().join("resumed.txt");
    for round in 0.. {
        let stop = Arc::new(AtomicBool::new(false));
        let source = StopAfter {
            inner: MemorySource::new(input.clone(), "company_id", EventTime::RecordTimestamp, 10),
            polls: 4,
            stop: stop.clone(),
        };
        let sink = JsonLinesSink::new(&out, Box::new(Plain));
        let cs = CheckpointStore::new(store.clone(), "job", 2, rt.handle().clone());
        let p = Pipeline::new(
            config(0),
            Box::new(source),
            Box::new(sink),
            Some(cs.clone()),
            Default::default(),
        );
        let s = p.run(&stop).unwrap();
        assert!(cs.ids().unwrap().len() <= 2, "pruned to 2");
        if s.ended {
            assert!(round >= 3, "restarted {round} times");
            break;
        }
    }
    assert_eq!(lines(&out), lines(&once));
}
