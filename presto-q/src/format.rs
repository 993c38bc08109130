//! Output formats. Every format but `table` streams page by page; `table` needs every
//! row to size its columns.

use std::io::{self, Write};

use lakepipe::text::{self, Align};
use serde_json::Value;

use crate::render;
use crate::types::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Every value quoted, as trino-cli's CSV
    #[value(alias = "CSV")]
    Csv,
    /// CSV with a header line
    #[value(alias = "CSV_HEADER", alias = "csv_header")]
    CsvHeader,
    /// Tab-separated; `\`, tab, newline and CR escaped as `\\`, `\t`, `\n`, `\r`
    #[value(alias = "TSV")]
    Tsv,
    /// TSV with a header line
    #[value(alias = "TSV_HEADER", alias = "tsv_header")]
    TsvHeader,
    /// One JSON object per row (JSON lines, for pq-write and jq-lite)
    #[value(alias = "JSON")]
    Json,
    /// Aligned columns with a header and a row count
    #[value(alias = "ALIGNED", alias = "aligned")]
    Table,
    /// One `name | value` block per row
    #[value(alias = "VERTICAL")]
    Vertical,
    /// A GitHub-flavoured markdown table
    #[value(alias = "MARKDOWN")]
    Markdown,
}

/// Writes one statement's result set.
pub struct Output {
    format: Format,
    names: Vec<String>,
    types: Vec<Type>,
    buf: Vec<u8>,
    cell: String,
    /// Rendered rows kept for `table`.
    kept: Vec<Vec<String>>,
    rows: u64,
    /// `table` printed every this many rows (widths per batch, as trino-cli's shell).
    batch: Option<usize>,
    header_done: bool,
}

impl Output {
    pub fn new(format: Format, names: Vec<String>, types: Vec<Type>) -> Self {
        Output {
            format,
            names,
            types,
            buf: Vec::with_capacity(1 << 16),
            cell: String::new(),
            kept: Vec::new(),
            rows: 0,
            batch: None,
            header_done: false,
        }
    }

    /// Print `table` in batches of `rows` rows, so a big result shows (and pages) at
    /// once in constant memory; each batch is aligned on its own, the header comes once.
    pub fn batched(mut self, rows: usize) -> Self {
        self.batch = Some(rows.max(1));
        self
    }

    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// The header, for the formats that have one.
    pub fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.buf.clear();
        match self.format {
            Format::CsvHeader => {
                for (i, n) in self.names.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    text::push_csv_field(&mut self.buf, n, true);
                }
                self.buf.push(b'\n');
            }
            Format::TsvHeader => {
                for (i, n) in self.names.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b'\t');
                    }
                    text::push_tsv_field(&mut self.buf, n);
                }
                self.buf.push(b'\n');
            }
            Format::Markdown => {
                let aligns = self.aligns();
                text::write_markdown_header(&mut self.buf, &self.names, &aligns)?
            }
            _ => {}
        }
        out.write_all(&self.buf)
    }

    fn aligns(&self) -> Vec<Align> {
        self.types
            .iter()
            .map(|t| {
                if t.is_numeric() {
                    Align::Right
                } else {
                    Align::Left
                }
            })
            .collect()
    }

    /// One page of rows from the server.
    pub fn page(&mut self, out: &mut dyn Write, rows: &[Vec<Value>]) -> io::Result<()> {
        self.buf.clear();
        for row in rows {
            self.rows += 1;
            match self.format {
                Format::Csv | Format::CsvHeader => self.delimited(row, b','),
                Format::Tsv | Format::TsvHeader => self.delimited(row, b'\t'),
                Format::Json => self.json_row(row),
                Format::Table => {
                    let cells = self.cells(row);
                    self.kept.push(cells);
                    if self.batch.is_some_and(|n| self.kept.len() >= n) {
                        self.table_batch()?;
                    }
                }
                Format::Vertical => {
                    let cells = self.cells(row);
                    text::write_vertical_record(&mut self.buf, self.rows, &self.names, &cells)?;
                }
                Format::Markdown => {
                    let cells = self.cells(row);
                    text::write_markdown_row(&mut self.buf, &cells)?;
                }
            }
        }
        out.write_all(&self.buf)
    }

    /// The end of the result set (`table` prints everything here).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.format == Format::Table {
            if self.batch.is_none() {
                let rows = std::mem::take(&mut self.kept);
                return text::write_table(out, &self.names, &self.aligns(), &rows);
            }
            self.buf.clear();
            if !self.kept.is_empty() || !self.header_done {
                self.table_batch()?;
            }
            let n = self.rows;
            writeln!(self.buf, "({n} row{})", if n == 1 { "" } else { "s" })?;
            out.write_all(&self.buf)?;
        }
        Ok(())
    }

    /// The kept rows as a table into `buf`, without the row count (and without the
    /// header after the first batch).
    fn table_batch(&mut self) -> io::Result<()> {
        let rows = std::mem::take(&mut self.kept);
        let mut table = Vec::new();
        text::write_table(&mut table, &self.names, &self.aligns(), &rows)?;
        // write_table ends with one `(N rows)` line and starts with the header and its rule.
        table.pop();
        let end = table.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let start = if self.header_done {
            nth_line_start(&table, 2)
        } else {
            0
        };
        self.header_done = true;
        self.buf.extend_from_slice(&table[start.min(end)..end]);
        Ok(())
    }

    fn delimited(&mut self, row: &[Value], sep: u8) {
        for (i, (v, ty)) in row.iter().zip(&self.types).enumerate() {
            if i > 0 {
                self.buf.push(sep);
            }
            self.cell.clear();
            if !v.is_null() {
                render::text(ty, v, &mut self.cell);
            }
            if sep == b',' {
                text::push_csv_field(&mut self.buf, &self.cell, true);
            } else {
                text::push_tsv_field(&mut self.buf, &self.cell);
            }
        }
        self.buf.push(b'\n');
    }

    fn json_row(&mut self, row: &[Value]) {
        self.cell.clear();
        self.cell.push('{');
        for (i, ((v, ty), name)) in row.iter().zip(&self.types).zip(&self.names).enumerate() {
            if i > 0 {
                self.cell.push(',');
            }
            render::json_string(name, &mut self.cell);
            self.cell.push(':');
            render::json(ty, v, &mut self.cell);
        }
        self.cell.push_str("}\n");
        self.buf.extend_from_slice(self.cell.as_bytes());
    }

    /// Cells for the human formats: NULL spelled out.
    fn cells(&self, row: &[Value]) -> Vec<String> {
        row.iter()
            .zip(&self.types)
            .map(|(v, ty)| {
                let mut s = String::new();
                render::text(ty, v, &mut s);
                s
            })
            .collect()
    }
}

/// Byte offset where line `n` (from 0) starts.
fn nth_line_start(text: &[u8], n: usize) -> usize {
    text.iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(n.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    fn run(format: Format, page: &str) -> String {
        run_with(format, page, None)
    }

    fn run_with(format: Format, page: &str, batch: Option<usize>) -> String {
        let cols = [
            ("b", "boolean"),
            ("d", "double"),
            ("s", "varchar"),
            ("a", "array(integer)"),
        ];
        let names = cols.iter().map(|c| c.0.to_string()).collect();
        let types = cols.iter().map(|c| parse_type(c.1)).collect();
        let rows: Vec<Vec<Value>> = serde_json::from_str(page).unwrap();
        let mut o = Output::new(format, names, types);
        if let Some(n) = batch {
            o = o.batched(n);
        }
        let mut out = Vec::new();
        o.begin(&mut out).unwrap();
        o.page(&mut out, &rows).unwrap();
        o.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const PAGE: &str = r#"[[true, 1e10, "a\"b\nc", [1,null]], [null, null, "", null]]"#;

    #[test]
    fn csv_and_tsv_match_trino_cli() {
        assert_eq!(
            run(Format::Csv, PAGE),
            "\"true\",\"1.0E10\",\"a\"\"b\nc\",\"[1, NULL]\"\n\"\",\"\",\"\",\"\"\n"
        );
        assert_eq!(run(Format::CsvHeader, "[]"), "\"b\",\"d\",\"s\",\"a\"\n");
        assert_eq!(
            run(Format::Tsv, PAGE),
            "true\t1.0E10\ta\"b\\nc\t[1, NULL]\n\t\t\t\n"
        );
        assert_eq!(run(Format::TsvHeader, "[]"), "b\td\ts\ta\n");
    }

    #[test]
    fn json_lines() {
        assert_eq!(
            run(Format::Json, PAGE),
            "{\"b\":true,\"d\":1.0E10,\"s\":\"a\\\"b\\nc\",\"a\":[1,null]}\n{\"b\":null,\"d\":null,\"s\":\"\",\"a\":null}\n"
        );
    }

    #[test]
    fn human_formats_show_the_same_values() {
        let t = run(Format::Table, PAGE);
        assert!(
            t.contains(" true | 1.0E10 | a\"b | [1, NULL]\n      |        | c   |\n"),
            "{t}"
        );
        assert!(t.ends_with("(2 rows)\n"));
        let v = run(Format::Vertical, PAGE);
        assert!(v.starts_with("-[ RECORD 1 ]"), "{v}");
        assert!(v.contains("d | 1.0E10\n") && v.contains("-[ RECORD 2 ]"));
        let m = run(Format::Markdown, PAGE);
        assert!(
            m.contains("| true | 1.0E10 | a\"b<br>c | [1, NULL] |\n"),
            "{m}"
        );
    }

    #[test]
    fn batched_tables_show_the_header_once_and_the_total() {
        let page = r#"[[true, 1, "a", null], [false, 2, "bbbbbbb", null], [true, 3, "c", null]]"#;
        let t = run_with(Format::Table, page, Some(2));
        assert_eq!(
            t,
            concat!(
                "   b   |  d  |    s    |  a\n",
                "-------+-----+---------+------\n",
                " true  | 1.0 | a       | NULL\n",
                " false | 2.0 | bbbbbbb | NULL\n",
                " true | 3.0 | c | NULL\n",
                "(3 rows)\n"
            )
        );
        // No rows: the header and the count, as unbatched.
        assert_eq!(
            run_with(Format::Table, "[]", Some(2)),
            run(Format::Table, "[]")
        );
        assert_eq!(
            run_with(Format::Table, page, Some(100)),
            run(Format::Table, page)
        );
    }
}
