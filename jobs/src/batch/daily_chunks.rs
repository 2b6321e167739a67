//! `lakeshore report daily-chunks`: the daily Parquet report of chunks per (company, document),
//! replacing the PySpark EMR step:
//!
//! ```text
//! <landing>/embeddings.ready/year=Y/month=M/day=D/**/<committed files>
//!     → groupBy(company_id, document_id).count() as total_chunks
//!     → <output>/daily_chunk_count/date=Y-M-D/part-00000.parquet + _SUCCESS
//! ```
//!
//! Reading: the committed landed files of the day (never `+tmp/`, `_*`, `.*`), listed by the
//! core's `list_landed`, fetched by the batch jobs' parallel readers ([`super::read`]); only `company_id`
//! and `document_id` are taken out of each record (the vector is stepped over, never parsed).
//! Counting: one map per reader, merged at the end. Writing: a Polars DataFrame, sorted, to
//! Parquet. Publishing: written aside under `.staging-<run>/`, then swapped in with directory
//! renames, so readers see the old report or the new one, never a partial or mixed one.
//!
//! The exit status is the step's verdict ([`ReportError::exit_code`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use lakeshore_core::source::{list_landed, LandedFile};
use lakeshore_core::time::parse_duration;
use lakeshore_format::{ends_object, find_fields, lines, JsonRef};
use lakeshore_storage::{Path, Store};
use polars::prelude::*;

use super::read::{read_files, Next};

/// Write the daily Parquet report of chunks per company and document.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit status: 0 written; 1 a failure (storage unreachable, write failed);
2 usage; 3 no input (missing day directory, no landed files, empty day without --allow-empty);
4 bad input (malformed JSON, a record without company_id/document_id) with --bad-records fail;
5 the landing's completeness markers did not appear within --wait-for-complete.

Examples:
  # Yesterday (UTC), as the EMR step runs it:
  lakeshore report daily-chunks --landing hdfs://nn:8020/atenex/kafka-landing \\
      --output hdfs://nn:8020/atenex/reports

  # A range of days, waiting up to 2 h for each day's landing to be complete:
  lakeshore report daily-chunks --landing hdfs://nn:8020/atenex/kafka-landing \\
      --output hdfs://nn:8020/atenex/reports --from 2026-11-01 --to 2026-11-21 \\
      --wait-for-complete 2h"
)]
pub struct DailyChunksArgs {
    /// The landing root (the sink's `hdfs.url` + `topics.dir`), any store URL.
    #[arg(long, env = "LAKESHORE_LANDING")]
    pub landing: String,

    /// The reports root; the report goes to `<output>/daily_chunk_count/date=YYYY-MM-DD/`.
    #[arg(long, env = "LAKESHORE_REPORTS")]
    pub output: String,

    /// The day to report (default: yesterday in --timezone).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub date: Option<NaiveDate>,

    /// First day of a range (inclusive); one report per day.
    #[arg(long, requires = "to")]
    pub from: Option<NaiveDate>,

    /// Last day of a range (inclusive).
    #[arg(long, requires = "from")]
    pub to: Option<NaiveDate>,

    /// Time zone that decides what "yesterday" is.
    #[arg(long, default_value = "UTC")]
    pub timezone: chrono_tz::Tz,

    /// Write an empty report (with the schema) for a day without records instead of failing.
    #[arg(long)]
    pub allow_empty: bool,

    /// Wait up to this long (e.g. `2h`) for the landing's `_COMPLETE` marker of every hour of
    /// the day before reading it.
    #[arg(long, value_parser = parse_duration)]
    pub wait_for_complete: Option<Duration>,

    /// `fail` (default): stop at the first malformed record or record without
    /// company_id/document_id, naming file and line; `skip`: skip and count them.
    #[arg(long, value_enum, default_value_t = BadRecords::Fail)]
    pub bad_records: BadRecords,

    /// The landed topic to read.
    #[arg(long, default_value = "embeddings.ready")]
    pub topic: String,

    /// Threads reading files (default: the number of CPUs, at most 4).
    #[arg(long)]
    pub readers: Option<usize>,
}

/// `--bad-records`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BadRecords {
    Fail,
    Skip,
}

/// Why a report was not written; each kind has its own exit status.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NoInput(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Incomplete(String),
    #[error("{0}")]
    Failed(String),
}

impl ReportError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportError::Failed(_) => 1,
            ReportError::Usage(_) => 2,
            ReportError::NoInput(_) => 3,
            ReportError::BadInput(_) => 4,
            ReportError::Incomplete(_) => 5,
        }
    }
}

impl From<lakeshore_storage::StorageError> for ReportError {
    fn from(e: lakeshore_storage::StorageError) -> Self {
        ReportError::Failed(e.to_string())
    }
}

impl From<lakeshore_core::CoreError> for ReportError {
    fn from(e: lakeshore_core::CoreError) -> Self {
        ReportError::Failed(e.to_string())
    }
}

impl From<PolarsError> for ReportError {
    fn from(e: PolarsError) -> Self {
        ReportError::Failed(format!("building the report: {e}"))
    }
}

/// What one day's run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayReport {
    pub date: NaiveDate,
    pub files: usize,
    pub bytes: u64,
    pub records: u64,
    pub skipped: u64,
    pub rows: usize,
    /// Where the report is, as a URL.
    pub location: String,
}

/// The days a run covers.
pub fn days(
    args: &DailyChunksArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<NaiveDate>, ReportError> {
    match (args.date, args.from, args.to) {
        (Some(d), _, _) => Ok(vec![d]),
        (None, Some(from), Some(to)) => {
            if from > to {
                return Err(ReportError::Usage(format!(
                    "--from {from} is after --to {to}"
                )));
            }
            Ok(from.iter_days().take_while(|d| *d <= to).collect())
        }
        _ => {
            let today = now.with_timezone(&args.timezone).date_naive();
            Ok(vec![today.pred_opt().expect("a day before today")])
        }
    }
}

fn day_dir(topic: &str, day: NaiveDate) -> Path {
    Path::from(format!(
        "{topic}/year={:04}/month={:02}/day={:02}",
        day.year(),
        day.month(),
        day.day()
    ))
}

/// Runs the report for every requested day; stops at the first day that fails.
pub fn run(
    args: &DailyChunksArgs,
    runtime: &tokio::runtime::Handle,
) -> Result<Vec<DayReport>, ReportError> {
    let landing = Store::from_url(&args.landing, &HashMap::new())
        .map_err(|e| ReportError::Usage(format!("--landing: {e}")))?;
    if args.output.starts_with("s3://") || args.output.starts_with("memory://") {
        return Err(ReportError::Usage(format!(
            "--output {}: reports are swapped in with directory renames, which this store does not have; write to hdfs:// or file://",
            args.output
        )));
    }
    let output = Store::from_url(&args.output, &HashMap::new())
        .map_err(|e| ReportError::Usage(format!("--output: {e}")))?;
    let readers = args
        .readers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
        .max(1);
    let mut done = Vec::new();
    for day in days(args, chrono::Utc::now())? {
        if let Some(timeout) = args.wait_for_complete {
            wait_for_complete(&landing, &args.topic, day, timeout, runtime)?;
        }
        let report = run_day(args, &landing, &output, day, readers, runtime)?;
        tracing::info!(
            date = %report.date,
            files = report.files,
            bytes = report.bytes,
            records = report.records,
            skipped = report.skipped,
            rows = report.rows,
            report = %report.location,
            "report written"
        );
        done.push(report);
    }
    Ok(done)
}

fn run_day(
    args: &DailyChunksArgs,
    landing: &Store,
    output: &Store,
    day: NaiveDate,
    readers: usize,
    runtime: &tokio::runtime::Handle,
) -> Result<DayReport, ReportError> {
    let dir = day_dir(&args.topic, day);
    let where_ = format!("{}/{dir}", landing.url().trim_end_matches('/'));
    let files = runtime.block_on(list_landed(landing, &args.topic, day))?;
    if files.is_empty() {
        let (objects, dirs) = runtime.block_on(landing.list_dir(&dir))?;
        if objects.is_empty() && dirs.is_empty() {
            return Err(ReportError::NoInput(format!("no input directory {where_}")));
        }
        if !args.allow_empty {
            return Err(ReportError::NoInput(format!(
                "no landed files in {where_} (use --allow-empty to write an empty report)"
            )));
        }
    }
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    let counted = count(landing, &files, readers, args.bad_records, runtime)?;
    if counted.records == 0 && !args.allow_empty {
        return Err(ReportError::NoInput(format!(
            "no records in {where_} ({} files{}; use --allow-empty to write an empty report)",
            files.len(),
            if counted.skipped > 0 {
                format!(", {} bad records skipped", counted.skipped)
            } else {
                String::new()
            }
        )));
    }
    if counted.skipped > 0 {
        eprintln!(
            "lakeshore: skipped {} bad record(s) in {where_}",
            counted.skipped
        );
    }
    let mut df = to_frame(counted.counts)?;
    let rows = df.height();
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet)
        .with_compression(ParquetCompression::Snappy)
        .finish(&mut df)?;
    let location = publish(output, day, parquet, runtime)?;
    Ok(DayReport {
        date: day,
        files: files.len(),
        bytes,
        records: counted.records,
        skipped: counted.skipped,
        rows,
        location,
    })
}

/// (company_id, document_id) → chunks.
type Counts = HashMap<String, HashMap<String, i64>>;

#[derive(Debug, Default)]
struct Counted {
    counts: Counts,
    records: u64,
    skipped: u64,
}

/// Counts the records of `files` with `readers` threads.
fn count(
    store: &Store,
    files: &[LandedFile],
    readers: usize,
    bad: BadRecords,
    runtime: &tokio::runtime::Handle,
) -> Result<Counted, ReportError> {
    let results = read_files(
        store,
        files,
        readers,
        runtime,
        Counted::default,
        |_, file, buf, mine| count_file(file, buf, bad, mine).map(|()| Next::More),
    )?;
    let mut total = Counted::default();
    for part in results {
        total.records += part.records;
        total.skipped += part.skipped;
        for (company, docs) in part.counts {
            let into = total.counts.entry(company).or_default();
            for (doc, n) in docs {
                *into.entry(doc).or_default() += n;
            }
        }
    }
    Ok(total)
}

fn count_file(
    file: &LandedFile,
    buf: &[u8],
    bad: BadRecords,
    into: &mut Counted,
) -> Result<(), ReportError> {
    for (line, doc) in lines(buf) {
        match ids(doc) {
            Ok((company, document)) => {
                let docs = match into.counts.get_mut(company.as_ref()) {
                    Some(d) => d,
                    None => into.counts.entry(company.into_owned()).or_default(),
                };
                match docs.get_mut(document.as_ref()) {
                    Some(n) => *n += 1,
                    None => {
                        docs.insert(document.into_owned(), 1);
                    }
                }
                into.records += 1;
            }
            Err(reason) => {
                let at = format!("{}:{line}", file.path);
                match bad {
                    BadRecords::Fail => {
                        return Err(ReportError::BadInput(format!("{at}: {reason}")))
                    }
                    BadRecords::Skip => {
                        if into.skipped < 10 {
                            tracing::warn!(record = %at, %reason, "bad record skipped");
                        }
                        into.skipped += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

/// `company_id` and `document_id` of one landed record.
fn ids(doc: &[u8]) -> Result<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>), String> {
    if !ends_object(doc) {
        return Err("malformed JSON: not a complete JSON object".into());
    }
    let [company, document] = find_fields(doc, ["company_id", "document_id"])
        .map_err(|e| format!("malformed JSON: {e}"))?;
    Ok((
        string(company, "company_id")?,
        string(document, "document_id")?,
    ))
}

fn string<'a>(v: Option<JsonRef<'a>>, name: &str) -> Result<std::borrow::Cow<'a, str>, String> {
    match v {
        Some(JsonRef::String(s)) => Ok(s),
        Some(other) => Err(format!("{name} is not a string: {other:?}")),
        None => Err(format!("no {name} field")),
    }
}

/// The report's rows, sorted by company_id then document_id.
fn to_frame(counts: Counts) -> Result<DataFrame, ReportError> {
    let mut rows: Vec<(String, String, i64)> = counts
        .into_iter()
        .flat_map(|(c, docs)| docs.into_iter().map(move |(d, n)| (c.clone(), d, n)))
        .collect();
    rows.sort_unstable();
    let (mut companies, mut documents, mut totals) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for (c, d, n) in rows {
        companies.push(c);
        documents.push(d);
        totals.push(n);
    }
    Ok(df!(
        "company_id" => companies,
        "document_id" => documents,
        "total_chunks" => totals,
    )?)
}

/// Writes the report aside, then swaps it in; returns its URL.
fn publish(
    output: &Store,
    day: NaiveDate,
    parquet: Vec<u8>,
    runtime: &tokio::runtime::Handle,
) -> Result<String, ReportError> {
    let root = Path::from("daily_chunk_count");
    let name = format!("date={day}");
    let run = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    // Siblings of the report, hidden from readers by their dot; moving the staging directory
    // into place leaves nothing behind.
    let final_dir = root.clone().join(name.as_str());
    let staging = root.clone().join(format!(".staging-{run}-{name}").as_str());
    let trash = root.clone().join(format!(".trash-{run}-{name}").as_str());
    runtime.block_on(async {
        restore_interrupted_swap(output, &root, &name).await?;
        output
            .put(&staging.clone().join("part-00000.parquet"), parquet.into())
            .await?;
        output
            .put(&staging.clone().join("_SUCCESS"), bytes::Bytes::new())
            .await?;
        let (objects, dirs) = output.list_dir(&final_dir).await?;
        let had_old = !objects.is_empty() || !dirs.is_empty();
        if had_old {
            output.move_dir(&final_dir, &trash).await?;
        }
        output.move_dir(&staging, &final_dir).await?;
        if had_old {
            if let Err(e) = output.delete_all(&trash).await {
                tracing::warn!(path = %trash, error = %e, "could not delete the replaced report");
            }
        }
        Ok::<_, ReportError>(())
    })?;
    Ok(format!(
        "{}/{final_dir}",
        output.url().trim_end_matches('/')
    ))
}

/// A run killed between moving the old report aside and moving the new one in left the day
/// without a report: put the old one back before anything else.
async fn restore_interrupted_swap(
    output: &Store,
    root: &Path,
    name: &str,
) -> Result<(), ReportError> {
    let final_dir = root.clone().join(name);
    let (objects, dirs) = output.list_dir(&final_dir).await?;
    if !objects.is_empty() || !dirs.is_empty() {
        return Ok(());
    }
    let (_, dirs) = output.list_dir(root).await?;
    for old in dirs {
        let Some(base) = old.filename() else { continue };
        if !(base.starts_with(".trash-") && base.ends_with(&format!("-{name}"))) {
            continue;
        }
        if !output.list(&old).await?.is_empty() {
            tracing::warn!(from = %old, "restoring the report a killed run had moved aside");
            output.move_dir(&old, &final_dir).await?;
            return Ok(());
        }
    }
    Ok(())
}

/// Waits for `_COMPLETE` in every hour directory of `day`.
fn wait_for_complete(
    landing: &Store,
    topic: &str,
    day: NaiveDate,
    timeout: Duration,
    runtime: &tokio::runtime::Handle,
) -> Result<(), ReportError> {
    let deadline = Instant::now() + timeout;
    let dir = day_dir(topic, day);
    loop {
        let mut missing = Vec::new();
        for hour in 0..24 {
            let marker = dir
                .clone()
                .join(format!("hour={hour:02}").as_str())
                .join("_COMPLETE");
            if runtime.block_on(landing.head(&marker))?.is_none() {
                missing.push(format!("{hour:02}"));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ReportError::Incomplete(format!(
                "landing of {day} not complete after {}: no _COMPLETE marker for hour(s) {} in {}/{dir}",
                humanize(timeout),
                missing.join(","),
                landing.url().trim_end_matches('/')
            )));
        }
        tracing::info!(%day, missing = %missing.join(","), "waiting for the landing's completeness markers");
        std::thread::sleep(
            Duration::from_secs(30)
                .min(deadline.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(200)),
        );
    }
}

fn humanize(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(date: Option<&str>, from: Option<&str>, to: Option<&str>, tz: &str) -> DailyChunksArgs {
        DailyChunksArgs {
            landing: "file:///l".into(),
            output: "file:///o".into(),
            date: date.map(|d| d.parse().unwrap()),
            from: from.map(|d| d.parse().unwrap()),
            to: to.map(|d| d.parse().unwrap()),
            timezone: tz.parse().unwrap(),
            allow_empty: false,
            wait_for_complete: None,
            bad_records: BadRecords::Fail,
            topic: "embeddings.ready".into(),
            readers: None,
        }
    }

    #[test]
    fn default_date_is_yesterday_in_the_timezone() {
        let now = "2026-11-22T00:30:00Z".parse().unwrap();
        let d = |a: &DailyChunksArgs| days(a, now).unwrap();
        assert_eq!(
            d(&args(None, None, None, "UTC")),
            vec!["2026-11-21".parse().unwrap()]
        );
        // 00:30 UTC is still the 21st in New York: yesterday there is the 20th.
        assert_eq!(
            d(&args(None, None, None, "America/New_York")),
            vec!["2026-11-20".parse().unwrap()]
        );
        assert_eq!(
            d(&args(Some("2026-01-05"), None, None, "UTC")),
            vec!["2026-01-05".parse().unwrap()]
        );
        let range = d(&args(None, Some("2026-02-27"), Some("2026-03-01"), "UTC"));
        assert_eq!(range.len(), 3);
        assert!(days(
            &args(None, Some("2026-03-02"), Some("2026-03-01"), "UTC"),
            now
        )
        .is_err());
    }

    #[test]
    fn docs_list_every_flag() {
        use clap::Args as _;
        let docs = include_str!("../../../docs/batch.md");
        let cmd = DailyChunksArgs::augment_args(clap::Command::new("daily-chunks"));
        let missing: Vec<_> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|long| !docs.contains(&format!("`--{long}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/batch.md does not list {missing:?}"
        );
    }

    #[test]
    fn ids_and_their_errors() {
        let (c, d) =
            ids(br#"{"chunk_id":"x","document_id":"d1","company_id":"acme","vector":[1,2]}"#)
                .unwrap();
        assert_eq!((c.as_ref(), d.as_ref()), ("acme", "d1"));
        assert_eq!(
            ids(br#"{"company_id":"acme"}"#).unwrap_err(),
            "no document_id field"
        );
        assert!(
            ids(br#"{"company_id":"acme","document_id":"d","vector":[1,"#)
                .unwrap_err()
                .starts_with("malformed JSON")
        );
        assert!(ids(br#"{"company_id":1,"document_id":"d"}"#)
            .unwrap_err()
            .contains("company_id is not a string"));
    }

    #[test]
    fn frame_is_sorted_with_the_schema() {
        let mut counts = Counts::new();
        counts.entry("b".into()).or_default().insert("d2".into(), 3);
        counts.entry("a".into()).or_default().insert("d9".into(), 1);
        counts.entry("b".into()).or_default().insert("d1".into(), 2);
        let df = to_frame(counts).unwrap();
        assert_eq!(df.height(), 3);
        let schema = df.schema();
        assert_eq!(schema.get("company_id"), Some(&DataType::String));
        assert_eq!(schema.get("total_chunks"), Some(&DataType::Int64));
        let cs = df.column("company_id").unwrap().str().unwrap().clone();
        let c: Vec<&str> = (0..cs.len()).filter_map(|i| cs.get(i)).collect();
        let ds = df.column("document_id").unwrap().str().unwrap().clone();
        let d: Vec<&str> = (0..ds.len()).filter_map(|i| ds.get(i)).collect();
        assert_eq!(c, ["a", "b", "b"]);
        assert_eq!(d, ["d9", "d1", "d2"]);
        let empty = to_frame(Counts::new()).unwrap();
        assert_eq!(empty.height(), 0);
        assert_eq!(empty.schema().get("document_id"), Some(&DataType::String));
    }
}
