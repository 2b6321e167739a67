//! The docs cannot lie about the command line: every `lakeshore ...` command in the README,
//! `docs/`, the scripts' READMEs and the examples of every `--help` is parsed by the binary
//! (`LAKESHORE_PARSE_ONLY=1`: parse, run nothing). A renamed flag, a removed subcommand or a
//! value that no longer parses fails here with the file and line. (What the commands do is
//! run by the other tests; `scripts/demo.sh` by CI.)

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Markdown files whose code blocks hold commands.
fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut files = vec![
        root.join("README.md"),
        root.join("jobs/README.md"),
        root.join("scripts/emr/README.md"),
        root.join("scripts/systemd/README.md"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `(line number, command)` of each `lakeshore` command in `text`'s code blocks, with `\`
/// continuations joined. With `all_lines`, every line counts (for --help output).
fn commands(text: &str, all_lines: bool) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_block = all_lines;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(lang) = line.trim_start().strip_prefix("```").filter(|_| !all_lines) {
            // Shell blocks only: not a Python DAG, not a `text` synopsis with [optional] parts.
            in_block = !in_block && ["", "sh", "bash", "shell", "console"].contains(&lang.trim());
            continue;
        }
        if !in_block {
            continue;
        }
        let trimmed = line
            .trim()
            .trim_start_matches("$ ")
            .trim_start_matches("sudo ");
        let (start, mut cmd) = match pending.take() {
            Some((start, head)) => (start, format!("{head} {trimmed}")),
            None => {
                let program = trimmed.split_whitespace().next().unwrap_or_default();
                if !program.ends_with("lakeshore") || program.contains('@') {
                    continue;
                }
                (i + 1, trimmed.to_string())
            }
        };
        if cmd.ends_with('\\') {
            cmd.pop();
            pending = Some((start, cmd));
        } else {
            found.push((start, cmd));
        }
    }
    found
}

/// Shell words of `cmd` up to the first unquoted `|`, `>`, `&`, `;` or `#`: enough shell for
/// a docs example (quotes and backslashes; no expansions).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = cmd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c if c.is_whitespace() => out.extend(word.take()),
            '|' | '>' | '&' | ';' | '#' if word.is_none() => break,
            '>' if word.as_deref() == Some("2") => {
                word = None;
                break;
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

/// Parses `argv` (after the program name) with the real binary; the error, if any.
fn parse(argv: &[String]) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
        .args(argv)
        .env("LAKESHORE_PARSE_ONLY", "1")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_documented_command_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in doc_files() {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (line, cmd) in commands(&text, false) {
            let argv = words(&cmd);
            checked += 1;
            if let Err(e) = parse(&argv[1..]) {
                failures.push(format!("{}:{line}: {cmd}\n{e}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 15,
        "only {checked} commands found: is the extraction broken?"
    );
}

#[test]
fn every_help_example_parses() {
    let subcommands: [&[&str]; 8] = [
        &[],
        &["land"],
        &["stream", "chunk-counts"],
        &["report", "daily-chunks"],
        &["query"],
        &["demo"],
        &["gen"],
        &["check-config"],
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for sub in subcommands {
        let out = Command::new(env!("CARGO_BIN_EXE_lakeshore"))
            .args(sub)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{sub:?} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        for (_, cmd) in commands(&help, true) {
            let argv = words(&cmd);
            checked += 1;
            if let Err(e) = parse(&argv[1..]) {
                failures.push(format!("lakeshore {} --help: {cmd}\n{e}", sub.join(" ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} examples found");
}

#[test]
fn the_shell_words_are_split_as_a_shell_would() {
    assert_eq!(
        words(r#"lakeshore query --landing x "SELECT a, 'b' FROM t" > out.csv"#),
        [
            "lakeshore",
            "query",
            "--landing",
            "x",
            "SELECT a, 'b' FROM t"
        ]
    );
    assert_eq!(
        words("lakeshore land --config 'a b.properties' 2>land.log | tee x"),
        ["lakeshore", "land", "--config", "a b.properties"]
    );
    let found = commands(
        "text\n```sh\nlakeshore land \\\n    --check # why\n```\nlakeshore no\n",
        false,
    );
    assert_eq!(found, [(3, "lakeshore land  --check # why".to_string())]);
    assert!(commands("```python\nlakeshore land\n```\n", false).is_empty());
}
