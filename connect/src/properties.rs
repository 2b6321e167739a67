//! Java `.properties` parsing, exactly as `java.util.Properties.load` reads a file.
//!
//! Kafka Connect's worker (`connect-standalone`) hands the connector properties file to
//! `Properties.load`, so a drop-in replacement must read the same bytes into the same keys and
//! values, quirks included: `#`/`!` comments only at the start of a logical line, `=`, `:` or
//! whitespace as the separator (the value is everything after the *first* unescaped one, so
//! `path.format='year'=YYYY` keeps its `=`), backslash line continuations that drop the leading
//! whitespace of the continued line, `\uXXXX` escapes, any other `\x` meaning `x`, and trailing
//! whitespace kept in values. This module owns that grammar and nothing else: it knows no keys.
//!
//! Unlike Java, which decodes the file as ISO-8859-1, [`parse`] takes UTF-8 text; non-ASCII
//! characters therefore come through as written instead of as mojibake.

use std::collections::HashMap;

/// A syntax error in a properties file, with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PropertiesError {
    /// 1-based line number of the logical line at fault (where it starts).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    value: String,
    /// Line of the definition in effect; `None` when set by [`Properties::set`].
    line: Option<usize>,
}

/// The key/value pairs of a properties file, in file order, with their line numbers.
///
/// A key defined twice keeps the position of its first definition and the value (and line) of
/// its last one, as `Properties.load` keeps the last value; every overridden definition is
/// recorded in [`Properties::duplicates`] so the caller can warn about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    duplicates: Vec<(String, usize)>,
}

impl Properties {
    /// An empty set of properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses properties text; the same as the free function [`parse`].
    pub fn parse(text: &str) -> Result<Properties, PropertiesError> {
        parse(text)
    }

    /// The value of `key`, if defined.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.index.get(key).map(|&i| self.entries[i].value.as_str())
    }

    /// Defines or overrides `key` (e.g. from a `--set key=value` flag); the later call wins.
    ///
    /// An overridden key keeps its position; [`Properties::line_of`] then answers `None`,
    /// because the value in effect no longer comes from the file. Overrides made this way are
    /// not recorded as duplicates.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert(key.into(), value.into(), None);
    }

    /// The (key, value) pairs in file order (keys set later come after the file's keys).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// The keys in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|e| e.key.as_str())
    }

    /// The 1-based line where the value in effect for `key` was defined; `None` if the key is
    /// undefined or was last set with [`Properties::set`].
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.index.get(key).and_then(|&i| self.entries[i].line)
    }

    /// Every definition that overrode an earlier one in the file: (key, line of the later
    /// definition), in file order.
    pub fn duplicates(&self) -> &[(String, usize)] {
        &self.duplicates
    }

    /// How many distinct keys are defined.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is defined.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn insert(&mut self, key: String, value: String, line: Option<usize>) {
        match self.index.get(&key) {
            Some(&i) => {
                if let Some(l) = line {
                    self.duplicates.push((key, l));
                }
                let entry = &mut self.entries[i];
                entry.value = value;
                entry.line = line;
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push(Entry { key, value, line });
            }
        }
    }
}

/// Parses the text of a `.properties` file the way `java.util.Properties.load` does.
///
/// Errors only on a malformed `\uXXXX` escape (fewer than four hex digits) or one that leaves
/// an unpaired UTF-16 surrogate (which Java would keep but no Rust string can hold).
pub fn parse(text: &str) -> Result<Properties, PropertiesError> {
    let mut props = Properties::new();
    let mut reader = LineReader::new(text);
    while let Some((line, number)) = reader.read_line() {
        let (key, value) = split_key_value(&line);
        let key = unescape(key, number)?;
        let value = unescape(value, number)?;
        props.insert(key, value, Some(number));
    }
    Ok(props)
}

/// Is `c` one of the three characters `Properties.load` treats as whitespace?
fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0c'
}

/// Java's `Properties.LineReader`: natural lines joined into logical lines, comments and blank
/// lines skipped, leading whitespace dropped. Backslash escapes are left in place (only the
/// continuation backslash is removed) for [`unescape`] to interpret.
struct LineReader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    /// 1-based line of the next character.
    line: usize,
}

impl<'a> LineReader<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            chars: text.chars().peekable(),
            line: 1,
        }
    }

    /// The next character and the line it is on. `\r\n`, `\r` and `\n` each end one line.
    fn next_char(&mut self) -> Option<(char, usize)> {
        let c = self.chars.next()?;
        let line = self.line;
        if c == '\n' || (c == '\r' && self.chars.peek() != Some(&'\n')) {
            self.line += 1;
        }
        Some((c, line))
    }

    /// The next logical line and the line it starts on; `None` at the end of the text.
    fn read_line(&mut self) -> Option<(Vec<char>, usize)> {
        let mut buf: Vec<char> = Vec::new();
        let mut start = self.line;
        let mut skip_white_space = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        loop {
            let Some((c, line)) = self.next_char() else {
                if buf.is_empty() {
                    return None;
                }
                if preceding_backslash {
                    buf.pop();
                }
                return Some((buf, start));
            };
            if skip_white_space {
                if is_ws(c) {
                    continue;
                }
                if !appended_line_begin && (c == '\r' || c == '\n') {
                    continue;
                }
                skip_white_space = false;
                appended_line_begin = false;
            }
            if buf.is_empty() && (c == '#' || c == '!') {
                // A comment: consume the rest of the natural line, its terminator included.
                while let Some((c, _)) = self.next_char() {
                    if c == '\r' || c == '\n' {
                        break;
                    }
                }
                skip_white_space = true;
                continue;
            }
            if c != '\n' && c != '\r' {
                if buf.is_empty() {
                    start = line;
                }
                buf.push(c);
                preceding_backslash = c == '\\' && !preceding_backslash;
                continue;
            }
            // End of a natural line.
            if buf.is_empty() {
                skip_white_space = true;
                continue;
            }
            if self.chars.peek().is_none() {
                if preceding_backslash {
                    buf.pop();
                }
                return Some((buf, start));
            }
            if preceding_backslash {
                // The backslash is not part of the line; the next line continues it, without
                // its leading whitespace.
                buf.pop();
                skip_white_space = true;
                appended_line_begin = true;
                preceding_backslash = false;
                if c == '\r' && self.chars.peek() == Some(&'\n') {
                    self.next_char();
                }
            } else {
                return Some((buf, start));
            }
        }
    }
}

/// Splits a logical line into its raw key and raw value, as `Properties.load0` does: the key
/// ends at the first unescaped `=`, `:` or whitespace; then whitespace and at most one `=`/`:`
/// are skipped before the value.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if is_ws(c) && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = c == '\\' && !preceding_backslash;
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if !is_ws(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

/// `Properties.loadConvert`: interprets backslash escapes.
fn unescape(raw: &[char], line: usize) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        i += 1;
        if c != '\\' {
            let mut tmp = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut tmp));
            continue;
        }
        let Some(&e) = raw.get(i) else {
            // Cannot happen: the line reader drops an unpaired trailing backslash.
            break;
        };
        i += 1;
        let unit = match e {
            'u' => {
                let digits = raw.get(i..i + 4).ok_or_else(|| malformed_u(line))?;
                let mut value: u16 = 0;
                for &d in digits {
                    let v = d.to_digit(16).ok_or_else(|| malformed_u(line))?;
                    value = (value << 4) | v as u16;
                }
                i += 4;
                value
            }
            't' => '\t' as u16,
            'r' => '\r' as u16,
            'n' => '\n' as u16,
            'f' => 0x0c,
            other => {
                let mut tmp = [0u16; 2];
                units.extend_from_slice(other.encode_utf16(&mut tmp));
                continue;
            }
        };
        units.push(unit);
    }
    String::from_utf16(&units).map_err(|_| PropertiesError {
        line,
        message: "a \\uXXXX escape leaves an unpaired UTF-16 surrogate".to_string(),
    })
}

fn malformed_u(line: usize) -> PropertiesError {
    PropertiesError {
        line,
        message: "malformed \\uxxxx encoding".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, String) {
        let p = parse(text).unwrap();
        assert_eq!(p.len(), 1, "{p:?}");
        let (k, v) = p.iter().next().unwrap();
        (k.to_string(), v.to_string())
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn real_fixture() {
        let text = std::fs::read_to_string("/work/shared/fixtures/hdfs-sink-connector.properties")
            .expect("fixture");
        let p = parse(&text).unwrap();
        assert_eq!(p.get("name"), Some("HdfsSinkAtenex"));
        assert_eq!(
            p.get("connector.class"),
            Some("io.confluent.connect.hdfs3.Hdfs3SinkConnector")
        );
        assert_eq!(p.get("tasks.max"), Some("2"));
        assert_eq!(
            p.get("topics"),
            Some("documents.raw,chunks.processed,embeddings.ready")
        );
        assert_eq!(p.get("hdfs.url"), Some("hdfs://localhost:8020"));
        assert_eq!(
            p.get("path.format"),
            Some("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH")
        );
        assert_eq!(
            p.get("partitioner.class"),
            Some("io.confluent.connect.storage.partitioner.TimeBasedPartitioner")
        );
        assert_eq!(p.get("locale"), Some("en_US"));
        assert_eq!(p.get("timezone"), Some("UTC"));
        assert_eq!(p.get("topics.dir"), Some("/atenex/kafka-landing"));
        assert_eq!(p.get("logs.dir"), Some("/atenex/kafka-connect/logs"));
        assert_eq!(p.len(), 14);
        assert_eq!(p.line_of("name"), Some(1));
        assert_eq!(p.line_of("path.format"), Some(10));
        assert_eq!(p.line_of("logs.dir"), Some(14));
        assert!(p.duplicates().is_empty());
        let keys: Vec<&str> = p.keys().collect();
        assert_eq!(keys[0], "name");
        assert_eq!(keys[13], "logs.dir");
    }

    #[test]
    fn separators() {
        assert_eq!(one("a=b"), kv("a", "b"));
        assert_eq!(one("a:b"), kv("a", "b"));
        assert_eq!(one("a b"), kv("a", "b"));
        assert_eq!(one("a\tb"), kv("a", "b"));
        assert_eq!(one("a \t = \t b"), kv("a", "b"));
        assert_eq!(one("a : b"), kv("a", "b"));
        // Only one `=`/`:` is swallowed after whitespace.
        assert_eq!(one("a = = b"), kv("a", "= b"));
        assert_eq!(one("a==b"), kv("a", "=b"));
        assert_eq!(one("a:=b"), kv("a", "=b"));
        assert_eq!(one("a b=c"), kv("a", "b=c"));
        // The value is everything after the first separator.
        assert_eq!(one("k=x=y:z"), kv("k", "x=y:z"));
        assert_eq!(one("url=hdfs://h:8020"), kv("url", "hdfs://h:8020"));
    }

    #[test]
    fn whitespace() {
        assert_eq!(one("   \t\x0ca=b"), kv("a", "b"));
        // Trailing whitespace belongs to the value.
        assert_eq!(one("a=b  "), kv("a", "b  "));
        assert_eq!(one("a=  "), kv("a", ""));
        // Key only.
        assert_eq!(one("a"), kv("a", ""));
        assert_eq!(one("a="), kv("a", ""));
        assert_eq!(one("a   "), kv("a", ""));
        // Empty key.
        assert_eq!(one("=b"), kv("", "b"));
        // Other Unicode whitespace is not a separator.
        assert_eq!(one("a\u{a0}b=c"), kv("a\u{a0}b", "c"));
    }

    #[test]
    fn comments_and_blank_lines() {
        let p = parse("# c1\n! c2\n\n   \n  # indented comment\na=b\n#x=y\n").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p.get("a"), Some("b"));
        assert_eq!(p.line_of("a"), Some(6));
        // A `#` after the start of a line is data.
        assert_eq!(one("a=b # not a comment"), kv("a", "b # not a comment"));
        assert_eq!(one("#a\na#b=c"), kv("a#b", "c"));
        // A comment ending in a backslash does not continue.
        let p = parse("# comment \\\na=b").unwrap();
        assert_eq!(p.get("a"), Some("b"));
    }

    #[test]
    fn continuations() {
        assert_eq!(one("a=b\\\n   c"), kv("a", "bc"));
        assert_eq!(one("a=b \\\n\t c \\\n d"), kv("a", "b c d"));
        assert_eq!(one("a=b\\\r\n  c"), kv("a", "bc"));
        assert_eq!(one("a=b\\\r  c"), kv("a", "bc"));
        // The key itself can continue.
        assert_eq!(one("ke\\\n  y=v"), kv("key", "v"));
        // A continued line starting with `#` is data, not a comment.
        assert_eq!(one("a=b\\\n  #c"), kv("a", "b#c"));
        // An even number of backslashes is an escaped backslash, not a continuation.
        let p = parse("a=b\\\\\nc=d").unwrap();
        assert_eq!(p.get("a"), Some("b\\"));
        assert_eq!(p.get("c"), Some("d"));
        // A continuation into an empty line ends the logical line.
        let p = parse("a=b\\\n\nc=d").unwrap();
        assert_eq!(p.get("a"), Some("b"));
        assert_eq!(p.get("c"), Some("d"));
        // A trailing backslash at the end of the text is dropped.
        assert_eq!(one("a=b\\"), kv("a", "b"));
        assert_eq!(one("a=b\\\n"), kv("a", "b"));
        // Line numbers count natural lines.
        let p = parse("a=1\\\n 2\\\n 3\nb=4\r\nc=5\rd=6").unwrap();
        assert_eq!(p.get("a"), Some("123"));
        assert_eq!(p.line_of("a"), Some(1));
        assert_eq!(p.line_of("b"), Some(4));
        assert_eq!(p.line_of("c"), Some(5));
        assert_eq!(p.line_of("d"), Some(6));
    }

    #[test]
    fn escapes() {
        assert_eq!(one(r"a=\t\n\r\f\\"), kv("a", "\t\n\r\x0c\\"));
        assert_eq!(one(r"a\=b\:c\ d=e"), kv("a=b:c d", "e"));
        assert_eq!(one(r"a=\#\!\=\:"), kv("a", "#!=:"));
        assert_eq!(one(r"\#a=b"), kv("#a", "b"));
        assert_eq!(one(r"a=\x\y\z\q"), kv("a", "xyzq"));
        assert_eq!(one(r"a=\u0041\u00e9\u20AC"), kv("a", "Aé€"));
        assert_eq!(one(r"\u0041=b"), kv("A", "b"));
        // A surrogate pair spelled as two escapes is one character.
        assert_eq!(one(r"a=\uD83D\uDE00"), kv("a", "😀"));
        // Leading whitespace of the value can be kept by escaping it.
        assert_eq!(one(r"a=\ \ b"), kv("a", "  b"));
        // UTF-8 text passes through.
        assert_eq!(one("ключ=значение"), kv("ключ", "значение"));
    }

    #[test]
    fn malformed_unicode_escapes() {
        let e = parse("a=1\nb=\\u12").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.to_string(), "line 2: malformed \\uxxxx encoding");
        let e = parse("a=1\n\n\\u12zz=b").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("x=\\uD83D").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("surrogate"), "{e}");
        // The error names the line a continued logical line starts on.
        let e = parse("a=1\nb=x\\\n  \\u00G0").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn duplicates_and_overrides() {
        let mut p = parse("a=1\nb=2\na=3\n").unwrap();
        assert_eq!(p.get("a"), Some("3"));
        assert_eq!(p.line_of("a"), Some(3));
        assert_eq!(p.duplicates(), &[("a".to_string(), 3)]);
        let keys: Vec<&str> = p.keys().collect();
        assert_eq!(keys, ["a", "b"]);

        p.set("b", "override");
        p.set("c", "new");
        assert_eq!(p.get("b"), Some("override"));
        assert_eq!(p.line_of("b"), None);
        assert_eq!(p.get("c"), Some("new"));
        assert_eq!(p.line_of("c"), None);
        assert_eq!(p.duplicates().len(), 1);
        let all: Vec<(&str, &str)> = p.iter().collect();
        assert_eq!(all, [("a", "3"), ("b", "override"), ("c", "new")]);
        assert_eq!(p.get("missing"), None);
        assert_eq!(p.line_of("missing"), None);
    }

    #[test]
    fn empty_inputs() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("\n\n  \r\n# only comments\n").unwrap().is_empty());
        // A lone backslash is a logical line with an empty key, as in Java.
        assert_eq!(one("\\"), kv("", ""));
    }
}
