//! `lakeshore stream chunk-counts` end to end against the real broker (tansu): Flink's answers
//! on a hand-computed input, bounded = streaming on the same records (Kafka time range and
//! landed files), no double count across SIGKILLs, the last minute of a quiet stream, and the
//! transactional mode on librdkafka's mock cluster.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// 2026-11-21T10:00:00Z.
const T0: i64 = 1795255200000;
const MIN: i64 = 60_000;

fn ts(minute: i64, ms: i64) -> i64 {
    T0 + minute * MIN + ms
}

fn rec(topic: &str, p: i32, company: &str, t: i64) -> Rec {
    Rec {
        topic: topic.into(),
        partition: p,
        key: Some(b"doc".to_vec()),
        value: Some(
            format!(r#"{{"chunk_id":"c","document_id":"d","company_id":"{company}","vector":[0.25,-1.5e-3,3]}}"#)
                .into_bytes(),
        ),
        timestamp_ms: Some(t),
    }
}

/// Every record of `topic` (read_committed), in partition order: (key, value).
fn read_topic(brokers: &str, topic: &str) -> Vec<(String, String)> {
    read_topic_full(brokers, topic)
        .into_iter()
        .map(|m| (m.key, m.value))
        .collect()
}

/// One record read from a topic.
struct Read {
    key: String,
    value: String,
    partition: i32,
    offset: i64,
}

/// Every record of `topic` (read_committed), in partition order.
fn read_topic_full(brokers: &str, topic: &str) -> Vec<Read> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("fetch.wait.max.ms", "50")
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut out = Vec::new();
    for p in md.topics()[0].partitions() {
        let (low, high) = c
            .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
            .unwrap();
        if low >= high {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, p.id(), Offset::Offset(low))
            .unwrap();
        c.assign(&tpl).unwrap();
        let start = Instant::now();
        loop {
            let pos = c.position().unwrap();
            let at = match pos.find_partition(topic, p.id()).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => low,
            };
            if at >= high || start.elapsed() > Duration::from_secs(20) {
                break;
            }
            if let Some(m) = c.poll(Duration::from_millis(200)) {
                let m = m.unwrap();
                let k = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
                let v = String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string();
                out.push(Read {
                    key: k,
                    value: v,
                    partition: m.partition(),
                    offset: m.offset(),
                });
                if m.offset() + 1 >= high {
                    break;
                }
            }
        }
    }
    out
}

fn window(start_min: i64, company: &str, n: i64) -> String {
    let f = |m: i64| {
        chrono::DateTime::from_timestamp_millis(T0 + m * MIN)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    format!(
        r#"{{"window_start":"{}","window_end":"{}","company_id":"{company}","chunk_count":{n}}}"#,
        f(start_min),
        f(start_min + 1)
    )
}

fn stream_args(
    brokers: &str,
    input: &str,
    output: &str,
    ckpt: &std::path::Path,
    extra: &[&str],
) -> Vec<String> {
    let mut a: Vec<String> = [
        "stream",
        "chunk-counts",
        "--brokers",
        brokers,
        "--input-topic",
        input,
        "--output-topic",
        output,
        "--group",
        &format!("g-{output}"),
        "--checkpoint-dir",
        &format!("file://{}", ckpt.display()),
        "--metrics-addr",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn golden_windows_like_flink() {
    let Some(brokers) = brokers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = unique("emb");
    let (out, out_lateness, late, dlq) =
        (unique("out"), unique("outl"), unique("late"), unique("dlq"));
    create_topics(&brokers, &[&input], 3);
    create_topics(&brokers, &[&out, &out_lateness, &late, &dlq], 1);

    // Phase 1. Partition 2 stays idle all along (released after --idleness 2s).
    let mut phase1 = vec![
        rec(&input, 0, "acme", ts(0, 0)), // exactly on the 10:00 edge
        rec(&input, 0, "globex", ts(0, 30_000)),
        rec(&input, 0, "acme", ts(0, 59_999)), // last ms of 10:00
        rec(&input, 0, "acme", ts(1, 0)),      // first ms of 10:01
        rec(&input, 0, "acme", ts(0, 57_000)), // 3 s out of order: within the bound
        rec(&input, 0, "acme", ts(1, 10_000)),
        rec(&input, 1, "globex", ts(0, 59_000)),
        rec(&input, 1, "initech", ts(1, 30_000)),
        rec(&input, 1, "globex", ts(1, 6_000)),
    ];
    let mut bad = rec(&input, 1, "x", ts(1, 0));
    bad.value = Some(b"not json".to_vec());
    let mut nokey = rec(&input, 1, "x", ts(1, 0));
    nokey.value = Some(br#"{"chunk_id":"c","vector":[1]}"#.to_vec());
    phase1.push(bad);
    phase1.push(nokey);
    produce(&brokers, &phase1);

    let common = [
        "--idleness",
        "2s",
        "--no-idle-advance",
        "--checkpoint-interval",
        "1s",
    ];
    let mut a1 = stream_args(&brokers, &input, &out, dir.path(), &common);
    a1.extend(["--late-topic", &late, "--dead-letter-topic", &dlq].map(String::from));
    let job = Land::spawn(&dir.path().join("plain"), &a1);
    let mut a2 = stream_args(&brokers, &input, &out_lateness, dir.path(), &common);
    a2.extend(["--allowed-lateness", "10s"].map(String::from));
    let job_l = Land::spawn(&dir.path().join("lateness"), &a2);

    // Watermark after phase 1 (partition 2 idle): min(10:01:10, 10:01:30) - 5 s - 1 ms
    // = 10:01:04.999, so 10:00 fires and 10:01 does not.
    let first = vec![window(0, "acme", 3), window(0, "globex", 2)];
    eventually_or(Duration::from_secs(60), "10:00 windows", &job, || {
        read_topic(&brokers, &out).len() >= 2
    });
    // /status: every record of partitions 0 and 1 read (lag 0, from the consumer's
    // statistics), their own watermarks, and the windows just fired.
    let addr = status_addr(&job);
    eventually_or(
        Duration::from_secs(30),
        "per-partition lag on /status",
        &job,
        || {
            let status: serde_json::Value =
                serde_json::from_str(&http_get(&addr, "/status")).unwrap();
            let splits = status["stream"]["splits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let split = |n: i64| splits.iter().find(|s| s["split"] == n).cloned();
            split(0).is_some_and(|s| s["lag"] == 0 && s["watermark"] == "2026-11-21T10:01:04.999")
                && split(1).is_some_and(|s| s["lag"] == 0)
                && status["stream"]["recent_windows"]
                    .as_array()
                    .is_some_and(|w| w.len() >= 2)
        },
    );
    assert!(
        http_get(&addr, "/metrics").contains("lakeshore_stream_split_lag_records{split=\"0\"} 0\n")
    );
    eventually_or(
        Duration::from_secs(60),
        "10:00 windows (lateness)",
        &job_l,
        || read_topic(&brokers, &out_lateness).len() >= 2,
    );

    // Phase 2a: a record behind the watermark (10:00 has fired): dropped and counted by one
    // job, an update of 10:00 for the job with 10 s of allowed lateness.
    produce(&brokers, &[rec(&input, 0, "acme", ts(0, 50_000))]);
    eventually_or(Duration::from_secs(60), "the late record", &job, || {
        metric(&job, "lakeshore_stream_late_records_total") >= 1
    });
    eventually_or(
        Duration::from_secs(60),
        "the update (lateness)",
        &job_l,
        || read_topic(&brokers, &out_lateness).len() >= 3,
    );
    // Phase 2b: partition 1 moves past 10:02:05 while partition 0 is idle (idle partitions
    // do not hold the watermark back): 10:01 fires, the record at 10:01:59.999 in it.
    produce(
        &brokers,
        &[
            rec(&input, 1, "initech", ts(1, 59_999)), // last ms of 10:01, not late
            rec(&input, 1, "globex", ts(2, 0)),
            rec(&input, 1, "initech", ts(2, 6_000)), // watermark 10:02:00.999: 10:01 fires
        ],
    );
    let mut expected = first.clone();
    expected.extend([
        window(1, "acme", 2),
        window(1, "globex", 1),
        window(1, "initech", 2),
    ]);
    eventually_or(Duration::from_secs(60), "10:01 windows", &job, || {
        read_topic(&brokers, &out).len() >= expected.len()
    });
    let mut expected_l = first.clone();
    expected_l.push(window(0, "acme", 4)); // the late record, within 10 s of lateness
    expected_l.extend([
        window(1, "acme", 2),
        window(1, "globex", 1),
        window(1, "initech", 2),
    ]);
    eventually_or(
        Duration::from_secs(60),
        "10:01 windows (lateness)",
        &job_l,
        || read_topic(&brokers, &out_lateness).len() >= expected_l.len(),
    );
    std::thread::sleep(Duration::from_secs(2));

    let got: Vec<String> = read_topic(&brokers, &out)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, expected, "log:\n{}", job.log_text());
    let keys: Vec<String> = read_topic(&brokers, &out)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        ["acme", "globex", "acme", "globex", "initech"],
        "key = company_id"
    );
    let got_l: Vec<String> = read_topic(&brokers, &out_lateness)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got_l, expected_l, "log:\n{}", job_l.log_text());

    assert_eq!(metric(&job, "lakeshore_stream_late_records_total"), 1);
    assert_eq!(metric(&job, "lakeshore_stream_bad_records_total"), 2);
    assert_eq!(metric(&job_l, "lakeshore_stream_late_records_total"), 0);
    let late_recs = read_topic(&brokers, &late);
    assert_eq!(late_recs.len(), 1, "{late_recs:?}");
    assert!(
        late_recs[0]
            .1
            .contains(r#""event_time":"2026-11-21T10:00:50""#),
        "{late_recs:?}"
    );
    let dead = read_topic(&brokers, &dlq);
    assert_eq!(
        dead.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["not json", r#"{"chunk_id":"c","vector":[1]}"#]
    );
    let log = job.log_text();
    assert!(
        log.contains(&format!("{input}[1]@3")),
        "bad records are logged with topic[partition]@offset:\n{log}"
    );
    assert_eq!(job.stop(), 0);
    assert_eq!(job_l.stop(), 0);
}

/// Records over 10 minutes in 2 partitions, a little out of order (< 5 s), never late; plus a
/// record at 10:12 per partition that pushes the watermark past 10:10.
fn ten_minutes(topic: &str, per_partition: i64) -> (Vec<Rec>, BTreeSet<String>) {
    let companies = ["acme", "globex", "initech", "umbrella", "hooli"];
    let mut recs = Vec::new();
    let mut counts: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    for p in 0..2 {
        for i in 0..per_partition {
            let base = i * 10 * MIN / per_partition;
            let jitter = ((i * 7919 + p as i64 * 31) % 4_000) - 2_000;
            let t = ts(0, (base + jitter).max(0));
            let c = companies[((i * 13 + p as i64) % 5) as usize];
            *counts.entry(((t - T0) / MIN, c)).or_default() += 1;
            recs.push(rec(topic, p, c, t));
        }
    }
    for p in 0..2 {
        recs.push(rec(topic, p, "flush", ts(12, 0)));
    }
    let expected = counts
        .into_iter()
        .map(|((m, c), n)| window(m, c, n))
        .collect();
    (recs, expected)
}

#[test]
fn bounded_runs_equal_the_streaming_run() {
    let Some(brokers) = brokers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = unique("embeddings.ready");
    let out = unique("out");
    create_topics(&brokers, &[&input], 2);
    create_topics(&brokers, &[&out], 1);
    let (recs, expected) = ten_minutes(&input, 300);
    produce(&brokers, &recs);

    // 1. Streaming.
    let job = Land::spawn(
        &dir.path().join("streaming"),
        &stream_args(
            &brokers,
            &input,
            &out,
            dir.path(),
            &["--start-from", "earliest"],
        ),
    );
    eventually_or(Duration::from_secs(90), "streaming windows", &job, || {
        read_topic(&brokers, &out).len() >= expected.len()
    });
    std::thread::sleep(Duration::from_secs(1));
    let streaming: BTreeSet<String> = read_topic(&brokers, &out)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(job.stop(), 0);
    assert_eq!(streaming, expected, "streaming run");

    // 2. Bounded: the topic's records from 10:00 to 10:10.
    let range = bounded_run(
        dir.path(),
        "range",
        &["--brokers", &brokers, "--input-topic", &input],
    );
    assert_eq!(range, expected, "bounded Kafka run");
    // A range ending after the last record: read to the current end (tansu answers offset 0
    // for "no record that late", which must not end the run before it starts).
    let all = bounded_run_range(
        dir.path(),
        "to-the-end",
        &["--brokers", &brokers, "--input-topic", &input],
        "2026-11-21",
        "2100-01-01",
    );
    let mut with_flush = expected.clone();
    with_flush.insert(window(12, "flush", 2));
    assert_eq!(all, with_flush, "bounded Kafka run to the end of the topic");

    // 3. Bounded: the same records landed by `lakeshore land` with the record timestamp.
    let landing = dir.path().join("landing");
    std::fs::create_dir_all(&landing).unwrap();
    let props = format!(
        "{}\ntopics={input}\ntransforms=ts\ntransforms.ts.type=org.apache.kafka.connect.transforms.InsertField$Value\ntransforms.ts.timestamp.field=kafka_timestamp\ntimestamp.extractor=Record\nflush.size=100\n",
        fixture()
    );
    let land = Land::start(
        &dir.path().join("land"),
        &props,
        &brokers,
        &[
            format!("hdfs.url=file://{}", landing.display()),
            "topics.dir=landing".into(),
            "logs.dir=logs".into(),
            "name=stream-test".into(),
        ],
    );
    eventually_or(Duration::from_secs(90), "records landed", &land, || {
        land.log_text().contains("serving /metrics")
            && metric(&land, "lakeshore_land_records_consumed_total") >= recs.len() as u64
    });
    assert_eq!(land.stop(), 0);
    let landing_url = format!("file://{}/landing", landing.display());
    let files = bounded_run(
        dir.path(),
        "files",
        &["--landing", &landing_url, "--input-topic", &input],
    );
    assert_eq!(files, expected, "bounded run over landed files");
}

/// Runs `lakeshore stream chunk-counts <input> --from 10:00 --to 10:10` to a file, expects
/// exit 0, returns the output lines.
fn bounded_run(dir: &std::path::Path, name: &str, input: &[&str]) -> BTreeSet<String> {
    bounded_run_range(
        dir,
        name,
        input,
        "2026-11-21T10:00:00Z",
        "2026-11-21T10:10:00Z",
    )
}

fn bounded_run_range(
    dir: &std::path::Path,
    name: &str,
    input: &[&str],
    from: &str,
    to: &str,
) -> BTreeSet<String> {
    let out = dir.join(format!("{name}.jsonl"));
    let mut args: Vec<String> = ["stream", "chunk-counts"].map(String::from).to_vec();
    args.extend(input.iter().map(|s| s.to_string()));
    args.extend(["--from", from, "--to", to, "--output-file"].map(String::from));
    args.push(out.display().to_string());
    let mut job = Land::spawn(&dir.join(name), &args);
    assert_eq!(job.wait(Duration::from_secs(60)), 0, "{}", job.log_text());
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn no_double_count_across_sigkills() {
    let Some(brokers) = brokers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = unique("emb");
    let out = unique("out");
    create_topics(&brokers, &[&input], 2);
    create_topics(&brokers, &[&out], 2);
    let (recs, expected) = ten_minutes(&input, 3_000);
    // Produce while the job is killed and restarted: 20 slices, ~0.5 s apart.
    let producer = {
        let (brokers, recs) = (brokers.clone(), recs.clone());
        std::thread::spawn(move || {
            let (mut p0, mut p1): (Vec<_>, Vec<_>) =
                recs.into_iter().partition(|r| r.partition == 0);
            let n = p0.len() / 20 + 1;
            while !p0.is_empty() || !p1.is_empty() {
                let mut slice: Vec<Rec> = p0.drain(..n.min(p0.len())).collect();
                slice.extend(p1.drain(..n.min(p1.len())));
                produce(&brokers, &slice);
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let args = stream_args(
        &brokers,
        &input,
        &out,
        dir.path(),
        &["--checkpoint-interval", "300ms", "--start-from", "earliest"],
    );
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut kills = 0;
    while kills < 12 {
        let job = Land::spawn(&dir.path().join("job"), &args);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(300 + rng % 1_500));
        job.sigkill();
        kills += 1;
    }
    producer.join().unwrap();
    let job = Land::spawn(&dir.path().join("job"), &args);
    eventually_or(Duration::from_secs(120), "all windows", &job, || {
        read_topic(&brokers, &out).len() >= expected.len()
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(job.stop(), 0);
    let got = read_topic_full(&brokers, &out);
    let mut logs: Vec<(std::path::PathBuf, String)> = std::fs::read_dir(dir.path().join("job"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            (path, text)
        })
        .collect();
    logs.sort();
    let mut seen = std::collections::BTreeMap::<&str, Vec<(i32, i64)>>::new();
    for m in &got {
        seen.entry(&m.value)
            .or_default()
            .push((m.partition, m.offset));
    }
    let twice: Vec<_> = seen.iter().filter(|(_, at)| at.len() > 1).collect();
    if !twice.is_empty() {
        // What each run restored and read back, to tell where the duplicates came from.
        for (path, text) in &logs {
            eprintln!("== {}", path.display());
            for line in text.lines().filter(|l| {
                l.contains("read back") || l.contains("restoring") || l.contains("pipeline started")
            }) {
                eprintln!("{line}");
            }
        }
        panic!("windows written twice (value: [(partition, offset)]): {twice:#?}");
    }
    let distinct: BTreeSet<String> = got.into_iter().map(|m| m.value).collect();
    assert_eq!(distinct, expected);
    let logs: String = logs.into_iter().map(|(_, text)| text).collect();
    assert!(
        logs.contains("restoring from checkpoint"),
        "the job must have restored"
    );
}

#[test]
fn quiet_input_still_emits_the_last_minute() {
    let Some(brokers) = brokers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = unique("emb");
    let out = unique("out");
    create_topics(&brokers, &[&input], 2);
    create_topics(&brokers, &[&out], 1);
    let job = Land::spawn(
        &dir.path().join("job"),
        &stream_args(
            &brokers,
            &input,
            &out,
            dir.path(),
            &["--idleness", "2s", "--start-from", "earliest"],
        ),
    );
    std::thread::sleep(Duration::from_secs(2));
    // The last record sits 500 ms before the end of its minute; then traffic stops.
    produce(
        &brokers,
        &[
            rec(&input, 0, "acme", ts(0, 10_000)),
            rec(&input, 0, "acme", ts(0, 59_500)),
        ],
    );
    let stopped = Instant::now();
    eventually_or(Duration::from_secs(30), "the last minute", &job, || {
        !read_topic(&brokers, &out).is_empty()
    });
    let took = stopped.elapsed();
    assert!(
        took <= Duration::from_secs(2 + 5 + 3),
        "emitted {took:?} after traffic stopped (idleness 2 s + 5 s + slack)"
    );
    assert_eq!(read_topic(&brokers, &out)[0].1, window(0, "acme", 2));
    assert_eq!(job.stop(), 0);
}

#[test]
fn transactions_on_the_mock_cluster() {
    use rdkafka::mocking::MockCluster;
    let mock = MockCluster::new(3).unwrap();
    let brokers = mock.bootstrap_servers();
    let input = "embeddings.ready";
    let out = "analytics.flink";
    mock.create_topic(input, 2, 1).unwrap();
    mock.create_topic(out, 1, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (recs, expected) = ten_minutes(input, 200);
    produce(&brokers, &recs);
    let args = stream_args(
        &brokers,
        input,
        out,
        dir.path(),
        &[
            "--exactly-once",
            "transactions",
            "--checkpoint-interval",
            "200ms",
            "--start-from",
            "earliest",
        ],
    );
    let job = Land::spawn(&dir.path().join("job"), &args);
    std::thread::sleep(Duration::from_millis(1_500));
    job.sigkill();
    let job = Land::spawn(&dir.path().join("job"), &args);
    eventually_or(Duration::from_secs(60), "all windows", &job, || {
        read_topic(&brokers, out).len() >= expected.len()
    });
    std::thread::sleep(Duration::from_secs(1));
    let log_path = job.log.clone();
    assert_eq!(
        job.stop(),
        0,
        "{}",
        std::fs::read_to_string(&log_path).unwrap()
    );
    let log = std::fs::read_to_string(&log_path).unwrap();
    let got: Vec<String> = read_topic(&brokers, out)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let distinct: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(
        got.len(),
        distinct.len(),
        "a window is visible twice to read_committed"
    );
    assert_eq!(distinct, expected);
    assert!(log.contains("exactly once by transactions"), "{log}");
}
