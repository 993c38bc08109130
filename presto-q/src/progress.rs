//! The query-progress line on stderr (state, splits, rows, bytes, rate, elapsed), drawn
//! by the shared [`lakepipe::progress`] line with the query's state before the counts.
//!
//! Shown when stderr is a terminal, never with `-q`, and as the shared rule says for
//! results on stdout: for the whole run when they go to a file, not when they go into
//! a pipe. When they go to the terminal itself (the shell, or a query typed there) the
//! line shows until the first rows or messages, then goes for good: the rows (and a
//! pager) own the screen from there; a header before them is written under the line.

use std::io::{IsTerminal, Write};

use crate::client::Stats;

pub struct Progress {
    line: lakepipe::progress::Progress,
    /// Results go to the terminal the line is drawn on.
    shares_terminal: bool,
    /// Erased for good (see the module comment).
    gone: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let shares_terminal = std::io::stdout().is_terminal();
        Progress {
            line: lakepipe::progress::Progress::new(quiet, !shares_terminal),
            shares_terminal,
            gone: false,
        }
    }

    /// Show the server's latest statistics (drawn a few times a second).
    pub fn update(&mut self, stats: &Stats) {
        if self.gone || !self.line.is_shown() {
            return;
        }
        self.line.set_prefix(prefix(stats));
        self.line.set_rows(stats.processed_rows);
        self.line.set_bytes(stats.processed_bytes);
    }

    /// Write the header of the results (`write` then a flush) with the line erased and
    /// drawn again after it.
    pub fn above<R>(
        &self,
        out: &mut dyn Write,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<R>,
    ) -> std::io::Result<R> {
        if !self.shares_terminal || self.gone {
            return write(out);
        }
        self.line.suspend(|| {
            let r = write(out)?;
            out.flush()?;
            Ok(r)
        })
    }

    /// Rows or messages are about to be printed: on the terminal they share, the line
    /// goes for good.
    pub fn clear(&mut self) {
        if self.shares_terminal {
            self.finish();
        }
    }

    /// The statement is over: erase the line.
    pub fn finish(&mut self) {
        self.line.finish();
        self.gone = true;
    }
}

/// `RUNNING 3/9 splits, ` (the shared line adds rows, bytes, rate and elapsed).
fn prefix(stats: &Stats) -> String {
    format!(
        "{} {}/{} splits, ",
        stats.state, stats.completed_splits, stats.total_splits
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_prefix_shows_state_and_splits() {
        let stats = crate::client::Stats {
            state: "RUNNING".into(),
            total_splits: 9,
            completed_splits: 3,
            ..Default::default()
        };
        assert_eq!(super::prefix(&stats), "RUNNING 3/9 splits, ");
    }
}
