//! `lakeshore`: one binary for landing Kafka topics on HDFS, the streaming and batch jobs,
//! and ad-hoc SQL over the landed data. This file is the thin edge: flags, logging, signals, exit codes.

mod demo;
mod gen;
mod status;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use lakeshore_connect::events::Metrics;
use lakeshore_connect::properties;
use lakeshore_connect::{RunOptions, SinkConfig, SinkError};
use status::Status;

/// `0.1.0 (git 1a2b3c4d)`: the release and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("LAKESHORE_GIT_COMMIT"),
    ")"
);

/// jemalloc returns freed memory to the system: with glibc's malloc, the large transient
/// buffers of file reads and HDFS writes stay in per-thread arenas and peak RSS grows with the
/// number of threads (measured in docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Lakeshore: Kafka -> HDFS landing, streaming windows and batch reports in one Rust binary.
#[derive(Debug, Parser)]
#[command(version = VERSION, about, long_about = None)]
struct Cli {
    /// Log format: `human` (default on a terminal) or `json` (one object per line).
    #[arg(long, global = true, env = "LAKESHORE_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Land Kafka topics on HDFS (or any store) as JSON, exactly once: a drop-in for
    /// Confluent's HDFS 3 sink connector that reads its properties file verbatim.
    ///
    /// Runs until SIGTERM/SIGINT, then commits what it has consumed and exits 0. Start more
    /// processes with the same `name` to share the partitions (one consumer group).
    ///
    /// Exit status: 0 stopped cleanly; 1 a run-time failure (a bad record with
    /// errors.tolerance=none, a corrupt commit log, ...); 2 a configuration error.
    #[command(after_help = "Examples:
  # The connector config users run today, pointed at a test HDFS and broker:
  lakeshore land --config hdfs-sink-connector.properties \\
      --brokers 127.0.0.1:9092 --set hdfs.url=hdfs://127.0.0.1:8020

  # On the local filesystem, with dead-lettering of bad records:
  lakeshore land --config sink.properties --set hdfs.url=file:///var/lib/lakeshore \\
      --set errors.tolerance=all --set errors.deadletterqueue.topic.name=landing.dlq

  # Validate a config and print the effective settings (secrets redacted):
  lakeshore land --config sink.properties --check")]
    Land(LandArgs),

    /// Streaming jobs (event time, watermarks, windows), which also run bounded over a time
    /// range of a topic or over landed files.
    #[command(subcommand)]
    Stream(StreamCommand),

    /// Batch reports over the landed data, run as EMR steps, from cron or Airflow: the exit
    /// status is the verdict.
    #[command(subcommand)]
    Report(ReportCommand),

    /// Ad-hoc SQL over the landed topics: each topic is a table (`embeddings.ready` ->
    /// `embeddings_ready`) with partition columns year, month, day, hour (see docs/batch.md).
    ///
    /// A WHERE on the partition columns skips whole directories before any file is read;
    /// fields the query does not use (the embedding vector) are never parsed. The result goes
    /// to stdout (an aligned table on a terminal, CSV otherwise) or to --output.
    Query(Box<lakeshore_jobs::batch::query::QueryArgs>),

    /// The whole pipeline on this machine with nothing installed: an in-process Kafka (the
    /// demo's only fake), the local filesystem, a simulated day of traffic. Lands the three
    /// topics, streams the chunk counts (printing windows as they fire), runs the daily
    /// report and a query, and checks that their numbers agree. About 20 s.
    #[command(after_help = "Examples:
  lakeshore demo
  # Keep the data and the commands to explore it; watch the status page meanwhile:
  lakeshore demo --keep --metrics-addr 127.0.0.1:9464 --publish-over 60s")]
    Demo(Box<demo::DemoArgs>),

    /// Publish synthetic document-AI traffic (documents, chunks, 1536-float embeddings,
    /// some out of order and late) to a real broker, for load tests.
    Gen(Box<gen::GenArgs>),

    /// Check a landing connector file: print the effective settings (secrets redacted) and
    /// exit 0, or name the bad key and its line and exit 2. Same as `land --check`.
    CheckConfig(CheckConfigArgs),
}

#[derive(Debug, clap::Args)]
struct CheckConfigArgs {
    /// The connector's .properties file.
    file: PathBuf,

    /// Kafka bootstrap servers; overrides `bootstrap.servers` in the file.
    #[arg(long, env = "LAKESHORE_BROKERS")]
    brokers: Option<String>,

    /// Override or add a key, as with `land --set` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// The daily Parquet report of chunks per (company_id, document_id) from the landed
    /// `embeddings.ready` (replaces the PySpark EMR step; see docs/batch.md).
    ///
    /// Writes `<output>/daily_chunk_count/date=YYYY-MM-DD/part-00000.parquet` and `_SUCCESS`,
    /// replacing any previous report of that day atomically (written aside, then swapped in).
    DailyChunks(Box<lakeshore_jobs::batch::daily_chunks::DailyChunksArgs>),
}

#[derive(Debug, Subcommand)]
enum StreamCommand {
    /// Per-minute chunk counts per company from `embeddings.ready` to `analytics.flink`
    /// (replaces the PyFlink job; see docs/streaming.md).
    ///
    /// Streaming: runs until SIGTERM/SIGINT, then writes a last checkpoint and exits 0;
    /// after a crash it resumes from the last checkpoint without counting a record twice
    /// or writing a window twice. Bounded (--from/--to, or --landing): ends when the input
    /// ends, after firing every window.
    ///
    /// Exit status: 0 done; 1 a run-time failure (broker, storage, checkpoint); 2 a usage or
    /// configuration error.
    ChunkCounts(Box<StreamArgs>),
}

#[derive(Debug, clap::Args)]
struct StreamArgs {
    #[command(flatten)]
    job: lakeshore_jobs::stream::chunk_counts::ChunkCountsArgs,

    /// Serve the status page (`/`), `/status` (JSON) and `/metrics` (Prometheus) at this
    /// address (`off`: not at all). A busy port is logged, not fatal.
    #[arg(long, env = "LAKESHORE_METRICS_ADDR", default_value = "127.0.0.1:9465")]
    metrics_addr: String,
}

#[derive(Debug, clap::Args)]
struct LandArgs {
    /// The connector's .properties file (Confluent HDFS 3 / S3 sink keys; see docs/landing.md).
    #[arg(long, short, env = "LAKESHORE_CONFIG")]
    config: PathBuf,

    /// Kafka bootstrap servers; overrides `bootstrap.servers` in the file.
    #[arg(long, env = "LAKESHORE_BROKERS")]
    brokers: Option<String>,

    /// Override or add a key, e.g. `--set hdfs.url=hdfs://nn:8020` (repeatable; wins over the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    /// Serve the status page (`/`), `/status` (JSON) and `/metrics` (Prometheus) at this
    /// address (`off`: not at all). A busy port is logged, not fatal.
    #[arg(long, env = "LAKESHORE_METRICS_ADDR", default_value = "127.0.0.1:9464")]
    metrics_addr: String,

    /// Check the configuration, print the effective settings and exit.
    #[arg(long)]
    check: bool,
}

/// Logs to stderr, or to `file` (the demo keeps its terminal for its own output).
fn init_logging(format: Option<LogFormat>, file: Option<std::fs::File>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAKESHORE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let terminal = file.is_none() && std::io::stderr().is_terminal();
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    let writer = match file {
        Some(f) => BoxMakeWriter::new(std::sync::Mutex::new(f)),
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    match format.unwrap_or(LogFormat::Human) {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.with_ansi(terminal).init(),
    }
}

/// A configuration problem: exit status 2.
#[derive(Debug)]
struct ConfigProblem(String);

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigProblem {}

fn load_config(args: &LandArgs) -> anyhow::Result<SinkConfig> {
    let file = args.config.display().to_string();
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| ConfigProblem(format!("cannot read config {file}: {e}")))?;
    let mut props = properties::parse(&text).map_err(|e| ConfigProblem(format!("{file}: {e}")))?;
    for (key, line) in props.duplicates() {
        tracing::warn!(file, key, line, "key set twice; the later value wins");
    }
    for o in &args.overrides {
        let (k, v) = o
            .split_once('=')
            .ok_or_else(|| ConfigProblem(format!("--set {o}: expected KEY=VALUE")))?;
        props.set(k.trim(), v.trim());
    }
    let cfg = SinkConfig::from_properties(&props).map_err(|e| {
        let at = props
            .line_of(&e.key)
            .map(|l| format!("{file}:{l}: "))
            .unwrap_or_else(|| format!("{file}: "));
        ConfigProblem(format!("{at}{e}"))
    })?;
    Ok(cfg)
}

/// Prints the effective settings of a checked config (secrets redacted).
fn print_config(file: &std::path::Path, cfg: &SinkConfig) {
    println!("config OK: {}", file.display());
    println!(
        "name={} group={} tasks={}",
        cfg.name,
        cfg.group_id(),
        cfg.tasks
    );
    println!(
        "store={} topics.dir={} logs.dir={}",
        cfg.store_url, cfg.topics_dir, cfg.logs_dir
    );
    println!("topics={:?}", cfg.topics);
    for (k, v) in cfg.redacted_kafka() {
        println!("kafka {k}={v}");
    }
    for k in &cfg.ignored_keys {
        println!("ignored {k} (no effect in Lakeshore)");
    }
}

fn land(args: LandArgs) -> anyhow::Result<()> {
    let cfg = load_config(&args)?;
    if args.check {
        print_config(&args.config, &cfg);
        return Ok(());
    }
    let rt = runtime()?;
    let stop = stop_on_signals(&rt);
    let metrics = Arc::new(Metrics::default());
    serve_status(
        &rt,
        &args.metrics_addr,
        Status {
            landing: Some(metrics.clone()),
            stream: None,
        },
    );
    let opts = RunOptions {
        brokers: args.brokers.clone(),
    };
    let result = lakeshore_connect::run(cfg, opts, rt.handle().clone(), stop, metrics);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result.map_err(|e| match e {
        SinkError::Config(c) => anyhow::Error::new(ConfigProblem(c.to_string())),
        other => anyhow::Error::new(other),
    })
}

fn stream_chunk_counts(args: StreamArgs) -> anyhow::Result<()> {
    let rt = runtime()?;
    let stop = stop_on_signals(&rt);
    let metrics = Arc::new(lakeshore_core::metrics::Metrics::default());
    serve_status(
        &rt,
        &args.metrics_addr,
        Status {
            landing: None,
            stream: Some(metrics.clone()),
        },
    );
    let result =
        lakeshore_jobs::stream::chunk_counts::run(&args.job, rt.handle().clone(), &stop, metrics);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result.map(|_| ())
}

/// Runs the daily report; its error kinds map to their own exit statuses (a one-line reason
/// on stderr: EMR captures it).
fn report_daily_chunks(args: &lakeshore_jobs::batch::daily_chunks::DailyChunksArgs) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lakeshore: error: {e:#}");
            return ExitCode::from(1);
        }
    };
    let result = lakeshore_jobs::batch::daily_chunks::run(args, rt.handle());
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(days) => {
            for d in days {
                println!(
                    "{}: {} rows from {} records in {} files ({:.1} MB){} -> {}",
                    d.date,
                    d.rows,
                    d.records,
                    d.files,
                    d.bytes as f64 / 1e6,
                    if d.skipped > 0 {
                        format!(", {} bad records skipped", d.skipped)
                    } else {
                        String::new()
                    },
                    d.location
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lakeshore: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs an ad-hoc query and writes its result; errors map to the report's exit statuses.
fn query(args: &lakeshore_jobs::batch::query::QueryArgs) -> ExitCode {
    use lakeshore_jobs::batch::query::{output, query, QueryError};
    let run = || -> Result<(), QueryError> {
        let format = output::choose(
            args.format,
            args.output.as_deref(),
            std::io::stdout().is_terminal(),
        )?;
        let rt = runtime().map_err(|e| QueryError::Failed(format!("{e:#}")))?;
        let result = query(args, rt.handle()).and_then(|mut done| {
            output::write(&mut done.frame, format, args.output.as_deref(), rt.handle())
        });
        rt.shutdown_timeout(std::time::Duration::from_secs(2));
        result
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lakeshore: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("lakeshore-io")
        .build()
        .context("start runtime")
}

fn serve_status(rt: &tokio::runtime::Runtime, addr: &str, status: Status) {
    if addr != "off" {
        status::spawn(rt, addr.to_string(), Arc::new(status));
    }
}

fn check_config(args: CheckConfigArgs) -> anyhow::Result<()> {
    let land_args = LandArgs {
        config: args.file,
        brokers: args.brokers,
        overrides: args.overrides,
        metrics_addr: "off".into(),
        check: true,
    };
    land(land_args)
}

fn demo(args: &demo::DemoArgs, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let dir = demo::DemoDir::create(args)?;
    let log = dir.path.join("lakeshore.log");
    let file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    init_logging(log_format, Some(file));
    let rt = runtime()?;
    let result = demo::run(args, &dir, &rt);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

fn generate(args: &gen::GenArgs) -> anyhow::Result<()> {
    let rt = runtime()?;
    let stop = stop_on_signals(&rt);
    let publisher = gen::run(args, &stop)?;
    let [documents, chunks, embeddings] = publisher.sent;
    let p = &args.topic_prefix;
    println!(
        "published {p}documents.raw={documents} {p}chunks.processed={chunks} {p}embeddings.ready={embeddings} to {}",
        args.brokers
    );
    Ok(())
}

/// A flag set by the first SIGTERM/SIGINT (finish cleanly); a second one exits at once.
fn stop_on_signals(rt: &tokio::runtime::Runtime) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        rt.spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if stop.swap(true, Ordering::SeqCst) {
                    tracing::warn!("second signal: exiting without committing");
                    std::process::exit(130);
                }
                tracing::info!("signal received: finishing cleanly, then stopping");
            }
        });
    }
    stop
}

fn main() -> ExitCode {
    // Polars' streaming engine cannot run the landing's scans (`lakeshore query`); these
    // variables would force it. Removed before any thread starts.
    for var in ["POLARS_FORCE_STREAMING", "POLARS_AUTO_STREAMING"] {
        std::env::remove_var(var);
    }
    let cli = Cli::parse();
    if std::env::var_os("LAKESHORE_PARSE_ONLY").is_some() {
        // The docs check (tests/docs.rs): the command line is valid; run nothing.
        return ExitCode::SUCCESS;
    }
    let command = match cli.command {
        // The demo logs to a file in its directory: its terminal output is the show.
        Command::Demo(args) => return exit_status(demo(&args, cli.log_format)),
        other => other,
    };
    init_logging(cli.log_format, None);
    let result = match command {
        Command::Demo(_) => Ok(()),
        Command::Gen(args) => generate(&args),
        Command::CheckConfig(args) => check_config(args),
        Command::Land(args) => land(args),
        Command::Stream(StreamCommand::ChunkCounts(args)) => stream_chunk_counts(*args),
        Command::Report(ReportCommand::DailyChunks(args)) => return report_daily_chunks(&args),
        Command::Query(args) => return query(&args),
    };
    exit_status(result)
}

/// Prints the error and maps it to the exit status: 2 for configuration and usage errors,
/// 1 for the rest.
fn exit_status(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let config = e.downcast_ref::<ConfigProblem>().is_some()
                || e.downcast_ref::<lakeshore_jobs::stream::chunk_counts::UsageError>()
                    .is_some()
                || matches!(
                    e.downcast_ref::<SinkError>(),
                    Some(SinkError::Storage(
                        lakeshore_storage::StorageError::Url { .. }
                    ))
                );
            eprintln!("lakeshore: error: {e:#}");
            ExitCode::from(if config { 2 } else { 1 })
        }
    }
}
