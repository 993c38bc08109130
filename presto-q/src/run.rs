//! Running statements one after the other: submit, stream pages to the output while a
//! second thread fetches the next page, carry session changes, cancel on Ctrl-C.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use lakepipe::cli;

use crate::client::{Client, Page, QueryError};
use crate::format::{Format, Output};
use crate::progress::Progress;
use crate::session::Session;
use crate::types;

pub struct Options {
    pub format: Format,
    pub ignore_errors: bool,
    pub quiet: bool,
    /// Print `table` every this many rows instead of once at the end (the shell).
    pub table_batch: Option<usize>,
    /// Set by the shell's own SIGINT handler (batch mode uses `cli::interrupted`).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Options {
    fn interrupted(&self) -> bool {
        cli::interrupted()
            || self
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// A statement the server ran and reported as failed.
#[derive(Debug)]
pub struct QueryFailed(pub String);

impl std::fmt::Display for QueryFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryFailed {}

pub fn run_statements(
    client: &Client,
    session: &mut Session,
    statements: &[String],
    opts: &Options,
) -> Result<()> {
    let started = Instant::now();
    let mut out = cli::stdout();
    let (mut rows, mut failed) = (0u64, 0usize);
    for sql in statements {
        match run_one(client, session, sql, opts, &mut out) {
            Ok(n) => rows += n,
            Err(e) if opts.ignore_errors && e.downcast_ref::<QueryFailed>().is_some() => {
                out.flush().context("writing results")?;
                cli::error(format_args!("{e:#}"));
                failed += 1;
            }
            Err(e) => {
                // Rows already printed stay printed: flush them before the error.
                out.flush().context("writing results")?;
                return Err(e);
            }
        }
    }
    out.flush().context("writing results")?;
    let n = statements.len();
    cli::info(
        opts.quiet,
        format_args!(
            "{n} statement{}{}, {rows} row{}, {:.2}s",
            if n == 1 { "" } else { "s" },
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            if rows == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        ),
    );
    if failed > 0 {
        anyhow::bail!("{failed} of {n} statements failed");
    }
    Ok(())
}

/// Run one statement; returns the number of rows written.
pub fn run_one(
    client: &Client,
    session: &mut Session,
    sql: &str,
    opts: &Options,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut progress = Progress::new(opts.quiet);
    let first = client.submit(sql, session)?;
    let mut state = Statement {
        output: None,
        update: None,
        update_count: None,
    };
    let mut next = state.handle(first, session, sql, opts, out, &mut progress)?;
    if next.is_none() {
        return state.finish(out, opts, &mut progress);
    }

    // A second thread fetches page N+1 while this one writes page N; the bounded
    // channel keeps memory to a few pages.
    let (tx, rx) = mpsc::sync_channel::<Result<Page>>(2);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (client, stop, mut uri) = (client.clone(), Arc::clone(&stop), next.clone());
        std::thread::spawn(move || {
            while let Some(u) = uri.take() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let page = client.fetch(&u);
                if let Ok(p) = &page {
                    uri = p.results.next_uri.clone();
                }
                if tx.send(page).is_err() {
                    break;
                }
            }
        });
    }
    while let Some(uri) = next.clone() {
        if opts.interrupted() {
            stop.store(true, Ordering::Relaxed);
            progress.clear();
            client.cancel(&uri);
            let _ = out.flush();
            return Err(cli::Interrupted("the query was canceled on the server".into()).into());
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(page) => {
                let page = page.inspect_err(|_| stop.store(true, Ordering::Relaxed))?;
                next = state
                    .handle(page, session, sql, opts, out, &mut progress)
                    .inspect_err(|e| {
                        stop.store(true, Ordering::Relaxed);
                        // Output failed (closed pipe, full disk): free the server's resources.
                        if e.downcast_ref::<QueryFailed>().is_none() {
                            client.cancel(&uri);
                        }
                    })?;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    state.finish(out, opts, &mut progress)
}

struct Statement {
    output: Option<Output>,
    update: Option<String>,
    update_count: Option<u64>,
}

impl Statement {
    /// Apply one page: session headers, columns, rows, errors. Returns the next URI.
    fn handle(
        &mut self,
        page: Page,
        session: &mut Session,
        sql: &str,
        opts: &Options,
        out: &mut dyn Write,
        progress: &mut Progress,
    ) -> Result<Option<String>> {
        for (name, value) in &page.headers {
            session.apply(name, value);
        }
        let r = page.results;
        if let Some(err) = &r.error {
            progress.clear();
            return Err(QueryFailed(describe_error(&r.id, err, sql)).into());
        }
        if r.update_type.is_some() {
            self.update = r.update_type.clone();
            self.update_count = r.update_count.or(self.update_count);
        }
        if self.output.is_none() && self.update.is_none() {
            if let Some(columns) = &r.columns {
                let names = columns
                    .iter()
                    .map(|c| {
                        c.get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect();
                let types = columns.iter().map(types::column_type).collect();
                let mut output = Output::new(opts.format, names, types);
                if let Some(n) = opts.table_batch {
                    output = output.batched(n);
                }
                progress
                    .above(out, |out| output.begin(out))
                    .context("writing results")?;
                self.output = Some(output);
            }
        }
        if let (Some(output), Some(data)) = (&mut self.output, &r.data) {
            if !data.is_empty() {
                progress.clear();
                output.page(out, data).context("writing results")?;
            }
        }
        progress.update(&r.stats);
        Ok(r.next_uri)
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        opts: &Options,
        progress: &mut Progress,
    ) -> Result<u64> {
        progress.finish();
        if let Some(update) = &self.update {
            // As trino-cli: the kind of statement (and its row count) on stderr.
            let count = match self.update_count {
                Some(n) => format!(": {n} row{}", if n == 1 { "" } else { "s" }),
                None => String::new(),
            };
            cli::info(opts.quiet, format_args!("{update}{count}"));
            return Ok(0);
        }
        match &mut self.output {
            Some(output) => {
                output.finish(out).context("writing results")?;
                out.flush().context("writing results")?;
                Ok(output.rows_written())
            }
            None => Ok(0),
        }
    }
}

/// trino-cli's error text: `Query ID failed: line L:C: message`, then the line of the
/// statement with a caret under the column.
pub fn describe_error(id: &str, err: &QueryError, sql: &str) -> String {
    let mut msg = format!("Query {id} failed: {}", err.message);
    if let Some(loc) = err.error_location {
        if let Some(line) = sql.lines().nth(loc.line_number.saturating_sub(1)) {
            let prefix = format!("LINE {}: ", loc.line_number);
            let caret_at = prefix.chars().count()
                + line
                    .chars()
                    .take(loc.column_number.saturating_sub(1))
                    .count();
            msg.push_str(&format!("\n{prefix}{line}\n{}^", " ".repeat(caret_at)));
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ErrorLocation;

    #[test]
    fn errors_point_at_line_and_column() {
        let err = QueryError {
            message: "line 2:7: Column 'x' cannot be resolved".into(),
            error_name: Some("COLUMN_NOT_FOUND".into()),
            error_location: Some(ErrorLocation {
                line_number: 2,
                column_number: 7,
            }),
        };
        let got = describe_error("q1", &err, "SELECT\n  1 + x");
        assert_eq!(got, "Query q1 failed: line 2:7: Column 'x' cannot be resolved\nLINE 2:   1 + x\n              ^");
    }
}
