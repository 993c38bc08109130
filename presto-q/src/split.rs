//! Splitting a script into statements on `;`, outside string literals, quoted
//! identifiers and comments (as trino-cli's StatementSplitter does).

/// The statements of `sql`, trimmed; pieces holding only blanks and comments are dropped.
pub fn split(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = sql.as_bytes();
    let (mut i, mut start) = (0, 0);
    let mut only_comments = true;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                only_comments = false;
                // A doubled quote inside is an escaped quote: skipping both keeps us inside.
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                push(&mut out, &sql[start..i], only_comments);
                i += 1;
                start = i;
                only_comments = true;
            }
            b => {
                if !b.is_ascii_whitespace() {
                    only_comments = false;
                }
                i += 1;
            }
        }
    }
    push(&mut out, &sql[start.min(sql.len())..], only_comments);
    out
}

fn push(out: &mut Vec<String>, piece: &str, only_comments: bool) {
    let piece = piece.trim();
    if !only_comments && !piece.is_empty() {
        out.push(piece.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::split;

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
}
