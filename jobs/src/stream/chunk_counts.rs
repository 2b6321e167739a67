//! `lakeshore stream chunk-counts`: records of `embeddings.ready` counted per `company_id` in
//! 1-minute tumbling event-time windows, written to `analytics.flink` as
//! `{"window_start":"2026-11-21T10:05:00","window_end":"2026-11-21T10:06:00","company_id":"acme","chunk_count":42}`
//! keyed by company_id, stamped window end − 1 ms.
//!
//! Three inputs, one pipeline:
//!
//! | flags | source | bounded |
//! |---|---|---|
//! | `--brokers` | the topic, from the checkpoint (or the group's offsets) on | no |
//! | `--brokers --from T1 --to T2` | the topic's records with timestamps in `[T1, T2)` | yes |
//! | `--landing URL --date D` | the landed files of day D (event time from `--timestamp-field`) | yes |

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::ValueEnum;
use lakeshore_core::batch::EventTime;
use lakeshore_core::metrics::Metrics;
use lakeshore_core::pipeline::fmt_wm;
use lakeshore_core::sink::JsonLinesSink;
use lakeshore_core::source::{LandingOptions, LandingSource};
use lakeshore_core::time::{format_utc, parse_duration, parse_time};
use lakeshore_core::{
    Aggregate, CheckpointStore, Encode, Pipeline, PipelineConfig, RunSummary, Sink, Source,
    WatermarkConfig, WindowKind, WindowResult,
};
use lakeshore_kafka::{
    ClientOptions, ExactlyOnce, KafkaSink, KafkaSinkOptions, KafkaSource, KafkaSourceOptions,
    StartFrom,
};
use lakeshore_storage::Store;

/// The window: one minute.
const WINDOW_MS: i64 = 60_000;

/// Count `embeddings.ready` records per company per minute (event time) into `analytics.flink`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  # Streaming, as the PyFlink job ran (checkpoints on the local disk):
  lakeshore stream chunk-counts --brokers 127.0.0.1:9092 \\
      --checkpoint-dir file:///var/lib/lakeshore/ckpt

  # Bounded: one day of the topic by record timestamp, then exit:
  lakeshore stream chunk-counts --brokers 127.0.0.1:9092 \\
      --from 2026-11-21T00:00:00Z --to 2026-11-22T00:00:00Z --output-topic analytics.replay

  # Bounded: one day of landed files (landed with an InsertField timestamp) to a file:
  lakeshore stream chunk-counts --landing hdfs://nn:8020/atenex/kafka-landing \\
      --date 2026-11-21 --output-file out.jsonl")]
pub struct ChunkCountsArgs {
    /// Kafka bootstrap servers (input, output, late and dead-letter topics).
    #[arg(long, env = "LAKESHORE_BROKERS")]
    pub brokers: Option<String>,

    /// Topic to read (and, with --landing, the landed topic directory).
    #[arg(long, default_value = "embeddings.ready")]
    pub input_topic: String,

    /// Topic to write the window counts to.
    #[arg(long, default_value = "analytics.flink")]
    pub output_topic: String,

    /// Write the window counts as JSON lines to this local file (`-` = stdout) instead of a
    /// topic.
    #[arg(long)]
    pub output_file: Option<String>,

    /// Consumer group (offsets are committed there after each checkpoint, for lag monitoring).
    #[arg(long, default_value = "lakeshore-chunk-counts")]
    pub group: String,

    /// Where checkpoints go: any store URL (file://, hdfs://, s3://). A directory per group
    /// is created under it. Streaming runs only.
    #[arg(
        long,
        env = "LAKESHORE_CHECKPOINT_DIR",
        default_value = "file:///var/lib/lakeshore/ckpt"
    )]
    pub checkpoint_dir: String,

    /// Time between checkpoints.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub checkpoint_interval: Duration,

    /// Checkpoints kept.
    #[arg(long, default_value_t = 3)]
    pub checkpoints_retained: usize,

    /// Bounded out-of-orderness of event time: watermark = max timestamp − this − 1 ms.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub out_of_orderness: Duration,

    /// A partition without records for this long stops holding the watermark back (`0s`:
    /// never).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub idleness: Duration,

    /// Do not advance the watermark with wall time when every partition is idle (the last
    /// minute then waits for new records).
    #[arg(long)]
    pub no_idle_advance: bool,

    /// Keep fired windows this long after their end; late records within it update the count
    /// and the window is emitted again.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub allowed_lateness: Duration,

    /// Topic for records that arrived too late for their window (a JSON description, not the
    /// 25 KB payload). Without it they are only counted and logged (debug).
    #[arg(long)]
    pub late_topic: Option<String>,

    /// Topic for records that cannot be read (not JSON, no company_id, no timestamp): the
    /// original payload with `lakeshore.error.*` headers. Without it they are counted and
    /// logged.
    #[arg(long)]
    pub dead_letter_topic: Option<String>,

    /// How output stays exactly once across crashes: `read-back` (any broker) or
    /// `transactions` (a broker with transactions; also hides uncommitted output from
    /// read_committed consumers).
    #[arg(long, value_enum, default_value_t = ExactlyOnceMode::ReadBack)]
    pub exactly_once: ExactlyOnceMode,

    /// transactional.id for `--exactly-once transactions` (default: `lakeshore-<group>`).
    #[arg(long)]
    pub transactional_id: Option<String>,

    /// Where a streaming run without a checkpoint starts.
    #[arg(long, value_enum, default_value_t = Start::Committed)]
    pub start_from: Start,

    /// Bounded run from this time (RFC 3339 or a date): records with timestamps in
    /// [from, to).
    #[arg(long, value_parser = parse_time, requires = "to")]
    pub from: Option<i64>,

    /// Bounded run to this time (exclusive).
    #[arg(long, value_parser = parse_time, requires = "from")]
    pub to: Option<i64>,

    /// Bounded run over landed files under this URL (the landing's `topics.dir`).
    #[arg(long)]
    pub landing: Option<String>,

    /// With --landing: the day to read (UTC), e.g. 2026-11-21.
    #[arg(long, requires = "landing")]
    pub date: Option<NaiveDate>,

    /// With --landing: the field holding the record timestamp in epoch ms (add it with the
    /// landing's InsertField$Value `timestamp.field`).
    #[arg(long, default_value = "kafka_timestamp")]
    pub timestamp_field: String,

    /// The field to count by.
    #[arg(long, default_value = "company_id")]
    pub key_field: String,

    /// With --landing: threads reading files (default: the number of CPUs, at most 4).
    #[arg(long)]
    pub readers: Option<usize>,

    /// Extra librdkafka setting for every client, e.g. `security.protocol=SASL_SSL`
    /// (repeatable).
    #[arg(long = "kafka-option", value_name = "KEY=VALUE")]
    pub kafka_options: Vec<String>,
}

/// `--exactly-once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExactlyOnceMode {
    ReadBack,
    Transactions,
}

/// `--start-from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Start {
    Committed,
    Earliest,
    Latest,
}

/// The output value, byte for byte what the PyFlink job wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChunkCountJson;

impl Encode for ChunkCountJson {
    fn value(&self, r: &WindowResult, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let company = serde_json::to_string(&r.key).unwrap_or_default();
        let _ = write!(
            out,
            r#"{{"window_start":"{}","window_end":"{}","company_id":{company},"chunk_count":{}}}"#,
            format_utc(r.start),
            format_utc(r.end),
            r.value
        );
    }
}

/// A configuration mistake (exit status 2), as opposed to a failure while running.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

impl ChunkCountsArgs {
    fn client(&self) -> anyhow::Result<ClientOptions> {
        let brokers = self
            .brokers
            .clone()
            .ok_or_else(|| usage("--brokers (or LAKESHORE_BROKERS) is required to use Kafka"))?;
        let extra = lakeshore_kafka::parse_options(&self.kafka_options).map_err(usage)?;
        Ok(ClientOptions { brokers, extra })
    }

    fn pipeline_config(&self) -> PipelineConfig {
        PipelineConfig {
            job: format!(
                "chunk-counts input={} key={} window={WINDOW_MS}ms",
                self.input_topic, self.key_field
            ),
            watermarks: WatermarkConfig {
                out_of_orderness: self.out_of_orderness,
                idleness: (!self.idleness.is_zero()).then_some(self.idleness),
                idle_advance: !self.no_idle_advance,
            },
            window: WindowKind::Tumbling { size_ms: WINDOW_MS },
            aggregate: Aggregate::Count,
            allowed_lateness: self.allowed_lateness,
            checkpoint_interval: self.checkpoint_interval,
            poll_timeout: Duration::from_millis(200),
        }
    }
}

/// Redacts `--kafka-option` values that look secret, for logs.
/// Runs the job until the input ends (bounded) or `stop` is set.
pub fn run(
    args: &ChunkCountsArgs,
    runtime: tokio::runtime::Handle,
    stop: &AtomicBool,
    metrics: Arc<Metrics>,
) -> anyhow::Result<RunSummary> {
    if args.landing.is_some() && args.from.is_some() && args.date.is_some() {
        bail!(usage("--date and --from/--to: give one or the other"));
    }
    let bounded_kafka = args.landing.is_none() && args.from.is_some();
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            return Err(usage(format!(
                "--from {} is not before --to {}",
                format_utc(from),
                format_utc(to)
            )));
        }
    }
    for o in &args.kafka_options {
        if let Some((k, v)) = o.split_once('=') {
            tracing::info!(option = %lakeshore_kafka::redacted(k, v), "kafka option");
        }
    }

    let source: Box<dyn Source> = match &args.landing {
        Some(url) => {
            let (days, range) = match (args.date, args.from, args.to) {
                (Some(d), None, None) => {
                    let from = d
                        .and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp_millis();
                    (vec![d], (from, from + 86_400_000))
                }
                (None, Some(from), Some(to)) => {
                    let mut days = vec![];
                    let mut day = chrono::DateTime::from_timestamp_millis(from)
                        .context("--from out of range")?
                        .date_naive();
                    while day
                        .and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp_millis()
                        < to
                    {
                        days.push(day);
                        day = day.succ_opt().context("date out of range")?;
                    }
                    (days, (from, to))
                }
                _ => return Err(usage("--landing needs --date D (or --from and --to)")),
            };
            let store = Store::from_url(url, &HashMap::new())
                .map_err(|e| usage(format!("--landing {url}: {e}")))?;
            // Each reader holds one file (~20 MB) in memory; beyond 4, more readers buy
            // little (the pipeline thread is the next limit) and cost memory.
            let readers = args.readers.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
            });
            Box::new(LandingSource::new(LandingOptions {
                store,
                topic: args.input_topic.clone(),
                days,
                range: Some(range),
                key_field: args.key_field.clone(),
                event_time: EventTime::Field(args.timestamp_field.clone()),
                readers,
                runtime: runtime.clone(),
            }))
        }
        None => Box::new(KafkaSource::new(KafkaSourceOptions {
            client: args.client()?,
            topic: args.input_topic.clone(),
            group: args.group.clone(),
            key_field: args.key_field.clone(),
            start: match args.start_from {
                Start::Committed => StartFrom::Committed,
                Start::Earliest => StartFrom::Earliest,
                Start::Latest => StartFrom::Latest,
            },
            range: args.from.zip(args.to),
            batch_records: 2_000,
        })),
    };

    let sink: Box<dyn Sink> = match &args.output_file {
        Some(path) => Box::new(JsonLinesSink::new(path, Box::new(ChunkCountJson))),
        None => Box::new(KafkaSink::new(KafkaSinkOptions {
            client: args.client()?,
            topic: args.output_topic.clone(),
            encoder: Box::new(ChunkCountJson),
            late_topic: args.late_topic.clone(),
            dead_letter_topic: args.dead_letter_topic.clone(),
            exactly_once: match args.exactly_once {
                ExactlyOnceMode::ReadBack => ExactlyOnce::ReadBack,
                ExactlyOnceMode::Transactions => ExactlyOnce::Transactions {
                    transactional_id: args
                        .transactional_id
                        .clone()
                        .unwrap_or_else(|| format!("lakeshore-{}", args.group)),
                },
            },
        })),
    };

    // Bounded runs are re-runnable from scratch; only the unbounded run checkpoints.
    let checkpoints = if source.bounded() {
        None
    } else {
        let store = Store::from_url(&args.checkpoint_dir, &HashMap::new())
            .map_err(|e| usage(format!("--checkpoint-dir {}: {e}", args.checkpoint_dir)))?;
        Some(CheckpointStore::new(
            store,
            &args.group,
            args.checkpoints_retained,
            runtime.clone(),
        ))
    };
    if bounded_kafka && args.output_file.is_none() {
        tracing::info!("bounded run to a topic: re-running it writes its windows again");
    }

    let pipeline = Pipeline::new(args.pipeline_config(), source, sink, checkpoints, metrics);
    let summary = pipeline.run(stop)?;
    let c = &summary.counters;
    tracing::info!(
        records = c.records,
        windows = c.emitted,
        late = c.late,
        bad = c.rejected,
        out_of_range = c.out_of_range,
        checkpoints = summary.checkpoints,
        watermark = %fmt_wm(summary.watermark),
        ended = summary.ended,
        "chunk-counts finished"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_what_pyflink_wrote() {
        let r = WindowResult {
            key: "ac\"me".into(),
            start: parse_time("2026-11-21T10:05:00Z").unwrap(),
            end: parse_time("2026-11-21T10:06:00Z").unwrap(),
            value: 42,
            update: false,
        };
        let mut out = vec![];
        ChunkCountJson.value(&r, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"window_start":"2026-11-21T10:05:00","window_end":"2026-11-21T10:06:00","company_id":"ac\"me","chunk_count":42}"#
        );
        assert_eq!(ChunkCountJson.timestamp(&r), r.end - 1);
        assert_eq!(ChunkCountJson.key(&r), b"ac\"me");
    }

    #[test]
    fn docs_list_every_flag() {
        use clap::Args as _;
        let docs = include_str!("../../../docs/streaming.md");
        let cmd = ChunkCountsArgs::augment_args(clap::Command::new("chunk-counts"));
        let mut missing = vec![];
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                if !docs.contains(&format!("`--{long}`")) {
                    missing.push(long.to_string());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "docs/streaming.md does not list {missing:?}"
        );
    }
}
