//! Test harness for end-to-end tests: the real broker and real HDFS started by
//! `scripts/test.sh`, the real `lakeshore` binary, real signals.
//!
//! Every test uses fresh topic names and a fresh store directory (tansu cannot delete topics
//! safely), so tests in one binary run in parallel without seeing each other.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lakeshore_storage::{parse_path, Store};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

/// The broker to test against, or `None` (the test is skipped, loudly) when not configured.
pub fn brokers() -> Option<String> {
    service("LAKESHORE_TEST_BROKERS")
}

/// The HDFS URL to test against (`hdfs://127.0.0.1:19000`), or `None`.
pub fn hdfs() -> Option<String> {
    service("LAKESHORE_TEST_HDFS")
}

fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("LAKESHORE_REQUIRE_SERVICES").is_err(),
                "LAKESHORE_REQUIRE_SERVICES is set but {var} is not: run scripts/test.sh"
            );
            eprintln!("SKIPPED: {var} is not set; run scripts/test.sh to start the real services");
            None
        }
    }
}

/// A name no other test (or earlier run against the same broker) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    )
}

/// Creates topics with `partitions` partitions each.
pub fn create_topics(brokers: &str, topics: &[&str], partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = rt
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .expect("create topics");
    for r in results {
        r.expect("topic created");
    }
}

/// One record to produce.
#[derive(Debug, Clone)]
pub struct Rec {
    pub topic: String,
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp_ms: Option<i64>,
}

/// Produces records in order (one partition's records get consecutive offsets) and waits for
/// every delivery.
pub fn produce(brokers: &str, records: &[Rec]) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for r in records {
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&r.topic).partition(r.partition);
        if let Some(k) = &r.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v.as_slice());
        }
        if let Some(ts) = r.timestamp_ms {
            rec = rec.timestamp(ts);
        }
        let mut rec = rec;
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((e, back)) => {
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "produce: {e}"
                    );
                    rec = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// A test record value: partition and index (= expected offset) plus some payload.
pub fn value(p: i32, i: i64, company: &str) -> Vec<u8> {
    format!(
        r#"{{"p":{p},"i":{i},"company_id":"{company}","document_id":"doc-{}","text":"chunk {i} of partition {p}"}}"#,
        i % 7
    )
    .into_bytes()
}

/// [`value`] with one more member, `"<field>":<json>` (e.g. a vector, to make the record
/// as large as the platform's).
pub fn padded_value(p: i32, i: i64, company: &str, field: &str, json: &str) -> Vec<u8> {
    let mut v = value(p, i, company);
    v.pop(); // the closing brace
    v.extend_from_slice(format!(r#","{field}":{json}}}"#).as_bytes());
    v
}

/// Runs `scripts/<script> <args>` (the service scripts: restart a service, Hadoop's own
/// clients against the test HDFS).
pub fn run_script(script: &str, args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    let root = env!("CARGO_MANIFEST_DIR");
    Command::new(format!("{root}/scripts/{script}"))
        .args(args)
        .status()
}

/// [`run_script`], which must succeed.
pub fn service_script(script: &str, args: &[&str]) {
    let status = run_script(script, args).expect("run service script");
    assert!(status.success(), "scripts/{script} {args:?}");
}

/// The log level of spawned processes: `LAKESHORE_TEST_LOG`, default `info`.
fn test_log_level() -> String {
    std::env::var("LAKESHORE_TEST_LOG").unwrap_or_else(|_| "info".into())
}

/// A running `lakeshore land`.
pub struct Land {
    pub child: Child,
    pub log: PathBuf,
}

impl Land {
    /// Starts `lakeshore <args>` with its log in `dir`, at the level `LAKESHORE_TEST_LOG`
    /// says (default `info`).
    pub fn spawn(dir: &std::path::Path, args: &[String]) -> Land {
        Land::spawn_at_level(dir, args, &test_log_level())
    }

    /// Starts `lakeshore <args>` with its log in `dir`, logging at `level`.
    pub fn spawn_at_level(dir: &std::path::Path, args: &[String], level: &str) -> Land {
        Land::spawn_with_env(dir, args, level, &[])
    }

    /// Starts `lakeshore <args>` with its log in `dir`, logging at `level`, with extra
    /// environment variables.
    pub fn spawn_with_env(
        dir: &std::path::Path,
        args: &[String],
        level: &str,
        env: &[(&str, &str)],
    ) -> Land {
        std::fs::create_dir_all(dir).unwrap();
        let n = std::fs::read_dir(dir).unwrap().count();
        let log = dir.join(format!(
            "{}-{n}.log",
            args.first().map_or("run", |a| a.as_str())
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakeshore"));
        cmd.args(args)
            .env("LAKESHORE_LOG", level)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Land {
            child: cmd.spawn().expect("spawn lakeshore"),
            log,
        }
    }

    /// Starts `lakeshore land --config <props> --brokers <brokers> --set ...`.
    pub fn start(dir: &std::path::Path, props: &str, brokers: &str, sets: &[String]) -> Land {
        Land::start_with_env(dir, props, brokers, sets, &[])
    }

    /// [`Land::start`] with extra environment variables (e.g. `HADOOP_USER_NAME`).
    pub fn start_with_env(
        dir: &std::path::Path,
        props: &str,
        brokers: &str,
        sets: &[String],
        env: &[(&str, &str)],
    ) -> Land {
        std::fs::create_dir_all(dir).unwrap();
        let cfg = dir.join("sink.properties");
        std::fs::write(&cfg, props).unwrap();
        let mut args: Vec<String> = [
            "land",
            "--config",
            cfg.to_str().unwrap(),
            "--brokers",
            brokers,
        ]
        .map(String::from)
        .to_vec();
        args.extend(["--metrics-addr".to_string(), "127.0.0.1:0".to_string()]);
        for s in sets {
            args.extend(["--set".to_string(), s.clone()]);
        }
        Land::spawn_with_env(dir, &args, &test_log_level(), env)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    pub fn sigkill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn sigstop(&self) {
        self.signal("STOP");
    }

    pub fn sigcont(&self) {
        self.signal("CONT");
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(mut self) -> i32 {
        self.signal("TERM");
        self.wait(Duration::from_secs(60))
    }

    /// SIGTERM, then up to `timeout` for the exit code; `None` if it did not exit (it is
    /// killed when dropped).
    pub fn stop_within(mut self, timeout: Duration) -> Option<i32> {
        self.signal("TERM");
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Waits for exit; returns the exit code.
    pub fn wait(&mut self, timeout: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < timeout,
                "lakeshore did not exit; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Land {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sink properties of the tests: the users' fixture plus test overrides.
pub fn fixture() -> String {
    include_str!("../../connect/config/hdfs-sink-connector.properties").to_string()
}

/// What readers (Spark, Hive, the batch job) would see of a topic: every committed file.
#[derive(Debug, Default)]
pub struct Landed {
    /// path -> lines
    pub files: BTreeMap<String, Vec<String>>,
}

impl Landed {
    /// Reads every committed file of `topic` (skips `+tmp`, `_` and `.` names, like readers).
    /// A listing that races with the sink (a name listed, gone when read) is read again; a
    /// committed file that really disappeared shows up as missing records in the assertions.
    pub fn read(store: &Store, topics_dir: &str, topic: &str) -> Landed {
        for _ in 0..10 {
            if let Some(landed) = Self::try_read(store, topics_dir, topic) {
                return landed;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("files of {topic} kept vanishing between listing and reading");
    }

    fn try_read(store: &Store, topics_dir: &str, topic: &str) -> Option<Landed> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let prefix = parse_path(&format!("{topics_dir}/{topic}")).unwrap();
            let mut files = BTreeMap::new();
            for meta in store.list(&prefix).await.unwrap() {
                let name = meta.location.filename().unwrap_or_default().to_string();
                if name.starts_with('_') || name.starts_with('.') {
                    continue;
                }
                // A loaded 2-core machine makes the test DataNode drop a transfer now and then.
                let policy = lakeshore_storage::RetryPolicy {
                    deadline: Some(Duration::from_secs(60)),
                    ..Default::default()
                };
                let bytes = lakeshore_storage::with_retry("read landed file", policy, || {
                    store.get(&meta.location)
                })
                .await
                .unwrap()?;
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                assert!(text.ends_with('\n'), "{name}: not newline-terminated");
                files.insert(
                    meta.location.to_string(),
                    text.lines().map(String::from).collect(),
                );
            }
            Some(Landed { files })
        })
    }

    /// Every (partition, index) landed, with how many times, checking each file's name
    /// against its content (Confluent naming: `<topic>+<p>+<first>+<last>.json`).
    pub fn occurrences(&self, topic: &str) -> HashMap<(i32, i64), usize> {
        let mut seen = HashMap::new();
        for (path, lines) in &self.files {
            let name = path.rsplit('/').next().unwrap();
            let stem = name.strip_suffix(".json").expect(".json file");
            let parts: Vec<&str> = stem.rsplitn(4, '+').collect();
            assert_eq!(parts.len(), 4, "file name {name}");
            let (last, first, p, t) = (parts[0], parts[1], parts[2], parts[3]);
            assert_eq!(t, topic, "{name}");
            assert_eq!(first.len(), 10, "zero padding in {name}");
            assert_eq!(last.len(), 10, "zero padding in {name}");
            let (first, last, p): (i64, i64, i32) = (
                first.parse().unwrap(),
                last.parse().unwrap(),
                p.parse().unwrap(),
            );
            let idx: Vec<i64> = lines
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
                    assert_eq!(v["p"].as_i64().unwrap() as i32, p, "{name}: {l}");
                    v["i"].as_i64().unwrap()
                })
                .collect();
            assert_eq!(idx.first().copied(), Some(first), "{name}: first offset");
            assert_eq!(idx.last().copied(), Some(last), "{name}: last offset");
            for i in idx {
                *seen.entry((p, i)).or_insert(0) += 1;
            }
        }
        seen
    }
}

/// Polls until `f` is true or `timeout` passes.
pub fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Like [`eventually`], printing the log of `land` on time-out.
pub fn eventually_or(timeout: Duration, what: &str, land: &Land, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what}; log of {}:\n{}",
            land.log.display(),
            land.log_text()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The address of the status server, from the process's log.
pub fn status_addr(land: &Land) -> String {
    let log = land.log_text();
    log.lines()
        .find(|l| l.contains("serving /metrics"))
        .and_then(|l| l.split("addr=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no status address in log:\n{log}"))
}

/// GETs `path` from `addr`; returns the body of a 200 answer.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    sock.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut text = String::new();
    sock.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// GETs /metrics from the address the process logged.
pub fn metrics_text(land: &Land) -> String {
    http_get(&status_addr(land), "/metrics")
}

/// The value of one counter on /metrics.
pub fn metric(land: &Land, name: &str) -> u64 {
    metrics_text(land)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// Opens a store for reading results.
pub fn store(url: &str) -> Store {
    Store::from_url(url, &HashMap::new()).unwrap()
}

/// `127.0.0.1:<a port free a moment ago>`, for a process that must be told its address.
pub fn free_local_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Whether Debian's headless Chromium is here; missing is an error when services are
/// required (as in CI, which installs it), else the test is skipped.
pub fn chromium_available() -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("LAKESHORE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("chromium is not installed (apt-get install chromium; .ci/run does it)");
    }
    found
}

/// Runs headless Chromium with `args` (e.g. `--dump-dom URL`); returns its stdout.
pub fn headless_chromium(args: &[&str]) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
