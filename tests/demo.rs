//! `lakeshore demo`, the README's first command, end to end: what it prints is checked
//! against itself (every published record landed, the streaming job's windows plus its late
//! records and the daily report count the same embeddings) and against what it left on
//! disk; while it runs, its status page is loaded in headless Chromium.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{chromium_available, free_local_addr, headless_chromium};

fn lakeshore() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakeshore"));
    cmd.env_remove("LAKESHORE_LOG").stdin(Stdio::null());
    cmd
}

/// The number after `label` in `text`, e.g. `number(t, "published ")`.
fn number(text: &str, label: &str) -> i64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
        + label.len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {label:?} in:\n{text}"))
}

#[test]
fn demo_lands_streams_reports_and_queries_with_agreeing_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = lakeshore()
        .args([
            "demo",
            "--documents",
            "150",
            "--publish-over",
            "3s",
            "--dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("The counts agree."), "{stdout}");

    // Every record published landed, topic by topic.
    for topic in ["documents.raw", "chunks.processed", "embeddings.ready"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{topic} ")))
            .unwrap_or_else(|| panic!("no landing line for {topic}:\n{stdout}"));
        let records: i64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(records, number(line, "(published "), "{line}");
        assert!(records > 0, "{line}");
    }

    // The check line: published = streamed + late = reported.
    let check = stdout.lines().find(|l| l.starts_with("Check:")).unwrap();
    let published = number(check, "published ");
    let counted = number(check, "counted ");
    let late = number(check, " + ");
    let reported = number(check, "the report counted ");
    assert!(published > 300, "{check}");
    assert_eq!(counted + late, published, "{check}");
    assert_eq!(reported, published, "{check}");

    // The first windows are printed as the job wrote them to analytics.flink.
    let windows: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("{\"window_start\""))
        .map(|l| serde_json::from_str(l.trim()).unwrap())
        .collect();
    assert_eq!(windows.len(), 3, "{stdout}");
    for w in &windows {
        assert!(
            w["company_id"].is_string() && w["chunk_count"].as_i64().unwrap() > 0,
            "{w}"
        );
        assert!(w["window_end"].as_str().unwrap().ends_with(":00"), "{w}");
    }

    // The query's table: one row per company, adding up to the day's embeddings.
    let query_rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("[4/4]"))
        .skip(3)
        .take_while(|l| !l.starts_with('('))
        .collect();
    assert!((5..=7).contains(&query_rows.len()), "{query_rows:?}");
    let total: i64 = query_rows
        .iter()
        .map(|r| r.split('|').nth(1).unwrap().trim().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, published, "{query_rows:?}");

    // On disk, as printed: --dir is kept.
    let day = stdout
        .lines()
        .find_map(|l| l.split("--date ").nth(1))
        .unwrap()
        .trim()
        .to_string();
    let report = data.join(format!("reports/daily_chunk_count/date={day}"));
    assert!(report.join("_SUCCESS").exists(), "{}", report.display());
    assert!(report.join("part-00000.parquet").exists());
    assert!(data.join("lakeshore.log").exists());
    assert!(count_files(&data.join("lake/atenex/kafka-landing"), ".json") > 10);
}

fn count_files(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                count_files(&p, suffix)
            } else {
                usize::from(p.to_string_lossy().ends_with(suffix))
            }
        })
        .sum()
}

#[test]
fn demo_refuses_a_day_that_has_not_ended_and_removes_its_temp_dir() {
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let out = lakeshore()
        .args(["demo", "--day", &tomorrow.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("--day {tomorrow}")), "{stderr}");
    assert!(stderr.contains("must be before today"), "{stderr}");
}

fn cell(html: &str, section: &str, id: &str) -> i64 {
    let section = html
        .split(&format!("<section id=\"{section}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {section} in {html}"));
    number(section, &format!("<td id=\"{id}\">"))
}

#[test]
fn status_page_in_chromium_shows_both_jobs_live() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr = free_local_addr();
    let mut demo = lakeshore()
        .args(["demo", "--documents", "600", "--publish-over", "25s"])
        .args(["--metrics-addr", &addr, "--dir"])
        .arg(dir.path().join("demo"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://{addr}/");
    let started = Instant::now();
    let first = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "status page never came up"
        );
        if std::net::TcpStream::connect(&addr).is_ok() {
            let page = headless_chromium(&["--dump-dom", &url]);
            if page.contains("<section id=\"stream\">")
                && cell(&page, "landing", "records_consumed") > 0
            {
                break page;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(first.contains("<title>Lakeshore status</title>"), "{first}");
    assert!(
        first.contains("http-equiv=\"refresh\""),
        "the page refreshes itself"
    );
    assert!(first.contains("<table id=\"partitions\">"), "{first}");
    std::thread::sleep(Duration::from_secs(4));
    let second = headless_chromium(&["--dump-dom", &url]);
    for (section, id) in [("landing", "records_consumed"), ("stream", "records_in")] {
        assert!(
            cell(&second, section, id) > cell(&first, section, id),
            "{section} {id} did not change as data flowed"
        );
    }
    assert!(second.contains("<table id=\"recent_windows\">"), "{second}");

    // A screenshot for the docs (LAKESHORE_UPDATE_SCREENSHOT=1 writes docs/status-page.png).
    let shot = dir.path().join("status.png");
    headless_chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1100,1500",
        &url,
    ]);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    if std::env::var("LAKESHORE_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/status-page.png"),
            &png,
        )
        .unwrap();
    }
    assert!(demo.wait().unwrap().success(), "the demo failed");
}
