//! JSON-lines helpers for the landing sink: one-line checks, compaction and
//! line iteration.

use memchr::{memchr2, memchr_iter};

use crate::scan::{validate, ScanError};

/// True if the bytes contain no `'\n'` or `'\r'` (the value can be written as
/// one JSON-lines line as is).
///
/// A valid JSON document can only contain these bytes as whitespace between
/// tokens (strings may not hold raw control characters), so for valid JSON
/// `false` means [`compact`] will produce a one-line equivalent.
pub fn is_single_line(doc: &[u8]) -> bool {
    memchr2(b'\n', b'\r', doc).is_none()
}

/// Re-serialises a valid JSON document compactly on one line: removes
/// whitespace outside strings, byte-for-byte otherwise (key order, number
/// text, string escapes kept exactly). Errors if `doc` is not valid JSON (as
/// decided by [`validate`]).
///
/// The output never contains `'\n'` or `'\r'`: outside strings they were
/// whitespace and are dropped, and a valid string cannot contain them raw.
pub fn compact(doc: &[u8]) -> Result<Vec<u8>, ScanError> {
    validate(doc)?;
    let mut out = Vec::with_capacity(doc.len());
    let mut i = 0;
    while i < doc.len() {
        match doc[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let end = string_end(doc, i + 1);
                out.extend_from_slice(&doc[i..end]);
                i = end;
            }
            _ => {
                // A run of token bytes (numbers, literals, punctuation):
                // copied in one go up to the next whitespace or string.
                let run = doc[i..]
                    .iter()
                    .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"'))
                    .map_or(doc.len(), |n| i + n);
                out.extend_from_slice(&doc[i..run]);
                i = run;
            }
        }
    }
    Ok(out)
}

/// The index after the closing quote of the (already validated) string whose
/// body starts at `i`.
fn string_end(doc: &[u8], mut i: usize) -> usize {
    while let Some(off) = memchr2(b'"', b'\\', &doc[i..]) {
        if doc[i + off] == b'"' {
            return i + off + 1;
        }
        i += off + 2; // step over the escaped byte
    }
    doc.len()
}

/// Iterates the non-empty lines of a JSON-lines buffer with their 1-based line
/// numbers (handles a missing final newline and `\r\n`).
///
/// Lines are split on `'\n'`; one trailing `'\r'` is removed from each line.
/// Lines that are then empty are skipped but still counted, so numbers match
/// what an editor shows. Whitespace-only lines are yielded as they are.
pub fn lines(buf: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    let mut number = 0;
    let mut newlines = memchr_iter(b'\n', buf);
    std::iter::from_fn(move || loop {
        if start > buf.len() {
            return None;
        }
        let end = newlines.next().unwrap_or(buf.len());
        let line = &buf[start..end];
        start = end + 1;
        number += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            return Some((number, line));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::{arb_value, mutated_json, serialise};
    use proptest::prelude::*;
    use serde_json::Value;

    fn collect(buf: &[u8]) -> Vec<(usize, &[u8])> {
        lines(buf).collect()
    }

    #[test]
    fn single_line() {
        assert!(is_single_line(b""));
        assert!(is_single_line(br#"{"a":"x\ny"}"#)); // an escaped newline is fine
        assert!(!is_single_line(b"{\"a\":\n1}"));
        assert!(!is_single_line(b"{\"a\":1}\r"));
    }

    #[test]
    fn compact_keeps_tokens_byte_for_byte() {
        let doc = b" {\n  \"k e y\" : [ 1.50 , -0.0E+1, \"a \\u00e9\\n\\\"b\" ],\r\n\t\"z\":{ } , \"n\" : null }\n";
        let out = compact(doc).unwrap();
        assert_eq!(
            out,
            br#"{"k e y":[1.50,-0.0E+1,"a \u00e9\n\"b"],"z":{},"n":null}"#
        );
        assert!(is_single_line(&out));
        assert_eq!(compact(b"  7 ").unwrap(), b"7");
        assert_eq!(compact(b"\"  \"").unwrap(), b"\"  \"");
        assert_eq!(compact(b"[1,2,]").unwrap_err().offset, 5);
        assert!(compact(b"{\"a\":1}\n{\"a\":2}").is_err());
        assert!(compact(b"").is_err());
    }

    #[test]
    fn lines_numbers_and_terminators() {
        assert_eq!(collect(b""), vec![]);
        assert_eq!(collect(b"\n\r\n\n"), vec![]);
        assert_eq!(collect(b"x"), vec![(1, &b"x"[..])]);
        assert_eq!(
            collect(b"{\"a\":1}\n\n{\"b\":2}\r\n  \n{\"c\":3}"),
            vec![
                (1, &b"{\"a\":1}"[..]),
                (3, b"{\"b\":2}"),
                (4, b"  "),
                (5, b"{\"c\":3}"),
            ]
        );
        assert_eq!(collect(b"a\nb\n"), vec![(1, &b"a"[..]), (2, b"b")]);
        // Only one '\r' before the '\n' is a terminator; a lone '\r' is content.
        assert_eq!(
            collect(b"a\r\r\nb\rc"),
            vec![(1, &b"a\r"[..]), (2, b"b\rc")]
        );
    }

    proptest! {
        #[test]
        fn compact_of_pretty_is_compact_serialisation(v in arb_value()) {
            let pretty = serialise(&v, true);
            let out = compact(&pretty).unwrap();
            prop_assert!(is_single_line(&out));
            // serde_json's two layouts differ only in whitespace outside strings.
            prop_assert_eq!(&out, &serialise(&v, false));
            prop_assert_eq!(
                serde_json::from_slice::<Value>(&out).unwrap(),
                serde_json::from_slice::<Value>(&pretty).unwrap()
            );
            prop_assert_eq!(compact(&out).unwrap(), out);
        }

        #[test]
        fn compact_fails_exactly_when_invalid(doc in mutated_json()) {
            match compact(&doc) {
                Ok(out) => {
                    prop_assert!(is_single_line(&out));
                    prop_assert!(serde_json::from_slice::<Value>(&out).is_ok());
                }
                Err(e) => prop_assert_eq!(Err(e), validate(&doc)),
            }
        }

        #[test]
        fn lines_round_trip(values in prop::collection::vec(arb_value(), 0..8), crlf in any::<bool>(), final_newline in any::<bool>()) {
            let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let mut buf = Vec::new();
            let mut expected = Vec::new();
            for (i, v) in values.iter().enumerate() {
                let line = compact(&serialise(v, true)).unwrap();
                buf.extend_from_slice(&line);
                if i + 1 < values.len() || final_newline {
                    buf.extend_from_slice(sep);
                }
                expected.push((i + 1, line));
            }
            let got: Vec<(usize, Vec<u8>)> = lines(&buf).map(|(n, l)| (n, l.to_vec())).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
