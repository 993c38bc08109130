//! Splitting a script into statements on `;`, outside string literals, quoted
//! identifiers and comments (as trino-cli's StatementSplitter does).

/// How a statement was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `;`, or the end of a script
    Semicolon,
    /// `\G` (interactive shell only): show the result one record per block
    Vertical,
}

/// The statements of `sql`, trimmed; pieces holding only blanks and comments are dropped.
pub fn split(sql: &str) -> Vec<String> {
    pieces(sql, false)
        .into_iter()
        .filter(|p| !p.only_comments)
        .map(|p| p.text.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What a shell has so far: the statements ended by `;` or `\G`, and the unfinished
/// rest (empty when it holds only blanks and finished comments).
pub fn complete_statements(sql: &str) -> (Vec<(String, End)>, String) {
    let mut done = Vec::new();
    let mut rest = String::new();
    for p in pieces(sql, true) {
        match p.end {
            Some(end) if !p.only_comments => done.push((p.text.trim().to_string(), end)),
            Some(_) => {}
            // Inside a quote or block comment the statement is not over, whatever it holds.
            None if !p.only_comments || p.open => rest = p.text.trim_start().to_string(),
            None => {}
        }
    }
    (done, rest)
}

struct Piece<'a> {
    text: &'a str,
    end: Option<End>,
    only_comments: bool,
    /// The text ends inside a quote or a block comment.
    open: bool,
}

/// Cut `sql` at `;` (and `\G` when `vertical`) outside quotes and comments.
fn pieces(sql: &str, vertical: bool) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = sql.as_bytes();
    let (mut i, mut start) = (0, 0);
    let mut only_comments = true;
    let mut open = false;
    while i < bytes.len() {
        open = false;
        let end = match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                only_comments = false;
                // A doubled quote inside is an escaped quote: skipping both keeps us inside.
                i += 1;
                open = true;
                while i < bytes.len() {
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        open = false;
                        break;
                    }
                    i += 1;
                }
                i += 1;
                None
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                None
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                open = true;
                while i < bytes.len() {
                    if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        open = false;
                        break;
                    }
                    i += 1;
                }
                i += 2;
                None
            }
            b';' => Some((End::Semicolon, 1)),
            b'\\' if vertical && bytes.get(i + 1) == Some(&b'G') => Some((End::Vertical, 2)),
            b => {
                if !b.is_ascii_whitespace() {
                    only_comments = false;
                }
                i += 1;
                None
            }
        };
        if let Some((end, len)) = end {
            out.push(Piece {
                text: &sql[start..i],
                end: Some(end),
                only_comments,
                open: false,
            });
            i += len;
            start = i;
            only_comments = true;
        }
    }
    out.push(Piece {
        text: &sql[start.min(sql.len())..],
        end: None,
        only_comments,
        open,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let sql = "SELECT 'a;b', \"c;d\" FROM t; -- x; y\nSELECT 2 /* ; */ ;\n\n;  -- only a comment;\n SELECT 'it''s;'";
        assert_eq!(
            split(sql),
            vec![
                "SELECT 'a;b', \"c;d\" FROM t",
                "-- x; y\nSELECT 2 /* ; */",
                "-- only a comment;\n SELECT 'it''s;'"
            ]
        );
    }

    #[test]
    fn last_statement_needs_no_semicolon_and_blanks_are_dropped() {
        assert_eq!(
            split("USE tpch.tiny;\nSHOW TABLES"),
            vec!["USE tpch.tiny", "SHOW TABLES"]
        );
        assert!(split("  ;\n; /* nothing */ ").is_empty());
        // An unterminated string stays one statement for the server to report.
        assert_eq!(split("SELECT 'abc; def"), vec!["SELECT 'abc; def"]);
    }

    #[test]
    fn a_shell_waits_for_the_end_of_a_statement() {
        let (done, rest) = complete_statements("SELECT 1\nFROM t");
        assert!(done.is_empty());
        assert_eq!(rest, "SELECT 1\nFROM t");
        let (done, rest) = complete_statements("SELECT 1; SELECT 2\\G\nSELECT 'x;");
        assert_eq!(
            done,
            vec![
                ("SELECT 1".to_string(), End::Semicolon),
                ("SELECT 2".to_string(), End::Vertical)
            ]
        );
        assert_eq!(rest, "SELECT 'x;");
        // Inside quotes and comments neither `;` nor `\G` ends anything.
        let (done, rest) = complete_statements("SELECT '\\G', \"a;\" /* ; \\G");
        assert!(done.is_empty());
        assert_eq!(rest, "SELECT '\\G', \"a;\" /* ; \\G");
        // An unfinished block comment keeps the shell waiting; a finished one does not.
        assert_eq!(complete_statements("/* note").1, "/* note");
        assert_eq!(complete_statements("SELECT 1; -- done\n").1, "");
        assert_eq!(complete_statements(" ; /* x */ ;").0, vec![]);
    }

    #[test]
    fn batch_scripts_keep_backslash_g() {
        // Outside the shell `\G` is no delimiter (trino-cli's batch mode neither).
        assert_eq!(split("SELECT 1 \\G"), vec!["SELECT 1 \\G"]);
    }
}
