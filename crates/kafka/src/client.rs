//! Shared librdkafka client settings: brokers, security pass-through, logging.

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::ClientConfig;

/// What every client of a job shares.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Extra librdkafka settings (`security.protocol`, `sasl.*`, `ssl.*`, tuning), applied
    /// last: they win over Lakeshore's defaults.
    pub extra: Vec<(String, String)>,
}

impl ClientOptions {
    /// A client config with Lakeshore's `defaults`, then the user's settings.
    pub fn config(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set_log_level(RDKafkaLogLevel::Warning);
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }
}

/// Splits `--kafka-option KEY=VALUE` settings (trimmed); the error names the bad one.
pub fn parse_options(options: &[String]) -> Result<Vec<(String, String)>, String> {
    options
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("--kafka-option {o}: expected KEY=VALUE"))
        })
        .collect()
}

/// Whether a librdkafka (or Kafka Connect) setting holds a secret: a password, key
/// material, a JAAS config, a token. Its value is never printed.
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "jaas",
        "token",
        "key.pem",
        "keystore.key",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// `key=value` for logs, the value replaced when [`is_secret`].
pub fn redacted(key: &str, value: &str) -> String {
    if is_secret(key) {
        format!("{key}=[redacted]")
    } else {
        format!("{key}={value}")
    }
}

/// A client error for people. librdkafka's configuration errors repeat the value they
/// refused — possibly a password — so those keep the key and drop the value.
pub fn describe(e: &rdkafka::error::KafkaError) -> String {
    match e {
        rdkafka::error::KafkaError::ClientConfig(_, desc, key, _) => {
            format!("client config error: {desc} (setting `{key}`)")
        }
        other => other.to_string(),
    }
}

/// Routes librdkafka's logs and errors to `tracing`, without the noise: the end of a partition
/// is news to the source (it asks for it), not an error.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Logged;

impl rdkafka::ClientContext for Logged {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", fac, "{message}"),
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", fac, "{message}"),
            _ => tracing::debug!(target: "librdkafka", fac, "{message}"),
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        let eof = matches!(error, rdkafka::error::KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF);
        if !eof {
            tracing::warn!(target: "librdkafka", error = %error, "{reason}");
        }
    }
}

impl rdkafka::consumer::ConsumerContext for Logged {}

/// [`Logged`], plus each partition's end offset from librdkafka's statistics (every
/// `statistics.interval.ms`), for the lag a source reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndOffsets(
    pub std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<i32, i64>>>,
);

impl rdkafka::ClientContext for EndOffsets {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        Logged.log(level, fac, message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        Logged.error(error, reason);
    }

    fn stats(&self, statistics: rdkafka::Statistics) {
        if let Ok(mut ends) = self.0.lock() {
            for t in statistics.topics.values() {
                for (p, s) in &t.partitions {
                    if *p >= 0 && s.hi_offset >= 0 {
                        ends.insert(*p, s.hi_offset);
                    }
                }
            }
        }
    }
}

impl rdkafka::consumer::ConsumerContext for EndOffsets {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_never_repeat_the_value() {
        let Err(err) = ClientConfig::new()
            .set("sasl.oauthbearer.tokn", "tok-123")
            .create::<rdkafka::producer::BaseProducer>()
        else {
            panic!("an unknown setting was accepted");
        };
        assert!(
            err.to_string().contains("tok-123"),
            "librdkafka repeats it: {err}"
        );
        let text = describe(&err);
        assert!(!text.contains("tok-123"), "{text}");
        assert!(text.contains("sasl.oauthbearer.tokn"), "{text}");
        assert_eq!(redacted("sasl.password", "x"), "sasl.password=[redacted]");
        assert_eq!(redacted("sasl.username", "svc"), "sasl.username=svc");
    }

    #[test]
    fn options_split_at_the_first_equals_and_name_a_bad_one() {
        let ok = parse_options(&[" sasl.username = svc".into(), "a=b=c".into()]).unwrap();
        assert_eq!(
            ok,
            [
                ("sasl.username".into(), "svc".into()),
                ("a".into(), "b=c".into())
            ]
        );
        assert_eq!(
            parse_options(&["linger.ms".into()]).unwrap_err(),
            "--kafka-option linger.ms: expected KEY=VALUE"
        );
    }
}
