//! The example configurations cannot rot: each connector file in `connect/config/` passes
//! `lakeshore check-config`; each systemd unit's command line, with its example env file,
//! and each EMR step's arguments are accepted by the binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn lakeshore(args: &[String], env: &BTreeMap<String, String>, parse_only: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakeshore"));
    for var in [
        "LAKESHORE_BROKERS",
        "LAKESHORE_METRICS_ADDR",
        "LAKESHORE_CHECKPOINT_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env);
    if parse_only {
        cmd.env("LAKESHORE_PARSE_ONLY", "1");
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_connector_example_passes_check_config() {
    let dir = Path::new(ROOT).join("connect/config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "properties") {
            continue;
        }
        let out = lakeshore(
            &["check-config".into(), path.display().to_string()],
            &BTreeMap::new(),
            false,
        );
        assert!(out.status.success(), "{}: {}", path.display(), text(&out));
        assert!(text(&out).contains("config OK"), "{}", text(&out));
        checked += 1;
    }
    assert!(checked >= 2, "{checked} examples");
    // The local example uses only keys Lakeshore acts on.
    let local = dir.join("local-sink.properties");
    let out = lakeshore(
        &["check-config".into(), local.display().to_string()],
        &BTreeMap::new(),
        false,
    );
    assert!(!text(&out).contains("ignored"), "{}", text(&out));
    assert!(!text(&out).contains("WARN"), "{}", text(&out));
}

/// `KEY=VALUE` lines of a systemd environment file (quotes removed).
fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// The unit's `ExecStart=` after the program, `$VAR`s expanded (and word-split) from `env`.
fn exec_args(unit: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    let path = Path::new(ROOT).join("scripts/systemd").join(unit);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("{unit}: no ExecStart"));
    let mut words = line.split_whitespace();
    assert!(words.next().unwrap().ends_with("/lakeshore"), "{line}");
    words
        .flat_map(|w| match w.strip_prefix('$') {
            Some(var) => env
                .get(var.trim_matches(|c| c == '{' || c == '}'))
                .unwrap_or_else(|| panic!("{unit}: ${var} is not in the example env file"))
                .split_whitespace()
                .map(String::from)
                .collect(),
            None => vec![w.to_string()],
        })
        .collect()
}

#[test]
fn systemd_units_run_what_the_binary_accepts() {
    let units = Path::new(ROOT).join("scripts/systemd");

    // The landing unit, with the local example as its connector file: checked for real.
    let env = env_file(&units.join("land-example.env"));
    let local = Path::new(ROOT).join("connect/config/local-sink.properties");
    let mut args: Vec<String> = exec_args("lakeshore-land@.service", &env)
        .into_iter()
        .map(|a| {
            if a.starts_with("/etc/lakeshore/land-") {
                local.display().to_string()
            } else {
                a
            }
        })
        .collect();
    args.push("--check".into());
    let out = lakeshore(&args, &env, false);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    assert!(text(&out).contains("config OK"), "{}", text(&out));

    // The streaming unit: flags and environment parse.
    let env = env_file(&units.join("chunk-counts.env"));
    let args = exec_args("lakeshore-chunk-counts.service", &env);
    assert_eq!(args[..2], ["stream", "chunk-counts"]);
    let out = lakeshore(&args, &env, true);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
}

#[test]
fn emr_steps_run_what_the_binary_accepts() {
    let path = Path::new(ROOT).join("scripts/emr/daily-report-step.json");
    let steps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let steps = steps.as_array().unwrap();
    assert!(!steps.is_empty());
    for step in steps {
        assert_eq!(step["Jar"], "command-runner.jar", "{step}");
        let args: Vec<String> = step["Args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert!(args[0].ends_with("/lakeshore"), "{step}");
        let out = lakeshore(&args[1..], &BTreeMap::new(), true);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
}
