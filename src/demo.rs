//! `lakeshore demo`: the whole pipeline on this machine with nothing installed.
//!
//! An in-process Kafka cluster (librdkafka's mock cluster — for the demo only: the tests
//! and every other command use a real broker), the local filesystem as the store, and a
//! simulated day of traffic from [`crate::gen`]. The landing sink and the chunk-count job
//! run in this process on that traffic as it is published, exactly as `lakeshore land` and
//! `lakeshore stream chunk-counts` would; then the daily report and one query run over what
//! landed. The demo ends by checking that the numbers agree: every embedding the generator
//! published is counted once by the streaming job (or counted as late) and once by the
//! report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::Parser;
use lakeshore_jobs::batch::query::output::{render, Format};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::gen::{Generator, Publisher, TOPICS};
use crate::status::Status;

/// The users' connector file, written into the demo directory and run verbatim apart from
/// the `--set` overrides printed with the command.
const CONNECTOR_FILE: &str = include_str!("../connect/config/hdfs-sink-connector.properties");
const OUTPUT_TOPIC: &str = "analytics.flink";
/// Partitions of each input topic.
const PARTITIONS: i32 = 3;
/// `topics.dir` of the connector file.
const TOPICS_DIR: &str = "atenex/kafka-landing";

/// `lakeshore demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the data goes. Default: a new directory under the system's temp directory,
    /// removed at the end unless --keep (a directory given here is always kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,

    /// Keep the data for exploring (the demo prints the commands to try on it).
    #[arg(long)]
    pub keep: bool,

    /// Documents in the simulated day (about 5 chunks and 5 embeddings each).
    #[arg(long, default_value_t = 400)]
    pub documents: usize,

    /// Wall-clock time over which the simulated day is published.
    #[arg(long, default_value = "8s", value_parser = lakeshore_core::time::parse_duration)]
    pub publish_over: Duration,

    /// The simulated day, before today (default: yesterday, UTC — the day the daily report
    /// picks by default).
    #[arg(long)]
    pub day: Option<NaiveDate>,

    /// Also serve the status page (`/`), `/status` and `/metrics` of the landing and the
    /// chunk-count job here while the demo runs, e.g. 127.0.0.1:9464.
    #[arg(long)]
    pub metrics_addr: Option<String>,

    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Where the demo writes, and whether it is removed at the end.
#[derive(Debug)]
pub struct DemoDir {
    /// The directory.
    pub path: PathBuf,
    remove: bool,
}

impl DemoDir {
    /// Creates the directory the demo writes to.
    pub fn create(args: &DemoArgs) -> anyhow::Result<DemoDir> {
        let (path, remove) = match &args.dir {
            Some(dir) => (dir.clone(), false),
            None => (
                std::env::temp_dir().join(format!("lakeshore-demo-{}", std::process::id())),
                !args.keep,
            ),
        };
        let path = std::path::absolute(&path)
            .with_context(|| format!("demo directory {}", path.display()))?;
        if path.join("lake").exists() {
            bail!(
                "{} already holds a demo's data: remove it or give another --dir",
                path.display()
            );
        }
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(DemoDir { path, remove })
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Parses a component's flags as its command line would.
fn parse<T: clap::Args>(argv: &[String]) -> anyhow::Result<T> {
    #[derive(Debug, Parser)]
    struct Line<T: clap::Args> {
        #[command(flatten)]
        args: T,
    }
    let line = Line::<T>::try_parse_from(
        std::iter::once("lakeshore".to_string()).chain(argv.iter().cloned()),
    )
    .map_err(|e| anyhow::anyhow!("demo: bad arguments {argv:?}: {e}"))?;
    Ok(line.args)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Runs the demo; prints as it goes.
pub fn run(args: &DemoArgs, dir: &DemoDir, rt: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let started = Instant::now();
    let today = Utc::now().date_naive();
    let day = args.day.unwrap_or(today - chrono::Days::new(1));
    if day >= today {
        return Err(crate::ConfigProblem(format!(
            "--day {day}: the simulated day must be before today ({today}), so that it can end"
        ))
        .into());
    }
    let day_start = Utc
        .from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .timestamp_millis();
    let day_end = day_start + 86_400_000;
    let root = &dir.path;
    let lake = root.join("lake");
    let lake_url = format!("file://{}", lake.display());
    let landing_url = format!("{lake_url}/{TOPICS_DIR}");
    let connector_file = root.join("hdfs-sink-connector.properties");
    std::fs::write(&connector_file, CONNECTOR_FILE)
        .with_context(|| format!("cannot write {}", connector_file.display()))?;

    let cluster = MockCluster::new(1).context("cannot start the in-process Kafka cluster")?;
    for topic in TOPICS {
        cluster.create_topic(topic, PARTITIONS, 1)?;
    }
    // One partition: the windows are read back in the order they fired.
    cluster.create_topic(OUTPUT_TOPIC, 1, 1)?;
    let brokers = cluster.bootstrap_servers();

    println!("Lakeshore demo: landing, streaming and batch on this machine, nothing installed.");
    println!("  broker   in-process Kafka mock cluster at {brokers} (the demo's only fake)");
    println!(
        "  store    {} (the local filesystem in place of HDFS)",
        lake.display()
    );
    println!(
        "  traffic  {} documents over {day} (simulated), published in {:?}: chunks, 1536-float",
        args.documents, args.publish_over
    );
    println!("           embeddings, timestamps out of order by up to 3 s, ~1% of embeddings 30-90 min late");
    println!();

    // The landing: the users' connector file, pointed at the local lake.
    let land_flags = [
        format!("hdfs.url={lake_url}"),
        "timestamp.extractor=Record".to_string(),
        "rotate.interval.ms=1000".to_string(),
    ];
    let land_args = crate::LandArgs {
        config: connector_file.clone(),
        brokers: Some(brokers.clone()),
        overrides: land_flags.to_vec(),
        metrics_addr: "off".into(),
        check: false,
    };
    let land_cfg = crate::load_config(&land_args)?;
    let land_metrics = Arc::new(lakeshore_connect::events::Metrics::default());
    let land_stop = Arc::new(AtomicBool::new(false));
    println!(
        "[1/4] lakeshore land --config {} --set {}",
        connector_file.display(),
        land_flags.join(" --set ")
    );
    let landing = {
        let (metrics, stop, handle) =
            (land_metrics.clone(), land_stop.clone(), rt.handle().clone());
        let opts = lakeshore_connect::RunOptions {
            brokers: Some(brokers.clone()),
        };
        std::thread::Builder::new()
            .name("demo-land".into())
            .spawn(move || lakeshore_connect::run(land_cfg, opts, handle, stop, metrics))?
    };

    // The chunk-count job, streaming.
    let checkpoints = format!("file://{}", root.join("checkpoints").display());
    let stream_argv = strings(&[
        "--brokers",
        &brokers,
        "--checkpoint-dir",
        &checkpoints,
        "--checkpoint-interval",
        "2s",
        "--start-from",
        "earliest",
        "--idleness",
        "2s",
    ]);
    let stream_args: lakeshore_jobs::stream::chunk_counts::ChunkCountsArgs = parse(&stream_argv)?;
    let stream_metrics = Arc::new(lakeshore_core::metrics::Metrics::default());
    let stream_stop = Arc::new(AtomicBool::new(false));
    println!(
        "[2/4] lakeshore stream chunk-counts {}",
        stream_argv.join(" ")
    );
    let streaming = {
        let (metrics, stop, handle) = (
            stream_metrics.clone(),
            stream_stop.clone(),
            rt.handle().clone(),
        );
        std::thread::Builder::new()
            .name("demo-stream".into())
            .spawn(move || {
                lakeshore_jobs::stream::chunk_counts::run(&stream_args, handle, &stop, metrics)
            })?
    };
    if let Some(addr) = &args.metrics_addr {
        let status = Arc::new(Status {
            landing: Some(land_metrics.clone()),
            stream: Some(stream_metrics.clone()),
        });
        crate::status::spawn(rt, addr.clone(), status);
    }

    // The in-process broker keeps only the last 5 MiB of each partition (about 250
    // embeddings), so the traffic starts once the landing's consumer group has formed and
    // holds every partition. The mock's coordinator sometimes assigns one task's share,
    // revokes it a second later and settles only after the session timeout (12 s in all):
    // publishing meanwhile let a partition's first records roll off unread.
    let partitions = TOPICS.len() * PARTITIONS as usize;
    let waiting = Instant::now();
    let forming = waiting + Duration::from_secs(60);
    while land_metrics.assigned_partitions() < partitions {
        if landing.is_finished() {
            break; // failed: reported below
        }
        if Instant::now() > forming {
            bail!(
                "the landing holds {} of {partitions} partitions a minute after it started (logs: {})",
                land_metrics.assigned_partitions(),
                root.join("lakeshore.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "      the landing's group holds all {partitions} partitions after {:.1} s: publishing starts",
        waiting.elapsed().as_secs_f64()
    );

    // The traffic, on its own thread, paced over --publish-over.
    let publishing = {
        let (brokers, documents, over, seed) = (
            brokers.clone(),
            args.documents,
            args.publish_over,
            args.seed,
        );
        std::thread::Builder::new()
            .name("demo-gen".into())
            .spawn(move || publish_day(&brokers, seed, day_start, documents, over))?
    };

    // The windows, read from analytics.flink as the job writes them.
    let (window_tx, windows) = mpsc::channel();
    let reading_stop = Arc::new(AtomicBool::new(false));
    let reading = {
        let (brokers, stop) = (brokers.clone(), reading_stop.clone());
        std::thread::Builder::new()
            .name("demo-read".into())
            .spawn(move || read_windows(&brokers, window_tx, &stop))?
    };

    println!();
    println!("Windows as they fire (analytics.flink): the first few whole, then one line per hour");
    let mut hours = HourLines::new(day);
    let mut published: Option<Published> = None;
    let mut publishing = Some(publishing);
    let deadline = Instant::now() + args.publish_over + Duration::from_secs(90);
    loop {
        if let Ok(w) = windows.recv_timeout(Duration::from_millis(100)) {
            hours.add(w?);
        }
        if publishing.as_ref().is_some_and(|p| p.is_finished()) {
            let p = publishing.take().map(|p| p.join());
            published = Some(match p {
                Some(Ok(r)) => r?,
                _ => bail!("the traffic generator panicked"),
            });
        }
        let Some(p) = published.as_ref().map(|p| &p.publisher) else {
            continue;
        };
        let landed = land_metrics.records_landed.load(Ordering::Relaxed);
        let watermark = stream_metrics.watermark_ms.load(Ordering::Relaxed);
        let emitted = stream_metrics.windows_emitted.load(Ordering::Relaxed);
        if landed >= p.total_sent() && watermark >= day_end && hours.read as i64 >= emitted {
            break;
        }
        if landing.is_finished() || streaming.is_finished() {
            break; // failed: reported below
        }
        let expired = land_metrics.records_expired.load(Ordering::Relaxed);
        if expired > 0 {
            bail!(
                "{expired} records were deleted by the in-process broker (it keeps 5 MiB a partition) before the landing read them: the landing fell behind (logs: {})",
                root.join("lakeshore.log").display()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the demo did not finish in time: {landed} of {} records landed, the watermark is at {}, {} of {emitted} windows read (logs: {})",
                p.total_sent(),
                lakeshore_core::pipeline::fmt_wm(watermark),
                hours.read,
                root.join("lakeshore.log").display()
            );
        }
    }
    hours.finish();
    land_stop.store(true, Ordering::SeqCst);
    stream_stop.store(true, Ordering::SeqCst);
    reading_stop.store(true, Ordering::SeqCst);
    let land_result = landing
        .join()
        .map_err(|_| anyhow::anyhow!("the landing panicked"))?;
    land_result.context("the landing sink failed")?;
    let stream_result = streaming
        .join()
        .map_err(|_| anyhow::anyhow!("the chunk-count job panicked"))?;
    stream_result.context("the chunk-count job failed")?;
    let _ = reading.join();
    let Published {
        publisher: published,
        day_embeddings,
    } = published.context("the traffic generator did not finish")?;
    let late = stream_metrics.late_records.load(Ordering::Relaxed);
    println!(
        "  {} windows, {} chunks counted; {late} embeddings arrived behind the watermark and were dropped (and counted) as late",
        hours.windows, hours.chunks
    );

    println!();
    println!("What landed under {}:", lake.display());
    let landed = count_landed(&lake.join(TOPICS_DIR))?;
    for (i, topic) in TOPICS.iter().enumerate() {
        let (files, records) = landed.topics.get(*topic).copied().unwrap_or_default();
        println!(
            "  {topic:<18} {records:>6} records in {files:>3} files (published {})",
            published.sent[i]
        );
    }
    println!(
        "  {} hours marked _COMPLETE; the commit log (exactly-once state) is in {}",
        landed.complete_markers,
        lake.join("atenex/kafka-connect/logs").display()
    );
    if let Some(example) = &landed.example {
        println!(
            "  e.g. {}",
            example.strip_prefix(&lake).unwrap_or(example).display()
        );
    }

    println!();
    let reports = format!("file://{}", root.join("reports").display());
    let report_argv = strings(&[
        "--landing",
        &landing_url,
        "--output",
        &reports,
        "--date",
        &day.to_string(),
    ]);
    println!(
        "[3/4] lakeshore report daily-chunks {}",
        report_argv.join(" ")
    );
    let report_args: lakeshore_jobs::batch::daily_chunks::DailyChunksArgs = parse(&report_argv)?;
    let days = lakeshore_jobs::batch::daily_chunks::run(&report_args, rt.handle())
        .map_err(|e| anyhow::anyhow!("the daily report failed: {e}"))?;
    let report_file = root
        .join("reports/daily_chunk_count")
        .join(format!("date={day}"))
        .join("part-00000.parquet");
    let (rows, report_total) = print_report(&report_file)?;
    if let Some(d) = days.first() {
        println!(
            "  {rows} rows (company_id, document_id, total_chunks) from {} records in {} files -> {}",
            d.records, d.files, d.location
        );
    }

    println!();
    let sql = format!(
        "SELECT company_id, COUNT(*) AS chunks, COUNT(DISTINCT document_id) AS documents FROM embeddings_ready WHERE year = {} AND month = {} AND day = {} GROUP BY company_id ORDER BY chunks DESC",
        day.format("%Y"),
        day.format("%-m"),
        day.format("%-d")
    );
    let query_argv = vec!["--landing".to_string(), landing_url.clone(), sql.clone()];
    println!("[4/4] lakeshore query --landing {landing_url} \"{sql}\"");
    let query_args: lakeshore_jobs::batch::query::QueryArgs = parse(&query_argv)?;
    let mut done = lakeshore_jobs::batch::query::query(&query_args, rt.handle())
        .map_err(|e| anyhow::anyhow!("the query failed: {e}"))?;
    render(&mut done.frame, Format::Table, &mut std::io::stdout())?;

    // The numbers must agree.
    let embeddings = day_embeddings;
    let streamed = hours.chunks + late;
    println!();
    println!(
        "Check: published {embeddings} embeddings of {day}; the streaming job counted {} + {late} late = {streamed}; the report counted {report_total}.",
        hours.chunks
    );
    if streamed != embeddings as i64 || report_total != embeddings as i64 {
        bail!(
            "the counts disagree (see {})",
            root.join("lakeshore.log").display()
        );
    }
    println!(
        "The counts agree. Done in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    println!();
    if dir.remove {
        println!("The data is removed now; run `lakeshore demo --keep` to keep it and try:");
    } else {
        println!(
            "Everything is in {} (logs: lakeshore.log). Try:",
            root.display()
        );
    }
    println!("  lakeshore query --landing {landing_url} \\");
    println!("      \"SELECT hour, COUNT(*) AS chunks FROM chunks_processed GROUP BY hour ORDER BY hour\"");
    println!(
        "  lakeshore report daily-chunks --landing {landing_url} --output file:///tmp/reports --date {day}"
    );
    println!("  lakeshore gen --brokers <your broker> --rate 500 --duration 60s");
    println!("  docs/landing.md, docs/streaming.md, docs/batch.md, docs/operations.md");
    Ok(())
}

/// What the generator published.
#[derive(Debug)]
struct Published {
    publisher: Publisher,
    /// Embeddings with a timestamp inside the simulated day.
    day_embeddings: u64,
}

/// Publishes `documents` documents of the simulated day, spread evenly over `over`, then
/// the first few of the next day: the day's last windows fire when event time passes
/// midnight, as they would in production (idle partitions stop holding the watermark back
/// after `--idleness`).
fn publish_day(
    brokers: &str,
    seed: u64,
    day_start: i64,
    documents: usize,
    over: Duration,
) -> anyhow::Result<Published> {
    let day_end = day_start + 86_400_000;
    let mut publisher = Publisher::new(brokers, &[])?;
    let mut generator = Generator::new(seed, 1.0);
    let mut day_embeddings = 0;
    let started = Instant::now();
    let mut schedule = generator.day_schedule(day_start, documents);
    let day_documents = schedule.len();
    schedule.extend((1..=3).map(|k| day_end + k * 20_000));
    for (i, at) in schedule.iter().enumerate() {
        if i == day_documents {
            // Next morning's documents are on time: nothing of them lands in the day.
            generator.set_late_percent(0.0);
        }
        for event in generator.document(*at) {
            publisher.send(&event)?;
            if event.topic == TOPICS[2] && (day_start..day_end).contains(&event.timestamp_ms) {
                day_embeddings += 1;
            }
        }
        let due = over.mul_f64(((i + 1) as f64 / day_documents.max(1) as f64).min(1.0));
        if let Some(ahead) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(ahead);
        }
    }
    publisher.flush(Duration::from_secs(30))?;
    Ok(Published {
        publisher,
        day_embeddings,
    })
}

/// One window result as the job writes it.
#[derive(Debug, serde::Deserialize)]
struct Window {
    window_start: String,
    company_id: String,
    chunk_count: i64,
}

/// Reads `analytics.flink` from the start until `stop`, sending each window on.
fn read_windows(
    brokers: &str,
    out: mpsc::Sender<anyhow::Result<(Window, String)>>,
    stop: &AtomicBool,
) {
    let consumer: BaseConsumer = match ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "lakeshore-demo-reader")
        .set("enable.auto.commit", "false")
        .create()
    {
        Ok(c) => c,
        Err(e) => {
            let _ = out.send(Err(anyhow::anyhow!("cannot read {OUTPUT_TOPIC}: {e}")));
            return;
        }
    };
    let mut tpl = TopicPartitionList::new();
    let _ = tpl.add_partition_offset(OUTPUT_TOPIC, 0, Offset::Beginning);
    if let Err(e) = consumer.assign(&tpl) {
        let _ = out.send(Err(anyhow::anyhow!("cannot read {OUTPUT_TOPIC}: {e}")));
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        let Some(msg) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let result = msg.map_err(anyhow::Error::from).and_then(|m| {
            let text = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
            let w: Window = serde_json::from_str(&text)
                .with_context(|| format!("{OUTPUT_TOPIC} offset {}: {text}", m.offset()))?;
            Ok((w, text))
        });
        if out.send(result).is_err() {
            return;
        }
    }
}

/// Prints the first windows whole, then one line per hour of windows (of the simulated
/// day; the next morning's are only counted as read).
#[derive(Debug)]
struct HourLines {
    day: String,
    /// Windows read, of any day.
    read: usize,
    /// Windows of the day, and their chunks.
    windows: usize,
    chunks: i64,
    hour: Option<String>,
    hour_windows: usize,
    hour_chunks: i64,
    hour_companies: BTreeMap<String, i64>,
    /// Hour lines finished before the first windows were printed whole.
    held: Vec<String>,
}

impl HourLines {
    const WHOLE: usize = 3;

    fn new(day: NaiveDate) -> Self {
        HourLines {
            day: day.to_string(),
            read: 0,
            windows: 0,
            chunks: 0,
            hour: None,
            hour_windows: 0,
            hour_chunks: 0,
            hour_companies: BTreeMap::new(),
            held: Vec::new(),
        }
    }

    fn add(&mut self, (w, text): (Window, String)) {
        self.read += 1;
        if !w.window_start.starts_with(&self.day) {
            return;
        }
        self.windows += 1;
        self.chunks += w.chunk_count;
        if self.windows <= Self::WHOLE {
            println!("  {text}");
        }
        if self.windows == Self::WHOLE {
            println!("  ...");
            for line in self.held.drain(..) {
                println!("{line}");
            }
        }
        let hour = w.window_start.get(..13).unwrap_or_default().to_string();
        if self.hour.as_ref().is_some_and(|h| *h != hour) {
            self.end_hour();
        }
        self.hour = Some(hour);
        self.hour_windows += 1;
        self.hour_chunks += w.chunk_count;
        *self.hour_companies.entry(w.company_id).or_default() += w.chunk_count;
    }

    fn end_hour(&mut self) {
        let Some(hour) = self.hour.take() else { return };
        let mut top: Vec<_> = std::mem::take(&mut self.hour_companies)
            .into_iter()
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top: Vec<String> = top
            .iter()
            .take(3)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        let line = format!(
            "  {}:00  {:>3} windows {:>4} chunks   busiest: {}",
            hour.replace('T', " "),
            self.hour_windows,
            self.hour_chunks,
            top.join(", ")
        );
        if self.windows < Self::WHOLE {
            self.held.push(line);
        } else {
            println!("{line}");
        }
        self.hour_windows = 0;
        self.hour_chunks = 0;
    }

    fn finish(&mut self) {
        self.end_hour();
        for line in self.held.drain(..) {
            println!("{line}");
        }
    }
}

/// Files and lines per topic under the landing root, and `_COMPLETE` markers.
#[derive(Debug, Default)]
struct Landed {
    topics: BTreeMap<String, (usize, usize)>,
    complete_markers: usize,
    example: Option<PathBuf>,
}

fn count_landed(root: &Path) -> anyhow::Result<Landed> {
    let mut landed = Landed::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name == "_COMPLETE" {
                landed.complete_markers += 1;
            }
            if lakeshore_core::source::is_hidden(name) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let topic = path
                .strip_prefix(root)
                .ok()
                .and_then(|p| p.iter().next())
                .and_then(|t| t.to_str())
                .unwrap_or_default()
                .to_string();
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let lines = bytes.iter().filter(|b| **b == b'\n').count();
            let entry = landed.topics.entry(topic).or_default();
            entry.0 += 1;
            entry.1 += lines;
            if landed.example.as_ref().is_none_or(|e| path < *e) {
                landed.example = Some(path);
            }
        }
    }
    Ok(landed)
}

/// Prints the report's ten largest rows; returns its row count and total chunks.
fn print_report(file: &Path) -> anyhow::Result<(usize, i64)> {
    use polars::prelude::*;
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let df = ParquetReader::new(f)
        .finish()
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let total = df
        .column("total_chunks")?
        .as_materialized_series()
        .sum::<i64>()?;
    let rows = df.height();
    let mut top = df
        .lazy()
        .sort_by_exprs(
            [col("total_chunks"), col("document_id")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(5)
        .collect()?;
    render(&mut top, Format::Table, &mut std::io::stdout())?;
    Ok((rows, total))
}
