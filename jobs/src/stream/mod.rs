//! Streaming jobs (which also run bounded, over a time range or landed files).

pub mod chunk_counts;
