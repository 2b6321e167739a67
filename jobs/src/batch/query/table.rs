//! One landed topic as a SQL table: its schema, its partition pruning, and a Polars
//! [`AnonymousScan`] that reads only the directories, files and fields a query needs.
//!
//! ```text
//! <landing>/<topic>/year=YYYY/month=MM/day=DD/hour=HH/<topic>+<partition>+<start>+<end>.json
//! ```
//!
//! - **Columns**: the payload's top-level fields, inferred from the first records of the first
//!   committed file ([`infer_fields`]), then the partition columns `year`, `month`, `day`,
//!   `hour` (Int32, from the directory names).
//! - **Pruning**: the query's predicate (pushed down by Polars) is split into AND-conjuncts; the
//!   conjuncts that use only partition columns are evaluated on the directory names while the
//!   tree is walked level by level (years, then months of the surviving years, ...), so a
//!   pruned directory is never listed and none of its files is opened ([`prune`]).
//! - **Projection**: only the selected fields are taken out of each record
//!   ([`lakeshore_format::find_fields_into`]); the others, the 1536-float vector included, are
//!   stepped over by bracket matching, never parsed.
//! - The full predicate is then applied to the rows of each file (Polars does not filter again
//!   what a scan with predicate pushdown returns).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use lakeshore_core::source::{is_hidden, landed_file, LandedFile};
use lakeshore_format::{ends_object, find_fields_into, lines, members, JsonRef};
use lakeshore_storage::{Path, Store};
use polars::prelude::*;

use super::QueryError;
use crate::batch::read::{read_files, Next};

/// The partition columns, outermost first, as they appear in directory names (`year=2026`).
pub const PARTITION_COLUMNS: [&str; 4] = ["year", "month", "day", "hour"];

/// Records sampled from the first committed file to infer a topic's columns.
pub const SAMPLE_RECORDS: usize = 100;

/// How a payload field is read into its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JSON strings → String.
    Str,
    /// Integers → Int64.
    Int,
    /// Any number → Float64.
    Float,
    /// `true`/`false` → Boolean.
    Bool,
    /// Arrays of numbers → List(Float64) (the embedding vector).
    FloatList,
    /// Objects, other arrays, or fields whose type varies → String: strings as they are,
    /// anything else as its JSON text.
    Text,
}

impl Kind {
    /// The Polars type of the column.
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Str | Kind::Text => DataType::String,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::FloatList => DataType::List(Box::new(DataType::Float64)),
        }
    }

    /// The kind of one value (`None` for null: it says nothing about the type).
    fn of(v: &JsonRef<'_>) -> Option<Kind> {
        Some(match v {
            JsonRef::Null => return None,
            JsonRef::Bool(_) => Kind::Bool,
            JsonRef::String(_) => Kind::Str,
            JsonRef::Number(n) if n.parse::<i64>().is_ok() => Kind::Int,
            JsonRef::Number(_) => Kind::Float,
            JsonRef::Raw(raw)
                if raw.first() == Some(&b'[') && float_list(raw, &mut Vec::new()).is_ok() =>
            {
                Kind::FloatList
            }
            JsonRef::Raw(_) => Kind::Text,
        })
    }

    /// The kind that holds values of both kinds.
    fn widen(self, other: Kind) -> Kind {
        match (self, other) {
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// A payload field: a column of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: Kind,
}

/// The columns of a topic from sample records (one JSON object per line): every top-level
/// field seen in the first [`SAMPLE_RECORDS`] well-formed records, in order of first
/// appearance, with the kind of its non-null values (integers and floats together are Float;
/// any other mix is Text; only nulls is Text). Malformed lines are passed over here (a scan
/// that reads them reports them). `None` when no line is a well-formed record.
pub fn infer_fields(sample: &[u8]) -> Option<Vec<FieldSpec>> {
    let mut fields: Vec<(String, Option<Kind>)> = Vec::new();
    let mut records = 0;
    for (_, doc) in lines(sample) {
        let Ok(found) = members(doc) else { continue };
        records += 1;
        for (key, value) in found {
            let kind = Kind::of(&value);
            match fields.iter_mut().find(|(n, _)| *n == key) {
                Some((_, k)) => {
                    *k = match (*k, kind) {
                        (Some(a), Some(b)) => Some(a.widen(b)),
                        (a, b) => a.or(b),
                    }
                }
                None => fields.push((key.into_owned(), kind)),
            }
        }
        if records == SAMPLE_RECORDS {
            break;
        }
    }
    (records > 0).then(|| {
        fields
            .into_iter()
            .filter(|(name, _)| !PARTITION_COLUMNS.contains(&name.as_str()))
            .map(|(name, kind)| FieldSpec {
                name,
                kind: kind.unwrap_or(Kind::Text),
            })
            .collect()
    })
}

/// Parses a JSON array of numbers (`[0.1,-2e-3]`) into `out` (cleared first).
fn float_list(raw: &[u8], out: &mut Vec<f64>) -> Result<(), String> {
    out.clear();
    let inner = raw
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
        .ok_or("not an array")?;
    let text = std::str::from_utf8(inner).map_err(|_| "invalid UTF-8")?;
    if text.trim().is_empty() {
        return Ok(());
    }
    for item in text.split(',') {
        let item = item.trim();
        match item.parse::<f64>() {
            // `inf`, `NaN` and friends parse in Rust but are not JSON numbers.
            Ok(v) if item.as_bytes()[0] == b'-' || item.as_bytes()[0].is_ascii_digit() => {
                out.push(v)
            }
            _ => {
                let shown: String = item.chars().take(30).collect();
                return Err(format!("element `{shown}` is not a number"));
            }
        }
    }
    Ok(())
}

/// Files read and bytes read by the scans of one query (for the summary and the tests).
#[derive(Debug, Default)]
pub struct ScanStats {
    pub files: AtomicUsize,
    pub bytes: AtomicU64,
    /// Directories listed while pruning.
    pub listings: AtomicUsize,
}

/// A landed topic as a table.
pub struct LandedTopic {
    pub store: Store,
    pub topic: String,
    pub fields: Vec<FieldSpec>,
    pub schema: SchemaRef,
    pub readers: usize,
    pub runtime: tokio::runtime::Handle,
    /// The first typed error of a scan: Polars only carries a message through, the exit
    /// status needs the kind.
    pub error: Arc<Mutex<Option<QueryError>>>,
    pub stats: Arc<ScanStats>,
}

impl std::fmt::Debug for LandedTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandedTopic")
            .field("store", &self.store)
            .field("topic", &self.topic)
            .field("fields", &self.fields)
            .finish()
    }
}

/// The table's schema: payload fields, then the partition columns.
pub fn table_schema(fields: &[FieldSpec]) -> Schema {
    let mut schema = Schema::with_capacity(fields.len() + PARTITION_COLUMNS.len());
    for f in fields {
        schema.insert(f.name.as_str().into(), f.kind.dtype());
    }
    for p in PARTITION_COLUMNS {
        schema.insert(p.into(), DataType::Int32);
    }
    schema
}

/// A committed file with its partition values (year, month, day, hour).
#[derive(Debug, Clone)]
pub struct PrunedFile {
    pub file: LandedFile,
    pub partition: [i32; 4],
}

/// The top-level AND-conjuncts of a predicate.
pub fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryExpr {
            left,
            op: Operator::And | Operator::LogicalAnd,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        other => out.push(other.clone()),
    }
}

/// The part of a pushed-down predicate the scan must apply. Polars pushes two kinds of
/// conditions into a scan: the query's own filters, and "dynamic predicates" (e.g. a running
/// top-k threshold for `ORDER BY … LIMIT`) that only allow skipping rows and that it cannot turn
/// back into an evaluable expression (they come out as `Expr::Display`). The latter are left out
/// (the operator above still does its work); any other unevaluable part is an error rather than
/// a silently wrong filter.
pub fn applicable_predicate(predicate: Option<Expr>) -> Result<Option<Expr>, QueryError> {
    let Some(predicate) = predicate else {
        return Ok(None);
    };
    let mut all = Vec::new();
    conjuncts(&predicate, &mut all);
    let kept: Vec<Expr> = all
        .into_iter()
        .filter(|c| !matches!(c, Expr::Display { .. }))
        .collect();
    if let Some(bad) = kept
        .iter()
        .find(|c| c.into_iter().any(|e| matches!(e, Expr::Display { .. })))
    {
        return Err(QueryError::Failed(format!(
            "cannot apply the filter `{bad}` while reading (a Polars plan this scan does not support)"
        )));
    }
    Ok(kept.into_iter().reduce(|a, b| a.and(b)))
}

/// For each conjunct that uses only partition columns: the number of partition levels it
/// needs (1 = year only, ..., 4 = up to hour); other conjuncts are left out.
pub fn partition_conjuncts(predicate: Option<&Expr>) -> Vec<(usize, Expr)> {
    let Some(predicate) = predicate else {
        return Vec::new();
    };
    let mut all = Vec::new();
    conjuncts(predicate, &mut all);
    all.into_iter()
        .filter_map(|c| {
            let mut level = 1;
            for name in c.clone().meta().root_names() {
                let i = PARTITION_COLUMNS.iter().position(|p| *p == name.as_str())?;
                level = level.max(i + 1);
            }
            Some((level, c))
        })
        .collect()
}

/// `year=2026` at `level` 0 → 2026.
fn partition_value(dir: &Path, level: usize) -> Option<i32> {
    dir.filename()?
        .strip_prefix(PARTITION_COLUMNS[level])?
        .strip_prefix('=')?
        .parse()
        .ok()
}

/// Lists the directories of `topic` level by level, keeping at each level only those the
/// partition conjuncts that need no deeper level accept; then the committed files of the
/// surviving hour directories. Returns the files in directory, partition, offset order.
pub fn prune(
    store: &Store,
    topic: &str,
    predicate: Option<&Expr>,
    runtime: &tokio::runtime::Handle,
    stats: &ScanStats,
) -> Result<Vec<PrunedFile>, QueryError> {
    let conjuncts = partition_conjuncts(predicate);
    // (directory, partition values so far)
    let mut candidates: Vec<(Path, Vec<i32>)> = vec![(Path::from(topic), Vec::new())];
    for (level, column) in PARTITION_COLUMNS.iter().enumerate() {
        let listed = list_dirs(
            store,
            candidates.iter().map(|c| c.0.clone()),
            runtime,
            stats,
        )?;
        let mut next = Vec::new();
        for ((_, values), (_, dirs)) in candidates.iter().zip(listed) {
            for dir in dirs {
                let name = dir.filename().unwrap_or_default();
                if is_hidden(name) {
                    continue;
                }
                match partition_value(&dir, level) {
                    Some(v) => {
                        let mut values = values.clone();
                        values.push(v);
                        next.push((dir, values));
                    }
                    None => tracing::warn!(
                        dir = %dir,
                        expected = %format!("{column}=<number>"),
                        "not a partition directory of the landing layout; skipped"
                    ),
                }
            }
        }
        let usable: Vec<&Expr> = conjuncts
            .iter()
            .filter(|(needs, _)| *needs == level + 1)
            .map(|(_, e)| e)
            .collect();
        candidates = keep_matching(next, level + 1, &usable)?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
    }
    let listed = list_dirs(
        store,
        candidates.iter().map(|c| c.0.clone()),
        runtime,
        stats,
    )?;
    let mut files = Vec::new();
    for ((_, values), (objects, _)) in candidates.iter().zip(listed) {
        let partition = [values[0], values[1], values[2], values[3]];
        let mut here: Vec<LandedFile> = objects
            .iter()
            .filter_map(|meta| landed_file(topic, meta))
            .collect();
        here.sort_by_key(|f| (f.partition, f.start));
        files.extend(here.into_iter().map(|file| PrunedFile { file, partition }));
    }
    Ok(files)
}

type Listing = (Vec<lakeshore_storage::ObjectMeta>, Vec<Path>);

/// `list_dir` of each directory (16 at a time), in order, each listing sorted by name.
fn list_dirs(
    store: &Store,
    dirs: impl Iterator<Item = Path>,
    runtime: &tokio::runtime::Handle,
    stats: &ScanStats,
) -> Result<Vec<Listing>, QueryError> {
    let dirs: Vec<Path> = dirs.collect();
    stats.listings.fetch_add(dirs.len(), Ordering::Relaxed);
    let mut listed: Vec<Listing> = runtime.block_on(
        futures::stream::iter(dirs.iter().map(|d| store.list_dir(d)))
            .buffered(16)
            .try_collect(),
    )?;
    for (objects, dirs) in &mut listed {
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        dirs.sort();
    }
    Ok(listed)
}

/// The candidates whose partition values (the first `known` levels) satisfy every conjunct.
fn keep_matching(
    candidates: Vec<(Path, Vec<i32>)>,
    known: usize,
    conjuncts: &[&Expr],
) -> Result<Vec<(Path, Vec<i32>)>, QueryError> {
    if conjuncts.is_empty() || candidates.is_empty() {
        return Ok(candidates);
    }
    let mut columns: Vec<Column> = (0..known)
        .map(|level| {
            Column::new(
                PARTITION_COLUMNS[level].into(),
                candidates.iter().map(|c| c.1[level]).collect::<Vec<i32>>(),
            )
        })
        .collect();
    columns.push(Column::new(
        "__candidate".into(),
        (0..candidates.len() as u32).collect::<Vec<u32>>(),
    ));
    let df = DataFrame::new(candidates.len(), columns)?;
    let all = conjuncts
        .iter()
        .map(|e| (*e).clone())
        .reduce(|a, b| a.and(b))
        .expect("not empty");
    let kept = df.lazy().filter(all).collect()?;
    let kept: BTreeSet<u32> = kept
        .column("__candidate")?
        .u32()?
        .into_no_null_iter()
        .collect();
    Ok(candidates
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(&(*i as u32)))
        .map(|(_, c)| c)
        .collect())
}

impl AnonymousScan for LandedTopic {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self, _infer_schema_length: Option<usize>) -> PolarsResult<SchemaRef> {
        Ok(self.schema.clone())
    }

    fn allows_predicate_pushdown(&self) -> bool {
        true
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }

    fn scan(&self, args: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        self.scan_typed(args).map_err(|e| {
            let message = e.to_string();
            self.error.lock().expect("lock").get_or_insert(e);
            PolarsError::ComputeError(message.into())
        })
    }
}

impl LandedTopic {
    fn scan_typed(&self, mut args: AnonymousScanArgs) -> Result<DataFrame, QueryError> {
        let had_predicate = args.predicate.is_some();
        args.predicate = applicable_predicate(args.predicate.take())?;
        tracing::debug!(topic = %self.topic, predicate = ?args.predicate, "scan");
        let output: Vec<PlSmallStr> = match &args.with_columns {
            Some(cols) => cols.iter().cloned().collect(),
            None => self.schema.iter_names().cloned().collect(),
        };
        // The predicate's columns are read too (Polars normally lists them already).
        let mut needed: Vec<PlSmallStr> = output.clone();
        if let Some(p) = &args.predicate {
            for name in p.clone().meta().root_names() {
                if !needed.contains(&name) && self.schema.contains(&name) {
                    needed.push(name);
                }
            }
        }
        let files = prune(
            &self.store,
            &self.topic,
            args.predicate.as_ref(),
            &self.runtime,
            &self.stats,
        )?;
        tracing::debug!(topic = %self.topic, files = files.len(), columns = ?needed, "scanning");
        let landed: Vec<LandedFile> = files.iter().map(|f| f.file.clone()).collect();
        let plan = Decode::new(self, &needed);
        // Polars pushes a LIMIT into a scan only when it has no predicate.
        let limit = if had_predicate { None } else { args.n_rows };
        let rows = AtomicUsize::new(0);
        let parts = read_files(
            &self.store,
            &landed,
            self.readers,
            &self.runtime,
            Vec::new,
            |i, file, bytes, mine: &mut Vec<(usize, DataFrame)>| {
                self.stats.files.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                let mut df = plan.decode(file, files[i].partition, bytes)?;
                if let Some(p) = &args.predicate {
                    df = df
                        .lazy()
                        .filter(p.clone())
                        .collect()
                        .map_err(|e| QueryError::Failed(format!("{}: {e}", file.path)))?;
                }
                let total = rows.fetch_add(df.height(), Ordering::Relaxed) + df.height();
                mine.push((i, df));
                Ok(match limit {
                    Some(n) if total >= n => Next::Enough,
                    _ => Next::More,
                })
            },
        )?;
        let mut parts: Vec<(usize, DataFrame)> = parts.into_iter().flatten().collect();
        parts.sort_by_key(|(i, _)| *i);
        let out_schema: Schema = output
            .iter()
            .map(|n| {
                let dtype = self.schema.get(n).cloned().ok_or_else(|| {
                    QueryError::Usage(format!("no column `{n}` in {}", self.topic))
                })?;
                Ok(Field::new(n.clone(), dtype))
            })
            .collect::<Result<_, QueryError>>()?;
        let mut df = if output.is_empty() {
            // No column wanted (e.g. count(*)): only the height matters.
            DataFrame::new(parts.iter().map(|(_, df)| df.height()).sum(), Vec::new())?
        } else if parts.is_empty() {
            DataFrame::empty_with_schema(&out_schema)
        } else {
            let mut parts = parts
                .into_iter()
                .map(|(_, df)| df.select(output.iter().cloned()));
            let mut all = parts.next().expect("not empty")?;
            for part in parts {
                all.vstack_mut_owned(part?)?;
            }
            all
        };
        if let Some(n) = limit {
            df = df.slice(0, n);
        }
        Ok(df)
    }
}

/// How to decode the records of one file into the needed columns.
struct Decode<'t> {
    /// Payload fields to take out of each record, with their column index in `needed`.
    fields: Vec<(usize, &'t FieldSpec)>,
    names: Vec<&'t str>,
    /// (column index in `needed`, partition level) of the partition columns wanted.
    partitions: Vec<(usize, usize)>,
    needed: Vec<PlSmallStr>,
}

impl<'t> Decode<'t> {
    fn new(table: &'t LandedTopic, needed: &[PlSmallStr]) -> Self {
        let mut fields = Vec::new();
        let mut partitions = Vec::new();
        for (i, name) in needed.iter().enumerate() {
            if let Some(level) = PARTITION_COLUMNS.iter().position(|p| *p == name.as_str()) {
                partitions.push((i, level));
            } else if let Some(f) = table.fields.iter().find(|f| f.name == name.as_str()) {
                fields.push((i, f));
            }
        }
        Decode {
            names: fields.iter().map(|(_, f)| f.name.as_str()).collect(),
            fields,
            partitions,
            needed: needed.to_vec(),
        }
    }

    fn decode(
        &self,
        file: &LandedFile,
        partition: [i32; 4],
        buf: &[u8],
    ) -> Result<DataFrame, QueryError> {
        // One record per line: a good estimate of the rows without counting them first.
        let estimate = if self.fields.is_empty() {
            0
        } else {
            memchr::memchr_iter(b'\n', buf).count() + 1
        };
        let mut builders: Vec<Builder> = self
            .fields
            .iter()
            .map(|(_, f)| Builder::new(f, estimate))
            .collect();
        let mut slots: Vec<Option<JsonRef<'_>>> = vec![None; self.names.len()];
        let mut floats = Vec::new();
        let mut rows = 0usize;
        for (line, doc) in lines(buf) {
            let at = || format!("{}:{line}", file.path);
            if !ends_object(doc) {
                return Err(QueryError::BadInput(format!(
                    "{}: malformed JSON: not a complete JSON object",
                    at()
                )));
            }
            find_fields_into(doc, &self.names, &mut slots)
                .map_err(|e| QueryError::BadInput(format!("{}: malformed JSON: {e}", at())))?;
            for (b, slot) in builders.iter_mut().zip(slots.iter_mut()) {
                b.push(slot.take(), &mut floats).map_err(|reason| {
                    QueryError::BadInput(format!(
                        "{}: {reason} (the column's type was inferred from the topic's first records; see docs/batch.md)",
                        at()
                    ))
                })?;
            }
            rows += 1;
        }
        let mut columns: Vec<(usize, Column)> = Vec::with_capacity(self.needed.len());
        for ((i, _), b) in self.fields.iter().zip(builders) {
            columns.push((*i, b.finish()));
        }
        for (i, level) in &self.partitions {
            columns.push((
                *i,
                Column::new_scalar(
                    PARTITION_COLUMNS[*level].into(),
                    Scalar::new(DataType::Int32, AnyValue::Int32(partition[*level])),
                    rows,
                ),
            ));
        }
        columns.sort_by_key(|(i, _)| *i);
        Ok(DataFrame::new(
            rows,
            columns.into_iter().map(|(_, c)| c).collect(),
        )?)
    }
}

/// A column being built from one file's records.
struct Builder {
    name: String,
    column: ColumnBuilder,
}

enum ColumnBuilder {
    /// `true`: Text (anything non-null as its JSON text); `false`: strings only.
    Str(bool, StringChunkedBuilder),
    Int(PrimitiveChunkedBuilder<Int64Type>),
    Float(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    List(ListPrimitiveChunkedBuilder<Float64Type>),
}

impl Builder {
    fn new(f: &FieldSpec, rows: usize) -> Builder {
        let name: PlSmallStr = f.name.as_str().into();
        let column = match f.kind {
            Kind::Str => ColumnBuilder::Str(false, StringChunkedBuilder::new(name, rows)),
            Kind::Text => ColumnBuilder::Str(true, StringChunkedBuilder::new(name, rows)),
            Kind::Int => ColumnBuilder::Int(PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Float => ColumnBuilder::Float(PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Bool => ColumnBuilder::Bool(BooleanChunkedBuilder::new(name, rows)),
            Kind::FloatList => ColumnBuilder::List(ListPrimitiveChunkedBuilder::new(
                name,
                rows,
                rows * 16,
                DataType::Float64,
            )),
        };
        Builder {
            name: f.name.clone(),
            column,
        }
    }

    /// Appends one record's value (`None`: the field is absent, i.e. null).
    fn push(&mut self, v: Option<JsonRef<'_>>, floats: &mut Vec<f64>) -> Result<(), String> {
        use ColumnBuilder as C;
        let Some(v) = v.filter(|v| *v != JsonRef::Null) else {
            match &mut self.column {
                C::Str(_, b) => b.append_null(),
                C::Int(b) => b.append_null(),
                C::Float(b) => b.append_null(),
                C::Bool(b) => b.append_null(),
                C::List(b) => b.append_null(),
            }
            return Ok(());
        };
        let name = &self.name;
        match (&mut self.column, &v) {
            (C::Str(_, b), JsonRef::String(s)) => b.append_value(s.as_ref()),
            (C::Str(true, b), JsonRef::Number(n)) => b.append_value(n),
            (C::Str(true, b), JsonRef::Bool(x)) => {
                b.append_value(if *x { "true" } else { "false" })
            }
            (C::Str(true, b), JsonRef::Raw(raw)) => match std::str::from_utf8(raw) {
                Ok(s) => b.append_value(s),
                Err(_) => return Err(format!("`{name}`: invalid UTF-8")),
            },
            (C::Int(b), JsonRef::Number(n)) => match n.parse::<i64>() {
                Ok(x) => b.append_value(x),
                Err(_) => {
                    return Err(format!(
                        "`{name}` is {n}, not an integer (column type Int64)"
                    ))
                }
            },
            (C::Float(b), JsonRef::Number(n)) => match n.parse::<f64>() {
                Ok(x) => b.append_value(x),
                Err(_) => {
                    return Err(format!(
                        "`{name}` is {n}, not a number (column type Float64)"
                    ))
                }
            },
            (C::Bool(b), JsonRef::Bool(x)) => b.append_value(*x),
            (C::List(b), JsonRef::Raw(raw)) if raw.first() == Some(&b'[') => {
                float_list(raw, floats).map_err(|e| {
                    format!("`{name}` is not an array of numbers (column type List(Float64)): {e}")
                })?;
                b.append_slice(floats);
            }
            (column, v) => {
                let ty = match column {
                    C::Str(..) => "String",
                    C::Int(_) => "Int64",
                    C::Float(_) => "Float64",
                    C::Bool(_) => "Boolean",
                    C::List(_) => "List(Float64)",
                };
                return Err(format!(
                    "`{name}` is {}, not a value of the column's type {ty}",
                    describe(v)
                ));
            }
        }
        Ok(())
    }

    fn finish(self) -> Column {
        match self.column {
            ColumnBuilder::Str(_, b) => b.finish().into_column(),
            ColumnBuilder::Int(b) => b.finish().into_column(),
            ColumnBuilder::Float(b) => b.finish().into_column(),
            ColumnBuilder::Bool(b) => b.finish().into_column(),
            ColumnBuilder::List(mut b) => b.finish().into_column(),
        }
    }
}

/// A short description of a value for messages.
fn describe(v: &JsonRef<'_>) -> Cow<'static, str> {
    match v {
        JsonRef::Null => "null".into(),
        JsonRef::Bool(b) => format!("{b}").into(),
        JsonRef::Number(n) => format!("the number {n}").into(),
        JsonRef::String(s) => {
            let shown: String = s.chars().take(30).collect();
            format!("the string {shown:?}").into()
        }
        JsonRef::Raw(r) if r.first() == Some(&b'[') => "an array".into(),
        JsonRef::Raw(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_kinds_from_sample_records() {
        let sample = br#"{"chunk_id":"c1","page":1,"score":2,"vector":[0.5,-1e-3],"meta":{"a":1},"tags":["x"],"maybe":null,"ok":true,"day":9}
not json at all
{"chunk_id":"c2","page":2,"score":2.5,"vector":[],"meta":null,"tags":[],"maybe":null,"ok":false,"extra":"e"}
{"chunk_id":7}
"#;
        let fields = infer_fields(sample).unwrap();
        let got: Vec<(&str, Kind)> = fields.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            got,
            [
                ("chunk_id", Kind::Text), // a string, then a number
                ("page", Kind::Int),
                ("score", Kind::Float),
                ("vector", Kind::FloatList),
                ("meta", Kind::Text),
                ("tags", Kind::Text), // ["x"] is not numeric, [] is: mixed
                ("maybe", Kind::Text),
                ("ok", Kind::Bool),
                // `day` is a partition column: the payload's field is hidden
                ("extra", Kind::Str),
            ]
        );
        assert_eq!(infer_fields(b"garbage\n\n{\n"), None);
        let schema = table_schema(&fields);
        assert_eq!(
            schema.get("vector"),
            Some(&DataType::List(Box::new(DataType::Float64)))
        );
        assert_eq!(schema.get("day"), Some(&DataType::Int32));
        assert_eq!(schema.len(), fields.len() + 4);
    }

    #[test]
    fn float_lists() {
        let mut v = Vec::new();
        float_list(b"[0.5, -1e-3,2]", &mut v).unwrap();
        assert_eq!(v, [0.5, -0.001, 2.0]);
        float_list(b"[ ]", &mut v).unwrap();
        assert!(v.is_empty());
        assert!(float_list(br#"["a"]"#, &mut v)
            .unwrap_err()
            .contains("`\"a\"`"));
        assert!(float_list(b"[1,[2]]", &mut v).is_err());
        assert!(float_list(b"[inf]", &mut v).is_err());
        assert!(float_list(b"[NaN]", &mut v).is_err());
        assert!(float_list(b"[1,]", &mut v).is_err());
    }

    #[test]
    fn only_partition_conjuncts_prune_at_the_level_they_need() {
        let p = col("day")
            .eq(lit(21))
            .and(col("company_id").eq(lit("acme")))
            .and(col("year").gt_eq(lit(2026)).and(col("hour").lt(lit(12))))
            .and(col("day").eq(lit(20)).or(col("company_id").eq(lit("x"))))
            .and(col("month").eq(lit(11)).or(col("hour").eq(lit(1))));
        let got: Vec<usize> = partition_conjuncts(Some(&p))
            .into_iter()
            .map(|(level, _)| level)
            .collect();
        assert_eq!(got, [3, 1, 4, 4]);
        assert!(partition_conjuncts(None).is_empty());
    }

    #[test]
    fn dynamic_predicates_are_left_out() {
        let dynamic = Expr::Display {
            inputs: vec![col("page")],
            fmt_str: Box::new("DynamicPred".into()),
        };
        let real = col("day").eq(lit(21));
        assert_eq!(
            applicable_predicate(Some(real.clone().and(dynamic.clone()))).unwrap(),
            Some(real.clone())
        );
        assert_eq!(applicable_predicate(Some(dynamic.clone())).unwrap(), None);
        assert!(applicable_predicate(Some(real.or(dynamic))).is_err());
        assert_eq!(applicable_predicate(None).unwrap(), None);
    }

    #[test]
    fn candidates_are_kept_by_their_partition_values() {
        let cands = |vals: &[[i32; 2]]| -> Vec<(Path, Vec<i32>)> {
            vals.iter()
                .map(|v| {
                    (
                        Path::from(format!("t/year={}/month={}", v[0], v[1])),
                        v.to_vec(),
                    )
                })
                .collect()
        };
        let all = cands(&[[2025, 12], [2026, 1], [2026, 11]]);
        let kept = keep_matching(
            all.clone(),
            2,
            &[&col("year").eq(lit(2026)), &col("month").gt(lit(6))],
        )
        .unwrap();
        assert_eq!(kept, cands(&[[2026, 11]]));
        let expr = col("year").eq(lit(2025)).or(col("month").eq(lit(1)));
        assert_eq!(
            keep_matching(all.clone(), 2, &[&expr]).unwrap(),
            cands(&[[2025, 12], [2026, 1]])
        );
        assert_eq!(keep_matching(all.clone(), 2, &[]).unwrap(), all);
        assert!(keep_matching(all, 2, &[&lit(false)]).unwrap().is_empty());
    }

    #[test]
    fn partition_values_from_directory_names() {
        assert_eq!(partition_value(&Path::from("t/year=2026"), 0), Some(2026));
        assert_eq!(
            partition_value(&Path::from("t/year=2026/month=07"), 1),
            Some(7)
        );
        assert_eq!(
            partition_value(&Path::from("t/year=2026/month=07"), 0),
            None
        );
        assert_eq!(partition_value(&Path::from("t/year=x"), 0), None);
        assert_eq!(partition_value(&Path::from("t/+tmp"), 0), None);
    }
}
