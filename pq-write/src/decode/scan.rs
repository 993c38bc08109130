//! The fast path of [`RowDecoder`](super::RowDecoder): one pass over a line's bytes that
//! fills the column builders directly. Hand-written because serde's visitor calls were
//! most of pq-write's CPU: this walk takes about 0.7 s where serde_json took 1.2 s for
//! 1M lab events (README, "Where the time goes").
//!
//! It only has to be right about the lines it accepts. Anything it does not handle
//! itself (control bytes, escapes it cannot decode, integers past 18 digits, an
//! unknown or repeated key, a value of the wrong type, an array or object in a string
//! column, trailing bytes, any syntax error) is a [`Bail`]: the caller rolls the row
//! back and serde's path decodes the line again, so errors keep their words and
//! positions and the rare shapes keep one implementation.

use std::fmt;

use serde::de;

use super::{end_nested, find_key, push_bool, push_f64, push_int, push_text, Col, Kind, Named};
use crate::shape::Shape;

/// "Let serde's path decide": carries no message, since that path writes it.
#[derive(Debug)]
pub(super) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to serde_json")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

type Res<T> = Result<T, Bail>;

/// Decodes one line (already checked to be UTF-8) into `root`'s columns. With `covering`
/// a whole float (3.0) bails in an integer column too: inference would widen that column
/// to a double, and a covering decode must take only rows inference would not change
/// ([`super::RowDecoder::push_covered`]).
pub(super) fn row(root: &mut Col, line: &str, scratch: &mut String, covering: bool) -> Res<()> {
    whole_object(line, scratch, covering, |s| s.value(root))
}

/// True when the row (checked to be UTF-8) certainly adds nothing to an inference whose
/// fields are `fields` ([`crate::infer::SchemaInference::add_if_covered`]); false means
/// "ask serde's path", which decides every row this one does not take. Inference reads
/// the first row group before the pipeline can start, so its speed is startup time.
pub(crate) fn covered(fields: &[(String, Shape)], line: &str) -> bool {
    let mut scratch = String::new();
    whole_object(line, &mut scratch, true, |s| s.covers_object(fields)).is_ok()
}

/// `each` on the object that is the whole line, with nothing but spaces around it.
fn whole_object<'a>(
    line: &'a str,
    scratch: &'a mut String,
    covering: bool,
    each: impl FnOnce(&mut Scan<'a>) -> Res<()>,
) -> Res<()> {
    // JSON allows tab, CR and LF between tokens but no control byte in a string; lines
    // with any are rare, so one branch-free pass sends them all to serde.
    if line.bytes().fold(false, |any, b| any | (b < 0x20)) {
        return Err(Bail);
    }
    let mut s = Scan {
        line,
        b: line.as_bytes(),
        i: 0,
        scratch,
        covering,
    };
    s.spaces();
    if s.peek() != b'{' {
        return Err(Bail);
    }
    each(&mut s)?;
    s.spaces();
    if s.i == s.b.len() {
        Ok(())
    } else {
        Err(Bail)
    }
}

/// A number's kind, as serde_json would visit it.
enum Num {
    Int(i64),
    Float(f64),
}

/// Deeper values than this are left to serde (whose own limit is 128).
const MAX_SKIP_DEPTH: usize = 100;

struct Scan<'a> {
    line: &'a str,
    b: &'a [u8],
    i: usize,
    /// Unescaped text of the current string, when it has escapes.
    scratch: &'a mut String,
    /// Take only what inference would not widen (see [`row`]).
    covering: bool,
}

impl Scan<'_> {
    /// The byte at the cursor; 0 past the end (0 is never valid there).
    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Skips spaces. Rows from JSON writers rarely have any, so the common case is one
    /// comparison here and the loop lives out of line: with it inline at every call
    /// site pq-write ran 4% more instructions (callgrind, 200k events).
    #[inline]
    fn spaces(&mut self) {
        if self.peek() == b' ' {
            self.more_spaces();
        }
    }

    #[cold]
    #[inline(never)]
    fn more_spaces(&mut self) {
        while self.peek() == b' ' {
            self.i += 1;
        }
    }

    /// Consumes `byte` (after spaces) or bails.
    #[inline]
    fn expect(&mut self, byte: u8) -> Res<()> {
        self.spaces();
        if self.peek() != byte {
            return Err(Bail);
        }
        self.i += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Res<()> {
        if !self.b[self.i..].starts_with(word) {
            return Err(Bail);
        }
        self.i += word.len();
        Ok(())
    }

    fn value(&mut self, col: &mut Col) -> Res<()> {
        self.spaces();
        match self.peek() {
            b'"' => {
                let s = self.string()?;
                // String columns first, without push_text's other kinds and messages.
                match col.kind {
                    Kind::Str { .. } => col.push_str(s).map_err(|_| Bail),
                    _ => push_text(col, s),
                }
            }
            b'-' | b'0'..=b'9' => self.number(col),
            b'{' => self.object(col),
            b'[' => self.array(col),
            b't' => self.literal(b"true").and_then(|_| push_bool(col, true)),
            b'f' => self.literal(b"false").and_then(|_| push_bool(col, false)),
            b'n' => {
                self.literal(b"null")?;
                col.push_null();
                Ok(())
            }
            _ => Err(Bail),
        }
    }

    /// The string at the cursor, unescaped. Borrowed from the line when it has no escape.
    #[inline(always)]
    fn string(&mut self) -> Res<&str> {
        self.i += 1;
        let start = self.i;
        let end = start + quote_or_backslash(&self.b[start..]).ok_or(Bail)?;
        if self.b[end] == b'"' {
            self.i = end + 1;
            return Ok(&self.line[start..end]);
        }
        self.escaped(start, end)
    }

    /// The rest of a string with escapes (from `start`, the first backslash at `end`),
    /// unescaped into `scratch`: out of line, so the common string stays small enough
    /// to inline.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, start: usize, end: usize) -> Res<&str> {
        self.scratch.clear();
        self.scratch.push_str(&self.line[start..end]);
        self.i = end;
        loop {
            let at = self.i;
            let next = at + quote_or_backslash(&self.b[at..]).ok_or(Bail)?;
            self.scratch.push_str(&self.line[at..next]);
            self.i = next + 1;
            if self.b[next] == b'"' {
                return Ok(self.scratch.as_str());
            }
            let c = self.escape()?;
            self.scratch.push(c);
        }
    }

    /// The character of the escape after a backslash; a lone surrogate bails.
    fn escape(&mut self) -> Res<char> {
        let e = self.peek();
        self.i += 1;
        Ok(match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    self.literal(b"\\u")?;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(Bail);
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                char::from_u32(code).ok_or(Bail)?
            }
            _ => return Err(Bail),
        })
    }

    fn hex4(&mut self) -> Res<u32> {
        let digits = self.b.get(self.i..self.i + 4).ok_or(Bail)?;
        let mut v = 0;
        for d in digits {
            v = v * 16 + (*d as char).to_digit(16).ok_or(Bail)?;
        }
        self.i += 4;
        Ok(v)
    }

    /// A number by JSON's grammar, given to the column as serde_json would: integers as
    /// i64/u64 (with the same text), anything else as a correctly rounded f64 (serde_json
    /// has `float_roundtrip`, and Rust's `parse` rounds correctly too).
    fn number(&mut self, col: &mut Col) -> Res<()> {
        match self.lex_number()? {
            // Integer columns first, without push_int's other kinds (as string columns
            // in `value`).
            Num::Int(v) => match &mut col.kind {
                Kind::Int { vals, min, max } if (*min..=*max).contains(&v) => {
                    vals.push(v);
                    col.valid.push(true);
                    Ok(())
                }
                _ if v >= 0 => push_int(col, v as i128, &(v as u64)),
                _ => push_int(col, v as i128, &v),
            },
            Num::Float(_) if self.covering && matches!(col.kind, Kind::Int { .. }) => Err(Bail),
            Num::Float(v) => push_f64(col, v),
        }
    }

    /// The number at the cursor; integers of 19+ digits, -0 and non-finite floats bail.
    fn lex_number(&mut self) -> Res<Num> {
        let start = self.i;
        let neg = self.peek() == b'-';
        self.i += neg as usize;
        let digits_at = self.i;
        match self.peek() {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return Err(Bail),
        }
        let int_end = self.i;
        let mut float = false;
        if self.peek() == b'.' {
            self.i += 1;
            self.some_digits()?;
            float = true;
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.i += 1;
            if matches!(self.peek(), b'+' | b'-') {
                self.i += 1;
            }
            self.some_digits()?;
            float = true;
        }
        if float {
            let v: f64 = self.line[start..self.i].parse().map_err(|_| Bail)?;
            return if v.is_finite() {
                Ok(Num::Float(v))
            } else {
                Err(Bail)
            };
        }
        // Up to 18 digits always fit an i64; longer ones, and -0 (a float to
        // serde_json), go to serde.
        let digits = &self.b[digits_at..int_end];
        if digits.len() > 18 {
            return Err(Bail);
        }
        let v = digits.iter().fold(0i64, |v, d| v * 10 + (d - b'0') as i64);
        match (neg, v) {
            (true, 0) => Err(Bail),
            (true, v) => Ok(Num::Int(-v)),
            (false, v) => Ok(Num::Int(v)),
        }
    }

    /// The value at the cursor adds nothing to `shape`: the rules of `infer::Covers`.
    fn covers(&mut self, shape: &Shape) -> Res<()> {
        self.spaces();
        match (self.peek(), shape) {
            (b'n', _) => self.literal(b"null"),
            (_, Shape::Json) => self.skip(0),
            (b'{', Shape::Object(fields)) => self.covers_object(fields),
            (b'[', Shape::List(item)) => self.items(b']', |s| s.covers(item)),
            (b'"', Shape::Str) => self.string().map(drop),
            (b't', Shape::Bool | Shape::Str) => self.literal(b"true"),
            (b'f', Shape::Bool | Shape::Str) => self.literal(b"false"),
            (b'-' | b'0'..=b'9', Shape::Int | Shape::Float | Shape::Str) => {
                match (self.lex_number()?, shape) {
                    (Num::Float(_), Shape::Int) => Err(Bail),
                    _ => Ok(()),
                }
            }
            _ => Err(Bail),
        }
    }

    /// The object at the cursor: every key one of `fields`, every value covered.
    fn covers_object(&mut self, fields: &[(String, Shape)]) -> Res<()> {
        let mut hint = 0;
        self.items(b'}', |s| {
            let i = match s.expected_key(fields, &mut hint) {
                Some(i) => i,
                None => find_key(fields, &mut hint, s.key()?).ok_or(Bail)?,
            };
            s.expect(b':')?;
            s.covers(&fields[i].1)
        })
    }

    /// Any JSON value, checked and kept nowhere (a field inferred as JSON text).
    fn skip(&mut self, depth: usize) -> Res<()> {
        if depth > MAX_SKIP_DEPTH {
            return Err(Bail);
        }
        self.spaces();
        match self.peek() {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.lex_number().map(drop),
            b'{' => self.items(b'}', |s| {
                s.key()?;
                s.expect(b':')?;
                s.skip(depth + 1)
            }),
            b'[' => self.items(b']', |s| s.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => Err(Bail),
        }
    }

    fn digits(&mut self) {
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Res<()> {
        let from = self.i;
        self.digits();
        if self.i == from {
            Err(Bail)
        } else {
            Ok(())
        }
    }

    fn object(&mut self, col: &mut Col) -> Res<()> {
        match &mut col.kind {
            Kind::Struct { .. } => col.push_struct(|obj| {
                self.items(b'}', |s| {
                    let i = match s.expected_key(obj.names, obj.hint) {
                        Some(i) => i,
                        None => find_key(obj.names, obj.hint, s.key()?).ok_or(Bail)?,
                    };
                    let child = obj.child(i).ok_or(Bail)?;
                    s.expect(b':')?;
                    s.value(child)
                })
            }),
            Kind::Map { .. } => col.push_map(|keys, values| {
                self.items(b'}', |s| {
                    push_text(keys, s.key()?)?;
                    s.expect(b':')?;
                    s.value(values)
                })
            }),
            _ => Err(Bail),
        }
    }

    fn array(&mut self, col: &mut Col) -> Res<()> {
        let Kind::List { offsets, child } = &mut col.kind else {
            return Err(Bail);
        };
        self.items(b']', |s| s.value(child))?;
        end_nested(offsets, &mut col.valid, child.len(), "list too long")
    }

    /// The items of the array or object whose opening bracket is at the cursor, up to
    /// and with its `close`: `each` reads one item, this the commas between them.
    fn items(&mut self, close: u8, mut each: impl FnMut(&mut Self) -> Res<()>) -> Res<()> {
        self.i += 1;
        self.spaces();
        if self.peek() == close {
            self.i += 1;
            return Ok(());
        }
        loop {
            each(self)?;
            self.spaces();
            match self.peek() {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Bail),
            }
        }
    }

    /// The key at the cursor when it is written as one of the names from the hint on,
    /// matched in place: rows repeat the schema's order, so this mostly succeeds at the
    /// first name without finding the string's end or looking the key up. A name with a
    /// backslash never matches here (the line's bytes could then be a longer, escaped key).
    fn expected_key(&mut self, names: &[impl Named], hint: &mut usize) -> Option<usize> {
        self.spaces();
        if self.peek() != b'"' {
            return None;
        }
        let from = self.i + 1;
        let i = (*hint..names.len()).find(|&i| {
            let name = names[i].name().as_bytes();
            let end = from + name.len();
            self.b.get(end) == Some(&b'"') && same_plain_name(&self.b[from..end], name)
        })?;
        self.i = from + names[i].name().len() + 1;
        *hint = i + 1;
        Some(i)
    }

    fn key(&mut self) -> Res<&str> {
        self.spaces();
        if self.peek() != b'"' {
            return Err(Bail);
        }
        self.string()
    }
}

/// `line` (as long as `name`) holds `name`'s bytes, and `name` has no backslash. A word
/// at a time with the last word overlapping: key names are short, and a byte loop (or
/// memcmp's call) here was 5% of pq-write's CPU.
#[inline(always)]
fn same_plain_name(line: &[u8], name: &[u8]) -> bool {
    let n = name.len();
    if n < 8 {
        let w = short_word(name);
        return short_word(line) == w && !has_backslash(w);
    }
    let mut at = 0;
    loop {
        let w = word_at(name, at);
        if word_at(line, at) != w || has_backslash(w) {
            return false;
        }
        if at + 8 == n {
            return true;
        }
        at = (at + 8).min(n - 8);
    }
}

#[inline(always)]
fn word_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Every byte of `b` (shorter than 8) in one word: two overlapping halves, or the first,
/// middle and last byte.
#[inline(always)]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    let half = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("4")));
    match n {
        0 => 0,
        1..=3 => u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
        _ => half(0) | half(n - 4) << 32,
    }
}

/// Some byte of `v` is a backslash (no false positives: the zero-byte trick's stray
/// high bits only appear above a real zero).
#[inline(always)]
fn has_backslash(v: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let x = v ^ (ONES * b'\\' as u64);
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Where the first `"` or `\\` is. Eight bytes at a time by hand (SWAR): the strings of
/// event rows are mostly shorter than 32 bytes, where `memchr2`'s call and set-up cost
/// more than the search.
#[inline]
fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // High bit set in the lowest zero byte of `v` (higher ones may be false positives).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut chunks = b.chunks_exact(8);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let hits = zero(x ^ (ONES * b'"' as u64)) | zero(x ^ (ONES * b'\\' as u64));
        if hits != 0 {
            return Some(n * 8 + (hits.trailing_zeros() / 8) as usize);
        }
    }
    let rest = chunks.remainder();
    let at = rest.iter().position(|c| matches!(c, b'"' | b'\\'))?;
    Some(b.len() - rest.len() + at)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::RowDecoder;
    use super::*;
    use lakepipe::ddl::parse_schema;

    const DDL: &str = "id BIGINT, small TINYINT, price DOUBLE, ratio FLOAT, ok BOOLEAN, \
        name STRING, ts TIMESTAMP, day DATE, amount DECIMAL(10,2), blob BINARY, \
        tags ARRAY<INT>, user STRUCT<id:BIGINT, tags:ARRAY<STRING>>, attrs MAP<STRING,BIGINT>";

    fn decoder(fast_path: bool) -> RowDecoder {
        let mut d = RowDecoder::new(Arc::new(parse_schema(DDL).unwrap()), None).unwrap();
        d.fast_path = fast_path;
        d
    }

    /// Lines the fast path must take itself, every column kind among them.
    const COMMON: &[&str] = &[
        r#"{"id":1,"small":-128,"price":338.67,"ratio":0.5,"ok":true,"name":"a","ts":"2023-11-14T22:13:20.000Z","day":"2024-02-29","amount":"12.30","blob":"aGk=","tags":[1,2],"user":{"id":7,"tags":["x","y"]},"attrs":{"k":1,"k":2}}"#,
        r#" { "id" : -9 , "price" : 1e3 , "name" : "tab\there \"q\" \u00e9\ud83d\ude00 \/" , "tags" : [ ] , "attrs" : { } } "#,
        r#"{"price":-0.0,"ratio":3,"amount":5,"name":12,"user":null,"tags":null,"ok":null}"#,
        r#"{"id":3.0,"name":true,"amount":1.5,"ts":1700000000000,"user":{"tags":[]}}"#,
        r#"{"name":"ünïcödé ✓","price":123456789012345678,"id":999999999999999999}"#,
        r#"{}"#,
        r#"{"na\u006de":"escaped key","user":{"tags":["k"],"id":1},"id":2}"#,
    ];

    /// Lines the fast path leaves to serde; some are good JSON, some not.
    const LEFT: &[&str] = &[
        "{\"name\":\"a\tb\"}",
        "{\"id\":1}\t",
        r#"{"id":1.5}"#,
        r#"{"id":-0}"#,
        r#"{"name":-0,"price":-0}"#,
        r#"{"id":1234567890123456789}"#,
        r#"{"price":1e999}"#,
        r#"{"new":null}"#,
        r#"{"new":1}"#,
        r#"{"id":1,"id":2}"#,
        r#"{"name":[1,{"a":2}]}"#,
        r#"{"name":"\ud800"}"#,
        r#"{"name":"\x"}"#,
        r#"{"small":200}"#,
        r#"{"id":1}x"#,
        r#"{"id":1,}"#,
        r#"{"tags":[1,]}"#,
        r#"{"id":01}"#,
        r#"{"price":1.}"#,
        r#"[1]"#,
        r#"{"id":1"#,
        "",
    ];

    #[test]
    fn finds_the_first_quote_or_backslash() {
        // Near misses: the quote and backslash with the high bit, and the bytes one above
        // them, which the zero-byte trick can flag next to a real hit.
        const FILL: [u8; 6] = [b'a', 0xa2, 0xdc, b'#', b']', b'!'];
        for len in 0..40 {
            for at in 0..len {
                for (c, other) in [(b'"', b'\\'), (b'\\', b'"')] {
                    let mut b: Vec<u8> = (0..len).map(|i| FILL[i % FILL.len()]).collect();
                    b[at] = c;
                    b.extend([other, 0x80 | c, 0xff]);
                    assert_eq!(quote_or_backslash(&b), Some(at), "{len} {at}");
                }
            }
            let plain: Vec<u8> = (0..len).map(|i| FILL[i % FILL.len()]).collect();
            assert_eq!(quote_or_backslash(&plain), None, "{len}");
        }
    }

    #[test]
    fn compares_plain_names_word_by_word() {
        for n in 0..30 {
            let name: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_plain_name(&name, &name), "{n}");
            for at in 0..n {
                let mut other = name.clone();
                other[at] = b'_';
                assert!(!same_plain_name(&other, &name), "{n} {at}");
                let mut escaped = name.clone();
                escaped[at] = b'\\';
                assert!(!same_plain_name(&escaped, &escaped), "{n} {at}");
            }
        }
    }

    #[test]
    fn takes_the_common_rows_and_leaves_the_rest() {
        let mut d = decoder(true);
        let mut scratch = String::new();
        for line in COMMON {
            assert!(
                row(&mut d.root, line, &mut scratch, false).is_ok(),
                "{line}"
            );
        }
        for line in LEFT {
            let before = d.root.len();
            assert!(
                row(&mut d.root, line, &mut scratch, false).is_err(),
                "{line}"
            );
            d.root.truncate(before);
        }
    }

    /// Every line, every prefix of it, and it with one byte dropped or replaced, gives the same
    /// rows and the same errors with the fast path as with serde's alone.
    #[test]
    fn fast_and_serde_paths_agree() {
        let (mut fast, mut serde) = (decoder(true), decoder(false));
        let mut lines = vec![];
        for line in COMMON.iter().chain(LEFT) {
            lines.push(line.to_string());
            // every cut-off line too (a line may end inside an escape or a number)
            lines.extend(
                (0..line.len())
                    .filter_map(|n| line.get(..n))
                    .map(String::from),
            );
            for at in 0..line.len() {
                for with in [
                    "", "\"", "{", "}", "[", "]", ",", ":", "0", "-", ".", "e", "\\", " ", "n",
                ] {
                    let mut l = line.as_bytes().to_vec();
                    l.splice(at..at + 1, with.bytes());
                    if let Ok(l) = String::from_utf8(l) {
                        lines.push(l);
                    }
                }
            }
        }
        let mut taken = 0;
        for line in &lines {
            let a = fast.push(line.as_bytes());
            assert_eq!(a, serde.push(line.as_bytes()), "{line}");
            taken += a.is_ok() as usize;
        }
        assert_eq!(fast.len(), taken);
        assert!(
            taken > 1000,
            "only {taken} of {} lines decoded",
            lines.len()
        );
        assert_eq!(fast.finish().unwrap(), serde.finish().unwrap());
    }

    #[test]
    fn keys_with_escapes_find_their_columns() {
        use arrow_schema::{DataType, Field, Schema};
        let fields = ["a\\", "a\"x", "b"].map(|n| Field::new(n, DataType::Int64, true));
        let mut d = RowDecoder::new(Arc::new(Schema::new(fields.to_vec())), None).unwrap();
        let mut scratch = String::new();
        for line in [
            r#"{"a\"x":2,"a\\":1,"\u0062":3}"#,
            r#"{"b":6,"a\"x":5,"a\\":4}"#,
        ] {
            row(&mut d.root, line, &mut scratch, false).unwrap();
        }
        let b = d.finish().unwrap();
        let col = |i: usize| {
            b.column(i)
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        };
        assert_eq!(
            [col(0), col(1), col(2)],
            [vec![1, 4], vec![2, 5], vec![3, 6]]
        );
    }

    /// A line that fails inside a list leaves none of the items it pushed (serde's path
    /// kept them until this change, and they landed in the next row's list).
    #[test]
    fn a_rejected_list_leaves_no_items_behind() {
        let good = [r#"{"tags":[1,2],"user":{"tags":["a"]}}"#, r#"{"tags":[4]}"#];
        let bad = [r#"{"tags":[3,"x"]}"#, r#"{"user":{"tags":["b","c""#];
        for fast_path in [true, false] {
            let (mut d, mut clean) = (decoder(fast_path), decoder(fast_path));
            for line in [good[0], bad[0], bad[1], good[1]] {
                let _ = d.push(line.as_bytes());
            }
            for line in good {
                clean.push(line.as_bytes()).unwrap();
            }
            assert_eq!(
                d.finish().unwrap(),
                clean.finish().unwrap(),
                "fast path {fast_path}"
            );
        }
    }
}
