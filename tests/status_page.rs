//! The status server of `lakeshore land` against the real broker: `/metrics` and `/status`
//! agree with what was landed, per partition, and the status page shows the same numbers in
//! a real browser (Debian's headless Chromium), changing as data flows.

mod common;

use std::time::Duration;

use common::*;

/// The page as the browser rendered it.
fn dump_dom(url: &str) -> String {
    headless_chromium(&["--dump-dom", url])
}

/// The text of `<td id="{id}">…</td>`.
fn cell(html: &str, id: &str) -> String {
    let open = format!("<td id=\"{id}\">");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no cell {id} in {html}"))
        + open.len();
    html[start..][..html[start..].find("</td>").unwrap()].to_string()
}

#[test]
fn metrics_status_and_page_follow_the_landing() {
    let Some(brokers) = brokers() else { return };
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("status");
    create_topics(&brokers, &[&topic], 2);
    let recs = |partition: i32, n: i64| -> Vec<Rec> {
        (0..n)
            .map(|i| Rec {
                topic: topic.clone(),
                partition,
                key: None,
                value: Some(value(partition, i, "acme")),
                timestamp_ms: None,
            })
            .collect()
    };
    produce(&brokers, &[recs(0, 5), recs(1, 3)].concat());
    let land = Land::start(
        dir.path(),
        &fixture(),
        &brokers,
        &[
            format!("hdfs.url=file://{}", dir.path().join("lake").display()),
            format!("topics={topic}"),
            format!("name={}", unique("status")),
            "rotate.interval.ms=1000".into(),
        ],
    );
    let addr = status_addr_eventually(&land);

    // /metrics: per-partition committed offsets, and lag 0 once the consumer's statistics
    // (every 2 s) have seen the partitions' ends.
    let line =
        |name: &str, p: i32, v: u64| format!("{name}{{topic=\"{topic}\",partition=\"{p}\"}} {v}\n");
    eventually_or(
        Duration::from_secs(60),
        "committed and caught up",
        &land,
        || {
            let text = http_get(&addr, "/metrics");
            text.contains(&line("lakeshore_land_committed_offset", 0, 5))
                && text.contains(&line("lakeshore_land_committed_offset", 1, 3))
                && text.contains(&line("lakeshore_land_lag_records", 0, 0))
                && text.contains(&line("lakeshore_land_lag_records", 1, 0))
        },
    );
    let text = http_get(&addr, "/metrics");
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {l}"));
        assert!(name.starts_with("lakeshore_land_"), "{l}");
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("not a number: {l}"));
    }
    assert_eq!(metric(&land, "lakeshore_land_records_committed_total"), 8);
    assert_eq!(metric(&land, "lakeshore_land_records_consumed_total"), 8);

    // /status says the same, per partition.
    let status: serde_json::Value = serde_json::from_str(&http_get(&addr, "/status")).unwrap();
    assert_eq!(status["landing"]["records_committed"], 8, "{status:#}");
    let parts = status["landing"]["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{status:#}");
    for (p, n) in [(0, 5), (1, 3)] {
        let row = parts.iter().find(|r| r["partition"] == p).unwrap();
        assert_eq!(row["topic"], topic.as_str());
        assert_eq!(row["committed_offset"], n, "{row}");
        assert_eq!(row["lag"], 0, "{row}");
    }
    assert!(status["version"].as_str().unwrap().contains("(git "));

    // The page in a browser: the same numbers, and new ones after more data.
    let url = format!("http://{addr}/");
    let page = dump_dom(&url);
    assert!(
        page.contains("http-equiv=\"refresh\""),
        "the page refreshes itself"
    );
    assert!(page.contains("<section id=\"landing\">"), "{page}");
    assert_eq!(cell(&page, "records_committed"), "8");
    assert!(page.contains(&format!("<td>{topic}</td>")), "{page}");
    produce(&brokers, &recs(0, 4));
    eventually_or(Duration::from_secs(60), "4 more committed", &land, || {
        metric(&land, "lakeshore_land_records_committed_total") == 12
    });
    let page = dump_dom(&url);
    assert_eq!(cell(&page, "records_committed"), "12");
    assert_eq!(land.stop(), 0);
}

fn status_addr_eventually(land: &Land) -> String {
    eventually_or(Duration::from_secs(30), "status server up", land, || {
        land.log_text().contains("serving /metrics")
    });
    status_addr(land)
}
