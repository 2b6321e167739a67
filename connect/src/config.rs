//! The sink's configuration: Confluent HDFS 3 / S3 sink connector keys, read from a
//! `.properties` file verbatim, typed and checked once at start-up.
//!
//! [`KEYS`] is the single list of every key we accept, with its default and meaning; the
//! configuration reference in `docs/landing.md` is tested against it, and a key that is in
//! neither [`KEYS`] nor a pass-through family is an error naming it. Keys that only matter to
//! the JVM worker and have no effect here are accepted with a logged warning ([`Ignored`]).

use std::collections::{BTreeMap, HashMap};

use crate::error::ConfigError;
use crate::partition::{Partitioner, PartitionerSettings};
use crate::properties::Properties;
use crate::timestamp::TimestampExtractor;
use crate::transform::InsertField;

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// The key.
    pub key: &'static str,
    /// Its default, as text (`(required)` when there is none).
    pub default: &'static str,
    /// What it does here.
    pub doc: &'static str,
}

macro_rules! keys {
    ($( $key:literal = $default:literal : $doc:literal ),* $(,)?) => {
        /// Every key the landing sink understands, with its default and meaning.
        pub const KEYS: &[KeyDoc] = &[ $( KeyDoc { key: $key, default: $default, doc: $doc } ),* ];
    };
}

keys! {
    "name" = "(required)": "Connector name; the consumer group is `connect-<name>`.",
    "connector.class" = "(required)": "Must name Confluent's HDFS 3, HDFS 2 or S3 sink connector; Lakeshore behaves as that connector.",
    "tasks.max" = "1": "Parallel tasks (Kafka consumers) in this process; partitions are shared among them and among processes of the same group.",
    "topics" = "": "Comma-separated topics to land. Exactly one of `topics` and `topics.regex`.",
    "topics.regex" = "": "A regular expression (librdkafka syntax) selecting topics to land.",
    "hdfs.url" = "": "Store URL: `hdfs://namenode:8020`, `file:///dir`, `s3://bucket`, `memory://`. One of `hdfs.url` / `store.url` is required.",
    "store.url" = "": "Same as `hdfs.url` (the S3 connector's key).",
    "format.class" = "JsonFormat": "Only JSON (`...format.json.JsonFormat`): one value per line, bytes as produced.",
    "flush.size" = "(required)": "Records in one file before the partition's files are committed.",
    "rotate.interval.ms" = "-1": "Commit a partition's open files at most this long (wall time) after their first record; also lands quiet partitions. -1 disables.",
    "rotate.schedule.interval.ms" = "-1": "Commit every open file on a wall-clock schedule aligned to this interval (in `timezone`). -1 disables.",
    "partitioner.class" = "DefaultPartitioner": "DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, HourlyPartitioner or DailyPartitioner (short or fully-qualified names).",
    "path.format" = "": "Joda-Time pattern of the time partitioner's directories, e.g. `'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH`.",
    "partition.duration.ms" = "derived from path.format": "Bucket size of the time partitioner; derived from the finest field of `path.format` when absent.",
    "locale" = "": "Locale of `path.format` text fields (English locales only). Required by time-based partitioners.",
    "timezone" = "": "Time zone of the time partitioner's buckets and paths (e.g. `UTC`, `Europe/Berlin`). Required by time-based partitioners.",
    "partition.field.name" = "": "FieldPartitioner: comma-separated JSON fields of the value whose values name the directories.",
    "timestamp.extractor" = "Wallclock": "Wallclock, Record (the Kafka record timestamp) or RecordField (a field of the value).",
    "timestamp.field" = "timestamp": "RecordField: the value's field (dotted path for nested) holding epoch ms or an ISO-8601 time.",
    "topics.dir" = "topics": "Directory of committed data under the store URL.",
    "logs.dir" = "logs": "Directory of the commit logs (the exactly-once state) under the store URL.",
    "filename.offset.zero.pad.width" = "10": "Zero padding of the offsets in file names.",
    "errors.tolerance" = "none": "`none`: a bad record stops the sink with a message naming topic/partition/offset. `all`: it is counted and skipped or dead-lettered.",
    "errors.deadletterqueue.topic.name" = "": "With `errors.tolerance=all`: topic that receives bad records with the reason in headers.",
    "errors.deadletterqueue.context.headers.enable" = "true": "Add `__connect.errors.*` headers (topic, partition, offset, reason) to dead-lettered records.",
    "errors.deadletterqueue.topic.replication.factor" = "3": "Accepted for compatibility; the dead-letter topic must exist.",
    "errors.log.enable" = "false": "Log every tolerated bad record (they are always counted).",
    "errors.log.include.messages" = "false": "Include the record value in those logs.",
    "behavior.on.null.values" = "fail": "Null values (tombstones): `fail` or `ignore` (counted and skipped).",
    "bootstrap.servers" = "localhost:9092": "Kafka brokers (a worker key in Kafka Connect; `--brokers` overrides).",
    "retry.backoff.ms" = "5000": "Largest backoff between retries of a failing store or broker call.",
    "lakeshore.buffer.max.bytes" = "50331648": "Bytes this process buffers (shared evenly by its tasks) before a task commits its largest partition early (bounds memory).",
    "lakeshore.completeness.lateness.ms" = "0": "How long past the end of an hour records may still arrive before the hour's `_COMPLETE` marker is written.",
    "lakeshore.tmp.retention.ms" = "86400000": "In-progress files of a crashed writer older than this are removed from `+tmp` at recovery.",
}

/// Keys that only the JVM worker uses: accepted, logged as ignored.
const IGNORED: &[&str] = &[
    "key.converter",
    "value.converter",
    "key.converter.schemas.enable",
    "value.converter.schemas.enable",
    "header.converter",
    "storage.class",
    "schema.compatibility",
    "hive.integration",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.deadletterqueue.topic.replication.factor",
    "consumer.override.max.poll.records",
    "consumer.override.max.poll.interval.ms",
    "shutdown.timeout.ms",
    "connect.hdfs.principal",
    "connect.hdfs.keytab",
    "hdfs.namenode.principal",
    "kerberos.ticket.renew.period.ms",
];

/// Kafka client keys passed to librdkafka as they are (secrets never logged).
const KAFKA_PASSTHROUGH_PREFIXES: &[&str] = &["security.protocol", "sasl.", "ssl."];

/// Which topics to land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicSelection {
    /// An explicit list.
    List(Vec<String>),
    /// A regex subscription (librdkafka's `^` prefix convention).
    Regex(String),
}

/// What to do with a record that cannot be landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// `errors.tolerance=all`.
    pub tolerate: bool,
    /// Dead-letter topic, if any.
    pub dead_letter_topic: Option<String>,
    /// Add context headers to dead-lettered records.
    pub context_headers: bool,
    /// Log each tolerated bad record.
    pub log: bool,
    /// Include the value in that log.
    pub log_messages: bool,
}

/// `behavior.on.null.values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullBehavior {
    /// Stop with an error naming the record.
    Fail,
    /// Count and skip.
    Ignore,
}

/// The typed configuration of one `lakeshore land` process.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// `name`.
    pub name: String,
    /// `tasks.max`.
    pub tasks: usize,
    /// `topics` / `topics.regex`.
    pub topics: TopicSelection,
    /// `hdfs.url` / `store.url`.
    pub store_url: String,
    /// Backend options for the store (Hadoop keys from `hadoop.conf.*`, S3 keys).
    pub store_options: HashMap<String, String>,
    /// `flush.size`.
    pub flush_size: u64,
    /// `rotate.interval.ms`, when enabled.
    pub rotate_interval_ms: Option<u64>,
    /// `rotate.schedule.interval.ms`, when enabled.
    pub rotate_schedule_interval_ms: Option<u64>,
    /// The partitioner.
    pub partitioner: Partitioner,
    /// `timezone` (UTC when absent), used by the schedule rotation.
    pub timezone: chrono_tz::Tz,
    /// The timestamp extractor.
    pub timestamp: TimestampExtractor,
    /// `topics.dir`, without leading/trailing `/`.
    pub topics_dir: String,
    /// `logs.dir`, without leading/trailing `/`.
    pub logs_dir: String,
    /// `filename.offset.zero.pad.width`.
    pub zero_pad_width: usize,
    /// `errors.*`.
    pub errors: ErrorPolicy,
    /// `behavior.on.null.values`.
    pub null_values: NullBehavior,
    /// `transforms` with `InsertField$Value`, if configured.
    pub insert_field: Option<InsertField>,
    /// librdkafka properties of the consumer (bootstrap, security, overrides).
    pub kafka: BTreeMap<String, String>,
    /// `retry.backoff.ms`.
    pub retry_backoff_ms: u64,
    /// `lakeshore.buffer.max.bytes`.
    pub buffer_max_bytes: usize,
    /// `lakeshore.completeness.lateness.ms`.
    pub lateness_ms: i64,
    /// `lakeshore.tmp.retention.ms`.
    pub tmp_retention_ms: i64,
    /// Keys accepted but without effect here (for a start-up warning).
    pub ignored_keys: Vec<String>,
}

impl SinkConfig {
    /// The Kafka consumer group, as Kafka Connect names it.
    pub fn group_id(&self) -> String {
        format!("connect-{}", self.name)
    }

    /// Types and checks `props`. Every error names the key at fault.
    pub fn from_properties(props: &Properties) -> Result<SinkConfig, ConfigError> {
        let mut ignored_keys = Vec::new();
        let mut kafka = BTreeMap::new();
        let mut transform_keys = Vec::new();
        for (key, value) in props.iter() {
            if KEYS.iter().any(|k| k.key == key) {
                continue;
            }
            if IGNORED.contains(&key) {
                ignored_keys.push(key.to_string());
            } else if let Some(k) = key.strip_prefix("consumer.override.") {
                kafka.insert(k.to_string(), value.to_string());
            } else if key == "sasl.jaas.config" {
                // Java clients configure SASL/PLAIN and SCRAM credentials as a JAAS line;
                // librdkafka takes them as sasl.username / sasl.password.
                let (user, pass) = parse_jaas(value).ok_or_else(|| {
                    ConfigError::new(
                        key,
                        "expected `...LoginModule required username=\"...\" password=\"...\";` (PLAIN or SCRAM)",
                    )
                })?;
                kafka.insert("sasl.username".into(), user);
                kafka.insert("sasl.password".into(), pass);
            } else if KAFKA_PASSTHROUGH_PREFIXES
                .iter()
                .any(|p| key == *p || (p.ends_with('.') && key.starts_with(p)))
            {
                kafka.insert(key.to_string(), value.to_string());
            } else if key == "transforms" || key.starts_with("transforms.") {
                transform_keys.push(key);
            } else if let Some(k) = key.strip_prefix("hadoop.conf.") {
                // Hadoop client settings for hdfs:// (e.g. HA name services).
                let _ = k;
            } else {
                return Err(ConfigError::new(
                    key,
                    format!("unknown or unsupported key{}", suggestion(key)),
                ));
            }
        }

        let get = |k: &str| props.get(k).map(str::trim).filter(|v| !v.is_empty());
        let required = |k: &str| get(k).ok_or_else(|| ConfigError::new(k, "is required"));

        let name = required("name")?.to_string();
        let class = required("connector.class")?;
        const CONNECTORS: &[&str] = &[
            "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
            "io.confluent.connect.hdfs.HdfsSinkConnector",
            "io.confluent.connect.s3.S3SinkConnector",
        ];
        if !CONNECTORS.contains(&class) {
            return Err(ConfigError::new(
                "connector.class",
                format!("`{class}` is not a sink Lakeshore replaces; use one of {CONNECTORS:?}"),
            ));
        }
        if let Some(format) = get("format.class") {
            if !format.ends_with("JsonFormat") {
                return Err(ConfigError::new(
                    "format.class",
                    format!("`{format}`: only JsonFormat is supported"),
                ));
            }
        }
        if get("hive.integration").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(ConfigError::new(
                "hive.integration",
                "Hive metastore integration is not supported; readers discover partitions from the year=/month=/day=/hour= directories",
            ));
        }
        if get("hdfs.authentication.kerberos").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(ConfigError::new(
                "hdfs.authentication.kerberos",
                "Kerberos is taken from the environment (kinit ticket cache / KRB5CCNAME), not from the connector config",
            ));
        }

        let tasks = parse_num::<usize>(get, "tasks.max", 1)?;
        if tasks == 0 {
            return Err(ConfigError::new("tasks.max", "must be at least 1"));
        }
        let topics = match (get("topics"), get("topics.regex")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "topics.regex",
                    "set either `topics` or `topics.regex`, not both",
                ))
            }
            (Some(list), None) => {
                let topics: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect();
                for t in &topics {
                    if t.contains('/') || t.starts_with('.') || t.starts_with('+') {
                        return Err(ConfigError::new(
                            "topics",
                            format!("`{t}` is not a valid topic name"),
                        ));
                    }
                }
                TopicSelection::List(topics)
            }
            (None, Some(re)) => TopicSelection::Regex(if re.starts_with('^') {
                re.to_string()
            } else {
                format!("^{re}")
            }),
            (None, None) => {
                return Err(ConfigError::new("topics", "is required (or topics.regex)"))
            }
        };
        let store_url = get("store.url")
            .or(get("hdfs.url"))
            .ok_or_else(|| ConfigError::new("hdfs.url", "is required (or store.url)"))?
            .to_string();
        let store_options: HashMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("hadoop.conf.")
                    .map(|k| (k.to_string(), v.to_string()))
            })
            .collect();

        let flush_size = parse_num::<u64>(get, "flush.size", 0)?;
        if flush_size == 0 {
            return Err(ConfigError::new(
                "flush.size",
                "is required and must be at least 1",
            ));
        }
        let enabled = |k: &str| -> Result<Option<u64>, ConfigError> {
            let v = parse_num::<i64>(get, k, -1)?;
            Ok((v > 0).then_some(v as u64))
        };
        let rotate_interval_ms = enabled("rotate.interval.ms")?;
        let rotate_schedule_interval_ms = enabled("rotate.schedule.interval.ms")?;

        let partitioner = Partitioner::from_settings(&PartitionerSettings {
            class: get("partitioner.class").unwrap_or("DefaultPartitioner"),
            path_format: get("path.format"),
            partition_duration_ms: match get("partition.duration.ms") {
                Some(_) => Some(parse_num::<i64>(get, "partition.duration.ms", 0)?),
                None => None,
            },
            locale: get("locale"),
            timezone: get("timezone"),
            partition_field_name: get("partition.field.name"),
        })?;
        let timezone = match get("timezone") {
            Some(tz) => tz
                .parse::<chrono_tz::Tz>()
                .map_err(|e| ConfigError::new("timezone", e.to_string()))?,
            None => chrono_tz::UTC,
        };
        let timestamp = TimestampExtractor::from_settings(
            get("timestamp.extractor"),
            Some(get("timestamp.field").unwrap_or("timestamp")),
        )?;

        let dir = |k: &str, default: &str| -> Result<String, ConfigError> {
            let v = get(k).unwrap_or(default).trim_matches('/').to_string();
            lakeshore_storage::parse_path(&v).map_err(|e| ConfigError::new(k, e))?;
            Ok(v)
        };
        let topics_dir = dir("topics.dir", "topics")?;
        let logs_dir = dir("logs.dir", "logs")?;
        if topics_dir == logs_dir {
            return Err(ConfigError::new(
                "logs.dir",
                "must differ from topics.dir (readers would see the commit logs)",
            ));
        }
        let zero_pad_width = parse_num::<usize>(get, "filename.offset.zero.pad.width", 10)?;
        if !(1..=19).contains(&zero_pad_width) {
            return Err(ConfigError::new(
                "filename.offset.zero.pad.width",
                "must be between 1 and 19",
            ));
        }

        let tolerate = match get("errors.tolerance").unwrap_or("none") {
            "none" => false,
            "all" => true,
            other => {
                return Err(ConfigError::new(
                    "errors.tolerance",
                    format!("`{other}`: expected `none` or `all`"),
                ))
            }
        };
        let dead_letter_topic = get("errors.deadletterqueue.topic.name").map(String::from);
        if dead_letter_topic.is_some() && !tolerate {
            return Err(ConfigError::new(
                "errors.deadletterqueue.topic.name",
                "requires errors.tolerance=all (with `none` the first bad record stops the sink)",
            ));
        }
        let errors = ErrorPolicy {
            tolerate,
            dead_letter_topic,
            context_headers: parse_bool(
                get,
                "errors.deadletterqueue.context.headers.enable",
                true,
            )?,
            log: parse_bool(get, "errors.log.enable", false)?,
            log_messages: parse_bool(get, "errors.log.include.messages", false)?,
        };
        let null_values = match get("behavior.on.null.values").unwrap_or("fail") {
            "fail" => NullBehavior::Fail,
            "ignore" => NullBehavior::Ignore,
            other => {
                return Err(ConfigError::new(
                    "behavior.on.null.values",
                    format!("`{other}`: expected `fail` or `ignore`"),
                ))
            }
        };
        let insert_field = InsertField::from_properties(props, &transform_keys)?;

        kafka.insert(
            "bootstrap.servers".into(),
            get("bootstrap.servers").unwrap_or("localhost:9092").into(),
        );
        Ok(SinkConfig {
            name,
            tasks,
            topics,
            store_url,
            store_options,
            flush_size,
            rotate_interval_ms,
            rotate_schedule_interval_ms,
            partitioner,
            timezone,
            timestamp,
            topics_dir,
            logs_dir,
            zero_pad_width,
            errors,
            null_values,
            insert_field,
            kafka,
            retry_backoff_ms: parse_num::<u64>(get, "retry.backoff.ms", 5000)?,
            buffer_max_bytes: parse_num::<usize>(get, "lakeshore.buffer.max.bytes", 48 << 20)?,
            lateness_ms: parse_num::<i64>(get, "lakeshore.completeness.lateness.ms", 0)?,
            tmp_retention_ms: parse_num::<i64>(get, "lakeshore.tmp.retention.ms", 86_400_000)?,
            ignored_keys,
        })
    }

    /// The effective settings as `key=value` lines, secrets redacted (for `--print-config`
    /// and start-up logs).
    pub fn redacted_kafka(&self) -> Vec<(String, String)> {
        self.kafka
            .iter()
            .map(|(k, v)| {
                let v = if lakeshore_kafka::is_secret(k) {
                    "[redacted]".into()
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect()
    }
}

fn parse_num<'a, T: std::str::FromStr>(
    get: impl Fn(&str) -> Option<&'a str>,
    key: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(key) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| ConfigError::new(key, format!("`{v}` is not a valid number: {e}"))),
    }
}

fn parse_bool<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    key: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(key).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(ConfigError::new(
            key,
            format!("`{v}`: expected true or false"),
        )),
    }
}

/// `username="u" password="p"` out of a JAAS login line.
fn parse_jaas(line: &str) -> Option<(String, String)> {
    let field = |name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_string())
    };
    Some((field("username")?, field("password")?))
}

/// "did you mean" for a mistyped key: the known key with the smallest edit distance.
fn suggestion(key: &str) -> String {
    let best = KEYS
        .iter()
        .map(|k| (edit_distance(key, k.key), k.key))
        .min()
        .filter(|(d, _)| *d <= 3);
    match best {
        Some((_, k)) => format!(" (did you mean `{k}`?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties;

    const FIXTURE: &str = include_str!("../config/hdfs-sink-connector.properties");

    fn config(extra: &str) -> Result<SinkConfig, ConfigError> {
        let props = properties::parse(&format!("{FIXTURE}\n{extra}")).unwrap();
        SinkConfig::from_properties(&props)
    }

    #[test]
    fn the_users_fixture_is_accepted_verbatim() {
        let c = config("").unwrap();
        assert_eq!(c.group_id(), "connect-HdfsSinkAtenex");
        assert_eq!(c.tasks, 2);
        assert_eq!(
            c.topics,
            TopicSelection::List(vec![
                "documents.raw".into(),
                "chunks.processed".into(),
                "embeddings.ready".into()
            ])
        );
        assert_eq!(c.store_url, "hdfs://localhost:8020");
        assert_eq!(c.flush_size, 1000);
        assert_eq!(c.rotate_interval_ms, Some(600_000));
        assert_eq!(c.rotate_schedule_interval_ms, None);
        assert_eq!(c.topics_dir, "atenex/kafka-landing");
        assert_eq!(c.logs_dir, "atenex/kafka-connect/logs");
        assert_eq!(c.zero_pad_width, 10);
        assert!(!c.errors.tolerate);
        assert_eq!(c.null_values, NullBehavior::Fail);
        // Hourly buckets derived from the pattern, as the fixture omits partition.duration.ms.
        assert_eq!(
            c.partitioner.bucket_bounds(3_600_000 + 5),
            Some((3_600_000, 7_200_000))
        );
    }

    #[test]
    fn unknown_keys_are_errors_that_name_them() {
        let err = config("flush.sise=10").unwrap_err();
        assert_eq!(err.key, "flush.sise");
        assert!(err.message.contains("did you mean `flush.size`"), "{err}");
        let err =
            config("format.class=io.confluent.connect.hdfs3.format.avro.AvroFormat").unwrap_err();
        assert_eq!(err.key, "format.class");
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(config("flush.size=ten").unwrap_err().key, "flush.size");
        assert_eq!(config("tasks.max=0").unwrap_err().key, "tasks.max");
        assert_eq!(
            config("errors.tolerance=some").unwrap_err().key,
            "errors.tolerance"
        );
        assert_eq!(
            config("errors.deadletterqueue.topic.name=dlq")
                .unwrap_err()
                .key,
            "errors.deadletterqueue.topic.name"
        );
        assert_eq!(
            config("topics.regex=.*").unwrap_err().key,
            "topics.regex",
            "topics and topics.regex together"
        );
        assert_eq!(
            config("hive.integration=true").unwrap_err().key,
            "hive.integration"
        );
    }

    #[test]
    fn kafka_security_keys_pass_through_and_are_redacted() {
        let c = config(
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=hunter2\nconsumer.override.fetch.max.bytes=1000",
        )
        .unwrap();
        assert_eq!(c.kafka.get("security.protocol").unwrap(), "SASL_SSL");
        assert_eq!(c.kafka.get("fetch.max.bytes").unwrap(), "1000");
        let shown = format!("{:?}", c.redacted_kafka());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn a_java_jaas_line_becomes_librdkafka_credentials() {
        let c = config(
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"land\" password=\"s3cret\";",
        )
        .unwrap();
        assert_eq!(c.kafka.get("sasl.username").unwrap(), "land");
        assert_eq!(c.kafka.get("sasl.password").unwrap(), "s3cret");
        assert!(!format!("{:?}", c.redacted_kafka()).contains("s3cret"));
        assert_eq!(
            config("sasl.jaas.config=nonsense").unwrap_err().key,
            "sasl.jaas.config"
        );
    }

    #[test]
    fn worker_only_keys_are_accepted_and_reported() {
        let c = config("value.converter=org.apache.kafka.connect.json.JsonConverter").unwrap();
        assert_eq!(c.ignored_keys, vec!["value.converter".to_string()]);
    }

    /// The configuration reference in docs/landing.md is this table: every key, its default
    /// and its meaning, so the docs cannot drift from the code.
    #[test]
    fn docs_list_every_key_with_its_default() {
        let docs = include_str!("../../docs/landing.md");
        let expected: String = KEYS
            .iter()
            .map(|k| format!("| `{}` | {} | {} |\n", k.key, k.default, k.doc))
            .collect();
        assert!(
            docs.contains(&expected),
            "docs/landing.md must contain the key table exactly as the code has it:\n{expected}"
        );
    }
}
