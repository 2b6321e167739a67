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
