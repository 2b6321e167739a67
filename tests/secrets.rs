//! Secrets never reach the output: not `check-config`'s effective settings, not the logs of
//! a running landing or streaming job (human or JSON, debug level, while they fail to reach
//! a broker), not `/status` or `/metrics`. No services needed: the broker address is a
//! closed port.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{free_local_addr, Land};

const SECRETS: [&str; 4] = ["hunter2-sasl", "jaas-pw-77", "keypass-99", "oauth-tok-5"];

fn settings() -> Vec<String> {
    [
        "security.protocol=SASL_SSL".to_string(),
        "sasl.mechanism=PLAIN".to_string(),
        format!(
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc\" password=\"{}\";",
            SECRETS[1]
        ),
        format!("ssl.key.password={}", SECRETS[2]),
        format!("sasl.oauthbearer.token={}", SECRETS[3]),
    ]
    .to_vec()
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s}:\n{text}");
    }
}

fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("sink.properties");
    let mut text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/connect/config/hdfs-sink-connector.properties"
    ))
    .unwrap();
    text.push_str(&settings()[..4].join("\n"));
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_config_redacts_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .arg("check-config")
        .arg(&cfg)
        .args(["--set", &format!("sasl.password={}", SECRETS[0])])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kafka sasl.password=[redacted]"), "{text}");
    assert!(text.contains("kafka ssl.key.password=[redacted]"), "{text}");
    assert_no_secret("check-config", &text);
}

/// Runs `lakeshore <args>` at debug level for a few seconds against a closed port, reads
/// its status server meanwhile, stops it with SIGTERM (killed if still running after 20 s);
/// returns everything it printed and served.
fn run_briefly(args: &[String], json: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_local_addr();
    let mut args = args.to_vec();
    args.extend(["--metrics-addr".to_string(), addr.clone()]);
    if json {
        args.extend(["--log-format".to_string(), "json".to_string()]);
    }
    let run = Land::spawn_at_level(dir.path(), &args, "debug");
    std::thread::sleep(Duration::from_secs(4));
    let mut served = String::new();
    for path in ["/status", "/metrics", "/"] {
        use std::io::{Read, Write};
        if let Ok(mut sock) = std::net::TcpStream::connect(&addr) {
            let _ = sock.write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes());
            let _ = sock.read_to_string(&mut served);
        }
    }
    assert!(
        served.contains("HTTP/1.1 200 OK"),
        "no status server: {}",
        run.log_text()
    );
    let log = run.log.clone();
    let _ = run.stop_within(Duration::from_secs(20));
    std::fs::read_to_string(&log).unwrap() + &served
}

#[test]
fn a_running_landing_never_logs_or_serves_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(dir.path());
    for json in [false, true] {
        let mut args: Vec<String> = ["land", "--config"].map(String::from).to_vec();
        args.push(cfg.display().to_string());
        args.extend(["--brokers".into(), "127.0.0.1:9".into()]);
        args.extend(["--set".into(), format!("sasl.password={}", SECRETS[0])]);
        args.extend([
            "--set".into(),
            format!("hdfs.url=file://{}", dir.path().join("lake").display()),
        ]);
        let text = run_briefly(&args, json);
        assert!(text.contains("task started"), "{text}");
        assert_no_secret("land", &text);
    }
}

#[test]
fn a_running_stream_job_never_logs_or_serves_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let options = [
        "security.protocol=SASL_PLAINTEXT".to_string(),
        "sasl.mechanism=PLAIN".to_string(),
        "sasl.username=svc".to_string(),
        format!("sasl.password={}", SECRETS[0]),
        format!("ssl.key.password={}", SECRETS[2]),
    ];
    for json in [false, true] {
        let mut args: Vec<String> = ["stream", "chunk-counts", "--brokers", "127.0.0.1:9"]
            .map(String::from)
            .to_vec();
        args.extend([
            "--checkpoint-dir".into(),
            format!("file://{}", dir.path().join("ckpt").display()),
        ]);
        for o in &options {
            args.extend(["--kafka-option".into(), o.clone()]);
        }
        let text = run_briefly(&args, json);
        assert!(text.contains("sasl.password=[redacted]"), "{text}");
        assert_no_secret("stream chunk-counts", &text);
    }
}

#[test]
fn a_refused_setting_is_named_without_its_value() {
    // librdkafka's own message repeats the value it refuses.
    let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .args(["stream", "chunk-counts", "--brokers", "127.0.0.1:9"])
        .args([
            "--kafka-option",
            &format!("sasl.oauthbearer.token={}", SECRETS[3]),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sasl.oauthbearer.token"), "{stderr}");
    assert_no_secret("a refused setting", &stderr);
}
