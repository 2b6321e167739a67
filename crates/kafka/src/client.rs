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
