//! Kafka Connect's `InsertField$Value` single message transform, on raw JSON bytes.
//!
//! Operators add the record's Kafka timestamp (and offset, partition, topic) to each landed
//! value so that jobs replaying the landed files know the event time. Connect writes these
//! fields into schemaless values as numbers (timestamp: epoch milliseconds) and strings; we
//! append them to the JSON object's text without re-serialising the rest of the value.

use crate::error::{ConfigError, RecordError};
use crate::properties::Properties;

const INSERT_FIELD: &str = "org.apache.kafka.connect.transforms.InsertField$Value";

/// The fields to insert, as configured (`transforms.<name>.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsertField {
    /// `timestamp.field`: record timestamp, epoch ms.
    pub timestamp: Option<String>,
    /// `offset.field`.
    pub offset: Option<String>,
    /// `partition.field`.
    pub partition: Option<String>,
    /// `topic.field`.
    pub topic: Option<String>,
    /// `static.field` and `static.value`.
    pub static_field: Option<(String, String)>,
}

/// What one record contributes to the inserted fields.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Kafka partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Kafka record timestamp (ms), if any.
    pub timestamp_ms: Option<i64>,
}

impl InsertField {
    /// Reads the `transforms` chain. Only `InsertField$Value` transforms are supported; several
    /// are merged in order.
    pub fn from_properties(
        props: &Properties,
        keys: &[&str],
    ) -> Result<Option<InsertField>, ConfigError> {
        let Some(names) = props
            .get("transforms")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            if let Some(k) = keys.first() {
                return Err(ConfigError::new(*k, "set without `transforms` naming it"));
            }
            return Ok(None);
        };
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        let mut out = InsertField::default();
        for key in keys.iter().filter(|k| **k != "transforms") {
            let rest = &key["transforms.".len()..];
            let Some((name, setting)) = rest.split_once('.') else {
                return Err(ConfigError::new(
                    *key,
                    "expected transforms.<name>.<setting>",
                ));
            };
            if !names.contains(&name) {
                return Err(ConfigError::new(
                    *key,
                    format!("transform `{name}` is not listed in `transforms`"),
                ));
            }
            let value = props.get(key).unwrap_or_default().trim();
            // Connect's `!` / `?` suffixes mark required/optional fields; both insert the same.
            let field = || Some(value.trim_end_matches(['!', '?']).to_string());
            match setting {
                "type" if value == INSERT_FIELD => {}
                "type" => {
                    return Err(ConfigError::new(
                        *key,
                        format!("`{value}` is not supported; only {INSERT_FIELD}"),
                    ))
                }
                "timestamp.field" => out.timestamp = field(),
                "offset.field" => out.offset = field(),
                "partition.field" => out.partition = field(),
                "topic.field" => out.topic = field(),
                "static.field" => {
                    let v = out.static_field.take().map(|(_, v)| v).unwrap_or_default();
                    out.static_field = Some((field().unwrap_or_default(), v));
                }
                "static.value" => {
                    let f = out.static_field.take().map(|(f, _)| f).unwrap_or_default();
                    out.static_field = Some((f, value.to_string()));
                }
                _ => return Err(ConfigError::new(*key, "unknown InsertField setting")),
            }
        }
        for name in &names {
            if props.get(&format!("transforms.{name}.type")).is_none() {
                return Err(ConfigError::new(
                    format!("transforms.{name}.type"),
                    "is required",
                ));
            }
        }
        Ok(Some(out))
    }

    /// Appends the configured fields to a JSON object value, writing into `out`.
    pub fn apply(
        &self,
        value: &[u8],
        meta: &RecordMeta<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        let end = value
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .filter(|&i| value[i] == b'}')
            .ok_or_else(|| RecordError("InsertField needs a JSON object value".into()))?;
        let body = &value[..end];
        let empty = body
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .is_some_and(|i| body[i] == b'{');
        out.extend_from_slice(body);
        let mut first = empty;
        let mut push = |out: &mut Vec<u8>, name: &str, json: &str| {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(serde_json::to_string(name).unwrap_or_default().as_bytes());
            out.push(b':');
            out.extend_from_slice(json.as_bytes());
        };
        if let Some(f) = &self.timestamp {
            let ts = meta
                .timestamp_ms
                .ok_or_else(|| RecordError("record has no timestamp for InsertField".into()))?;
            push(out, f, &ts.to_string());
        }
        if let Some(f) = &self.offset {
            push(out, f, &meta.offset.to_string());
        }
        if let Some(f) = &self.partition {
            push(out, f, &meta.partition.to_string());
        }
        if let Some(f) = &self.topic {
            push(
                out,
                f,
                &serde_json::to_string(meta.topic).unwrap_or_default(),
            );
        }
        if let Some((f, v)) = &self.static_field {
            push(out, f, &serde_json::to_string(v).unwrap_or_default());
        }
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties;

    fn insert(text: &str) -> Result<Option<InsertField>, ConfigError> {
        let props = properties::parse(text).unwrap();
        let keys: Vec<&str> = props
            .keys()
            .filter(|k| k.starts_with("transforms"))
            .collect();
        InsertField::from_properties(&props, &keys)
    }

    const META: RecordMeta<'static> = RecordMeta {
        topic: "embeddings.ready",
        partition: 3,
        offset: 42,
        timestamp_ms: Some(1_763_719_500_123),
    };

    #[test]
    fn inserts_kafka_metadata_as_connect_does() {
        let t = insert(
            "transforms=ts\ntransforms.ts.type=org.apache.kafka.connect.transforms.InsertField$Value\ntransforms.ts.timestamp.field=kafka_ts\ntransforms.ts.offset.field=kafka_offset!\ntransforms.ts.topic.field=kafka_topic",
        )
        .unwrap()
        .unwrap();
        let mut out = Vec::new();
        t.apply(br#"{"company_id":"acme"} "#, &META, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"company_id":"acme","kafka_ts":1763719500123,"kafka_offset":42,"kafka_topic":"embeddings.ready"}"#
        );
        let mut out = Vec::new();
        t.apply(b"{ }", &META, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{ "kafka_ts":1763719500123,"kafka_offset":42,"kafka_topic":"embeddings.ready"}"#
        );
    }

    #[test]
    fn non_objects_are_record_errors() {
        let t = InsertField {
            offset: Some("o".into()),
            ..Default::default()
        };
        assert!(t.apply(b"[1,2]", &META, &mut Vec::new()).is_err());
        assert!(t.apply(b"\"s\"", &META, &mut Vec::new()).is_err());
    }

    #[test]
    fn other_transforms_are_config_errors() {
        let err = insert(
            "transforms=x\ntransforms.x.type=org.apache.kafka.connect.transforms.Cast$Value",
        )
        .unwrap_err();
        assert_eq!(err.key, "transforms.x.type");
        let err = insert("transforms=x").unwrap_err();
        assert_eq!(err.key, "transforms.x.type");
    }
}
