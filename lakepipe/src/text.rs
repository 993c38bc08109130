//! Text output over plain strings: CSV and TSV fields, and the aligned, vertical and
//! markdown tables people read on a terminal. Callers render their values to strings
//! first (each tool knows its own types), so this module depends on nothing but `std`.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

/// How a column's cells line up in a table: numbers right, everything else left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Append `s` as a CSV field: quoted when `quote_all` or when it holds a separator,
/// quote, CR or LF; quotes inside are doubled (RFC 4180).
pub fn push_csv_field(out: &mut Vec<u8>, s: &str, quote_all: bool) {
    let needs = quote_all || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for (i, part) in s.split('"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part.as_bytes());
    }
    out.push(b'"');
}

/// Append `s` as a TSV field: backslash, tab, newline and CR become `\\`, `\t`, `\n`, `\r`,
/// so every row stays on one line (the convention of trino-cli, Hive and PostgreSQL).
pub fn push_tsv_field(out: &mut Vec<u8>, s: &str) {
    if !s
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
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
        push_csv_field(&mut o, "", true);
        assert_eq!(String::from_utf8(o).unwrap(), "\"a\"\"b,c\",plain,\"\"");
    }

    #[test]
    fn tsv_escapes_separators() {
        let mut o = Vec::new();
        push_tsv_field(&mut o, "a\tb\nc\\d\r");
        assert_eq!(String::from_utf8(o).unwrap(), "a\\tb\\nc\\\\d\\r");
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
