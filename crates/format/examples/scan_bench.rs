//! Throughput of the scanner on `embeddings.ready`-shaped records (~25 KB each,
//! a 1536-float vector) next to serde_json.
//!
//! Run in release mode:
//!
//! ```text
//! cargo run --release -p lakeshore-format --example scan_bench [FILTER]
//! ```
//!
//! With `FILTER`, only the benchmarks whose name contains it run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lakeshore_format::{find_field, find_fields, validate, JsonRef};

const RECORDS: usize = 10_000;
const ROUNDS: usize = 5;

/// One record like the real ones: ids first, then 1536 floats printed with
/// ~12 decimals (≈ 25 KB in total). With `ids_last` the ids follow the vector,
/// the worst case for field lookup.
fn record(seed: u64, ids_last: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut vector = String::with_capacity(26_000);
    vector.push('[');
    for i in 0..1536 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            vector.push(',');
        }
        let f = (x % 2_000_000_000_000) as f64 / 1e12 - 1.0;
        vector.push_str(&f.to_string());
    }
    vector.push(']');
    let ids = format!(
        r#""chunk_id":"{seed:016x}-chunk","document_id":"doc-{:012x}","company_id":"company-{}""#,
        seed / 7,
        seed % 113
    );
    let doc = if ids_last {
        format!(r#"{{"vector":{vector},{ids}}}"#)
    } else {
        format!(r#"{{{ids},"vector":{vector}}}"#)
    };
    doc.into_bytes()
}

/// CPU time this thread has run, from Linux's `/proc/thread-self/schedstat`
/// (nanoseconds). The machine is shared, so wall time alone would charge us
/// for other processes' time slices.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Best-of-`ROUNDS` throughput of `f` over all records, in MB/s (10^6 bytes),
/// by thread CPU time where available and by wall time.
fn bench(name: &str, records: &[Vec<u8>], mut f: impl FnMut(&[u8]) -> usize) {
    if let Some(filter) = std::env::args().nth(1) {
        if !name.contains(&filter) {
            return;
        }
    }
    let bytes: usize = records.iter().map(Vec::len).sum();
    let (mut best_wall, mut best_cpu) = (Duration::MAX, Duration::MAX);
    let mut check = 0;
    for _ in 0..ROUNDS {
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        for r in records {
            check += f(black_box(r));
        }
        best_wall = best_wall.min(wall.elapsed());
        if let (Some(start), Some(end)) = (cpu, thread_cpu_time()) {
            best_cpu = best_cpu.min(end - start);
        }
    }
    let mbps = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    let cpu = if best_cpu == Duration::MAX {
        "n/a".to_string()
    } else {
        format!("{:.0}", mbps(best_cpu))
    };
    println!(
        "{name:<44} {cpu:>7} MB/s cpu {:>7.0} MB/s wall  ({:.2} µs/record wall, check {check})",
        mbps(best_wall),
        best_wall.as_secs_f64() * 1e6 / records.len() as f64
    );
}

fn main() {
    let records: Vec<Vec<u8>> = (0..RECORDS as u64).map(|s| record(s, false)).collect();
    let bytes: usize = records.iter().map(Vec::len).sum();
    println!(
        "{RECORDS} records, {:.1} KB average, {:.0} MB total, best of {ROUNDS} rounds\n",
        bytes as f64 / RECORDS as f64 / 1e3,
        bytes as f64 / 1e6
    );
    for r in &records {
        validate(r).expect("generated records are valid");
    }

    bench("memchr count of b'\"' (reference ceiling)", &records, |r| {
        memchr::memchr_iter(b'"', r).count()
    });
    bench("validate", &records, |r| usize::from(validate(r).is_ok()));
    bench("find_fields([company_id, document_id])", &records, |r| {
        let [c, d] = find_fields(r, ["company_id", "document_id"]).unwrap();
        c.as_ref().and_then(JsonRef::as_str).map_or(0, str::len)
            + d.as_ref().and_then(JsonRef::as_str).map_or(0, str::len)
    });
    bench(
        "find_field([\"vector\"]) (skips the array)",
        &records,
        |r| match find_field(r, &["vector"]) {
            Ok(Some(JsonRef::Raw(v))) => v.len(),
            _ => 0,
        },
    );
    bench("serde_json::from_slice::<IgnoredAny>", &records, |r| {
        usize::from(serde_json::from_slice::<serde::de::IgnoredAny>(r).is_ok())
    });
    bench(
        "serde_json::from_slice::<Value>",
        &records[..RECORDS / 10],
        |r| usize::from(serde_json::from_slice::<serde_json::Value>(r).is_ok()),
    );

    println!("\nids after the vector (find_fields must skip 25 KB):");
    let last: Vec<Vec<u8>> = (0..RECORDS as u64).map(|s| record(s, true)).collect();
    bench("find_fields([company_id, document_id])", &last, |r| {
        let [c, d] = find_fields(r, ["company_id", "document_id"]).unwrap();
        c.as_ref().and_then(JsonRef::as_str).map_or(0, str::len)
            + d.as_ref().and_then(JsonRef::as_str).map_or(0, str::len)
    });
    bench("validate", &last, |r| usize::from(validate(r).is_ok()));
}
