//! Writing a query's result: an aligned table for people, CSV, JSON lines or Parquet for
//! programs; to stdout or to a file (a local path or a store URL).
//!
//! Values are written the same way in every text format: numbers in Rust's shortest
//! round-trip form, lists (the embedding vector) as JSON arrays, dates and times in ISO-8601.
//! CSV follows RFC 4180 (a header row, fields quoted when they hold `,`, `"` or a line break;
//! null is an empty field, the empty string is `""`). JSON lines hold one object per row with
//! the columns in order, null as `null`. The table cuts cells longer than
//! [`TABLE_CELL_MAX`] characters (use CSV or JSON for whole values).

use std::io::Write;

use lakeshore_storage::{Path, Store};
use polars::prelude::*;

use super::QueryError;

/// Cells of the terminal table are cut to this many characters.
pub const TABLE_CELL_MAX: usize = 60;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for reading.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
    /// Parquet (Snappy); needs --output.
    Parquet,
}

/// The format to write: `--format`, else the `--output` file's extension, else `table` on a
/// terminal and `csv` otherwise.
pub fn choose(
    format: Option<Format>,
    output: Option<&str>,
    stdout_is_terminal: bool,
) -> Result<Format, QueryError> {
    let chosen = match (format, output) {
        (Some(f), _) => f,
        (None, Some(path)) => {
            let ext = path
                .rsplit('/')
                .next()
                .and_then(|name| name.rsplit_once('.'))
                .map(|(_, ext)| ext.to_ascii_lowercase());
            match ext.as_deref() {
                Some("parquet") => Format::Parquet,
                Some("json" | "jsonl" | "ndjson") => Format::Json,
                _ => Format::Csv,
            }
        }
        (None, None) if stdout_is_terminal => Format::Table,
        (None, None) => Format::Csv,
    };
    if chosen == Format::Parquet && output.is_none() {
        return Err(QueryError::Usage(
            "--format parquet writes a binary file: give it a place with --output <path>".into(),
        ));
    }
    Ok(chosen)
}

/// Writes `df` in `format` to `output` (a local path or a store URL), or to stdout.
pub fn write(
    df: &mut DataFrame,
    format: Format,
    output: Option<&str>,
    runtime: &tokio::runtime::Handle,
) -> Result<(), QueryError> {
    df.rechunk_mut_par();
    let Some(output) = output else {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
        let res = render(df, format, &mut out).and_then(|()| out.flush());
        return match res {
            // `lakeshore query ... | head`: the reader has all it wants.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(QueryError::Failed(format!(
                "writing the result to stdout: {e}"
            ))),
            Ok(()) => Ok(()),
        };
    };
    let mut bytes = Vec::new();
    render(df, format, &mut bytes)
        .map_err(|e| QueryError::Failed(format!("rendering the result: {e}")))?;
    match output.split_once("://") {
        Some(_) => {
            let (dir, name) = output
                .rsplit_once('/')
                .filter(|(dir, name)| !name.is_empty() && !dir.ends_with('/'))
                .ok_or_else(|| {
                    QueryError::Usage(format!("--output {output}: expected a file URL, e.g. hdfs://nn:8020/tmp/result.parquet"))
                })?;
            let store = Store::from_url(dir, &std::collections::HashMap::new())
                .map_err(|e| QueryError::Usage(format!("--output: {e}")))?;
            runtime.block_on(store.put(&Path::from(name), bytes.into()))?;
        }
        None => std::fs::write(output, bytes)
            .map_err(|e| QueryError::Failed(format!("cannot write {output}: {e}")))?,
    }
    Ok(())
}

/// Renders the whole result.
pub fn render(df: &mut DataFrame, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Table => table(df, out),
        Format::Csv => csv(df, out),
        Format::Json => json_lines(df, out),
        Format::Parquet => ParquetWriter::new(out)
            .with_compression(ParquetCompression::Snappy)
            .finish(df)
            .map(|_| ())
            .map_err(std::io::Error::other),
    }
}

fn value(c: &Column, row: usize) -> AnyValue<'_> {
    c.get(row).unwrap_or(AnyValue::Null)
}

fn table(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = df.columns();
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(columns.len());
    for c in columns {
        let mut col = Vec::with_capacity(df.height() + 1);
        col.push(c.name().to_string());
        for row in 0..df.height() {
            let mut s = String::new();
            match value(c, row) {
                AnyValue::Null => s.push_str("null"),
                v => text(&v, &mut s),
            }
            if s.chars().count() > TABLE_CELL_MAX {
                s = s.chars().take(TABLE_CELL_MAX - 1).collect::<String>() + "…";
            }
            // A cell stays on its line.
            if s.contains(['\n', '\r', '\t']) {
                s = s.replace(['\n', '\r', '\t'], " ");
            }
            col.push(s);
        }
        cells.push(col);
    }
    let widths: Vec<usize> = cells
        .iter()
        .map(|col| col.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let right: Vec<bool> = columns
        .iter()
        .map(|c| c.dtype().is_primitive_numeric())
        .collect();
    let line = |out: &mut dyn Write, row: usize| -> std::io::Result<()> {
        let mut parts = Vec::with_capacity(cells.len());
        for (i, col) in cells.iter().enumerate() {
            let s = &col[row];
            let pad = " ".repeat(widths[i] - s.chars().count());
            parts.push(if right[i] && row > 0 {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            });
        }
        writeln!(out, "{}", parts.join(" | ").trim_end())
    };
    line(out, 0)?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    )?;
    for row in 1..=df.height() {
        line(out, row)?;
    }
    let n = df.height();
    writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })
}

fn csv(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = df.columns();
    let mut line = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        csv_field(c.name(), &mut line);
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    let mut cell = String::new();
    for row in 0..df.height() {
        line.clear();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match value(c, row) {
                AnyValue::Null => {}
                v => {
                    cell.clear();
                    text(&v, &mut cell);
                    csv_field(&cell, &mut line);
                }
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn csv_field(s: &str, line: &mut String) {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&s.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(s);
    }
}

fn json_lines(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = df.columns();
    let names: Vec<String> = columns.iter().map(|c| json_string(c.name())).collect();
    let mut line = String::new();
    for row in 0..df.height() {
        line.clear();
        line.push('{');
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&names[i]);
            line.push(':');
            json(&value(c, row), &mut line);
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A value as JSON.
fn json(v: &AnyValue<'_>, out: &mut String) {
    use std::fmt::Write as _;
    match v {
        AnyValue::Null => out.push_str("null"),
        AnyValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::String(s) => out.push_str(&json_string(s)),
        AnyValue::StringOwned(s) => out.push_str(&json_string(s)),
        AnyValue::Float32(x) if !x.is_finite() => out.push_str("null"),
        AnyValue::Float64(x) if !x.is_finite() => out.push_str("null"),
        AnyValue::List(s) => {
            out.push('[');
            for i in 0..s.len() {
                if i > 0 {
                    out.push(',');
                }
                json(&s.get(i).unwrap_or(AnyValue::Null), out);
            }
            out.push(']');
        }
        v if v.is_primitive_numeric() => {
            let _ = write!(out, "{}", Num(v));
        }
        other => {
            let mut s = String::new();
            text(other, &mut s);
            out.push_str(&json_string(&s));
        }
    }
}

/// A value as text (CSV, table): strings as they are, lists as JSON arrays.
fn text(v: &AnyValue<'_>, out: &mut String) {
    use std::fmt::Write as _;
    match v {
        AnyValue::Null => {}
        AnyValue::String(s) => out.push_str(s),
        AnyValue::StringOwned(s) => out.push_str(s),
        AnyValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::List(_) => json(v, out),
        v if v.is_primitive_numeric() => {
            let _ = write!(out, "{}", Num(v));
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// A number in Rust's own formatting (shortest round-trip for floats), not Polars' display
/// formatting (which rounds floats for tables).
struct Num<'a, 'b>(&'a AnyValue<'b>);

impl std::fmt::Display for Num<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            AnyValue::Int8(x) => write!(f, "{x}"),
            AnyValue::Int16(x) => write!(f, "{x}"),
            AnyValue::Int32(x) => write!(f, "{x}"),
            AnyValue::Int64(x) => write!(f, "{x}"),
            AnyValue::UInt8(x) => write!(f, "{x}"),
            AnyValue::UInt16(x) => write!(f, "{x}"),
            AnyValue::UInt32(x) => write!(f, "{x}"),
            AnyValue::UInt64(x) => write!(f, "{x}"),
            AnyValue::Float32(x) => write!(f, "{x}"),
            AnyValue::Float64(x) => write!(f, "{x}"),
            other => write!(f, "{other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        let mut list = ListPrimitiveChunkedBuilder::<Float64Type>::new(
            "vector".into(),
            3,
            6,
            DataType::Float64,
        );
        list.append_slice(&[0.5, -1e-3]);
        list.append_null();
        list.append_slice(&[]);
        df!(
            "company_id" => [Some("acme"), Some("a,\"b\""), None],
            "chunks" => [3i64, 10, 0],
            "share" => [0.1f64 + 0.2, 1.0, f64::NAN],
        )
        .unwrap()
        .hstack(&[list.finish().into_column()])
        .unwrap()
    }

    fn rendered(format: Format) -> String {
        let mut out = Vec::new();
        render(&mut frame(), format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_and_nulls() {
        assert_eq!(
            rendered(Format::Csv),
            "company_id,chunks,share,vector\n\
             acme,3,0.30000000000000004,\"[0.5,-0.001]\"\n\
             \"a,\"\"b\"\"\",10,1,\n\
             ,0,NaN,[]\n"
        );
    }

    #[test]
    fn json_lines_keep_column_order() {
        assert_eq!(
            rendered(Format::Json),
            "{\"company_id\":\"acme\",\"chunks\":3,\"share\":0.30000000000000004,\"vector\":[0.5,-0.001]}\n\
             {\"company_id\":\"a,\\\"b\\\"\",\"chunks\":10,\"share\":1,\"vector\":null}\n\
             {\"company_id\":null,\"chunks\":0,\"share\":null,\"vector\":[]}\n"
        );
        for line in rendered(Format::Json).lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    #[test]
    fn table_is_aligned() {
        assert_eq!(
            rendered(Format::Table),
            "company_id | chunks | share               | vector\n\
             -----------+--------+---------------------+-------------\n\
             acme       |      3 | 0.30000000000000004 | [0.5,-0.001]\n\
             a,\"b\"      |     10 |                   1 | null\n\
             null       |      0 |                 NaN | []\n\
             (3 rows)\n"
        );
    }

    #[test]
    fn format_choice() {
        assert_eq!(choose(None, None, true).unwrap(), Format::Table);
        assert_eq!(choose(None, None, false).unwrap(), Format::Csv);
        assert_eq!(
            choose(None, Some("/tmp/x.parquet"), true).unwrap(),
            Format::Parquet
        );
        assert_eq!(
            choose(None, Some("hdfs://nn/x.ndjson"), false).unwrap(),
            Format::Json
        );
        assert_eq!(
            choose(Some(Format::Json), Some("/tmp/x.parquet"), false).unwrap(),
            Format::Json
        );
        assert_eq!(
            choose(Some(Format::Parquet), None, false)
                .unwrap_err()
                .exit_code(),
            2
        );
    }
}
