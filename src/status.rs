//! The HTTP face of a long-running command: `/metrics` (Prometheus text), `/status` (JSON)
//! and `/` (a status page that refreshes itself), for the landing sink and the streaming
//! job — whichever run in this process.
//!
//! Read-only and small on purpose: a hand-rolled HTTP/1.1 responder on the runtime (one
//! request per connection), bound to 127.0.0.1 unless told otherwise. Every number comes
//! from the components' metrics modules (`connect/src/events.rs`,
//! `crates/core/src/metrics.rs`); this file only renders them.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What this process runs.
#[derive(Debug, Default)]
pub struct Status {
    /// The landing sink's metrics, if it runs here.
    pub landing: Option<Arc<lakeshore_connect::events::Metrics>>,
    /// The streaming job's metrics, if it runs here.
    pub stream: Option<Arc<lakeshore_core::metrics::Metrics>>,
}

/// Seconds between refreshes of the status page.
const REFRESH_SECONDS: u32 = 2;

static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

impl Status {
    /// Prometheus text exposition of every component.
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        if let Some(m) = &self.landing {
            out.push_str(&m.render());
        }
        if let Some(m) = &self.stream {
            out.push_str(&m.render());
        }
        out
    }

    /// The `/status` document.
    pub fn json(&self) -> Value {
        let mut doc = json!({
            "version": crate::VERSION,
            "uptime_seconds": STARTED.get_or_init(Instant::now).elapsed().as_secs(),
        });
        if let Some(m) = &self.landing {
            doc["landing"] = m.status();
        }
        if let Some(m) = &self.stream {
            doc["stream"] = m.status();
        }
        doc
    }

    /// The status page: server-rendered, no scripts or external assets, refreshed by the
    /// browser every few seconds.
    pub fn html(&self) -> String {
        let mut page = String::new();
        let _ = write!(
            page,
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
             <title>Lakeshore status</title><style>{STYLE}</style></head><body>\
             <h1>Lakeshore <small>{}</small></h1><p class=\"meta\">up {} s · refreshes every {REFRESH_SECONDS} s · \
             <a href=\"/status\">/status</a> · <a href=\"/metrics\">/metrics</a></p>",
            escape(crate::VERSION),
            STARTED.get_or_init(Instant::now).elapsed().as_secs()
        );
        let doc = self.json();
        for (section, title) in [
            ("landing", "Landing"),
            ("stream", "Streaming: chunk counts"),
        ] {
            if let Some(v) = doc.get(section) {
                let _ = write!(page, "<section id=\"{section}\"><h2>{title}</h2>");
                render_value(&mut page, v);
                page.push_str("</section>");
            }
        }
        page.push_str("</body></html>");
        page
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1 small{font-weight:normal;color:#777}\
.meta{color:#777}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td.k{text-align:left;font-weight:600}h3{margin-bottom:.2em}";

/// Renders a status object: scalar fields as a two-column table, arrays of objects as
/// tables with a column per field.
fn render_value(page: &mut String, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    page.push_str("<table>");
    for (k, v) in obj.iter().filter(|(_, v)| !v.is_array()) {
        let _ = write!(
            page,
            "<tr><td class=\"k\">{}</td><td id=\"{}\">{}</td></tr>",
            escape(k),
            escape(k),
            escape(&scalar(v))
        );
    }
    page.push_str("</table>");
    for (k, v) in obj.iter().filter(|(_, v)| v.is_array()) {
        let rows = v.as_array().map(Vec::as_slice).unwrap_or_default();
        let _ = write!(page, "<h3>{}</h3>", escape(&k.replace('_', " ")));
        let Some(first) = rows.first().and_then(Value::as_object) else {
            page.push_str("<p class=\"meta\">none yet</p>");
            continue;
        };
        let _ = write!(page, "<table id=\"{}\"><tr>", escape(k));
        // What identifies a row comes first.
        let mut columns: Vec<&String> = first.keys().collect();
        columns.sort_by_key(|c| LEADING.iter().position(|l| l == c).unwrap_or(LEADING.len()));
        for col in &columns {
            let _ = write!(page, "<th>{}</th>", escape(col));
        }
        page.push_str("</tr>");
        for row in rows {
            page.push_str("<tr>");
            for col in &columns {
                let _ = write!(page, "<td>{}</td>", escape(&scalar(&row[col.as_str()])));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
    }
}

/// Columns shown first, in this order (the rest follow alphabetically).
const LEADING: [&str; 6] = ["topic", "partition", "split", "id", "window_start", "key"];

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        other => other.to_string(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Serves the status of `status` on `addr` until the runtime stops.
pub fn spawn(rt: &tokio::runtime::Runtime, addr: String, status: Arc<Status>) {
    STARTED.get_or_init(Instant::now);
    rt.spawn(async move {
        if let Err(e) = serve(addr, status).await {
            tracing::error!(error = format!("{e:#}"), "status server stopped");
        }
    });
}

async fn serve(addr: String, status: Arc<Status>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for the status page and /metrics"))?;
    tracing::info!(addr = %listener.local_addr()?, "serving /metrics, /status and the status page (/)");
    loop {
        // A failed accept (e.g. out of file descriptors) is that client's problem, not the
        // server's: log it, breathe, go on.
        let mut sock = match listener.accept().await {
            Ok((sock, _)) => sock,
            Err(e) => {
                tracing::warn!(error = %e, "status server: cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let status = status.clone();
        tokio::spawn(async move {
            let mut req = [0u8; 2048];
            let n = sock.read(&mut req).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&req[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let path = path.split('?').next().unwrap_or(path);
            let (code, kind, body) = match path {
                "/metrics" => ("200 OK", "text/plain; version=0.0.4", status.metrics()),
                "/status" => (
                    "200 OK",
                    "application/json",
                    serde_json::to_string_pretty(&status.json()).unwrap_or_default(),
                ),
                "/" => ("200 OK", "text/html; charset=utf-8", status.html()),
                _ => (
                    "404 Not Found",
                    "text/plain",
                    "not here: try /, /status or /metrics\n".to_string(),
                ),
            };
            let resp = format!(
                "HTTP/1.1 {code}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_and_tables_arrays() {
        let mut page = String::new();
        render_value(
            &mut page,
            &json!({"watermark": "<now>", "partitions": [{"topic": "a&b", "lag": 3}]}),
        );
        assert!(
            page.contains("<td id=\"watermark\">&lt;now&gt;</td>"),
            "{page}"
        );
        assert!(page.contains("<table id=\"partitions\"><tr><th>topic</th><th>lag</th></tr><tr><td>a&amp;b</td><td>3</td></tr></table>"), "{page}");
    }
}
