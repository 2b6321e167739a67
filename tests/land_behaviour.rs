//! The landing sink's promises, one test each, against the real broker and real HDFS:
//! quiet partitions land, bad input is routed as configured and never lost, record fields
//! cannot escape their directory, hours get completeness markers, and a paused process that
//! lost its partitions cannot commit over the new owner.

mod common;

use std::time::Duration;

use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const DIR: &str = "atenex/kafka-landing";

struct Setup {
    brokers: String,
    store_url: String,
    dir: tempfile::TempDir,
}

fn setup(name: &str) -> Option<Setup> {
    let (brokers, hdfs) = (brokers()?, hdfs()?);
    Some(Setup {
        brokers,
        store_url: format!("{hdfs}/{}", unique(name)),
        dir: tempfile::tempdir().unwrap(),
    })
}

fn rec(topic: &str, partition: i32, value: Option<&[u8]>, ts: Option<i64>) -> Rec {
    Rec {
        topic: topic.into(),
        partition,
        key: None,
        value: value.map(<[u8]>::to_vec),
        timestamp_ms: ts,
    }
}

/// Records `0..n` of company "acme", all on partition 0.
fn acme_records(topic: &str, n: i64) -> Vec<Rec> {
    (0..n)
        .map(|i| rec(topic, 0, Some(&value(0, i, "acme")), None))
        .collect()
}

fn sets(s: &Setup, topic: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        format!("hdfs.url={}", s.store_url),
        format!("topics={topic}"),
        format!("name={}", unique("g")),
        "consumer.override.session.timeout.ms=6000".to_string(),
    ];
    v.extend(extra.iter().map(|e| e.to_string()));
    v
}

#[test]
fn a_quiet_partition_is_committed_within_the_rotation_interval() {
    let Some(s) = setup("quiet") else { return };
    let topic = unique("quiet");
    create_topics(&s.brokers, &[&topic], 2);
    let records = acme_records(&topic, 5);
    produce(&s.brokers, &records);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(&s, &topic, &["flush.size=1000", "rotate.interval.ms=2000"]),
    );
    let store = store(&s.store_url);
    // flush.size is never reached and no more records come: only the wall-clock rotation
    // can commit these (Confluent's connector leaves them in +tmp).
    eventually(Duration::from_secs(30), "quiet records committed", || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 5
    });
    // The counters say the same on /metrics (a commit is counted once the task sees it end).
    eventually(Duration::from_secs(10), "counters on /metrics", || {
        metric(&land, "lakeshore_land_records_committed_total") == 5
            && metric(&land, "lakeshore_land_files_committed_total") == 1
    });
    let landed = Landed::read(&store, DIR, &topic);
    assert_eq!(landed.files.len(), 1, "{:?}", landed.files.keys());
    let path = landed.files.keys().next().unwrap();
    let year = chrono_year();
    assert!(
        path.contains(&format!("{DIR}/{topic}/year={year}/month="))
            && path.ends_with(&format!("{topic}+0+0000000000+0000000004.json")),
        "{path}"
    );
    assert_eq!(land.stop(), 0);
}

fn chrono_year() -> String {
    // Wallclock partitioning: the current UTC year.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = secs / 86_400;
    // Good enough for the assertion: civil year from days since epoch.
    let (mut y, mut d) = (1970, days);
    loop {
        let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        };
        if d < len {
            break;
        }
        d -= len;
        y += 1;
    }
    y.to_string()
}

#[test]
fn a_bad_record_stops_the_sink_naming_topic_partition_offset() {
    let Some(s) = setup("badfail") else { return };
    let topic = unique("badfail");
    create_topics(&s.brokers, &[&topic], 1);
    let mut records = acme_records(&topic, 3);
    records.push(rec(&topic, 0, Some(b"this is not json"), None));
    records.push(rec(&topic, 0, Some(&value(0, 4, "acme")), None));
    produce(&s.brokers, &records);
    let mut land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(&s, &topic, &["flush.size=1000", "rotate.interval.ms=60000"]),
    );
    let code = land.wait(Duration::from_secs(90));
    let log = land.log_text();
    assert_eq!(code, 1, "{log}");
    assert!(log.contains(&format!("{topic}/0@3")), "{log}");
    assert!(log.contains("value is not JSON"), "{log}");
    // What came before the bad record is committed; the bad record and what follows are not.
    let seen = Landed::read(&store(&s.store_url), DIR, &topic).occurrences(&topic);
    let mut keys: Vec<_> = seen.keys().copied().collect();
    keys.sort();
    assert_eq!(keys, vec![(0, 0), (0, 1), (0, 2)]);
    // A restart stops at the same record again: nothing is skipped silently.
    let mut again = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(&s, &topic, &["flush.size=1000", "rotate.interval.ms=60000"]),
    );
    assert_eq!(again.wait(Duration::from_secs(90)), 1);
    assert!(again.log_text().contains(&format!("{topic}/0@3")));
}

#[test]
fn bad_records_are_dead_lettered_with_the_reason_and_nulls_counted() {
    let Some(s) = setup("dlq") else { return };
    let topic = unique("dlq-src");
    let dlq = unique("dlq");
    create_topics(&s.brokers, &[&topic, &dlq], 1);
    let multi_line = b"{\n  \"p\": 0,\n  \"i\": 3,\n  \"company_id\": \"acme\"\n}".to_vec();
    let records = vec![
        rec(&topic, 0, Some(&value(0, 0, "acme")), None),
        rec(&topic, 0, Some(b"not json"), None),
        rec(&topic, 0, None, None),
        rec(&topic, 0, Some(&multi_line), None),
        rec(&topic, 0, Some(&value(0, 4, "acme")), None),
        rec(&topic, 0, Some(br#"{"p":0,"i":5"#), None),
        rec(&topic, 0, Some(&value(0, 6, "acme")), None),
    ];
    produce(&s.brokers, &records);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(
            &s,
            &topic,
            &[
                "flush.size=1000",
                "rotate.interval.ms=1500",
                "errors.tolerance=all",
                &format!("errors.deadletterqueue.topic.name={dlq}"),
                "behavior.on.null.values=ignore",
            ],
        ),
    );
    let store = store(&s.store_url);
    eventually(Duration::from_secs(40), "good records committed", || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 4
    });
    let landed = Landed::read(&store, DIR, &topic);
    let seen = landed.occurrences(&topic);
    let mut keys: Vec<_> = seen.keys().copied().collect();
    keys.sort();
    assert_eq!(keys, vec![(0, 0), (0, 3), (0, 4), (0, 6)]);
    // The multi-line value was re-serialised compactly onto one line, same JSON.
    let lines: Vec<&String> = landed.files.values().flatten().collect();
    assert!(
        lines.contains(&&r#"{"p":0,"i":3,"company_id":"acme"}"#.to_string()),
        "{lines:?}"
    );
    let log = land.log.clone();
    assert_eq!(land.stop(), 0);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("lakeshore_land_null_records_total=1"), "{log}");
    assert!(
        log.contains("lakeshore_land_dead_lettered_total=2"),
        "{log}"
    );

    // The dead letters: original bytes, the reason and the origin in headers.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &s.brokers)
        .set("group.id", unique("dlq-reader"))
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&dlq, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut got = Vec::new();
    let start = std::time::Instant::now();
    while got.len() < 2 && start.elapsed() < Duration::from_secs(30) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            let headers = m.headers().expect("context headers");
            let h = |k: &str| {
                headers
                    .iter()
                    .find(|h| h.key == k)
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap()
            };
            got.push((
                m.payload().map(<[u8]>::to_vec),
                h("__connect.errors.topic"),
                h("__connect.errors.offset"),
                h("__connect.errors.exception.message"),
            ));
        }
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0.as_deref(), Some(&b"not json"[..]));
    assert_eq!(
        (got[0].1.as_str(), got[0].2.as_str()),
        (topic.as_str(), "1")
    );
    assert!(got[0].3.contains("value is not JSON"), "{}", got[0].3);
    assert_eq!(got[1].2, "5");
}

#[test]
fn field_values_never_escape_their_directory() {
    let Some(s) = setup("field") else { return };
    let topic = unique("field");
    create_topics(&s.brokers, &[&topic], 1);
    let long = "x".repeat(300);
    let companies = ["../../etc", "a/b", "", ".hidden", "acme", long.as_str()];
    let records: Vec<Rec> = companies
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = format!(r#"{{"p":0,"i":{i},"company_id":"{c}"}}"#);
            rec(&topic, 0, Some(v.as_bytes()), None)
        })
        .collect();
    produce(&s.brokers, &records);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(
            &s,
            &topic,
            &[
                "partitioner.class=io.confluent.connect.storage.partitioner.FieldPartitioner",
                "partition.field.name=company_id",
                "flush.size=1000",
                "rotate.interval.ms=1500",
                "errors.tolerance=all",
            ],
        ),
    );
    let store = store(&s.store_url);
    eventually(Duration::from_secs(40), "field-partitioned records", || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 5
    });
    let landed = Landed::read(&store, DIR, &topic);
    let mut dirs: Vec<String> = landed
        .files
        .keys()
        .map(|p| {
            let rest = p
                .strip_prefix(&format!("{DIR}/{topic}/"))
                .expect("inside the topic dir");
            let (dir, file) = rest.split_once('/').expect("one directory level");
            assert!(!file.contains('/'), "{p}");
            dir.to_string()
        })
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        vec![
            "company_id=%2E.%2F..%2Fetc",
            "company_id=%2Ehidden",
            "company_id=__HIVE_DEFAULT_PARTITION__",
            "company_id=a%2Fb",
            "company_id=acme",
        ]
    );
    let log = land.log.clone();
    assert_eq!(land.stop(), 0);
    // The 300-byte value cannot name a directory: a counted bad record.
    assert!(std::fs::read_to_string(log)
        .unwrap()
        .contains("lakeshore_land_bad_records_total=1"));
}

#[test]
fn hours_get_a_completeness_marker_once_every_partition_passed_them() {
    let Some(s) = setup("markers") else { return };
    let topic = unique("markers");
    create_topics(&s.brokers, &[&topic], 2);
    let now = chrono_now_ms();
    let hour = 3_600_000;
    let h0 = (now / hour - 3) * hour; // three hours ago
    let records = vec![
        rec(&topic, 0, Some(&value(0, 0, "a")), Some(h0 + 10)),
        rec(&topic, 1, Some(&value(1, 0, "a")), Some(h0 + 20)),
        rec(&topic, 0, Some(&value(0, 1, "a")), Some(h0 + hour + 5)),
    ];
    produce(&s.brokers, &records);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(
            &s,
            &topic,
            &[
                "flush.size=1000",
                "rotate.interval.ms=1000",
                "timestamp.extractor=Record",
            ],
        ),
    );
    let store = store(&s.store_url);
    let hour_dir = |ms: i64| {
        let t = chrono_like(ms);
        format!("{DIR}/{topic}/{t}")
    };
    let marker =
        |ms: i64| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(store.head(
                &lakeshore_storage::parse_path(&format!("{}/_COMPLETE", hour_dir(ms))).unwrap(),
            ))
            .unwrap()
            .is_some()
        };
    eventually(Duration::from_secs(40), "markers of past hours", || {
        marker(h0) && marker(h0 + hour) && marker(h0 + 2 * hour)
    });
    // The current hour is not over: no marker.
    assert!(!marker(now));
    assert_eq!(land.stop(), 0);
    // Readers skip the marker: the data is all there.
    assert_eq!(
        Landed::read(&store, DIR, &topic).occurrences(&topic).len(),
        3
    );
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `year=YYYY/month=MM/day=dd/hour=HH` of a UTC epoch-ms, computed independently of the
/// code under test.
fn chrono_like(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let hour = secs.rem_euclid(86_400) / 3600;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("year={y:04}/month={m:02}/day={d:02}/hour={hour:02}")
}

#[test]
fn a_paused_process_that_lost_its_partitions_cannot_commit_over_the_new_owner() {
    let Some(s) = setup("zombie") else { return };
    let topic = unique("zombie");
    create_topics(&s.brokers, &[&topic], 4);
    let batch = |from: i64, to: i64| -> Vec<Rec> {
        (0..4)
            .flat_map(|p| (from..to).map(move |i| (p, i)))
            .map(|(p, i)| rec(&topic, p, Some(&value(p, i, "acme")), None))
            .collect()
    };
    produce(&s.brokers, &batch(0, 100));
    let group = unique("zombie-group");
    let cfg = |extra: &str| {
        let mut v = sets(
            &s,
            &topic,
            &["flush.size=100000", "rotate.interval.ms=8000", extra],
        );
        v.retain(|x| !x.starts_with("name="));
        v.push(format!("name={group}"));
        v
    };
    let a_dir = s.dir.path().join("a");
    let a = Land::start(&a_dir, &fixture(), &s.brokers, &cfg("tasks.max=1"));
    eventually(Duration::from_secs(30), "A owns the partitions", || {
        a.log_text().matches("partition assigned").count() >= 4
    });
    // A consumes and buffers (its rotation is 8 s away), then is paused: a zombie.
    std::thread::sleep(Duration::from_secs(2));
    a.sigstop();

    let b = Land::start(
        &s.dir.path().join("b"),
        &fixture(),
        &s.brokers,
        &cfg("tasks.max=1"),
    );
    let store = store(&s.store_url);
    eventually_or(Duration::from_secs(90), "B lands what A held", &b, || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 400
    });
    produce(&s.brokers, &batch(100, 150));
    eventually_or(Duration::from_secs(60), "B lands new records", &b, || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 600
    });

    // The zombie wakes up with a full buffer of records B has already committed.
    a.sigcont();
    eventually(Duration::from_secs(60), "the zombie is fenced", || {
        a.log_text()
            .contains("another writer committed this range first")
    });
    // B stops gracefully (SIGTERM): A, back in the group, takes over every partition.
    assert_eq!(b.stop(), 0);
    produce(&s.brokers, &batch(150, 200));
    eventually_or(Duration::from_secs(90), "A lands after B left", &a, || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() == 800
    });
    let a_log = a.log.clone();
    let a_code = a.stop();
    assert_eq!(a_code, 0, "{}", std::fs::read_to_string(a_log).unwrap());

    let seen = Landed::read(&store, DIR, &topic).occurrences(&topic);
    assert_eq!(seen.len(), 800);
    assert!(seen.values().all(|n| *n == 1), "duplicates: {seen:?}");
}

#[test]
fn memory_stays_bounded_with_48_open_hours_and_sigterm_commits_the_rest() {
    let Some(s) = setup("hours") else { return };
    let topic = unique("hours");
    create_topics(&s.brokers, &[&topic], 2);
    let base = 1_763_683_200_000i64; // 2025-11-21T00:00:00Z
    let pad = "v".repeat(2000);
    // Every record of a partition goes to a different hour than the one before: 48 hour
    // directories are open at once.
    let records: Vec<Rec> = (0..2)
        .flat_map(|p| (0..960i64).map(move |i| (p, i)))
        .map(|(p, i)| {
            let v = format!(r#"{{"p":{p},"i":{i},"company_id":"acme","pad":"{pad}"}}"#);
            rec(
                &topic,
                p,
                Some(v.as_bytes()),
                Some(base + (i % 48) * 3_600_000 + i),
            )
        })
        .collect();
    produce(&s.brokers, &records);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(
            &s,
            &topic,
            &[
                "flush.size=100000",
                "rotate.interval.ms=600000",
                "timestamp.extractor=Record",
                "lakeshore.buffer.max.bytes=262144",
            ],
        ),
    );
    let store = store(&s.store_url);
    // Only the memory bound can commit before the stop (flush.size and rotation are far away).
    eventually_or(Duration::from_secs(120), "early commits", &land, || {
        Landed::read(&store, DIR, &topic).occurrences(&topic).len() >= 1000
    });
    // Graceful stop commits what was consumed: wait until everything was.
    eventually_or(
        Duration::from_secs(120),
        "all records consumed",
        &land,
        || metric(&land, "lakeshore_land_records_consumed_total") == 1920,
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", land.child.id())).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let log = land.log.clone();
    // SIGTERM: what is still buffered is committed, exit 0.
    assert_eq!(land.stop(), 0);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("lakeshore_land_early_flushes_total="), "{log}");
    assert!(hwm_kb < 150 * 1024, "peak RSS {hwm_kb} kB");
    let landed = Landed::read(&store, DIR, &topic);
    let seen = landed.occurrences(&topic);
    assert_eq!(seen.len(), 1920);
    assert!(seen.values().all(|n| *n == 1));
    let hours: std::collections::BTreeSet<&str> = landed
        .files
        .keys()
        .map(|p| p.rsplit_once('/').unwrap().0)
        .collect();
    assert_eq!(hours.len(), 48, "{hours:?}");
}

#[test]
fn missing_hdfs_permissions_stop_the_sink_naming_the_path_instead_of_retrying() {
    let Some(s) = setup("denied") else { return };
    let topic = unique("denied");
    create_topics(&s.brokers, &[&topic], 1);
    let records = acme_records(&topic, 3);
    produce(&s.brokers, &records);
    // The store's root belongs to the user the tests run as (HDFS's superuser here), mode
    // 755; the sink runs as another HDFS user, who may read but not write there.
    let store = store(&s.store_url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(store.put(
        &lakeshore_storage::parse_path("owner.txt").unwrap(),
        bytes::Bytes::from_static(b"not yours\n"),
    ))
    .unwrap();
    let mut land = Land::start_with_env(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(&s, &topic, &["flush.size=3"]),
        &[("HADOOP_USER_NAME", "lakeshore-intruder")],
    );
    // A permission error is final: the sink stops at once (exit 1) rather than retrying a
    // write that cannot succeed, and says who was refused what, where.
    let root = s.store_url.rsplit('/').next().unwrap();
    let refusal = stops_on(&mut land, "AccessControlException");
    assert!(refusal.contains("user=lakeshore-intruder"), "{refusal}");
    assert!(refusal.contains(&format!("/{root}")), "{refusal}");
    // Nothing was landed, and the records are still there for a run that may write.
    assert!(Landed::read(&store, DIR, &topic).files.is_empty());
    lands_once(&s, &topic, 3);
}

/// Waits for `land` to stop with status 1 on a storage error no retry cures, without
/// retrying it; returns the log line naming `exception`.
fn stops_on(land: &mut Land, exception: &str) -> String {
    let code = land.wait(Duration::from_secs(60));
    let log = land.log_text();
    assert_eq!(code, 1, "{log}");
    assert!(!log.contains("retrying"), "{log}");
    log.lines()
        .find(|l| l.contains(exception))
        .unwrap_or_else(|| panic!("no {exception} in:\n{log}"))
        .to_string()
}

/// A normal run (`flush.size=3`) lands all `n` records of partition 0 of `topic`, each once.
fn lands_once(s: &Setup, topic: &str, n: usize) {
    let store = store(&s.store_url);
    let land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(s, topic, &["flush.size=3"]),
    );
    eventually_or(Duration::from_secs(60), "records landed", &land, || {
        Landed::read(&store, DIR, topic).occurrences(topic).len() == n
    });
    assert_eq!(land.stop(), 0);
    let seen = Landed::read(&store, DIR, topic).occurrences(topic);
    assert!(seen.values().all(|c| *c == 1), "{seen:?}");
}

#[test]
fn an_exceeded_hdfs_quota_stops_the_sink_naming_it_and_loses_nothing() {
    let Some(s) = setup("quota") else { return };
    let topic = unique("quota");
    create_topics(&s.brokers, &[&topic], 1);
    produce(&s.brokers, &acme_records(&topic, 3));
    // The store's root, with a space quota smaller than one block: HDFS refuses the first
    // file the sink writes there.
    let root = format!("/{}", s.store_url.rsplit('/').next().unwrap());
    service_script("hdfs.sh", &["dfs", "-mkdir", "-p", &root]);
    service_script("hdfs.sh", &["dfsadmin", "-setSpaceQuota", "1k", &root]);
    let mut land = Land::start(
        s.dir.path(),
        &fixture(),
        &s.brokers,
        &sets(&s, &topic, &["flush.size=3"]),
    );
    // Retrying cannot cure a quota: the sink stops (exit 1) and names the quota and where.
    let refusal = stops_on(&mut land, "DSQuotaExceededException");
    assert!(refusal.contains(&root), "{refusal}");
    assert!(Landed::read(&store(&s.store_url), DIR, &topic)
        .files
        .is_empty());
    // Once the operator lifts the quota, a restart lands every record, once.
    service_script("hdfs.sh", &["dfsadmin", "-clrSpaceQuota", &root]);
    lands_once(&s, &topic, 3);
}
