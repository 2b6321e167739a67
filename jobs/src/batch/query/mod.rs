//! `lakeshore query`: ad-hoc SQL over the landed topics.
//!
//! ```text
//! lakeshore query --landing hdfs://nn:8020/atenex/kafka-landing \
//!     "SELECT company_id, count(*) AS chunks FROM embeddings_ready WHERE day = 21 GROUP BY 1"
//! ```
//!
//! Every topic directory under the landing root is a table (`embeddings.ready` →
//! `embeddings_ready`). The tables a query names are registered in a Polars
//! [`SQLContext`](polars::sql::SQLContext) as lazy scans over the landed files
//! ([`table::LandedTopic`]): Polars pushes the query's projection and predicate into the scan,
//! which prunes partition directories before listing their files and takes only the selected
//! fields out of each record. The result is written as a terminal table, CSV, JSON lines or
//! Parquet ([`output`]).
//!
//! Errors have the report's exit statuses ([`QueryError::exit_code`]): 2 for the query itself
//! (bad SQL, unknown table or column), 3 for no input (no landing, a topic without files), 4
//! for bad input (malformed JSON, a value not of its column's type; file and line named), 1
//! for the rest (storage, writing the output).

pub mod output;
pub mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lakeshore_format::lines;
use lakeshore_storage::{Path, Store};
use polars::prelude::*;
use polars::sql::SQLContext;

pub use output::Format;
use table::{infer_fields, table_schema, LandedTopic, ScanStats, PARTITION_COLUMNS};

/// The query's errors: the report's kinds and exit statuses (2 usage, 3 no input, 4 bad
/// input, 1 failure).
pub type QueryError = super::daily_chunks::ReportError;

/// Run SQL over the landed topics: each topic is a table (`.` in its name becomes `_`), with
/// partition columns year, month, day and hour.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Tables: every topic directory under --landing, `.` replaced by `_`
(embeddings.ready -> embeddings_ready). Columns: the payload's top-level fields (types inferred
from the topic's first records) and year, month, day, hour (integers from the directory
names). A WHERE on year/month/day/hour skips whole directories before any file is read; fields
a query does not use (the embedding vector) are never parsed.

Exit status: 0 done; 1 a failure (storage unreachable, output not writable); 2 the query
(bad SQL, unknown table or column, --format parquet without --output); 3 no input (no
landing, a topic without landed files); 4 bad input (malformed JSON, a value not of its
column's type), naming file and line.

Examples:
  lakeshore query --landing file:///data/atenex/kafka-landing \\
      \"SELECT company_id, count(*) AS chunks FROM embeddings_ready
       WHERE day = 21 GROUP BY 1 ORDER BY 2 DESC\"

  # CSV for a spreadsheet, Parquet for DuckDB/Spark:
  lakeshore query --landing hdfs://nn:8020/atenex/kafka-landing --format csv \\
      \"SELECT * FROM documents_raw WHERE year = 2026 AND month = 11\" > documents.csv
  lakeshore query --landing hdfs://nn:8020/atenex/kafka-landing --output chunks.parquet \\
      \"SELECT chunk_id, company_id, page, day, hour FROM chunks_processed WHERE day >= 20\""
)]
pub struct QueryArgs {
    /// The landing root (the sink's `hdfs.url` + `topics.dir`), any store URL.
    #[arg(long, env = "LAKESHORE_LANDING")]
    pub landing: String,

    /// The SQL query (one SELECT statement; Polars SQL dialect).
    #[arg(value_name = "SQL")]
    pub sql: String,

    /// Output format: `table` (aligned, for reading; default when writing to a terminal),
    /// `csv` (default otherwise), `json` (one object per line) or `parquet` (needs --output).
    /// With --output and no --format, the file's extension decides (.csv, .json, .jsonl,
    /// .ndjson, .parquet).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the result to this file (a local path or a store URL such as
    /// `hdfs://nn:8020/tmp/result.parquet`) instead of stdout.
    #[arg(long, short)]
    pub output: Option<String>,

    /// Threads reading files (default: the number of CPUs, at most 4).
    #[arg(long)]
    pub readers: Option<usize>,
}

/// What a query did.
#[derive(Debug)]
pub struct QueryOutcome {
    /// The result.
    pub frame: DataFrame,
    /// Files and bytes read, directories listed.
    pub stats: Arc<ScanStats>,
}

/// The topics under the landing root: table name → topic directory name.
pub fn discover_topics(
    landing: &Store,
    runtime: &tokio::runtime::Handle,
) -> Result<Vec<(String, String)>, QueryError> {
    let (_, dirs) = runtime.block_on(landing.list_dir(&Path::default()))?;
    let mut tables: Vec<(String, String)> = Vec::new();
    for dir in dirs {
        let Some(topic) = dir.filename() else {
            continue;
        };
        if lakeshore_core::source::is_hidden(topic) {
            continue;
        }
        let table = topic.replace('.', "_");
        if let Some((_, other)) = tables.iter().find(|(t, _)| *t == table) {
            tracing::warn!(table, topic, other = %other, "two topics make the same table name; the first one is used");
            continue;
        }
        tables.push((table, topic.to_string()));
    }
    tables.sort();
    Ok(tables)
}

/// Opens the landing root, without creating it (`file://` stores create their directory).
fn open_landing(url: &str) -> Result<Store, QueryError> {
    if let Some(path) = url.strip_prefix("file://") {
        if !std::path::Path::new(path).is_dir() {
            return Err(QueryError::NoInput(format!("no landing at {url}")));
        }
    }
    Store::from_url(url, &HashMap::new()).map_err(|e| QueryError::Usage(format!("--landing: {e}")))
}

/// Runs the query and returns its result (the caller writes it out).
pub fn query(
    args: &QueryArgs,
    runtime: &tokio::runtime::Handle,
) -> Result<QueryOutcome, QueryError> {
    let started = Instant::now();
    let landing = open_landing(&args.landing)?;
    let readers = args
        .readers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
        .max(1);
    let referenced = polars::sql::extract_table_identifiers(&args.sql, false, true)
        .map_err(|e| QueryError::Usage(format!("bad SQL: {}", first_line(&e))))?;
    let topics = discover_topics(&landing, runtime)?;
    if topics.is_empty() {
        return Err(QueryError::NoInput(format!(
            "no landed topics under {}",
            landing.url()
        )));
    }
    let known = || {
        topics
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let error: Arc<Mutex<Option<QueryError>>> = Arc::default();
    let stats: Arc<ScanStats> = Arc::default();
    let ctx = SQLContext::new();
    for name in &referenced {
        // Names the query defines itself (CTEs) are not topics: Polars resolves them.
        let Some((table, topic)) = topics.iter().find(|(t, _)| t == name) else {
            continue;
        };
        let fields = topic_fields(&landing, topic, runtime)?;
        tracing::debug!(table, topic, ?fields, "table columns");
        let schema = Arc::new(table_schema(&fields));
        let scan = LandedTopic {
            store: landing.clone(),
            topic: topic.clone(),
            fields,
            schema: schema.clone(),
            readers,
            runtime: runtime.clone(),
            error: error.clone(),
            stats: stats.clone(),
        };
        let lf = LazyFrame::anonymous_scan(
            Arc::new(scan),
            ScanArgsAnonymous {
                schema: Some(schema),
                name: "landed topic",
                ..Default::default()
            },
        )?;
        ctx.register(table, lf);
    }
    let mut ctx = ctx;
    let lf = ctx.execute(&args.sql).map_err(|e| classify(e, &known()))?;
    // `collect` runs Polars' in-memory engine: its streaming engine cannot run anonymous
    // scans (`todo!()` in polars-stream 0.55), which is why the binary clears
    // POLARS_FORCE_STREAMING / POLARS_AUTO_STREAMING.
    let frame = lf
        .collect()
        .map_err(|e| match error.lock().expect("lock").take() {
            Some(typed) => typed,
            None => classify(e, &known()),
        })?;
    tracing::debug!(
        rows = frame.height(),
        files = stats.files.load(std::sync::atomic::Ordering::Relaxed),
        bytes = stats.bytes.load(std::sync::atomic::Ordering::Relaxed),
        secs = started.elapsed().as_secs_f64(),
        "query done"
    );
    Ok(QueryOutcome { frame, stats })
}

/// The columns of `topic`, inferred from the first well-formed records of its first
/// committed files (in directory, partition, offset order; see [`infer_fields`]).
fn topic_fields(
    landing: &Store,
    topic: &str,
    runtime: &tokio::runtime::Handle,
) -> Result<Vec<table::FieldSpec>, QueryError> {
    // Depth first, in name order, so that an empty hour does not stop the search.
    let mut stack: Vec<(Path, usize)> = vec![(Path::from(topic), 0)];
    let mut buf = Vec::new();
    let mut malformed = None;
    while let Some((dir, level)) = stack.pop() {
        let (objects, mut dirs) = runtime.block_on(landing.list_dir(&dir))?;
        if level == PARTITION_COLUMNS.len() {
            let mut files: Vec<_> = objects
                .iter()
                .filter_map(|m| lakeshore_core::source::landed_file(topic, m))
                .collect();
            files.sort_by_key(|f| (f.partition, f.start));
            for f in files {
                let found = runtime.block_on(landing.get_into_retrying(
                    &f.path,
                    &mut buf,
                    lakeshore_core::source::READ_RETRY,
                ))?;
                if let Some(fields) = infer_fields(if found { &buf } else { &[] }) {
                    tracing::debug!(topic, file = %f.path, "columns inferred");
                    return Ok(fields);
                }
                if let Some((line, doc)) = lines(if found { &buf } else { &[] }).next() {
                    let reason = lakeshore_format::members(doc)
                        .err()
                        .map_or_else(String::new, |e| e.to_string());
                    malformed.get_or_insert(format!("{}:{line}: malformed JSON: {reason}", f.path));
                }
            }
            continue;
        }
        dirs.retain(|d| {
            d.filename().is_some_and(|n| {
                n.strip_prefix(PARTITION_COLUMNS[level])
                    .and_then(|r| r.strip_prefix('='))
                    .is_some_and(|v| v.parse::<i32>().is_ok())
            })
        });
        dirs.sort();
        for d in dirs.into_iter().rev() {
            stack.push((d, level + 1));
        }
    }
    if let Some(first) = malformed {
        return Err(QueryError::BadInput(format!(
            "no well-formed record in the landed files of topic {topic} to take its columns from; the first: {first}"
        )));
    }
    Err(QueryError::NoInput(format!(
        "no landed records of topic {topic} under {} (no committed file with a well-formed record in {topic}/year=*/month=*/day=*/hour=*/)",
        landing.url()
    )))
}

/// The first line of a Polars error (they append the plan after a blank line).
fn first_line(e: &PolarsError) -> String {
    first_line_of(&e.to_string())
}

fn first_line_of(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Maps a Polars error to an exit status: the query's own mistakes are usage errors.
fn classify(e: PolarsError, known_tables: &str) -> QueryError {
    let mut inner = &e;
    while let PolarsError::Context { error, .. } | PolarsError::ExprContext { error, .. } = inner {
        inner = error;
    }
    match inner {
        PolarsError::SQLInterface(m)
            if m.starts_with("relation '") && m.ends_with("was not found") =>
        {
            let name = m.split('\'').nth(1).unwrap_or("");
            QueryError::Usage(format!(
                "unknown table `{name}`; the landing's tables are: {known_tables}"
            ))
        }
        PolarsError::SQLSyntax(m) | PolarsError::SQLInterface(m) => {
            QueryError::Usage(format!("bad SQL: {}", first_line_of(m)))
        }
        PolarsError::ColumnNotFound(m) | PolarsError::SchemaFieldNotFound(m) => {
            QueryError::Usage(format!("unknown column: {}", first_line_of(m)))
        }
        PolarsError::InvalidOperation(m)
        | PolarsError::SchemaMismatch(m)
        | PolarsError::Duplicate(m)
        | PolarsError::StructFieldNotFound(m) => {
            QueryError::Usage(format!("query: {}", first_line_of(m)))
        }
        _ => QueryError::Failed(format!("query: {}", first_line(&e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_list_every_flag() {
        use clap::Args as _;
        let docs = include_str!("../../../../docs/batch.md");
        let section = &docs[docs.find("## Ad-hoc SQL").expect("a query section")..];
        let cmd = QueryArgs::augment_args(clap::Command::new("query"));
        let missing: Vec<_> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|long| !section.contains(&format!("`--{long}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/batch.md's query section does not list {missing:?}"
        );
    }

    #[test]
    fn polars_errors_map_to_exit_statuses() {
        let tables = "a_b, c";
        let unknown = classify(
            PolarsError::SQLInterface("relation 'x_y' was not found".into()),
            tables,
        );
        assert_eq!(unknown.exit_code(), 2);
        assert_eq!(
            unknown.to_string(),
            "unknown table `x_y`; the landing's tables are: a_b, c"
        );
        let col = classify(
            PolarsError::ColumnNotFound("unable to find column \"q\"\n\nResolved plan…".into()),
            tables,
        );
        assert_eq!(col.exit_code(), 2);
        assert_eq!(
            col.to_string(),
            "unknown column: unable to find column \"q\""
        );
        let wrapped = classify(
            PolarsError::ColumnNotFound("q".into()).context("while planning".into()),
            tables,
        );
        assert_eq!(wrapped.exit_code(), 2);
        assert_eq!(
            classify(PolarsError::ComputeError("boom".into()), tables).exit_code(),
            1
        );
    }
}
