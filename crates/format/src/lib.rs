//! Zero-copy JSON field extraction and JSON-lines helpers for Lakeshore's hot
//! paths.
//!
//! Kafka record values are JSON events, some of them large (an
//! `embeddings.ready` event is ~25 KB, almost all of it a 1536-float vector).
//! Jobs usually need one or two string fields and the landing sink needs to
//! know the value is valid JSON on one line; neither should pay for parsing
//! 1536 floats into numbers or building a tree. This crate answers those
//! questions by scanning bytes:
//!
//! * [`validate`] checks a document against the full JSON grammar, accepting
//!   exactly what `serde_json::from_slice::<serde_json::Value>` accepts;
//! * [`find_field`] / [`find_fields`] / [`find_fields_into`] pull top-level (or nested) fields out as
//!   [`JsonRef`]s borrowed from the input, skipping other arrays and objects
//!   with `memchr` bracket matching;
//! * [`is_single_line`], [`compact`] and [`lines`](fn@lines) handle JSON-lines framing.
//!
//! ```
//! use lakeshore_format::{find_fields, validate, JsonRef};
//!
//! let doc = br#"{"chunk_id":"c1","document_id":"d1","company_id":"acme","vector":[0.1,-2e-3]}"#;
//! validate(doc)?;
//! let [company, document] = find_fields(doc, ["company_id", "document_id"])?;
//! assert_eq!(company.as_ref().and_then(JsonRef::as_str), Some("acme"));
//! assert_eq!(document.as_ref().and_then(JsonRef::as_str), Some("d1"));
//! # Ok::<(), lakeshore_format::ScanError>(())
//! ```
//!
//! The crate has no `unsafe` code and never recurses on input nesting.

pub mod lines;
pub mod scan;

pub use lines::{compact, is_single_line, lines};
pub use scan::{
    ends_object, find_field, find_fields, find_fields_into, members, validate, JsonRef, ScanError,
};
