//! Strict JSON in and jq-compatible JSON out, for jaq's [`Val`].
//!
//! jaq-json's own reader accepts a superset of JSON (comments, `NaN`, byte strings), so
//! a line such as `# note` would pass where jq rejects it; this parser follows RFC 8259.
//! Numbers keep the
//! text they were written with (`161.0` stays `161.0`), as jaq does; integers that fit a
//! machine word become integers.
//!
//! The writer prints what `jq -c` prints for the same value, including numbers that a
//! filter computed (`10/2` is `5`, `1e100` is `1e+100`, NaN is `null`).

use bytes::Bytes;
use jaq_json::{Map, Num, Rc, Val};
use lakepipe::text::{self, JsonEscape};
use std::fmt;

/// Nesting limit: deeper input is rejected instead of overflowing the stack.
const MAX_DEPTH: usize = 512;

/// Why a line is not JSON; `col` is the 1-based byte column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub col: usize,
    pub msg: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "invalid JSON at column {}: {}", self.col, self.msg)
    }
}

impl std::error::Error for ParseError {}

/// Parse one line holding one JSON value. `Ok(None)` for a blank line.
pub fn parse_line(line: &Bytes) -> Result<Option<Val>, ParseError> {
    if std::str::from_utf8(line).is_err() {
        let col = std::str::from_utf8(line)
            .map_err(|e| e.valid_up_to())
            .err()
            .unwrap_or(0);
        return Err(ParseError {
            col: col + 1,
            msg: "invalid UTF-8",
        });
    }
    // reuse the entry buffers of this thread, so objects get their exact size at once
    let (entries, items) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let mut p = Parser {
        b: line,
        pos: 0,
        depth: 0,
        entries,
        items,
    };
    let result = p.line();
    SCRATCH
        .with(|s| *s.borrow_mut() = (std::mem::take(&mut p.entries), std::mem::take(&mut p.items)));
    result
}

type Scratch = (Vec<(Val, Val)>, Vec<Val>);

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = Default::default();
}

/// Parse one JSON value given as text (for `--argjson`).
pub fn parse_str(s: &str) -> Result<Val, ParseError> {
    let line = Bytes::copy_from_slice(s.as_bytes());
    parse_line(&line)?.ok_or(ParseError {
        col: 1,
        msg: "expected a value",
    })
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    depth: usize,
    /// Entries of the objects being parsed (nested ones stacked after their parent's).
    entries: Vec<(Val, Val)>,
    /// Items of the arrays being parsed, stacked likewise.
    items: Vec<Val>,
}

impl Parser<'_> {
    fn line(&mut self) -> Result<Option<Val>, ParseError> {
        self.entries.clear();
        self.items.clear();
        self.ws();
        if self.pos == self.b.len() {
            return Ok(None);
        }
        let v = self.value()?;
        self.ws();
        if self.pos != self.b.len() {
            return Err(self.err("unexpected data after the value (one value per line)"));
        }
        Ok(Some(v))
    }

    fn err(&self, msg: &'static str) -> ParseError {
        ParseError {
            col: self.pos + 1,
            msg,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// After an item of an object or array: true at its `close`, false after a ','.
    #[inline]
    fn item_end(&mut self, close: u8, msg: &'static str) -> Result<bool, ParseError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.err(msg)),
        }
    }

    fn expect(&mut self, c: u8, msg: &'static str) -> Result<(), ParseError> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(msg))
        }
    }

    fn literal(&mut self, word: &[u8], v: Val) -> Result<Val, ParseError> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn value(&mut self) -> Result<Val, ParseError> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Val::TStr(Box::new(self.string()?))),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Val::Bool(true)),
            Some(b'f') => self.literal(b"false", Val::Bool(false)),
            Some(b'n') => self.literal(b"null", Val::Null),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of line")),
        }
    }

    /// Step into an object or array; true when it is empty (`close` follows at once).
    fn enter(&mut self, close: u8) -> Result<bool, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.pos += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        Ok(empty)
    }

    fn object(&mut self) -> Result<Val, ParseError> {
        let start = self.entries.len();
        if !self.enter(b'}')? {
            loop {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.err("expected a string key"));
                }
                let key = Val::TStr(Box::new(self.string()?));
                self.expect(b':', "expected ':'")?;
                let value = self.value()?;
                self.entries.push((key, value));
                if self.item_end(b'}', "expected ',' or '}'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        let mut map = Map::with_capacity_and_hasher(self.entries.len() - start, Default::default());
        for (k, v) in self.entries.drain(start..) {
            // a repeated key keeps its first position and its last value, as in jq
            map.insert(k, v);
        }
        Ok(Val::obj(map))
    }

    fn array(&mut self) -> Result<Val, ParseError> {
        let start = self.items.len();
        if !self.enter(b']')? {
            loop {
                let v = self.value()?;
                self.items.push(v);
                if self.item_end(b']', "expected ',' or ']'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        let items: Vec<Val> = self.items.drain(start..).collect();
        Ok(Val::Arr(Rc::new(items)))
    }

    /// A string starting at the opening quote; the input is known to be UTF-8.
    fn string(&mut self) -> Result<Bytes, ParseError> {
        self.pos += 1;
        let start = self.pos;
        // fast path: no escapes (copying is cheaper than sharing the line's buffer,
        // whose reference count every string would touch)
        loop {
            match self.peek() {
                Some(b'"') => {
                    let s = Bytes::copy_from_slice(&self.b[start..self.pos]);
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(self.err("control character in string")),
                Some(_) => self.pos += 1,
                None => return Err(self.err("unterminated string")),
            }
        }
        let mut out = self.b[start..self.pos].to_vec();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Bytes::from(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match c {
                        b'"' | b'\\' | b'/' => out.push(c),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                Some(0..=0x1f) => return Err(self.err("control character in string")),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .b
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("invalid \\u escape"))?;
        let n = u32::from_str_radix(text, 16).map_err(|_| self.err("invalid \\u escape"))?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.err("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(n)
    }

    /// `\uXXXX` (after the `u`), joining surrogate pairs; a lone surrogate becomes
    /// U+FFFD as in jq.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.b[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Val, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 {
            return Err(self.err("expected a digit"));
        }
        if n > 1 && self.b[int_start] == b'0' {
            return Err(ParseError {
                col: int_start + 1,
                msg: "leading zero in number",
            });
        }
        let mut is_int = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after '.'"));
            }
            is_int = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
            is_int = false;
        }
        let text = &self.b[start..self.pos];
        // the text is ASCII digits and signs, checked above
        let text = std::str::from_utf8(text).map_err(|_| self.err("invalid number"))?;
        if is_int {
            if let Ok(i) = text.parse::<isize>() {
                return Ok(Val::Num(Num::Int(i)));
            }
            if let Some(big) = Num::from_str_radix(text, 10) {
                return Ok(Val::Num(big));
            }
        }
        Ok(Val::Num(Num::Dec(Rc::new(text.to_owned()))))
    }
}

/// Append `v` as compact JSON, formatted as `jq -c` does.
pub fn write_json(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Num(n) => write_num(out, n),
        Val::TStr(s) | Val::BStr(s) => write_str(out, s),
        Val::Arr(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, x);
            }
            out.push(b']');
        }
        Val::Obj(o) => {
            out.push(b'{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    Val::TStr(s) | Val::BStr(s) => write_str(out, s),
                    // jaq allows non-string keys; JSON does not: print them as strings
                    other => {
                        let mut text = Vec::new();
                        write_json(&mut text, other);
                        write_str(out, &text);
                    }
                }
                out.push(b':');
                write_json(out, x);
            }
            out.push(b'}');
        }
    }
}

/// Append a string for `-r`: raw if it is a string, else as JSON.
pub fn write_raw(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::TStr(s) | Val::BStr(s) => out.extend_from_slice(String::from_utf8_lossy(s).as_bytes()),
        other => write_json(out, other),
    }
}

fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    // jaq can build strings that are not UTF-8 (`@base64d`); jq prints U+FFFD for those
    let s = String::from_utf8_lossy(s);
    text::push_json_str(out, s.as_bytes(), JsonEscape::JQ)
}

fn write_num(out: &mut Vec<u8>, n: &Num) {
    match n {
        Num::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Num::BigInt(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Num::Dec(text) => out.extend_from_slice(text.as_bytes()),
        Num::Float(f) => write_float(out, *f),
    }
}

/// A computed number as jq 1.6 prints it: the shortest digits that read back the same
/// value, in `%.17g` layout (`5`, `0.0001`, `1e-05`, `2.5e+17`); NaN is `null` and
/// infinities are the largest finite doubles.
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"null");
        return;
    }
    let f = if f.is_infinite() {
        f64::MAX.copysign(f)
    } else {
        f
    };
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f.abs());
    // split ryu's output into significant digits and a decimal exponent
    let (mant, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    let all: String = format!("{int_part}{frac_part}");
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = all[lead..].trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    // scientific exponent of the first significant digit
    let x = int_part.len() as i32 - 1 - lead as i32 + exp;
    if f.is_sign_negative() {
        out.push(b'-');
    }
    if !(-4..17).contains(&x) {
        out.extend_from_slice(&digits.as_bytes()[..1]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        let sign = if x < 0 { '-' } else { '+' };
        out.extend_from_slice(format!("e{sign}{:02}", x.abs()).as_bytes());
    } else if x >= 0 {
        let int_len = x as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits.as_bytes());
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits.as_bytes()[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-x - 1) as usize));
        out.extend_from_slice(digits.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> String {
        let v = parse_str(s).unwrap();
        let mut out = Vec::new();
        write_json(&mut out, &v);
        String::from_utf8(out).unwrap()
    }

    fn float(f: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_round_trip_compactly() {
        assert_eq!(
            roundtrip(r#" {"a" : [1, -2, 3.50, 1E2, true, null], "b":{}} "#),
            r#"{"a":[1,-2,3.50,1E2,true,null],"b":{}}"#
        );
        assert_eq!(
            roundtrip(r#""tab\there \"q\" \u00e9 \ud83d\ude00 \u001f \/""#),
            "\"tab\\there \\\"q\\\" é 😀 \\u001f /\""
        );
        assert_eq!(
            roundtrip("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(roundtrip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn invalid_json_is_rejected_with_a_column() {
        for (bad, col) in [
            ("{\"a\":}", 6),
            ("[1,]", 4),
            ("01", 1),
            ("# c", 1),
            ("NaN", 1),
            ("{\"a\":1} x", 9),
            ("\"abc", 5),
            ("1.", 3),
            ("[1 2]", 4),
        ] {
            let e = parse_str(bad).unwrap_err();
            assert_eq!(e.col, col, "{bad}: {e}");
        }
        assert_eq!(parse_line(&Bytes::from_static(b"  \r")).unwrap(), None);
        assert!(parse_line(&Bytes::from_static(b"\"\xff\"")).is_err());
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(parse_str(&deep).unwrap_err().msg, "nested too deeply");
    }

    #[test]
    fn floats_print_as_jq_does() {
        let cases = [
            (5.0, "5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e100, "1e+100"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-0.0, "-0"),
            (1e17, "1e+17"),
            (2.5e16, "25000000000000000"),
            (12345678.9, "12345678.9"),
            (f64::INFINITY, "1.7976931348623157e+308"),
            (f64::NAN, "null"),
            (-1.5e-10, "-1.5e-10"),
            (323.0, "323"),
            (161.25, "161.25"),
        ];
        for (f, want) in cases {
            assert_eq!(float(f), want, "{f}");
        }
    }
}
