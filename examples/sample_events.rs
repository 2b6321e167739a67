//! Produces a small, realistic sample of the document-AI platform's events to a broker:
//! `documents.raw`, `chunks.processed` and `embeddings.ready` (1536-float vectors), keyed by
//! document_id, with record timestamps spread over the last three hours. Used by
//! `scripts/demo.sh`.
//!
//! `cargo run --example sample_events -- <brokers> [documents]`

use std::time::Duration;

use rand::Rng;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

fn main() {
    let mut args = std::env::args().skip(1);
    let brokers = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let documents: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "20")
        .create()
        .expect("producer");
    let mut rng = rand::rng();
    let companies = ["acme", "globex", "initech", "umbrella", "hooli"];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut counts = [0usize; 3];
    let send = |topic: &str, key: &str, value: String, ts: i64| {
        let mut rec = BaseRecord::to(topic).key(key).payload(&value).timestamp(ts);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    };
    for d in 0..documents {
        let company = companies[d % companies.len()];
        let doc = format!("doc-{d:05}");
        let ts = now - rng.random_range(0..3 * 3_600_000);
        send(
            "documents.raw",
            &doc,
            format!(
                r#"{{"document_id":"{doc}","company_id":"{company}","s3_path":"s3://atenex-ingest/{company}/{doc}.pdf"}}"#
            ),
            ts,
        );
        counts[0] += 1;
        for c in 0..rng.random_range(2..6) {
            let chunk = format!("{doc}-c{c}");
            let page = c / 2 + 1;
            send(
                "chunks.processed",
                &doc,
                format!(
                    r#"{{"chunk_id":"{chunk}","document_id":"{doc}","company_id":"{company}","text":"Section {c} of {doc}: quarterly figures and notes.","page":{page}}}"#
                ),
                ts + 1000 + c as i64,
            );
            counts[1] += 1;
            let vector: Vec<String> = (0..1536)
                .map(|_| format!("{:.8}", rng.random_range(-1.0f64..1.0)))
                .collect();
            send(
                "embeddings.ready",
                &doc,
                format!(
                    r#"{{"chunk_id":"{chunk}","document_id":"{doc}","company_id":"{company}","vector":[{}]}}"#,
                    vector.join(",")
                ),
                ts + 2000 + c as i64,
            );
            counts[2] += 1;
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
    println!(
        "produced documents.raw={} chunks.processed={} embeddings.ready={}",
        counts[0], counts[1], counts[2]
    );
}
