//! What the interactive shell makes of the lines typed at its prompt: statements
//! gathered until `;` or `\G`, the shell's own commands, and the prompt text.

use std::path::PathBuf;

use crate::split::{self, End};

/// The shell's own commands, understood only at the start of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Clear,
    History,
}

/// `quit`, `exit`, `help`, `clear` or `history`, with or without a `;` (as trino-cli).
pub fn command(line: &str) -> Option<Command> {
    let word = line.trim().trim_end_matches(';').trim_end();
    match word.to_ascii_lowercase().as_str() {
        "quit" | "exit" => Some(Command::Quit),
        "help" => Some(Command::Help),
        "clear" => Some(Command::Clear),
        "history" => Some(Command::History),
        _ => None,
    }
}

/// Lines typed so far that do not yet end a statement.
#[derive(Default)]
pub struct Buffer {
    text: String,
    /// Every line since the buffer was last empty: one history entry per statement.
    typed: Vec<String>,
}

/// Statements a line completed, and what to put in the history for them.
pub struct Completed {
    pub statements: Vec<(String, End)>,
    pub history: String,
}

impl Buffer {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.typed.clear();
    }

    /// Add one typed line; returns the statements it completes, if any.
    pub fn push_line(&mut self, line: &str) -> Option<Completed> {
        if self.text.is_empty() && line.trim().is_empty() {
            return None;
        }
        self.text.push_str(line);
        self.text.push('\n');
        self.typed.push(line.to_string());
        let (statements, rest) = split::complete_statements(&self.text);
        self.text = rest;
        if statements.is_empty() {
            return None;
        }
        let history = self.typed.join("\n").trim().to_string();
        self.typed.clear();
        if !self.text.is_empty() {
            // What follows the last `;` on this line starts the next statement.
            self.typed.push(self.text.trim_end().to_string());
        }
        Some(Completed {
            statements,
            history,
        })
    }
}

/// trino-cli's prompt: `presto:SCHEMA> `, or `presto> ` without a schema.
pub fn prompt(schema: Option<&str>) -> String {
    match schema {
        Some(s) if !s.is_empty() => format!("presto:{s}> "),
        _ => "presto> ".to_string(),
    }
}

/// The prompt of the second and later lines of a statement: `-> ` under the `>`.
pub fn continuation(prompt: &str) -> String {
    let width = lakepipe::text::display_width(prompt);
    format!("{}-> ", " ".repeat(width.saturating_sub(3)))
}

/// `$PRESTO_HISTORY_FILE` if set (empty: no history), else `~/.presto-q_history`.
pub fn history_file(var: Option<String>, home: Option<PathBuf>) -> Option<PathBuf> {
    match var {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => home.map(|h| h.join(".presto-q_history")),
    }
}

pub const HELP: &str = "\
Statements end with `;` (results as a table) or `\\G` (one record per block) and may
span several lines; several on one line run in order.

Commands:
  quit, exit   leave (also Ctrl-D on an empty line)
  help         this text
  clear        clear the screen
  history      the statements typed so far

Keys:
  Tab          complete SQL keywords and the server's catalogs, schemas, tables, columns
  Ctrl-R       search the history (~/.presto-q_history; $PRESTO_HISTORY_FILE, empty: none)
  Ctrl-C       clear the line at the prompt; cancel the running query on the server

Results taller than the screen go through $PRESTO_PAGER (default `less -FXRSn`; empty:
no pager). USE, SET SESSION, PREPARE and transactions carry to the next statements.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_words_of_their_own() {
        assert_eq!(command(" QUIT; "), Some(Command::Quit));
        assert_eq!(command("exit"), Some(Command::Quit));
        assert_eq!(command("help"), Some(Command::Help));
        assert_eq!(command("history;"), Some(Command::History));
        assert_eq!(command("quit now"), None);
        assert_eq!(command("select 1"), None);
    }

    #[test]
    fn statements_wait_for_their_end() {
        let mut b = Buffer::default();
        assert!(b.push_line("").is_none() && b.is_empty());
        assert!(b.push_line("SELECT 1").is_none());
        assert!(!b.is_empty());
        let c = b.push_line("  AS x; SELECT").unwrap();
        assert_eq!(
            c.statements,
            vec![("SELECT 1\n  AS x".to_string(), End::Semicolon)]
        );
        assert_eq!(c.history, "SELECT 1\n  AS x; SELECT");
        let c = b.push_line("2\\G").unwrap();
        assert_eq!(c.statements, vec![("SELECT\n2".to_string(), End::Vertical)]);
        assert_eq!(c.history, "SELECT\n2\\G");
        assert!(b.is_empty());
        // A `;` inside a string does not end the statement.
        assert!(b.push_line("SELECT 'a;").is_none());
        assert_eq!(b.push_line("b';").unwrap().statements.len(), 1);
        b.push_line("SELECT");
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn prompts_name_the_schema() {
        assert_eq!(prompt(Some("tiny")), "presto:tiny> ");
        assert_eq!(prompt(None), "presto> ");
        assert_eq!(continuation("presto:tiny> "), "          -> ");
        assert_eq!(continuation("presto> "), "     -> ");
    }

    #[test]
    fn history_file_from_env() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            history_file(None, home.clone()),
            Some(PathBuf::from("/home/u/.presto-q_history"))
        );
        assert_eq!(history_file(Some(String::new()), home.clone()), None);
        assert_eq!(
            history_file(Some("/tmp/h".into()), home),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(history_file(None, None), None);
    }
}
