//! Text output over plain strings, shared by every tool: CSV and TSV cells, JSON string
//! escaping (the peers differ in small ways, so each style is a [`JsonEscape`] value), and
//! the aligned, vertical and markdown tables people read on a terminal, measured in
//! display width. Callers render their values to strings first (each tool knows its own
//! types).

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

/// How a column's cells line up in a table: numbers right, everything else left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Append `s` as a CSV field (RFC 4180); see [`quote_csv_cell`].
pub fn push_csv_field(out: &mut Vec<u8>, s: &str, quote_all: bool) {
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    quote_csv_cell(out, start, quote_all);
}

/// Quote the CSV cell already written at `out[start..]` when `quote_all` or when it holds
/// a separator, quote, CR or LF, doubling quotes inside. An empty cell is quoted too, so
/// an empty string (`""`) differs from a null (an empty field). Works in place: the
/// encoders write cells straight into their output block.
pub fn quote_csv_cell(out: &mut Vec<u8>, start: usize, quote_all: bool) {
    let cell = &out[start..];
    let (mut quotes, mut special) = (0, false);
    for &b in cell {
        match b {
            b'"' => quotes += 1,
            b',' | b'\n' | b'\r' => special = true,
            _ => {}
        }
    }
    if !(quote_all || special || quotes > 0 || cell.is_empty()) {
        return;
    }
    let end = out.len();
    // Grow by the quotes to add, then move the cell right from its last byte, doubling
    // quotes on the way; the last new byte is already the closing quote.
    out.resize(end + quotes + 2, b'"');
    let mut w = out.len() - 1;
    for r in (start..end).rev() {
        let b = out[r];
        w -= 1;
        out[w] = b;
        if b == b'"' {
            w -= 1;
            out[w] = b'"';
        }
    }
    out[start] = b'"';
}

/// Append `s` as a TSV field; see [`escape_tsv_cell`].
pub fn push_tsv_field(out: &mut Vec<u8>, s: &str) {
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    escape_tsv_cell(out, start);
}

/// Escape the TSV cell already written at `out[start..]`: backslash, tab, newline and CR
/// become `\\`, `\t`, `\n`, `\r`, so every row stays on one line (the convention of
/// trino-cli, Hive and PostgreSQL). Works in place, like [`quote_csv_cell`].
#[inline]
pub fn escape_tsv_cell(out: &mut Vec<u8>, start: usize) {
    let special = |b: &u8| matches!(b, b'\\' | b'\t' | b'\n' | b'\r');
    // nearly every cell needs nothing: an early-exit scan first (pq-cat calls this for
    // every cell; counting every cell's bytes cost 10% of a 1M-row TSV run)
    if !out[start..].iter().any(special) {
        return;
    }
    let extra = out[start..].iter().filter(|b| special(b)).count();
    let end = out.len();
    out.resize(end + extra, 0);
    let mut w = out.len();
    for r in (start..end).rev() {
        let b = out[r];
        let short = match b {
            b'\\' => b'\\',
            b'\t' => b't',
            b'\n' => b'n',
            b'\r' => b'r',
            _ => {
                w -= 1;
                out[w] = b;
                continue;
            }
        };
        w -= 2;
        out[w] = b'\\';
        out[w + 1] = short;
    }
}

/// How a peer escapes JSON strings. Every style escapes `"` and `\\`, writes `\b \f \n
/// \r \t` short and other control characters as `\u00XX`, and leaves `/` and non-ASCII
/// as they are; the peers differ only in the hex case and in DEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonEscape {
    /// `\u001F` (Jackson, yajl) rather than `\u001f` (serde_json, jq).
    pub upper_hex: bool,
    /// DEL (0x7f) as `\u007f`, as jq does.
    pub escape_del: bool,
}

impl JsonEscape {
    /// serde_json's (pq-cat's JSON lines).
    pub const SERDE: JsonEscape = JsonEscape::new(false, false);
    /// jq 1.6's (jq-lite).
    pub const JQ: JsonEscape = JsonEscape::new(false, true);
    /// Jackson's (trino-cli, so presto-q).
    pub const JACKSON: JsonEscape = JsonEscape::new(true, false);
    /// yajl's (kcat `-J`, so kcat-lite).
    pub const YAJL: JsonEscape = JsonEscape::new(true, false);

    const fn new(upper_hex: bool, escape_del: bool) -> JsonEscape {
        JsonEscape {
            upper_hex,
            escape_del,
        }
    }
}

/// The escape of each byte: 0 for none, `u` for `\u00XX`, else the letter after `\\`.
const fn json_escapes(escape_del: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    if escape_del {
        t[0x7f] = b'u';
    }
    t
}

static JSON_ESCAPES: [u8; 256] = json_escapes(false);
static JSON_ESCAPES_DEL: [u8; 256] = json_escapes(true);

/// Append `s` as a JSON string literal escaped in `style`. Bytes are copied as they are
/// between escapes, so UTF-8 in gives UTF-8 out.
#[inline]
pub fn push_json_str(out: &mut Vec<u8>, s: &[u8], style: JsonEscape) {
    let table = if style.escape_del {
        &JSON_ESCAPES_DEL
    } else {
        &JSON_ESCAPES
    };
    let hex = if style.upper_hex {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc = table[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        if esc == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(hex[(b >> 4) as usize]);
            out.push(hex[(b & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// [`push_json_str`] onto a `String`.
pub fn push_json_string(out: &mut String, s: &str, style: JsonEscape) {
    // SAFETY: push_json_str appends ASCII escapes and whole runs of `s` cut only next to
    // ASCII bytes, so valid UTF-8 in gives valid UTF-8 out.
    push_json_str(unsafe { out.as_mut_vec() }, s.as_bytes(), style)
}

/// Columns on a terminal: East Asian wide characters take two cells.
pub fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn pad(out: &mut Vec<u8>, s: &str, width: usize, align: Align) {
    let fill = width.saturating_sub(display_width(s));
    if align == Align::Right {
        out.resize(out.len() + fill, b' ');
    }
    out.extend_from_slice(s.as_bytes());
    if align == Align::Left {
        out.resize(out.len() + fill, b' ');
    }
}

fn centered(out: &mut Vec<u8>, s: &str, width: usize) {
    let fill = width.saturating_sub(display_width(s));
    out.resize(out.len() + fill / 2, b' ');
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + fill - fill / 2, b' ');
}

/// An aligned table (psql / trino-cli ALIGNED style): centered header, `-+-` rule,
/// cells padded per column, multi-line values spread over several lines, and a
/// `(N rows)` footer.
pub fn write_table(
    out: &mut dyn Write,
    headers: &[String],
    aligns: &[Align],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            for line in cell.split('\n') {
                *w = (*w).max(display_width(line));
            }
        }
    }
    let mut buf = Vec::new();
    for (i, (h, w)) in headers.iter().zip(&widths).enumerate() {
        buf.extend_from_slice(if i == 0 { b" " } else { b" | " });
        centered(&mut buf, h, *w);
    }
    trim_end(&mut buf);
    buf.push(b'\n');
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            buf.push(b'+');
        }
        buf.resize(buf.len() + w + 2, b'-');
    }
    buf.push(b'\n');
    for row in rows {
        let lines: Vec<Vec<&str>> = row.iter().map(|c| c.split('\n').collect()).collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            for (i, w) in widths.iter().enumerate() {
                buf.extend_from_slice(if i == 0 { b" " } else { b" | " });
                let cell = lines.get(i).and_then(|c| c.get(l)).copied().unwrap_or("");
                pad(
                    &mut buf,
                    cell,
                    *w,
                    aligns.get(i).copied().unwrap_or(Align::Left),
                );
            }
            trim_end(&mut buf);
            buf.push(b'\n');
        }
        out.write_all(&buf)?;
        buf.clear();
    }
    let n = rows.len();
    writeln!(buf, "({n} row{})", if n == 1 { "" } else { "s" })?;
    out.write_all(&buf)
}

fn trim_end(buf: &mut Vec<u8>) {
    while buf.last() == Some(&b' ') {
        buf.pop();
    }
}

/// One record as `name | value` lines under a `-[ RECORD n ]-` rule (psql's `\x`).
/// Streams: `number` counts from 1 across calls.
pub fn write_vertical_record(
    out: &mut dyn Write,
    number: u64,
    headers: &[String],
    row: &[String],
) -> io::Result<()> {
    let name_w = headers.iter().map(|h| display_width(h)).max().unwrap_or(0);
    let value_w = row
        .iter()
        .flat_map(|c| c.split('\n'))
        .map(display_width)
        .max()
        .unwrap_or(0);
    let title = format!("-[ RECORD {number} ]");
    let mut buf = Vec::new();
    buf.extend_from_slice(title.as_bytes());
    let rule = (name_w + 1).saturating_sub(title.len());
    buf.resize(buf.len() + rule, b'-');
    buf.push(b'+');
    buf.resize(buf.len() + value_w + 1, b'-');
    buf.push(b'\n');
    for (h, cell) in headers.iter().zip(row) {
        for (l, line) in cell.split('\n').enumerate() {
            pad(&mut buf, if l == 0 { h } else { "" }, name_w, Align::Left);
            buf.extend_from_slice(b" | ");
            buf.extend_from_slice(line.as_bytes());
            trim_end(&mut buf);
            buf.push(b'\n');
        }
    }
    out.write_all(&buf)
}

/// Escape a cell for a GitHub-flavoured markdown table: `|` and `\` escaped, line
/// breaks as `<br>`.
pub fn markdown_cell(s: &str) -> String {
    let mut r = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => r.push_str("\\|"),
            '\\' => r.push_str("\\\\"),
            '\n' => r.push_str("<br>"),
            '\r' => {}
            _ => r.push(c),
        }
    }
    r
}

/// Header and alignment rows of a markdown table.
pub fn write_markdown_header(
    out: &mut dyn Write,
    headers: &[String],
    aligns: &[Align],
) -> io::Result<()> {
    let mut buf = Vec::new();
    write_markdown_cells(&mut buf, headers.iter().map(|h| markdown_cell(h)));
    let rules = aligns
        .iter()
        .map(|a| if *a == Align::Right { "---:" } else { "---" }.to_string());
    write_markdown_cells(&mut buf, rules);
    out.write_all(&buf)
}

/// One body row of a markdown table (streams: no widths needed).
pub fn write_markdown_row(out: &mut dyn Write, row: &[String]) -> io::Result<()> {
    let mut buf = Vec::new();
    write_markdown_cells(&mut buf, row.iter().map(|c| markdown_cell(c)));
    out.write_all(&buf)
}

fn write_markdown_cells(buf: &mut Vec<u8>, cells: impl Iterator<Item = String>) {
    buf.push(b'|');
    for c in cells {
        buf.push(b' ');
        buf.extend_from_slice(c.as_bytes());
        buf.extend_from_slice(b" |");
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn csv_quotes_and_doubles() {
        let mut o = Vec::new();
        push_csv_field(&mut o, "a\"b,c", false);
        o.push(b',');
        push_csv_field(&mut o, "plain", false);
        o.push(b',');
        push_csv_field(&mut o, "", false);
        o.push(b',');
        push_csv_field(&mut o, "x", true);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "\"a\"\"b,c\",plain,\"\",\"x\""
        );
    }

    #[test]
    fn tsv_escapes_separators() {
        let mut o = Vec::new();
        push_tsv_field(&mut o, "a\tb\nc\\d\r");
        assert_eq!(String::from_utf8(o).unwrap(), "a\\tb\\nc\\\\d\\r");
    }

    #[test]
    fn csv_quoting_matches_the_rfc_rule_at_the_edges() {
        // the rule written plainly, against the in-place version
        fn reference(s: &str) -> String {
            if s.is_empty() || s.contains(['"', ',', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        }
        for s in [
            "\"",
            "\"\"",
            "\"a",
            "a\"",
            "\"\"x\"",
            "{\"a\":[1,\"b\"]}",
            "x,y",
            "\r\n",
            "ok",
            "",
        ] {
            let mut o = b"p|".to_vec();
            push_csv_field(&mut o, s, false);
            assert_eq!(
                String::from_utf8(o).unwrap(),
                format!("p|{}", reference(s)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn csv_and_tsv_fix_cells_in_place() {
        let mut o = b"keep,".to_vec();
        o.extend_from_slice(b"say \"hi\"");
        quote_csv_cell(&mut o, 5, false);
        assert_eq!(o, b"keep,\"say \"\"hi\"\"\"");
        let mut o = b"a\t".to_vec();
        o.extend_from_slice(b"\\x\ty");
        escape_tsv_cell(&mut o, 2);
        assert_eq!(o, b"a\t\\\\x\\ty");
    }

    fn json(s: &str, style: JsonEscape) -> String {
        let mut o = String::new();
        push_json_string(&mut o, s, style);
        o
    }

    #[test]
    fn json_escapes_per_peer() {
        let s = "a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}é/€";
        assert_eq!(
            json(s, JsonEscape::SERDE),
            serde_json::to_string(s).unwrap()
        );
        let lower = r#""a\"b\\c\n\t\r\b\f\u0001\u001f"#;
        assert_eq!(json(s, JsonEscape::SERDE), format!("{lower}\u{7f}é/€\""));
        assert_eq!(json(s, JsonEscape::JQ), format!("{lower}\\u007fé/€\""));
        let upper = r#""a\"b\\c\n\t\r\b\f\u0001\u001F"#;
        assert_eq!(json(s, JsonEscape::JACKSON), format!("{upper}\u{7f}é/€\""));
        assert_eq!(json(s, JsonEscape::YAJL), json(s, JsonEscape::JACKSON));
        assert_eq!(json("", JsonEscape::JQ), "\"\"");
    }

    #[test]
    fn table_aligns_and_counts() {
        let mut o = Vec::new();
        let rows = vec![s(&["1", "x"]), s(&["100", "日本\nz"])];
        write_table(
            &mut o,
            &s(&["n", "name"]),
            &[Align::Right, Align::Left],
            &rows,
        )
        .unwrap();
        let want = "  n  | name\n-----+------\n   1 | x\n 100 | 日本\n     | z\n(2 rows)\n";
        assert_eq!(String::from_utf8(o).unwrap(), want);
    }

    #[test]
    fn vertical_and_markdown() {
        let mut o = Vec::new();
        write_vertical_record(&mut o, 1, &s(&["id", "name"]), &s(&["1", "a|b"])).unwrap();
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "-[ RECORD 1 ]+----\nid   | 1\nname | a|b\n"
        );
        let mut o = Vec::new();
        write_markdown_header(&mut o, &s(&["id", "name"]), &[Align::Right, Align::Left]).unwrap();
        write_markdown_row(&mut o, &s(&["1", "a|b\nc"])).unwrap();
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "| id | name |\n| ---: | --- |\n| 1 | a\\|b<br>c |\n"
        );
    }
}
