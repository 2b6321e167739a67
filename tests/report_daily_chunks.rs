//! `lakeshore report daily-chunks` end to end: the real binary over landed files on the local
//! filesystem and on the real HDFS; the numbers compared with DuckDB; every error path's exit
//! status and message; SIGKILLs mid-run never leave a partial or mixed report.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path as FsPath;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use lakeshore_storage::{Path, Store};
use polars::prelude::*;

const TOPIC: &str = "embeddings.ready";

/// Expected report: (company, document) → chunks.
type Expected = BTreeMap<(String, String), i64>;

fn record(i: usize, company: usize, doc: usize) -> String {
    let vector: Vec<String> = (0..24)
        .map(|k| format!("{:.6}", ((i * 31 + k) % 997) as f64 / -997.0))
        .collect();
    format!(
        r#"{{"chunk_id":"c-{i}","document_id":"doc-{company}-{doc}","company_id":"company-{company}","vector":[{}]}}"#,
        vector.join(",")
    )
}

/// Lands `records_per_file` × `files` records for `day` on `store` in the connector's layout
/// (3 partitions, files spread over the hours); returns the expected counts.
fn land_day(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    day: &str,
    files: usize,
    per_file: usize,
    seed: usize,
) -> Expected {
    let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
    let mut expected = Expected::new();
    let mut offsets = [0i64; 3];
    for f in 0..files {
        let p = f % 3;
        let hour = (f * 7 + seed) % 24;
        let mut body = String::new();
        for r in 0..per_file {
            let i = f * per_file + r + seed * 1_000_000;
            let (company, doc) = ((i * 13) % 5, (i * 7) % 11);
            body.push_str(&record(i, company, doc));
            body.push('\n');
            *expected
                .entry((format!("company-{company}"), format!("doc-{company}-{doc}")))
                .or_default() += 1;
        }
        let start = offsets[p];
        offsets[p] += per_file as i64;
        let path = format!(
            "{TOPIC}/year={y}/month={m}/day={d}/hour={hour:02}/{TOPIC}+{p}+{start:010}+{:010}.json",
            offsets[p] - 1
        );
        rt.block_on(store.put(&Path::from(path), body.into()))
            .unwrap();
    }
    expected
}

/// Files a reader must never see: in-flight, hidden, markers, other days.
fn land_noise(rt: &tokio::runtime::Runtime, store: &Store, day: &str) {
    let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
    let junk = b"{\"company_id\":\"noise\",\"document_id\":\"noise\"}\n".to_vec();
    for path in [
        format!("{TOPIC}/+tmp/{TOPIC}/year={y}/month={m}/day={d}/hour=01/x.json"),
        format!(
            "{TOPIC}/year={y}/month={m}/day={d}/hour=01/.{TOPIC}+0+0000000000+0000000000.json.tmp"
        ),
        format!("{TOPIC}/year={y}/month={m}/day={d}/hour=01/_COMPLETE"),
        format!("{TOPIC}/year={y}/month={m}/day={d}/hour=01/notes.txt"),
        format!("{TOPIC}/year=1999/month=01/day=01/hour=00/{TOPIC}+0+0000000000+0000000000.json"),
    ] {
        rt.block_on(store.put(&Path::from(path), junk.clone().into()))
            .unwrap();
    }
}

fn report(landing: &str, output: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .args([
            "report",
            "daily-chunks",
            "--landing",
            landing,
            "--output",
            output,
        ])
        .args(extra)
        .env("LAKESHORE_LOG", "warn")
        .output()
        .expect("run lakeshore")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The report of `day` under a local output dir, read with Polars: rows, in order.
fn read_report(rt: &tokio::runtime::Runtime, out: &Store, day: &str) -> Vec<(String, String, i64)> {
    let dir = format!("daily_chunk_count/date={day}");
    let part = Path::from(format!("{dir}/part-00000.parquet"));
    let policy = lakeshore_storage::RetryPolicy {
        deadline: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let bytes = rt
        .block_on(lakeshore_storage::with_retry("read report", policy, || {
            out.get(&part)
        }))
        .unwrap()
        .unwrap_or_else(|| panic!("no report in {dir}"));
    assert!(
        rt.block_on(out.head(&Path::from(format!("{dir}/_SUCCESS"))))
            .unwrap()
            .is_some(),
        "no _SUCCESS in {dir}"
    );
    let df = ParquetReader::new(std::io::Cursor::new(bytes.to_vec()))
        .finish()
        .unwrap();
    let schema = df.schema();
    assert_eq!(schema.len(), 3);
    assert_eq!(schema.get("company_id"), Some(&DataType::String));
    assert_eq!(schema.get("document_id"), Some(&DataType::String));
    assert_eq!(schema.get("total_chunks"), Some(&DataType::Int64));
    let c = df.column("company_id").unwrap().str().unwrap().clone();
    let d = df.column("document_id").unwrap().str().unwrap().clone();
    let n = df.column("total_chunks").unwrap().i64().unwrap().clone();
    (0..df.height())
        .map(|i| {
            (
                c.get(i).unwrap().to_string(),
                d.get(i).unwrap().to_string(),
                n.get(i).unwrap(),
            )
        })
        .collect()
}

fn as_rows(e: &Expected) -> Vec<(String, String, i64)> {
    e.iter()
        .map(|((c, d), n)| (c.clone(), d.clone(), *n))
        .collect()
}

fn local(dir: &FsPath) -> (String, Store) {
    let url = format!("file://{}", dir.display());
    std::fs::create_dir_all(dir).unwrap();
    let store = Store::from_url(&url, &HashMap::new()).unwrap();
    (url, store)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// DuckDB's answer over the same committed files (the PySpark job's query), as rows.
fn duckdb_rows(landing_dir: &FsPath, day: &str) -> Option<Vec<(String, String, i64)>> {
    let Ok(python) = std::env::var("LAKESHORE_TEST_PYTHON") else {
        assert!(
            std::env::var("LAKESHORE_REQUIRE_SERVICES").is_err(),
            "LAKESHORE_TEST_PYTHON (a python with duckdb) is not set: run scripts/test.sh"
        );
        eprintln!("SKIPPED the DuckDB comparison: LAKESHORE_TEST_PYTHON is not set (scripts/install-pytools.sh)");
        return None;
    };
    let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
    let glob = format!(
        "{}/{TOPIC}/year={y}/month={m}/day={d}/*/{TOPIC}+*.json",
        landing_dir.display()
    );
    let script = format!(
        "import duckdb\nfor r in duckdb.sql(\"SELECT company_id, document_id, count(*) FROM read_json('{glob}', columns={{'company_id':'VARCHAR','document_id':'VARCHAR'}}, format='newline_delimited') GROUP BY 1, 2 ORDER BY 1, 2\").fetchall():\n    print(r[0], r[1], r[2], sep='\\t')\n"
    );
    let out = Command::new(python).arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "duckdb: {}", stderr(&out));
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_string(), f[1].to_string(), f[2].parse().unwrap())
            })
            .collect(),
    )
}

#[test]
fn report_on_local_files_matches_duckdb_and_reruns_identically() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let (landing_url, landing) = local(&dir.path().join("landing"));
    let (out_url, out) = local(&dir.path().join("reports"));
    let expected = land_day(&rt, &landing, "2026-11-21", 12, 50, 0);
    land_day(&rt, &landing, "2026-11-22", 3, 10, 1); // another day: not read
    land_noise(&rt, &landing, "2026-11-21");

    let o = report(&landing_url, &out_url, &["--date", "2026-11-21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!(
            "{} rows from 600 records in 12 files",
            expected.len()
        )),
        "{stdout}"
    );
    let rows = read_report(&rt, &out, "2026-11-21");
    assert_eq!(
        rows,
        as_rows(&expected),
        "sorted by company_id, document_id, exact counts"
    );
    if let Some(duck) = duckdb_rows(&dir.path().join("landing"), "2026-11-21") {
        assert_eq!(
            rows, duck,
            "same numbers as DuckDB (the PySpark job's query)"
        );
    }
    let first = std::fs::read(
        dir.path()
            .join("reports/daily_chunk_count/date=2026-11-21/part-00000.parquet"),
    )
    .unwrap();
    let o = report(&landing_url, &out_url, &["--date", "2026-11-21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = std::fs::read(
        dir.path()
            .join("reports/daily_chunk_count/date=2026-11-21/part-00000.parquet"),
    )
    .unwrap();
    assert_eq!(first, again, "a rerun writes the identical report");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("reports/daily_chunk_count"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(
        names,
        ["date=2026-11-21"],
        "nothing else visible next to the report"
    );
    let staging: Vec<String> = std::fs::read_dir(dir.path().join("reports/daily_chunk_count"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".staging"))
        .collect();
    assert!(
        staging.is_empty(),
        "staging directories left behind: {staging:?}"
    );

    // A range: one report per day.
    let o = report(
        &landing_url,
        &out_url,
        &["--from", "2026-11-21", "--to", "2026-11-22"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_report(&rt, &out, "2026-11-21"), as_rows(&expected));
    assert_eq!(
        read_report(&rt, &out, "2026-11-22")
            .iter()
            .map(|r| r.2)
            .sum::<i64>(),
        30
    );
}

#[test]
fn every_error_path_has_its_exit_status_and_names_what() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let (landing_url, landing) = local(&dir.path().join("landing"));
    let (out_url, out) = local(&dir.path().join("reports"));
    let day_dir = |d: &str| format!("{TOPIC}/year=2026/month=11/day={d}");

    // Missing input directory: 3.
    let o = report(&landing_url, &out_url, &["--date", "2026-11-10"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no input directory") && stderr(&o).contains("day=10"),
        "{}",
        stderr(&o)
    );

    // A day directory without committed files: 3; with --allow-empty: an empty report.
    rt.block_on(landing.put(
        &Path::from(format!("{}/hour=00/_COMPLETE", day_dir("11"))),
        "".into(),
    ))
    .unwrap();
    let o = report(&landing_url, &out_url, &["--date", "2026-11-11"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no landed files"), "{}", stderr(&o));
    let o = report(
        &landing_url,
        &out_url,
        &["--date", "2026-11-11", "--allow-empty"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        read_report(&rt, &out, "2026-11-11").is_empty(),
        "empty, with the schema"
    );

    // A record without document_id: 4, naming the file and line.
    land_day(&rt, &landing, "2026-11-12", 2, 5, 0);
    let bad = format!(
        "{}/hour=05/{TOPIC}+2+0000000100+0000000102.json",
        day_dir("12")
    );
    let body = format!("{}\n{{\"company_id\":\"acme\",\"vector\":[1]}}\n{{\"company_id\":\"acme\",\"document_id\":\"d\",\"vector\":[1,\n", record(1, 1, 1));
    rt.block_on(landing.put(&Path::from(bad.clone()), body.into()))
        .unwrap();
    let o = report(&landing_url, &out_url, &["--date", "2026-11-12"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{bad}:2: no document_id field")),
        "{}",
        stderr(&o)
    );
    // --bad-records skip: written, the count reported.
    let o = report(
        &landing_url,
        &out_url,
        &["--date", "2026-11-12", "--bad-records", "skip"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("skipped 2 bad record(s)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read_report(&rt, &out, "2026-11-12")
            .iter()
            .map(|r| r.2)
            .sum::<i64>(),
        11
    );
    // Malformed JSON alone: 4, naming file and line.
    rt.block_on(
        landing.put(
            &Path::from(bad.clone()),
            format!(
                "{}\n{{\"company_id\":\"acme\",\"document_id\":\"d\",\"vector\":[1,\n",
                record(1, 1, 1)
            )
            .into(),
        ),
    )
    .unwrap();
    let o = report(&landing_url, &out_url, &["--date", "2026-11-12"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{bad}:2: malformed JSON")),
        "{}",
        stderr(&o)
    );

    // Completeness markers: 5 with the missing hours listed; all 24 present: written.
    let o = report(
        &landing_url,
        &out_url,
        &[
            "--date",
            "2026-11-11",
            "--allow-empty",
            "--wait-for-complete",
            "1s",
        ],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("hour(s) 01,02,03"), "{}", stderr(&o));
    for h in 0..24 {
        rt.block_on(landing.put(
            &Path::from(format!("{}/hour={h:02}/_COMPLETE", day_dir("11"))),
            "".into(),
        ))
        .unwrap();
    }
    let o = report(
        &landing_url,
        &out_url,
        &[
            "--date",
            "2026-11-11",
            "--allow-empty",
            "--wait-for-complete",
            "1s",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // Unreachable storage: 1, naming the store.
    let o = report(
        "hdfs://127.0.0.1:1/landing",
        &out_url,
        &["--date", "2026-11-12"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("127.0.0.1:1"), "{}", stderr(&o));

    // Usage: 2.
    let o = report(
        &landing_url,
        &out_url,
        &["--from", "2026-11-12", "--to", "2026-11-11"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn sigkill_mid_run_leaves_the_old_report_whole() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let (landing_url, landing) = local(&dir.path().join("landing"));
    let (out_url, out) = local(&dir.path().join("reports"));
    let old = land_day(&rt, &landing, "2026-11-21", 3, 20, 0);
    let o = report(&landing_url, &out_url, &["--date", "2026-11-21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_report(&rt, &out, "2026-11-21"), as_rows(&old));
    // More data for the day: the new report differs from the old one.
    let mut new = old.clone();
    for (k, v) in land_day(&rt, &landing, "2026-11-21", 90, 600, 5) {
        *new.entry(k).or_default() += v;
    }
    let mut seed = 0x9E3779B97F4A7C15u64;
    let mut killed_mid_run = 0;
    for _ in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
            .args([
                "report",
                "daily-chunks",
                "--landing",
                &landing_url,
                "--output",
                &out_url,
                "--date",
                "2026-11-21",
            ])
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(seed % 250));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        let rows = read_report(&rt, &out, "2026-11-21");
        assert!(
            rows == as_rows(&old) || rows == as_rows(&new),
            "a partial or mixed report after SIGKILL"
        );
    }
    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} kills hit a running report"
    );
    let o = report(&landing_url, &out_url, &["--date", "2026-11-21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_report(&rt, &out, "2026-11-21"), as_rows(&new));
}

#[test]
fn report_on_real_hdfs() {
    let Some(hdfs) = hdfs() else { return };
    let rt = rt();
    let base = format!("{}/{}", hdfs.trim_end_matches('/'), unique("report"));
    let landing_url = format!("{base}/landing");
    let out_url = format!("{base}/reports");
    let landing = Store::from_url(&landing_url, &HashMap::new()).unwrap();
    let out = Store::from_url(&out_url, &HashMap::new()).unwrap();
    let expected = land_day(&rt, &landing, "2026-11-21", 6, 40, 0);
    land_noise(&rt, &landing, "2026-11-21");
    for _ in 0..2 {
        let o = report(&landing_url, &out_url, &["--date", "2026-11-21"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(read_report(&rt, &out, "2026-11-21"), as_rows(&expected));
    }
    let (_, dirs) = rt
        .block_on(out.list_dir(&Path::from("daily_chunk_count")))
        .unwrap();
    let visible: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.filename().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(visible, ["date=2026-11-21"]);
}
