//! A full disk under a `file://` store, against the real broker: the sink waits and retries
//! (logging what it could not write, and why) instead of failing or dropping anything, and
//! lands every record exactly once when space comes back.
//!
//! The disk is a real tmpfs of 256 KiB mounted for the test, then grown with `remount`:
//! that needs root, as CI and the test machines have. Run as another user, the test is
//! skipped (loudly); as root, a failed mount fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

const DIR: &str = "atenex/kafka-landing";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A tmpfs mounted at a directory; unmounted when dropped (also when an assertion fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(!is_root(), "root cannot mount a tmpfs at {}", at.display());
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(at.to_path_buf()))
    }

    fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_holds_the_landing_back_and_loses_nothing() {
    let Some(brokers) = brokers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "256k") else {
        return;
    };
    let topic = unique("diskfull");
    create_topics(&brokers, &[&topic], 2);
    // About 1.2 MB of records: several times what the disk holds.
    let text = format!("\"{}\"", "x".repeat(2000));
    let records: Vec<Rec> = (0..2)
        .flat_map(|p| (0..300).map(move |i| (p, i)))
        .map(|(p, i)| Rec {
            topic: topic.clone(),
            partition: p,
            key: None,
            value: Some(padded_value(p, i, "acme", "pad", &text)),
            timestamp_ms: None,
        })
        .collect();
    produce(&brokers, &records);

    let store_url = format!("file://{}", disk.0.display());
    let sets = vec![
        format!("hdfs.url={store_url}"),
        format!("topics={topic}"),
        format!("name={}", unique("diskfull")),
        "flush.size=100".to_string(),
        "rotate.interval.ms=1000".to_string(),
    ];
    let land = Land::start(&dir.path().join("run"), &fixture(), &brokers, &sets);
    eventually_or(
        Duration::from_secs(60),
        "the sink to report the full disk",
        &land,
        || {
            let log = land.log_text();
            log.lines()
                .any(|l| l.contains("retrying") && l.contains("No space left on device"))
        },
    );
    // Still running, still waiting: a full disk is not a reason to stop.
    let mut land = land;
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        land.child.try_wait().unwrap().is_none(),
        "the sink stopped on a full disk:\n{}",
        land.log_text()
    );

    disk.grow("64m");
    let store = store(&store_url);
    eventually_or(
        Duration::from_secs(90),
        "every record landed",
        &land,
        || Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 600,
    );
    let log = land.log.clone();
    assert_eq!(
        land.stop(),
        0,
        "{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    let seen = Landed::read(&store, DIR, &topic).occurrences(&topic);
    assert_eq!(seen.len(), 600);
    assert!(
        seen.values().all(|n| *n == 1),
        "duplicates: {:?}",
        seen.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
}
