//! The `lakeshore land` command line: exit codes, errors that name the file, line and key,
//! secrets that never reach the output. No services needed.

use std::process::Command;

fn land(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .arg("land")
        .args(args)
        .output()
        .expect("run lakeshore");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/connect/config/hdfs-sink-connector.properties"
);

#[test]
fn the_fixture_checks_out_and_secrets_are_redacted() {
    let (code, out, err) = land(&[
        "--config",
        FIXTURE,
        "--set",
        "security.protocol=SASL_SSL",
        "--set",
        "sasl.mechanism=SCRAM-SHA-512",
        "--set",
        "sasl.password=hunter2",
        "--check",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("group=connect-HdfsSinkAtenex tasks=2"),
        "{out}"
    );
    assert!(
        out.contains("store=hdfs://localhost:8020 topics.dir=atenex/kafka-landing"),
        "{out}"
    );
    assert!(out.contains("kafka sasl.password=[redacted]"), "{out}");
    assert!(!out.contains("hunter2") && !err.contains("hunter2"));
}

#[test]
fn an_unknown_key_in_the_file_names_file_line_and_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.properties");
    let text = std::fs::read_to_string(FIXTURE).unwrap() + "flush.sise=10\n";
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = land(&["--config", cfg.to_str().unwrap(), "--check"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}:15: config key `flush.sise`", cfg.display())),
        "{err}"
    );
    assert!(err.contains("did you mean `flush.size`"), "{err}");
}

#[test]
fn a_missing_config_file_and_a_bad_override_exit_2() {
    let (code, _, err) = land(&["--config", "/nonexistent/sink.properties"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read config /nonexistent/sink.properties"),
        "{err}"
    );
    let (code, _, err) = land(&["--config", FIXTURE, "--set", "flush.size", "--check"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--set flush.size: expected KEY=VALUE"),
        "{err}"
    );
}

#[test]
fn an_unusable_store_url_exits_2_naming_it() {
    let (code, _, err) = land(&[
        "--config",
        FIXTURE,
        "--set",
        "hdfs.url=ftp://nas/landing",
        "--brokers",
        "127.0.0.1:1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("store url `ftp://nas/landing`: unsupported scheme `ftp`"),
        "{err}"
    );
}

/// The allocator's build-time settings (`.cargo/config.toml`) are in the binary: jemalloc's
/// background purging thread runs (without it peak RSS under load was ~20 MB higher).
#[test]
fn the_allocator_purges_from_a_background_thread() {
    let dir = tempfile::tempdir().unwrap();
    let props = dir.path().join("sink.properties");
    std::fs::write(
        &props,
        format!(
            "name=bg\nconnector.class=io.confluent.connect.hdfs3.Hdfs3SinkConnector\ntopics=t\nflush.size=10\nhdfs.url=file://{}\n",
            dir.path().join("out").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .args(["land", "--brokers", "127.0.0.1:1", "--config"])
        .arg(&props)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run lakeshore");
    let tasks = format!("/proc/{}/task", child.id());
    let thread_names = || -> Vec<String> {
        std::fs::read_dir(&tasks)
            .map(|d| {
                d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                    .map(|n| n.trim().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut names = thread_names();
    while !names.iter().any(|n| n == "jemalloc_bg_thd") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        names = thread_names();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        names.iter().any(|n| n == "jemalloc_bg_thd"),
        "no jemalloc background thread among {names:?}"
    );
}
