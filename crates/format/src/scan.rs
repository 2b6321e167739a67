//! A zero-copy JSON scanner: validation and field lookup without building a tree.
//!
//! Two kinds of scanning happen here:
//!
//! * **Strict** scanning ([`validate`], and every token [`find_field`] /
//!   [`find_fields`] touch at the levels of the object they walk) checks the
//!   full RFC 8259 grammar, with exactly the rules of
//!   `serde_json::from_slice::<serde_json::Value>`: strings must be UTF-8 with no
//!   raw control characters, `\u` escapes must not be lone surrogates, numbers
//!   have no leading zeros and must fit in an `f64`, containers nest at most 127
//!   deep.
//! * **Lenient** skipping (containers that [`find_field`] steps over, and
//!   containers it returns as [`JsonRef::Raw`]) only matches brackets and finds
//!   string ends with `memchr`, so the 1536 floats of an embedding vector are
//!   never looked at one by one, let alone parsed.

use std::borrow::Cow;

use memchr::{memchr2, memchr2_iter, memchr3};

/// Containers may nest at most `MAX_DEPTH` deep. serde_json starts its
/// recursion budget at 128 and fails when the 128th container is opened, so a
/// document with 127 nested brackets is the deepest it (and we) accept.
const MAX_DEPTH: usize = 127;

/// A JSON value borrowed from the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonRef<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// The number's text exactly as written (not parsed), e.g. `-0.0e+10`.
    Number(&'a str),
    /// A string, unescaped: `Cow::Borrowed` when it had no escapes.
    String(Cow<'a, str>),
    /// An object or array: its raw bytes, including brackets. Its contents
    /// were skipped leniently (brackets matched, strings delimited), not
    /// validated: call [`validate`] on it if that matters.
    Raw(&'a [u8]),
}

impl JsonRef<'_> {
    /// The string's unescaped text, if this is a [`JsonRef::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonRef::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a [`JsonRef::Number`] written as an
    /// integer (no fraction or exponent) that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            JsonRef::Number(text) => text.parse().ok(),
            _ => None,
        }
    }
}

/// One error type for the crate, with the byte offset at fault.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("invalid JSON at byte {offset}: {message}")]
pub struct ScanError {
    /// Byte offset in the input where the problem was detected (the input's
    /// length for an unexpected end of input).
    pub offset: usize,
    /// What was wrong.
    pub message: &'static str,
}

// Errors are the rare path: keeping their construction out of line keeps the
// hot loops small.
#[cold]
#[inline(never)]
fn err<T>(offset: usize, message: &'static str) -> Result<T, ScanError> {
    Err(ScanError { offset, message })
}

/// Checks that `doc` is exactly one valid JSON value (RFC 8259; leading/trailing
/// whitespace allowed), without building it.
///
/// Accepts exactly what `serde_json::from_slice::<serde_json::Value>` accepts
/// (this is property-tested). That is slightly stricter than
/// `from_slice::<serde::de::IgnoredAny>`: serde_json's skipping path checks
/// the grammar but does not decode, so it also accepts invalid UTF-8 inside
/// strings, lone surrogate escapes such as `"\ud800"`, numbers beyond `f64`
/// range such as `1e400`, and unlimited nesting. All four are rejected here:
/// readers downstream of the landing sink decode values and would fail on
/// them.
///
/// Runs iteratively (a bit stack, no recursion), so hostile nesting cannot
/// overflow the stack.
pub fn validate(doc: &[u8]) -> Result<(), ScanError> {
    let end = validate_value(doc, skip_ws(doc, 0))?;
    let end = skip_ws(doc, end);
    if end < doc.len() {
        return err(end, "trailing characters");
    }
    Ok(())
}

/// Finds the value at `path` (object keys from the top level, e.g.
/// `["company_id"]` or `["meta", "ts"]`) in a JSON *object* document.
///
/// Returns `Ok(None)` if absent (or if an intermediate value is not an
/// object), `Err` if the document is not a JSON object or is malformed up to
/// the point where the answer is known. Containers that are stepped over are
/// skipped by bracket matching with `memchr`, without parsing numbers. The
/// first occurrence wins if a key is duplicated. An empty `path` returns the
/// whole top-level object as [`JsonRef::Raw`].
///
/// Only the members of the objects on the path are checked strictly; bytes
/// after the answer are not looked at (except that, when a top-level field is
/// absent, the whole document has been walked and trailing garbage is an
/// error).
pub fn find_field<'a>(doc: &'a [u8], path: &[&str]) -> Result<Option<JsonRef<'a>>, ScanError> {
    let mut walk = ObjectWalk::open(doc, 1)?;
    if path.is_empty() {
        let start = walk.pos - 1;
        walk.pos = skip_container(doc, start, 0)?;
        walk.expect_end()?;
        return Ok(Some(JsonRef::Raw(&doc[start..walk.pos])));
    }
    for (level, name) in path.iter().enumerate() {
        loop {
            match walk.next_key()? {
                None => {
                    if level == 0 {
                        walk.expect_end()?;
                    }
                    return Ok(None);
                }
                Some(key) if key.matches(name) => break,
                Some(_) => walk.skip_value()?,
            }
        }
        if level + 1 == path.len() {
            return walk.read_value().map(Some);
        }
        if doc.get(walk.pos) == Some(&b'{') {
            walk = ObjectWalk::open_at(doc, walk.pos, walk.depth + 1)?;
        } else {
            // Not an object: the path cannot continue. Still check the token.
            walk.read_value()?;
            return Ok(None);
        }
    }
    Ok(None) // unreachable: the last path element returns above
}

/// Whether the last non-whitespace byte of `doc` is `}`. [`find_field`] and [`find_fields`]
/// stop reading once they have their fields, so a record cut off after them would pass; this
/// cheap check catches that without walking the rest.
pub fn ends_object(doc: &[u8]) -> bool {
    doc.iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map(|i| doc[i])
        == Some(b'}')
}

/// Finds several top-level fields in ONE pass: `out[i]` = value of `names[i]`.
/// Stops early once all are found.
///
/// Same rules as [`find_field`] with a one-element path; a name listed twice
/// gets the same value in both slots. [`find_fields_into`] is the same for a
/// number of names known only at run time.
pub fn find_fields<'a, const N: usize>(
    doc: &'a [u8],
    names: [&str; N],
) -> Result<[Option<JsonRef<'a>>; N], ScanError> {
    let mut out: [Option<JsonRef<'a>>; N] = std::array::from_fn(|_| None);
    find_fields_into(doc, &names, &mut out)?;
    Ok(out)
}

/// [`find_fields`] for a run-time list of names (e.g. the columns a query
/// selects): fills `out[i]` with the value of `names[i]` (`None` when absent),
/// in one pass that stops once all are found. `out` is reused across calls by
/// the caller (no allocation here); it must be as long as `names`.
///
/// # Panics
///
/// If `out.len() != names.len()`.
pub fn find_fields_into<'a>(
    doc: &'a [u8],
    names: &[&str],
    out: &mut [Option<JsonRef<'a>>],
) -> Result<(), ScanError> {
    assert_eq!(names.len(), out.len(), "one output slot per name");
    out.iter_mut().for_each(|o| *o = None);
    let n = names.len();
    let mut missing = n;
    let mut walk = ObjectWalk::open(doc, 1)?;
    while missing > 0 {
        let Some(key) = walk.next_key()? else {
            walk.expect_end()?;
            break;
        };
        let Some(first) = (0..n).find(|&i| out[i].is_none() && key.matches(names[i])) else {
            walk.skip_value()?;
            continue;
        };
        let value = walk.read_value()?;
        for i in first + 1..n {
            if out[i].is_none() && names[i] == names[first] {
                out[i] = Some(value.clone());
                missing -= 1;
            }
        }
        out[first] = Some(value);
        missing -= 1;
    }
    Ok(())
}

/// Every top-level member of a JSON *object* document, in document order, as
/// (key, value) pairs (for inferring a schema from sample records). Same rules
/// as [`find_field`]: the top level is checked strictly, nested containers are
/// stepped over leniently and returned as [`JsonRef::Raw`]; the whole document
/// is walked, so trailing garbage is an error. A duplicated key is listed twice.
pub fn members(doc: &[u8]) -> Result<Vec<(Cow<'_, str>, JsonRef<'_>)>, ScanError> {
    let mut walk = ObjectWalk::open(doc, 1)?;
    let mut out = Vec::new();
    while let Some(key) = walk.next_key()? {
        let key = match key {
            Key::Raw(raw) => match std::str::from_utf8(raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => return err(walk.pos, "invalid UTF-8 in key"),
            },
            Key::Unescaped(s) => Cow::Owned(s),
        };
        out.push((key, walk.read_value()?));
    }
    walk.expect_end()?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Strict validation
// ---------------------------------------------------------------------------

/// A stack of open containers, one bit per level (1 = object) in a `u128`:
/// no allocation, and the depth limit keeps it from overflowing.
#[derive(Debug)]
struct Stack {
    bits: u128,
    /// Levels pushed on this stack.
    len: usize,
    /// Levels already open outside this stack (for the depth limit).
    outer: usize,
}

impl Stack {
    fn new(outer: usize) -> Self {
        Stack {
            bits: 0,
            len: 0,
            outer,
        }
    }

    fn push(&mut self, object: bool, at: usize) -> Result<(), ScanError> {
        if self.outer + self.len >= MAX_DEPTH {
            return err(at, "recursion limit exceeded");
        }
        self.bits = (self.bits << 1) | u128::from(object);
        self.len += 1;
        Ok(())
    }

    fn pop(&mut self) {
        self.bits >>= 1;
        self.len -= 1;
    }

    fn top_is_object(&self) -> bool {
        self.bits & 1 == 1
    }
}

/// Skips JSON whitespace (exactly space, tab, LF, CR) from `i`.
#[inline(always)]
fn skip_ws(doc: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = doc.get(i) {
        i += 1;
    }
    i
}

/// Validates one value starting at `i` (whitespace already skipped); returns
/// the index just after it.
fn validate_value(doc: &[u8], mut i: usize) -> Result<usize, ScanError> {
    let mut stack = Stack::new(0);
    'value: loop {
        i = skip_ws(doc, i);
        let Some(&b) = doc.get(i) else {
            return err(i, "EOF while parsing a value");
        };
        match b {
            b'"' => i = scan_string(doc, i + 1)?.0 + 1,
            b'-' | b'0'..=b'9' => {
                i = scan_number(doc, i)?;
                // Fast path for arrays of numbers (embedding vectors): while
                // inside an array and the next bytes are `,` and a number,
                // stay in this tight loop instead of going round the general
                // state machine once per element (that alone was a third of
                // the time on 1536-float vectors).
                if stack.len > 0 && !stack.top_is_object() {
                    while doc.get(i) == Some(&b',') {
                        match doc.get(i + 1) {
                            Some(b'-' | b'0'..=b'9') => i = scan_number(doc, i + 1)?,
                            _ => break,
                        }
                    }
                }
            }
            b'{' => {
                stack.push(true, i)?;
                i = skip_ws(doc, i + 1);
                if doc.get(i) == Some(&b'}') {
                    i += 1;
                    stack.pop();
                } else {
                    i = scan_key_colon(doc, i)?;
                    continue 'value;
                }
            }
            b'[' => {
                stack.push(false, i)?;
                i = skip_ws(doc, i + 1);
                if doc.get(i) == Some(&b']') {
                    i += 1;
                    stack.pop();
                } else {
                    continue 'value;
                }
            }
            b't' | b'f' | b'n' => i = scan_literal(doc, i)?.1,
            _ => return err(i, "expected value"),
        }
        // A value just ended: consume separators and closing brackets until
        // the next value starts or the outermost container closes.
        loop {
            if stack.len == 0 {
                return Ok(i);
            }
            i = skip_ws(doc, i);
            let object = stack.top_is_object();
            match doc.get(i) {
                Some(b',') if object => {
                    i = scan_key_colon(doc, skip_ws(doc, i + 1))?;
                    continue 'value;
                }
                Some(b',') => {
                    i += 1;
                    continue 'value;
                }
                Some(b'}') if object => {
                    i += 1;
                    stack.pop();
                }
                Some(b']') if !object => {
                    i += 1;
                    stack.pop();
                }
                Some(_) if object => return err(i, "expected `,` or `}`"),
                Some(_) => return err(i, "expected `,` or `]`"),
                None if object => return err(i, "EOF while parsing an object"),
                None => return err(i, "EOF while parsing a list"),
            }
        }
    }
}

/// Expects an object key at `i` followed by `:`; returns the index after the
/// colon.
fn scan_key_colon(doc: &[u8], i: usize) -> Result<usize, ScanError> {
    match doc.get(i) {
        Some(b'"') => {}
        Some(_) => return err(i, "key must be a string"),
        None => return err(i, "EOF while parsing an object"),
    }
    let close = scan_string(doc, i + 1)?.0;
    let i = skip_ws(doc, close + 1);
    match doc.get(i) {
        Some(b':') => Ok(i + 1),
        Some(_) => err(i, "expected `:`"),
        None => err(i, "EOF while parsing an object"),
    }
}

/// Checks `true`, `false` or `null` at `i`; returns the value and the end.
fn scan_literal(doc: &[u8], i: usize) -> Result<(JsonRef<'static>, usize), ScanError> {
    let (word, value): (&[u8], _) = match doc.get(i) {
        Some(b't') => (b"true", JsonRef::Bool(true)),
        Some(b'f') => (b"false", JsonRef::Bool(false)),
        _ => (b"null", JsonRef::Null),
    };
    let have = &doc[i..doc.len().min(i + word.len())];
    if have == word {
        return Ok((value, i + word.len()));
    }
    // Report the first byte that differs (or the end of input).
    let bad = i + have.iter().zip(word).take_while(|(a, b)| a == b).count();
    if bad == doc.len() {
        err(bad, "EOF while parsing a value")
    } else {
        err(bad, "expected ident")
    }
}

// --- strings ---------------------------------------------------------------

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in every byte of `w` that is zero. The classic SWAR test can
/// also flag a byte *above* a true zero byte (a borrow), never below one, so
/// the lowest flagged byte is always a true hit — which is all we use.
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// High bit set in the bytes of `w` that end the fast path of a string:
/// `"`, `\` or a control character (< 0x20). Same "lowest hit is exact" rule.
#[inline(always)]
fn string_stops(w: u64) -> u64 {
    let quote = zero_bytes(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    quote | backslash | control
}

/// Strictly scans a string body; `i` is just after the opening quote.
/// Returns the index of the closing quote and whether there were escapes.
fn scan_string(doc: &[u8], mut i: usize) -> Result<(usize, bool), ScanError> {
    let start = i;
    let mut escaped = false;
    // OR of the bytes seen by the word loop: if no high bit was ever set the
    // string is ASCII and needs no UTF-8 check. (It may include a few bytes
    // past the stop byte; that only costs a redundant check, never a miss.)
    let mut seen: u64 = 0;
    loop {
        // Fast path: eight bytes at a time until a byte that needs a look.
        while let Some(w) = word(doc, i) {
            seen |= w;
            let stops = string_stops(w);
            if stops != 0 {
                i += (stops.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let Some(&b) = doc.get(i) else {
            return err(doc.len(), "EOF while parsing a string");
        };
        match b {
            b'"' => break,
            b'\\' => {
                escaped = true;
                i = scan_escape(doc, i)?;
            }
            0..=0x1f => return err(i, "control character in string"),
            _ => {
                seen |= u64::from(b) << 56;
                i += 1;
            }
        }
    }
    if seen & HIGHS != 0 {
        // Escapes are ASCII, so validating the raw bytes (escapes included)
        // is the same as validating the unescaped text.
        if let Err(e) = std::str::from_utf8(&doc[start..i]) {
            return err(start + e.valid_up_to(), "invalid UTF-8 in string");
        }
    }
    Ok((i, escaped))
}

/// Validates the escape starting at the backslash at `i`; returns its end.
/// Like serde_json, a `\u` escape must not be a lone surrogate: a leading
/// surrogate (D800-DBFF) must be followed by `\u` and a trailing one.
fn scan_escape(doc: &[u8], i: usize) -> Result<usize, ScanError> {
    match doc.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => {
            let unit = hex4(doc, i + 2)?;
            match unit {
                0xDC00..=0xDFFF => err(i, "lone surrogate in \\u escape"),
                0xD800..=0xDBFF => {
                    if doc.get(i + 6..i + 8) != Some(b"\\u") {
                        return err(i + 6, "unexpected end of hex escape");
                    }
                    match hex4(doc, i + 8)? {
                        0xDC00..=0xDFFF => Ok(i + 12),
                        _ => err(i + 6, "lone surrogate in \\u escape"),
                    }
                }
                _ => Ok(i + 6),
            }
        }
        Some(_) => err(i + 1, "invalid escape"),
        None => err(doc.len(), "EOF while parsing a string"),
    }
}

/// Decodes four hex digits at `i`.
fn hex4(doc: &[u8], i: usize) -> Result<u16, ScanError> {
    let mut unit = 0u16;
    for k in i..i + 4 {
        let digit = match doc.get(k) {
            Some(&c @ b'0'..=b'9') => c - b'0',
            Some(&c @ b'a'..=b'f') => c - b'a' + 10,
            Some(&c @ b'A'..=b'F') => c - b'A' + 10,
            Some(_) => return err(k, "invalid \\u escape"),
            None => return err(doc.len(), "EOF while parsing a string"),
        };
        unit = unit << 4 | u16::from(digit);
    }
    Ok(unit)
}

/// Unescapes a string body already checked by [`scan_string`].
fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &raw[i..]) {
        out.extend_from_slice(&raw[i..i + off]);
        i += off;
        let simple = match raw.get(i + 1) {
            Some(b'b') => Some(b'\x08'),
            Some(b'f') => Some(b'\x0c'),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            Some(b'u') => None,
            Some(&c) => Some(c), // '"', '\\', '/'
            None => break,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let unit = u32::from(hex4(raw, i + 2).unwrap_or(0xFFFD));
        let (code, len) = if (0xD800..0xDC00).contains(&unit) {
            let low = u32::from(hex4(raw, i + 8).unwrap_or(0xDC00));
            (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12)
        } else {
            (unit, 6)
        };
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        i += len;
    }
    out.extend_from_slice(&raw[i.min(raw.len())..]);
    // The input was validated as UTF-8 and escapes decode to whole chars, so
    // this never replaces anything; it just avoids `unsafe`.
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

// --- numbers ---------------------------------------------------------------

/// High bit set in each byte of `w` that is not an ASCII digit. With
/// `t = byte ^ b'0'` a byte is a digit iff `t < 10`: the first term flags
/// `t` in 10..=0x7f (no carry crosses bytes since 0x7f + 0x76 < 0x100), `| t`
/// flags 0x80..=0xff.
#[inline(always)]
fn non_digits(w: u64) -> u64 {
    let t = w ^ (ONES * u64::from(b'0'));
    (((t & !HIGHS) + ONES * 0x76) | t) & HIGHS
}

/// Reads eight bytes little-endian (first byte lowest), if available.
#[inline(always)]
fn word(doc: &[u8], i: usize) -> Option<u64> {
    doc.get(i..i + 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
}

/// Returns the end of the run of ASCII digits starting at `i`, eight bytes
/// per step.
#[inline(always)]
fn digit_run(doc: &[u8], mut i: usize) -> usize {
    while let Some(w) = word(doc, i) {
        let stops = non_digits(w);
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(b'0'..=b'9') = doc.get(i) {
        i += 1;
    }
    i
}

/// Packs the high bit of each byte of `m` into one bit per byte (bit `k` =
/// byte `k`), like SSE2's `movemask`. The multiplier is the sum of `2^(7j)`
/// for j in 0..8: byte k's bit (at `8k+7`) lands on bit `56+k` through the
/// term j = 7-k; every other product falls below bit 56 on distinct
/// positions (so no carries) or beyond bit 63.
#[inline(always)]
fn movemask(m: u64) -> u32 {
    ((m & HIGHS).wrapping_mul(0x0002_0408_1020_4081) >> 56) as u32
}

/// Strictly scans a number at `start` (a `-` or a digit); returns its end.
///
/// Fast path for the common shape `-?digits(.digits)?` within 24 bytes: the
/// digit runs are measured with bitmaps and `trailing_zeros` instead of
/// per-byte branches, so the varying digit counts of float vectors cost no
/// branch mispredictions. Anything else (exponents, errors, the last bytes of
/// the buffer, very long numbers) goes to [`scan_number_slow`].
#[inline(always)]
fn scan_number(doc: &[u8], start: usize) -> Result<usize, ScanError> {
    if let (Some(w0), Some(w1), Some(w2)) = (
        word(doc, start),
        word(doc, start + 8),
        word(doc, start + 16),
    ) {
        // Bit k set = byte start+k is not a digit; bits 24.. act as a stop.
        let non_digit = movemask(non_digits(w0))
            | movemask(non_digits(w1)) << 8
            | movemask(non_digits(w2)) << 16
            | 0xff00_0000;
        let neg = u32::from(w0 as u8 == b'-');
        let int_len = (non_digit >> neg).trailing_zeros();
        let leading_zero = (w0 >> (8 * neg)) as u8 == b'0';
        if int_len >= 1 && !(leading_zero && int_len > 1) {
            let mut end = neg + int_len;
            if end < 24 && doc[start + end as usize] == b'.' {
                let frac_len = (non_digit >> (end + 1)).trailing_zeros();
                // No digit after `.` is an error: let the slow path say so.
                end = if frac_len == 0 {
                    24
                } else {
                    end + 1 + frac_len
                };
            }
            // `end < 24`: the number stops inside the window at a non-digit.
            // At most 24 integer digits and no exponent: always within f64
            // range.
            if end < 24 && !matches!(doc[start + end as usize], b'e' | b'E') {
                return Ok(start + end as usize);
            }
        }
    }
    scan_number_slow(doc, start)
}

/// The general number scanner, byte by byte (see [`scan_number`]).
#[inline(never)]
fn scan_number_slow(doc: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut i = start + usize::from(doc.get(start) == Some(&b'-'));
    let int_start = i;
    match doc.get(i) {
        Some(b'0') => {
            i += 1;
            if let Some(b'0'..=b'9') = doc.get(i) {
                return err(i, "invalid number: leading zero");
            }
        }
        Some(b'1'..=b'9') => i = digit_run(doc, i + 1),
        Some(_) => return err(i, "invalid number"),
        None => return err(i, "EOF while parsing a value"),
    }
    let int_digits = i - int_start;
    if doc.get(i) == Some(&b'.') {
        let frac = i + 1;
        i = digit_run(doc, frac);
        if i == frac {
            return err(i, "invalid number: expected digit after `.`");
        }
    }
    // Decimal exponent (saturating); only used for the range check below.
    let mut exponent: i64 = 0;
    if let Some(b'e' | b'E') = doc.get(i) {
        i += 1;
        let negative = doc.get(i) == Some(&b'-');
        if let Some(b'+' | b'-') = doc.get(i) {
            i += 1;
        }
        let digits = i;
        i = digit_run(doc, i);
        if i == digits {
            return err(i, "invalid number: expected exponent digits");
        }
        for &d in &doc[digits..i] {
            exponent = (exponent * 10 + i64::from(d - b'0')).min(1 << 40);
        }
        if negative {
            exponent = -exponent;
        }
    }
    // serde_json rejects numbers that overflow an f64 ("number out of
    // range"). The value is below 10^(int_digits + exponent), so anything
    // under 10^300 is safely finite; the rare larger candidates are handed to
    // serde_json itself so that its exact rounding decides.
    if int_digits as i64 + exponent > 300 {
        check_range(&doc[start..i], start)?;
    }
    Ok(i)
}

#[cold]
#[inline(never)]
fn check_range(number: &[u8], at: usize) -> Result<(), ScanError> {
    match serde_json::from_slice::<serde_json::Value>(number) {
        Ok(_) => Ok(()),
        Err(_) => err(at, "number out of range"),
    }
}

// ---------------------------------------------------------------------------
// Lenient skipping
// ---------------------------------------------------------------------------

/// Skips a string body leniently (escapes are not checked, only stepped over);
/// `i` is just after the opening quote. Returns the index after the closing
/// quote.
fn skip_string(doc: &[u8], mut i: usize) -> Result<usize, ScanError> {
    loop {
        match memchr2(b'"', b'\\', &doc[i.min(doc.len())..]) {
            Some(off) if doc[i + off] == b'"' => return Ok(i + off + 1),
            Some(off) => i += off + 2, // a backslash: the next byte is escaped
            None => return err(doc.len(), "EOF while parsing a string"),
        }
    }
}

/// Skips the array or object opening at `start` by bracket matching; returns
/// the index after its closing bracket. `outer` containers are already open
/// around it (for the depth limit).
///
/// Why this is safe without tokenising: outside strings, the only bytes that
/// change nesting are the four brackets, and numbers, literals, commas and
/// colons can never contain a quote or a bracket. So it is enough to find the
/// next `"`, `]` or `}` with one SIMD `memchr3`, count the openers before it
/// with `memchr2`, and step over strings whole. For an embedding vector this
/// is two vectorised passes over the floats and no per-number work at all.
fn skip_container(doc: &[u8], start: usize, outer: usize) -> Result<usize, ScanError> {
    let mut stack = Stack::new(outer);
    let mut i = start;
    loop {
        let Some(off) = memchr3(b'"', b']', b'}', &doc[i..]) else {
            return err(doc.len(), "EOF while skipping a container");
        };
        let hit = i + off;
        for open in memchr2_iter(b'[', b'{', &doc[i..hit]) {
            stack.push(doc[i + open] == b'{', i + open)?;
        }
        if doc[hit] == b'"' {
            i = skip_string(doc, hit + 1)?;
            continue;
        }
        if stack.len == 0 || stack.top_is_object() != (doc[hit] == b'}') {
            return err(hit, "mismatched bracket");
        }
        stack.pop();
        i = hit + 1;
        if stack.len == 0 {
            return Ok(i);
        }
    }
}

// ---------------------------------------------------------------------------
// Object walking for find_field / find_fields
// ---------------------------------------------------------------------------

/// A member key, raw when it had no escapes.
#[derive(Debug)]
enum Key<'a> {
    Raw(&'a [u8]),
    Unescaped(String),
}

impl Key<'_> {
    fn matches(&self, name: &str) -> bool {
        match self {
            Key::Raw(raw) => *raw == name.as_bytes(),
            Key::Unescaped(s) => s == name,
        }
    }
}

/// Walks the members of one object, checking its own syntax strictly.
#[derive(Debug)]
struct ObjectWalk<'a> {
    doc: &'a [u8],
    /// After `open`: just after `{`. After `next_key`: the value's first byte.
    /// After a value is consumed: just after it.
    pos: usize,
    first: bool,
    /// Nesting depth of this object (the top-level object is 1).
    depth: usize,
}

impl<'a> ObjectWalk<'a> {
    /// Opens the top-level object of `doc`.
    fn open(doc: &'a [u8], depth: usize) -> Result<Self, ScanError> {
        let i = skip_ws(doc, 0);
        match doc.get(i) {
            Some(b'{') => Self::open_at(doc, i, depth),
            Some(_) => err(i, "expected a JSON object"),
            None => err(i, "EOF while parsing a value"),
        }
    }

    /// Opens the object whose `{` is at `i`.
    fn open_at(doc: &'a [u8], i: usize, depth: usize) -> Result<Self, ScanError> {
        if depth > MAX_DEPTH {
            return err(i, "recursion limit exceeded");
        }
        Ok(ObjectWalk {
            doc,
            pos: i + 1,
            first: true,
            depth,
        })
    }

    /// Moves to the next member: returns its key and leaves `pos` at its
    /// value, or `None` (with `pos` after the `}`) at the end of the object.
    fn next_key(&mut self) -> Result<Option<Key<'a>>, ScanError> {
        let doc = self.doc;
        let mut i = skip_ws(doc, self.pos);
        match doc.get(i) {
            Some(b'}') if self.first => {
                self.pos = i + 1;
                return Ok(None);
            }
            _ if self.first => self.first = false,
            Some(b',') => i = skip_ws(doc, i + 1),
            Some(b'}') => {
                self.pos = i + 1;
                return Ok(None);
            }
            Some(_) => return err(i, "expected `,` or `}`"),
            None => return err(i, "EOF while parsing an object"),
        }
        match doc.get(i) {
            Some(b'"') => {}
            Some(_) => return err(i, "key must be a string"),
            None => return err(i, "EOF while parsing an object"),
        }
        let (close, escaped) = scan_string(doc, i + 1)?;
        let raw = &doc[i + 1..close];
        let key = if escaped {
            Key::Unescaped(unescape(raw))
        } else {
            Key::Raw(raw)
        };
        let i = skip_ws(doc, close + 1);
        match doc.get(i) {
            Some(b':') => {}
            Some(_) => return err(i, "expected `:`"),
            None => return err(i, "EOF while parsing an object"),
        }
        self.pos = skip_ws(doc, i + 1);
        Ok(Some(key))
    }

    /// Skips the value at `pos`: scalars strictly, containers leniently.
    fn skip_value(&mut self) -> Result<(), ScanError> {
        match self.doc.get(self.pos) {
            Some(b'[' | b'{') => self.pos = skip_container(self.doc, self.pos, self.depth)?,
            _ => {
                self.read_value()?;
            }
        }
        Ok(())
    }

    /// Reads the value at `pos`.
    fn read_value(&mut self) -> Result<JsonRef<'a>, ScanError> {
        let doc = self.doc;
        let i = self.pos;
        let Some(&b) = doc.get(i) else {
            return err(i, "EOF while parsing a value");
        };
        let (value, end) = match b {
            b'"' => {
                let (close, escaped) = scan_string(doc, i + 1)?;
                let raw = &doc[i + 1..close];
                let text = if escaped {
                    Cow::Owned(unescape(raw))
                } else {
                    // Already validated by scan_string (ASCII fast path).
                    match std::str::from_utf8(raw) {
                        Ok(s) => Cow::Borrowed(s),
                        Err(e) => return err(i + 1 + e.valid_up_to(), "invalid UTF-8 in string"),
                    }
                };
                (JsonRef::String(text), close + 1)
            }
            b'-' | b'0'..=b'9' => {
                let end = scan_number(doc, i)?;
                match std::str::from_utf8(&doc[i..end]) {
                    Ok(text) => (JsonRef::Number(text), end),
                    Err(_) => return err(i, "invalid number"),
                }
            }
            b'[' | b'{' => {
                let end = skip_container(doc, i, self.depth)?;
                (JsonRef::Raw(&doc[i..end]), end)
            }
            b't' | b'f' | b'n' => scan_literal(doc, i)?,
            _ => return err(i, "expected value"),
        };
        self.pos = end;
        Ok(value)
    }

    /// After the top-level object closed: only whitespace may follow.
    fn expect_end(&self) -> Result<(), ScanError> {
        let i = skip_ws(self.doc, self.pos);
        if i < self.doc.len() {
            return err(i, "trailing characters");
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// serde_json's verdict, the oracle for `validate`.
    fn serde_ok(doc: &[u8]) -> bool {
        serde_json::from_slice::<Value>(doc).is_ok()
    }

    fn serde_ignored_ok(doc: &[u8]) -> bool {
        serde_json::from_slice::<serde::de::IgnoredAny>(doc).is_ok()
    }

    #[test]
    fn ends_object_sees_cut_off_records() {
        assert!(ends_object(b"{\"a\":1}"));
        assert!(ends_object(b"{\"a\":1} \r\n"));
        assert!(!ends_object(b"{\"a\":[1,"));
        assert!(!ends_object(b"  "));
        assert!(!ends_object(b""));
    }

    /// A ~25 KB `embeddings.ready` event with a 1536-float vector.
    pub(crate) fn embeddings_doc(seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut vector = String::from("[");
        for i in 0..1536 {
            // xorshift: deterministic floats of the shape f32 embeddings print as.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = (x % 2_000_000) as f32 / 1_000_000.0 - 1.0;
            if i > 0 {
                vector.push(',');
            }
            if i % 97 == 5 {
                vector.push_str(&format!("{:e}", f / 1000.0)); // some exponents
            } else {
                vector.push_str(&f.to_string());
            }
        }
        vector.push(']');
        format!(
            r#"{{"chunk_id":"chk-{seed:08x}-0001","document_id":"doc-{seed:016x}","company_id":"company-{}","vector":{vector}}}"#,
            seed % 97
        )
        .into_bytes()
    }

    fn s(v: &str) -> Option<JsonRef<'_>> {
        Some(JsonRef::String(Cow::Borrowed(v)))
    }

    #[test]
    fn embeddings_shape() {
        let doc = embeddings_doc(42);
        assert!(doc.len() > 15_000, "{}", doc.len());
        assert!(serde_ok(&doc));
        validate(&doc).unwrap();
        let [company, document] = find_fields(&doc, ["company_id", "document_id"]).unwrap();
        assert_eq!(company, s("company-42"));
        assert_eq!(document, s("doc-000000000000002a"));
        assert_eq!(
            find_field(&doc, &["chunk_id"]).unwrap(),
            s("chk-0000002a-0001")
        );
        let parsed: Value = serde_json::from_slice(&doc).unwrap();
        let Some(JsonRef::Raw(vector)) = find_field(&doc, &["vector"]).unwrap() else {
            panic!("vector should be raw");
        };
        assert_eq!(vector.first(), Some(&b'['));
        assert_eq!(vector.last(), Some(&b']'));
        assert_eq!(
            serde_json::from_slice::<Value>(vector).unwrap(),
            parsed["vector"]
        );
        assert_eq!(parsed["vector"].as_array().unwrap().len(), 1536);
        // A field after the vector is found by skipping it.
        let mut tail = doc.clone();
        tail.pop();
        tail.extend_from_slice(br#","ts":"2025-01-01T00:00:00Z"}"#);
        assert_eq!(
            find_field(&tail, &["ts"]).unwrap(),
            s("2025-01-01T00:00:00Z")
        );
        assert_eq!(find_field(&tail, &["missing"]).unwrap(), None);
    }

    #[test]
    fn escapes_in_values_and_keys() {
        let doc = br#"{"company_id":"a\"b\u00e9","plain":"xyz"}"#;
        let v = find_field(doc, &["company_id"]).unwrap().unwrap();
        assert_eq!(v.as_str(), Some("a\"bé"));
        assert!(matches!(v, JsonRef::String(Cow::Owned(_))));
        let plain = find_field(doc, &["plain"]).unwrap().unwrap();
        assert!(matches!(plain, JsonRef::String(Cow::Borrowed("xyz"))));

        let doc =
            br#"{"comp\u0061ny_id":"x","t\tab\"":"y","emoji":"\ud83d\ude00 \/ \\ \b\f\n\r\t"}"#;
        assert_eq!(find_field(doc, &["company_id"]).unwrap(), s("x"));
        assert_eq!(find_field(doc, &["t\tab\""]).unwrap(), s("y"));
        assert_eq!(
            find_field(doc, &["emoji"]).unwrap().unwrap().as_str(),
            Some("😀 / \\ \u{8}\u{c}\n\r\t")
        );
        // Raw UTF-8 is borrowed as is.
        let doc = "{\"ключ\":\"значение\"}".as_bytes();
        assert_eq!(find_field(doc, &["ключ"]).unwrap(), s("значение"));
    }

    #[test]
    fn key_in_nested_object_or_string_does_not_match() {
        let doc = br#"{"meta":{"company_id":"inner"},"list":[{"company_id":"in-array"}],
            "note":"\"company_id\":\"fake\"","company_id":"real"}"#;
        assert_eq!(find_field(doc, &["company_id"]).unwrap(), s("real"));
        let [c, n] = find_fields(doc, ["company_id", "note"]).unwrap();
        assert_eq!(c, s("real"));
        assert_eq!(n.unwrap().as_str(), Some(r#""company_id":"fake""#));

        let doc = br#"{"meta":{"company_id":"inner"},"note":"company_id"}"#;
        assert_eq!(find_field(doc, &["company_id"]).unwrap(), None);
        let doc = br#"{"company_idx":1,"xcompany_id":2,"Company_id":3}"#;
        assert_eq!(find_field(doc, &["company_id"]).unwrap(), None);
    }

    #[test]
    fn nested_path() {
        let doc = br#"{"a":1,"meta":{"x":[1,{"ts":0}],"ts":"2025-06-01T12:00:00Z","n":{"k":true}},"ts":5}"#;
        assert_eq!(
            find_field(doc, &["meta", "ts"]).unwrap(),
            s("2025-06-01T12:00:00Z")
        );
        assert_eq!(
            find_field(doc, &["meta", "n", "k"]).unwrap(),
            Some(JsonRef::Bool(true))
        );
        assert_eq!(
            find_field(doc, &["ts"]).unwrap(),
            Some(JsonRef::Number("5"))
        );
        assert_eq!(find_field(doc, &["meta", "missing"]).unwrap(), None);
        // Intermediate value not an object.
        assert_eq!(find_field(doc, &["a", "ts"]).unwrap(), None);
        assert_eq!(find_field(doc, &["meta", "x", "ts"]).unwrap(), None);
        assert_eq!(
            find_field(doc, &["meta", "x"]).unwrap(),
            Some(JsonRef::Raw(br#"[1,{"ts":0}]"#))
        );
        // Empty path: the whole object.
        assert_eq!(
            find_field(b" {\"a\": [1] } ", &[]).unwrap(),
            Some(JsonRef::Raw(b"{\"a\": [1] }"))
        );
    }

    #[test]
    fn find_fields_into_takes_names_at_run_time_and_reuses_its_slots() {
        let doc = br#"{"chunk_id":"c1","vector":[0.5,-1e-3,[2]],"company_id":"acme","page":3}"#;
        let names: Vec<String> = ["page", "company_id", "absent", "page"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut out = vec![Some(JsonRef::Null); names.len()];
        find_fields_into(doc, &names, &mut out).unwrap();
        assert_eq!(
            out,
            [
                Some(JsonRef::Number("3")),
                Some(JsonRef::String("acme".into())),
                None,
                Some(JsonRef::Number("3")),
            ]
        );
        // Slots are reset on every call: nothing from the previous record leaks in.
        find_fields_into(br#"{"page":1}"#, &names, &mut out).unwrap();
        assert_eq!(
            out,
            [
                Some(JsonRef::Number("1")),
                None,
                None,
                Some(JsonRef::Number("1"))
            ]
        );
        // No names: nothing to find, nothing read (like `find_fields(doc, [])`).
        find_fields_into(b"{", &[], &mut []).unwrap();
        // An absent name walks the whole record: a broken tail is an error, and so is
        // a record cut inside a skipped container.
        assert!(find_fields_into(br#"{"page":1,"x":2"#, &["absent"], &mut [None]).is_err());
        assert!(find_fields_into(br#"{"vector":[1,2"#, &["absent"], &mut [None]).is_err());
        // Same answers as the const-generic version.
        let [a, b] = find_fields(doc, ["vector", "chunk_id"]).unwrap();
        let mut out = [None, None];
        find_fields_into(doc, &["vector", "chunk_id"], &mut out).unwrap();
        assert_eq!(out, [a, b]);
    }

    #[test]
    fn members_in_document_order() {
        let doc = br#" {"z":1, "a\u0062":"x","v":[1,[2]],"o":{"k":null},"z":true} "#;
        let m = members(doc).unwrap();
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["z", "ab", "v", "o", "z"]);
        assert_eq!(m[0].1, JsonRef::Number("1"));
        assert_eq!(m[2].1, JsonRef::Raw(b"[1,[2]]"));
        assert_eq!(m[3].1, JsonRef::Raw(br#"{"k":null}"#));
        assert!(members(b"{}").unwrap().is_empty());
        assert!(members(br#"{"a":1} x"#).is_err());
        assert!(members(br#"{"a":1"#).is_err());
        assert!(members(b"[1]").is_err());
    }

    #[test]
    fn absent_field_and_duplicates() {
        assert_eq!(find_field(b"{}", &["a"]).unwrap(), None);
        assert_eq!(find_field(b" { } ", &["a"]).unwrap(), None);
        assert_eq!(find_field(br#"{"b":null}"#, &["a"]).unwrap(), None);
        let [a, b, c] = find_fields(br#"{"b":null,"c":false}"#, ["a", "b", "c"]).unwrap();
        assert_eq!(a, None);
        assert_eq!(b, Some(JsonRef::Null));
        assert_eq!(c, Some(JsonRef::Bool(false)));
        // First occurrence wins.
        let doc = br#"{"a":1,"a":2,"b":{"a":3}}"#;
        assert_eq!(find_field(doc, &["a"]).unwrap(), Some(JsonRef::Number("1")));
        let [x, y] = find_fields(doc, ["a", "a"]).unwrap();
        assert_eq!(x, Some(JsonRef::Number("1")));
        assert_eq!(y, Some(JsonRef::Number("1")));
        let [] = find_fields(b"{", []).unwrap();
    }

    #[test]
    fn find_stops_early() {
        // Everything after the last wanted field is not looked at.
        let doc = br#"{"a":"x","b":2, this is not json"#;
        let [a, b] = find_fields(doc, ["a", "b"]).unwrap();
        assert_eq!(a, s("x"));
        assert_eq!(b, Some(JsonRef::Number("2")));
        assert_eq!(find_field(doc, &["a"]).unwrap(), s("x"));
        // ...but looking for an absent field must walk into the garbage.
        assert!(find_field(doc, &["zzz"]).is_err());
    }

    #[test]
    fn not_an_object() {
        for doc in [&b"[1,2]"[..], b"\"s\"", b"1", b"null", b"", b"   ", b"x"] {
            assert!(find_field(doc, &["a"]).is_err(), "{doc:?}");
            assert!(find_fields(doc, ["a"]).is_err(), "{doc:?}");
        }
        let e = find_field(b"  [1]", &["a"]).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(
            e.to_string(),
            "invalid JSON at byte 2: expected a JSON object"
        );
    }

    #[test]
    fn malformed_objects() {
        for doc in [
            &br#"{"a" 1}"#[..],
            br#"{a:1}"#,
            br#"{"a":1,}"#,
            br#"{"a":1 "b":2}"#,
            br#"{"x":01,"a":1}"#,
            br#"{"x":[1,2}, "a":1}"#,
            br#"{"x":"\q","a":1}"#,
            br#"{"a":1} x"#,
            br#"{"a":tru}"#,
            br#"{"a":-}"#,
        ] {
            assert!(validate(doc).is_err(), "{}", String::from_utf8_lossy(doc));
            assert!(!serde_ok(doc));
            // An absent key makes find_field walk the whole top level.
            assert!(
                find_field(doc, &["zz"]).is_err(),
                "{}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn truncated_input() {
        let doc = br#"{"company_id":"acme","v":[1.5,-2e3,{"k":"x\"y"}],"ts":"2025"}"#;
        validate(doc).unwrap();
        for cut in 0..doc.len() {
            let part = &doc[..cut];
            assert!(validate(part).is_err(), "cut at {cut}");
            // The last field is not found until its value is complete.
            if cut < doc.len() - 1 {
                assert!(find_field(part, &["ts"]).is_err(), "cut at {cut}");
            }
            assert!(find_field(part, &["absent"]).is_err(), "cut at {cut}");
            let e = validate(part).unwrap_err();
            assert!(e.offset <= cut, "{e} for cut {cut}");
        }
        // A field that is complete before the cut is still found.
        let cut = doc.len() - 20;
        assert_eq!(find_field(&doc[..cut], &["company_id"]).unwrap(), s("acme"));
    }

    #[test]
    fn numbers() {
        let doc = br#"{"a":-0.0e+10,"b":42,"c":-7,"d":1.5,"e":1E3,"f":99999999999999999999,"g":0,"h":-0}"#;
        validate(doc).unwrap();
        let [a, b, c, d, e, f, g, h] =
            find_fields(doc, ["a", "b", "c", "d", "e", "f", "g", "h"]).unwrap();
        assert_eq!(a, Some(JsonRef::Number("-0.0e+10")));
        assert_eq!(b.unwrap().as_i64(), Some(42));
        assert_eq!(c.unwrap().as_i64(), Some(-7));
        assert_eq!(d.as_ref().unwrap().as_i64(), None);
        assert_eq!(d, Some(JsonRef::Number("1.5")));
        assert_eq!(e.unwrap().as_i64(), None);
        assert_eq!(f, Some(JsonRef::Number("99999999999999999999")));
        assert_eq!(f.unwrap().as_i64(), None);
        assert_eq!(g.unwrap().as_i64(), Some(0));
        assert_eq!(h.unwrap().as_i64(), Some(0));
        assert_eq!(JsonRef::Null.as_i64(), None);
        assert_eq!(JsonRef::String("5".into()).as_i64(), None);
        assert_eq!(JsonRef::Number("5").as_str(), None);

        let ok = [
            "0",
            "-0",
            "-0.0e+10",
            "1e5",
            "1E-5",
            "0.5",
            "123456789012345678901234567890",
            "1.7976931348623157e308",
            "1e-400",
            "0e999999999999",
            "2.5e-99999",
        ];
        let bad = [
            "01",
            "-01",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "1e+",
            "0x1",
            "1.e5",
            "- 1",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e309",
            "1e99999999999999999999",
        ];
        // Bare (byte-by-byte path) and followed by padding (24-byte fast path).
        let contexts = |n: &str| {
            [
                n.to_string(),
                format!("[{n},{n}]{:30}", ""),
                format!("{n}{:30}", ""),
            ]
        };
        for n in ok {
            for doc in contexts(n) {
                assert!(serde_ok(doc.as_bytes()), "serde rejects {doc}");
                assert_eq!(validate(doc.as_bytes()), Ok(()), "{doc}");
            }
        }
        for n in bad.iter().chain(&[
            "1.,", "-0.]", "1.e", "00.5", "-a", "0.5.5", "1e5.5", "--1", "1-",
        ]) {
            for doc in contexts(n) {
                assert!(!serde_ok(doc.as_bytes()), "serde accepts {doc}");
                assert!(validate(doc.as_bytes()).is_err(), "{doc}");
            }
        }
        // An integer part of 310 digits overflows an f64 too.
        let long = format!("1{}", "0".repeat(309));
        assert!(!serde_ok(long.as_bytes()));
        assert!(validate(long.as_bytes()).is_err());
        let long = format!("0.{}1e305", "0".repeat(20));
        assert!(serde_ok(long.as_bytes()));
        assert!(validate(long.as_bytes()).is_ok());
    }

    #[test]
    fn strings_strictness() {
        let cases: &[(&[u8], bool)] = &[
            (b"\"a\tb\"", false),          // raw control character
            (b"\"a\x7fb\"", true),         // DEL is allowed
            (b"\"\\x\"", false),           // bad escape
            (b"\"\\u12\"", false),         // short \u
            (b"\"\\u12G4\"", false),       // not hex
            (b"\"\\uD83D\\uDE00\"", true), // surrogate pair
            (b"\"\\ud800\"", false),       // lone leading surrogate
            (b"\"\\udc00\"", false),       // lone trailing surrogate
            (b"\"\\ud800\\u0041\"", false),
            (b"\"\\ud800\\n\"", false),
            (b"\"\xff\"", false),         // invalid UTF-8
            (b"\"\xc3\xa9\"", true),      // valid UTF-8
            (b"\"\xc3\"", false),         // truncated UTF-8
            (b"\"\xed\xa0\x80\"", false), // UTF-8-encoded surrogate
            (b"\"abc", false),
            (b"\"abcdefghijklmnop\\", false),
            (b"\"0123456789abcdef\xc3\xa9\"", true),
        ];
        for &(doc, ok) in cases {
            assert_eq!(serde_ok(doc), ok, "serde on {doc:?}");
            assert_eq!(validate(doc).is_ok(), ok, "{doc:?}");
        }
    }

    #[test]
    fn validate_misc() {
        for doc in [
            "null",
            " true ",
            "\n[false]\r\n",
            "{}",
            "[]",
            "[[],{}]",
            "{\"a\":{\"b\":[]}}",
        ] {
            validate(doc.as_bytes()).unwrap();
        }
        for doc in [
            "",
            " ",
            "[1,]",
            "[,1]",
            "{,}",
            "[1 2]",
            "nul",
            "nulll",
            "[1]]",
            "{}{}",
            "\u{feff}{}",
            "[1,\u{a0}2]",
            "'a'",
        ] {
            assert!(validate(doc.as_bytes()).is_err(), "{doc:?}");
            assert!(!serde_ok(doc.as_bytes()), "{doc:?}");
        }
        assert_eq!(
            validate(b"[1, 2,]").unwrap_err(),
            ScanError {
                offset: 6,
                message: "expected value"
            }
        );
        assert_eq!(validate(b"[1] x").unwrap_err().offset, 4);
    }

    #[test]
    fn depth_limit_like_serde_json() {
        for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
            let nested = |n: usize| format!("{}1{}", open.repeat(n), close.repeat(n)).into_bytes();
            assert!(serde_ok(&nested(127)));
            assert!(!serde_ok(&nested(128)));
            assert!(validate(&nested(127)).is_ok());
            assert!(validate(&nested(128)).is_err());
        }
        // Deep inputs are errors, never stack overflows.
        let deep = "[".repeat(1_000_000);
        assert_eq!(
            validate(deep.as_bytes()).unwrap_err().message,
            "recursion limit exceeded"
        );
        let doc = format!("{{\"a\":{}", deep);
        assert!(find_field(doc.as_bytes(), &["b"]).is_err());
        // find_field counts the depth of the objects on its path, too.
        let ok = format!("{}1{}", "{\"k\":".repeat(127), "}".repeat(127));
        let path = vec!["k"; 127];
        assert_eq!(
            find_field(ok.as_bytes(), &path).unwrap(),
            Some(JsonRef::Number("1"))
        );
        let ok = format!("{}[[1]]{}", "{\"k\":".repeat(125), "}".repeat(125));
        assert!(find_field(ok.as_bytes(), &["k"]).is_ok());
        let bad = format!("{}[[[1]]]{}", "{\"k\":".repeat(125), "}".repeat(125));
        assert!(!serde_ok(bad.as_bytes()));
        assert!(find_field(bad.as_bytes(), &["k"]).is_err());
    }

    /// The four ways serde's `IgnoredAny` is more lenient than `Value`; we
    /// side with `Value` (see `validate`'s docs).
    #[test]
    fn stricter_than_ignored_any() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for doc in [&b"\"\xff\""[..], b"\"\\ud800\"", b"1e400", deep.as_bytes()] {
            assert!(serde_ignored_ok(doc));
            assert!(!serde_ok(doc));
            assert!(validate(doc).is_err());
        }
    }

    #[test]
    fn swar_helpers() {
        for len in 0..20 {
            for stop in [b'"', b'\\', b'\n', 0, 0x1f, b'x'] {
                let mut body = vec![b'a'; len];
                body.push(stop);
                body.extend_from_slice(b"bbbbbbbbb\"");
                let found = scan_string(&body, 0).map(|r| r.0);
                let expect = match stop {
                    b'"' => Ok(len),
                    b'\\' | b'x' => Ok(body.len() - 1), // `\b` is a valid escape
                    _ => Err(()),
                };
                assert_eq!(found.map_err(|_| ()), expect, "{len} {stop}");
            }
            let mut digits = vec![b'7'; len];
            digits.extend_from_slice(b"x12345678");
            assert_eq!(digit_run(&digits, 0), len);
            for non_digit in [b'/', b':', b'.', 0x80, 0xb9, 0xff, b'e', 0] {
                let mut d = vec![b'0'; len];
                d.push(non_digit);
                d.extend_from_slice(b"99999999");
                assert_eq!(digit_run(&d, 0), len);
            }
        }
    }

    // --- property tests -------------------------------------------------------

    fn arb_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,8}",
            any::<String>(),
            "[\"\\\\/\n\t\u{0}\u{1f}\u{7f}é€😀a ]{0,6}",
        ]
    }

    fn arb_number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(Value::Number)),
            (-1.0f64..1.0).prop_map(Value::from),
        ]
    }

    pub(crate) fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            arb_number(),
            arb_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(arb_string(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    pub(crate) fn arb_object() -> impl Strategy<Value = serde_json::Map<String, Value>> {
        prop::collection::btree_map(arb_string(), arb_value(), 0..10)
            .prop_map(|m| m.into_iter().collect())
    }

    pub(crate) fn serialise(v: &Value, pretty: bool) -> Vec<u8> {
        if pretty {
            serde_json::to_vec_pretty(v).unwrap()
        } else {
            serde_json::to_vec(v).unwrap()
        }
    }

    fn interesting_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            any::<u8>(),
            prop::sample::select(
                b"{}[]\",:\\ \n0123456789-+.eEtrufalsn/ubfx\x00\x1f\x80\xc3\xff".to_vec()
            ),
        ]
    }

    /// Applies one random edit: none, overwrite, insert, delete or truncate.
    pub(crate) fn mutated_json() -> impl Strategy<Value = Vec<u8>> {
        (
            arb_value(),
            any::<bool>(),
            0u8..5,
            any::<prop::sample::Index>(),
            interesting_byte(),
        )
            .prop_map(|(v, pretty, op, at, byte)| {
                let mut doc = serialise(&v, pretty);
                if doc.is_empty() {
                    return doc;
                }
                let i = at.index(doc.len());
                match op {
                    1 => doc[i] = byte,
                    2 => doc.insert(i, byte),
                    3 => {
                        doc.remove(i);
                    }
                    4 => doc.truncate(i),
                    _ => {}
                }
                doc
            })
    }

    fn json_alphabet_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..32),
            prop::collection::vec(interesting_byte(), 0..32),
        ]
    }

    /// Compares a found value with the generated value it came from.
    fn same(found: &JsonRef<'_>, v: &Value) -> bool {
        match (found, v) {
            (JsonRef::Null, Value::Null) => true,
            (JsonRef::Bool(a), Value::Bool(b)) => a == b,
            // The number text is exactly serde_json's output for it.
            (JsonRef::Number(t), Value::Number(_)) => *t == serde_json::to_string(v).unwrap(),
            (JsonRef::String(a), Value::String(b)) => a == b,
            // Parse both texts the same way (float parsing need not round-trip).
            (JsonRef::Raw(raw), Value::Array(_) | Value::Object(_)) => {
                serde_json::from_slice::<Value>(raw).unwrap()
                    == serde_json::from_slice::<Value>(&serialise(v, false)).unwrap()
            }
            _ => false,
        }
    }

    /// Number-like text, valid or nearly so, including f64 range edges.
    fn arb_number_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "-?(0|[1-9][0-9]{0,3}|00|01)(\\.[0-9]{0,3})?([eE][+-]?[0-9]{0,4})?",
            "-?[0-9]{0,3}\\.?[0-9]{0,3}[eE]?[+-]?[0-9]{0,3}",
            "-?(0|[1-9][0-9]{0,24})\\.[0-9]{0,24}",
            "-?(0|00|[1-9])?\\.?[0-9]?[eE.-]?",
            "-?[1-9](\\.0{0,30}[1-9]?)?e[+]?(29[0-9]|30[0-9]|31[0-9]|[0-9]{1,3}|1[0-9]{19})",
            "-?0\\.0{0,20}[1-9]e3[0-2][0-9]",
            "[1-9][0-9]{295,315}(\\.5)?",
            any::<f64>().prop_map(|f| f.to_string()),
            any::<f32>().prop_map(|f| format!("{f:e}")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn validate_agrees_with_serde_on_bytes(doc in json_alphabet_bytes()) {
            prop_assert_eq!(validate(&doc).is_ok(), serde_ok(&doc));
        }

        #[test]
        fn validate_agrees_with_serde_on_mutated_json(doc in mutated_json()) {
            let ok = validate(&doc).is_ok();
            prop_assert_eq!(ok, serde_ok(&doc), "{}", String::from_utf8_lossy(&doc));
            // IgnoredAny accepts a superset.
            prop_assert!(!ok || serde_ignored_ok(&doc));
        }

        #[test]
        fn validate_agrees_with_serde_on_numbers(
            numbers in prop::collection::vec(arb_number_text(), 1..4),
            context in 0u8..4,
            padding in 0usize..40,
        ) {
            // Padding after the value decides whether the 24-byte fast path or
            // the byte-by-byte path of `scan_number` sees the numbers.
            let list = numbers.join(",");
            let doc = match context {
                0 => list,
                1 => format!("[{list}]"),
                2 => format!("[{}]", numbers.join(" , ")),
                _ => format!("{{\"k\":{list}}}"),
            } + &" ".repeat(padding);
            prop_assert_eq!(validate(doc.as_bytes()).is_ok(), serde_ok(doc.as_bytes()), "{}", doc);
        }

        #[test]
        fn movemask_packs_high_bits(w in any::<u64>()) {
            let expected = (0..8).fold(0u32, |m, k| m | (((w >> (8 * k + 7)) & 1) as u32) << k);
            prop_assert_eq!(movemask(w), expected);
            let bytes = w.to_le_bytes();
            let expected = (0..8).fold(0u32, |m, k| m | u32::from(!bytes[k].is_ascii_digit()) << k);
            prop_assert_eq!(movemask(non_digits(w)), expected);
        }
    }

    proptest! {
        #[test]
        fn find_field_agrees_with_serde(obj in arb_object(), pretty in any::<bool>()) {
            let doc = serialise(&Value::Object(obj.clone()), pretty);
            for (k, v) in &obj {
                let found = find_field(&doc, &[k]).unwrap();
                prop_assert!(found.as_ref().is_some_and(|f| same(f, v)), "{k:?}: {found:?} vs {v}");
                if let Value::Object(inner) = v {
                    for (k2, v2) in inner {
                        let found = find_field(&doc, &[k, k2]).unwrap();
                        prop_assert!(found.as_ref().is_some_and(|f| same(f, v2)), "{k:?}.{k2:?}");
                    }
                    prop_assert_eq!(find_field(&doc, &[k, "\u{0}absent"]).unwrap(), None);
                } else {
                    prop_assert_eq!(find_field(&doc, &[k, "x"]).unwrap(), None);
                }
            }
            prop_assert_eq!(find_field(&doc, &["\u{0}absent"]).unwrap(), None);

            let keys: Vec<&String> = obj.keys().collect();
            let first = keys.first().map_or("none", |k| k.as_str());
            let last = keys.last().map_or("none", |k| k.as_str());
            let [a, b, c] = find_fields(&doc, [last, "\u{0}absent", first]).unwrap();
            prop_assert_eq!(b, None);
            for (found, key) in [(a, last), (c, first)] {
                match obj.get(key) {
                    Some(v) => prop_assert!(found.as_ref().is_some_and(|f| same(f, v))),
                    None => prop_assert_eq!(found, None),
                }
            }
        }
    }
}
