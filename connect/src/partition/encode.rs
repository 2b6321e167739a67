//! Making a record field value safe to use as one directory name.
//!
//! The field partitioner puts record data into paths (`country=<value>`), so a value must never
//! be able to add a level (`/`, `\`), climb out of its directory (`..`), hide itself from Hive and
//! MapReduce input listing (a leading `.`), or produce a name HDFS rejects (`:`, control
//! characters, more than 255 bytes). This module owns that escaping. It is Hive-compatible:
//! the characters Hive's `FileUtils.escapePathName` escapes are percent-encoded the same way
//! (uppercase hex), so Hive's `unescapePathName` reads the original value back; on top of
//! that a leading dot becomes `%2E`, which Hive also decodes.

use crate::error::RecordError;

/// What Hive writes for a null or empty partition value.
pub const HIVE_DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The longest directory name (in bytes) HDFS and common file systems accept.
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Whether Hive's `FileUtils.escapePathName` escapes `c`: every control character below
/// 0x20 (NUL included), DEL, and `"` `#` `%` `'` `*` `/` `:` `=` `?` `\` `{` `[` `]` `^`.
fn needs_escaping(c: char) -> bool {
    matches!(
        c,
        '\u{00}'
            ..='\u{1f}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7f}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

/// Encodes `value` as a single, safe path segment.
///
/// - characters Hive escapes become `%XX` (uppercase hex; all of them are ASCII);
/// - a leading `.` becomes `%2E`, so `.`, `..` and hidden names can never be produced;
/// - the empty string becomes `__HIVE_DEFAULT_PARTITION__`, as in Hive;
/// - everything else (non-ASCII included) is kept as is.
///
/// Fails when the encoded segment is longer than 255 bytes.
pub fn encode_segment(value: &str) -> Result<String, RecordError> {
    if value.is_empty() {
        return Ok(HIVE_DEFAULT_PARTITION.to_string());
    }
    let mut out = String::with_capacity(value.len() + 8);
    for (i, c) in value.char_indices() {
        if needs_escaping(c) || (i == 0 && c == '.') {
            push_percent(&mut out, c as u8);
        } else {
            out.push(c);
        }
    }
    if out.len() > MAX_SEGMENT_BYTES {
        return Err(RecordError(format!(
            "field value is {} bytes encoded; a path segment is at most {MAX_SEGMENT_BYTES}",
            out.len()
        )));
    }
    Ok(out)
}

fn push_percent(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 0xf)] as char);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hive's `FileUtils.unescapePathName` (test-only): `%XX` back to the character.
    pub(crate) fn decode_segment(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit()
            {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn examples() {
        assert_eq!(
            encode_segment("plain-value_1 ok").unwrap(),
            "plain-value_1 ok"
        );
        assert_eq!(encode_segment("a/b").unwrap(), "a%2Fb");
        assert_eq!(encode_segment("a\\b").unwrap(), "a%5Cb");
        assert_eq!(encode_segment("100%").unwrap(), "100%25");
        assert_eq!(encode_segment("k=v").unwrap(), "k%3Dv");
        assert_eq!(encode_segment("12:30").unwrap(), "12%3A30");
        assert_eq!(
            encode_segment("\"#'*?{[]^").unwrap(),
            "%22%23%27%2A%3F%7B%5B%5D%5E"
        );
        assert_eq!(
            encode_segment("\u{0}\u{1}\t\n\u{1f}\u{7f}").unwrap(),
            "%00%01%09%0A%1F%7F"
        );
        // Not escaped by Hive: space, braces' partner `}`, `&`, `+`, `,`, non-ASCII.
        assert_eq!(encode_segment("a b}&+,é日本").unwrap(), "a b}&+,é日本");
        assert_eq!(encode_segment("").unwrap(), "__HIVE_DEFAULT_PARTITION__");
    }

    #[test]
    fn dots() {
        assert_eq!(encode_segment(".").unwrap(), "%2E");
        assert_eq!(encode_segment("..").unwrap(), "%2E.");
        assert_eq!(encode_segment(".hidden").unwrap(), "%2Ehidden");
        assert_eq!(encode_segment("../etc").unwrap(), "%2E.%2Fetc");
        assert_eq!(encode_segment("a.b..").unwrap(), "a.b..");
    }

    #[test]
    fn length_limit() {
        assert_eq!(encode_segment(&"x".repeat(255)).unwrap().len(), 255);
        let e = encode_segment(&"x".repeat(256)).unwrap_err();
        assert_eq!(
            e.0,
            "field value is 256 bytes encoded; a path segment is at most 255"
        );
        // The limit applies after encoding: 100 slashes are 300 bytes.
        let e = encode_segment(&"/".repeat(100)).unwrap_err();
        assert_eq!(
            e.0,
            "field value is 300 bytes encoded; a path segment is at most 255"
        );
        // And counts UTF-8 bytes: 86 three-byte characters are 258 bytes.
        assert!(encode_segment(&"日".repeat(86)).is_err());
        assert!(encode_segment(&"日".repeat(85)).is_ok());
    }

    #[test]
    fn decoder_reads_hive_escapes() {
        assert_eq!(decode_segment("a%2Fb%3D%25"), "a/b=%");
        assert_eq!(decode_segment("%2E."), "..");
        assert_eq!(decode_segment("50%"), "50%");
    }

    proptest! {
        #[test]
        fn encoded_is_safe_and_reversible(value in any::<String>()) {
            match encode_segment(&value) {
                Ok(seg) => {
                    prop_assert!(!seg.contains('/'));
                    prop_assert!(!seg.contains('\\'));
                    prop_assert!(seg != "." && seg != "..");
                    prop_assert!(!seg.starts_with('.'));
                    prop_assert!(!seg.is_empty());
                    prop_assert!(seg.len() <= MAX_SEGMENT_BYTES);
                    prop_assert!(!seg.chars().any(|c| c.is_ascii_control()));
                    if value.is_empty() {
                        prop_assert_eq!(seg, HIVE_DEFAULT_PARTITION);
                    } else {
                        prop_assert_eq!(decode_segment(&seg), value);
                    }
                }
                Err(e) => prop_assert!(e.0.contains("at most 255")),
            }
        }

        #[test]
        fn tricky_ascii_is_reversible(value in "[./\\\\%:=a-c\\x00-\\x1f\\x7f]{0,40}") {
            let seg = encode_segment(&value).unwrap();
            prop_assert!(!seg.contains('/') && !seg.contains('\\') && !seg.starts_with('.'));
            if !value.is_empty() {
                prop_assert_eq!(decode_segment(&seg), value);
            }
        }
    }
}
