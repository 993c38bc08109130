//! The interactive shell: a `presto:SCHEMA> ` prompt on a terminal, statements run as
//! in batch mode (same client, same session carried over) with results as a table,
//! through a pager when taller than the screen.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use lakepipe::cli;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::client::Client;
use crate::complete::{Helper, Loader};
use crate::format::Format;
use crate::input::{self, Buffer, Command};
use crate::pager::{self, Paged};
use crate::run::{self, QueryFailed};
use crate::session::Session;
use crate::split::End;

/// Rows per aligned batch of a table (trino-cli buffers 10,000 too).
const TABLE_BATCH_ROWS: usize = 10_000;

pub struct Options {
    /// `--output-format` if given; a table otherwise. `\G` always gives `vertical`.
    pub format: Option<Format>,
    pub quiet: bool,
}

struct Shell {
    client: Client,
    session: Session,
    opts: Options,
    editor: Editor<Helper, FileHistory>,
    history: Option<PathBuf>,
    loader: Loader,
    pager: Option<Vec<String>>,
    interrupted: Arc<AtomicBool>,
}

pub fn run(client: &Client, session: Session, opts: Options) -> Result<()> {
    // Only a flag: unlike batch mode, a second Ctrl-C (say, pressed twice in the pager)
    // must not end the shell.
    let interrupted = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))?;
    let config = Config::builder()
        .max_history_size(10_000)?
        // As bash and trino-cli: the shared prefix first, the list on a second Tab.
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<Helper, FileHistory> = Editor::with_config(config)?;
    let loader = Loader::new(client.clone(), &session);
    loader.refresh(&session);
    editor.set_helper(Some(Helper {
        loader: loader.clone(),
    }));
    let history = input::history_file(
        std::env::var("PRESTO_HISTORY_FILE").ok(),
        std::env::var_os("HOME").map(PathBuf::from),
    );
    if let Some(path) = &history {
        if path.exists() {
            if let Err(e) = editor.load_history(path) {
                cli::warn(format_args!("reading history {}: {e}", path.display()));
            }
        }
    }
    let mut shell = Shell {
        client: client.clone(),
        session,
        opts,
        editor,
        history,
        loader,
        pager: pager::pager_command(std::env::var("PRESTO_PAGER").ok()),
        interrupted,
    };
    shell.repl()
}

impl Shell {
    fn repl(&mut self) -> Result<()> {
        let mut buffer = Buffer::default();
        loop {
            let prompt = input::prompt(self.session.schema.as_deref());
            let shown = if buffer.is_empty() {
                prompt
            } else {
                input::continuation(&prompt)
            };
            let line = match self.editor.readline(&shown) {
                Ok(line) => line,
                // Ctrl-C at the prompt drops what was typed, as in a Unix shell.
                Err(ReadlineError::Interrupted) => {
                    buffer.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            if buffer.is_empty() {
                if let Some(cmd) = input::command(&line) {
                    self.remember(&line);
                    match cmd {
                        Command::Quit => return Ok(()),
                        Command::Help => println_out(input::HELP),
                        Command::Clear => self.editor.clear_screen()?,
                        Command::History => self.show_history(),
                    }
                    continue;
                }
            }
            if let Some(done) = buffer.push_line(&line) {
                self.remember(&done.history);
                for (sql, end) in done.statements {
                    if !self.execute(&sql, end) {
                        // After a failure or Ctrl-C, the rest of the line does not run.
                        break;
                    }
                }
            }
        }
    }

    /// Add an entry to the history and to its file at once (a crash loses nothing).
    fn remember(&mut self, entry: &str) {
        let _ = self.editor.add_history_entry(entry);
        if let Some(path) = &self.history {
            if let Err(e) = self.editor.append_history(path) {
                cli::warn(format_args!("writing history {}: {e}", path.display()));
                self.history = None;
            }
        }
    }

    fn show_history(&self) {
        let mut out = String::new();
        for entry in self.editor.history().iter() {
            out.push_str(entry);
            out.push('\n');
        }
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
    }

    /// Run one statement; false when it failed or was interrupted.
    fn execute(&mut self, sql: &str, end: End) -> bool {
        let format = match end {
            End::Vertical => Format::Vertical,
            End::Semicolon => self.opts.format.unwrap_or(Format::Table),
        };
        let opts = run::Options {
            format,
            ignore_errors: false,
            quiet: self.opts.quiet,
            // As trino-cli: big results show (through the pager) as they come.
            table_batch: Some(TABLE_BATCH_ROWS),
            cancel: Some(Arc::clone(&self.interrupted)),
        };
        let before = (self.session.catalog.clone(), self.session.schema.clone());
        self.interrupted.store(false, Ordering::Relaxed);
        let mut out = Paged::new(std::io::stdout(), self.pager.clone(), pager::screen_rows());
        let result = run::run_one(&self.client, &mut self.session, sql, &opts, &mut out);
        let shown = out.finish();
        // Ctrl-C inside the pager reaches this process too: it is not meant for the next query.
        self.interrupted.store(false, Ordering::Relaxed);
        if before != (self.session.catalog.clone(), self.session.schema.clone()) {
            self.loader.refresh(&self.session);
        }
        let result = result.and_then(|_| shown.map_err(anyhow::Error::from));
        match result {
            Ok(()) => true,
            Err(e) => {
                report(&e);
                false
            }
        }
    }
}

/// Errors at the prompt: the server's message as trino-cli shows it; the shell goes on.
fn report(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    if cli::is_broken_pipe(e) {
        // The pager was quit before the end of the results: nothing to say.
    } else if e.downcast_ref::<QueryFailed>().is_some() {
        let _ = writeln!(err, "{e:#}");
    } else if e.chain().any(|c| c.is::<cli::Interrupted>()) {
        let _ = writeln!(err, "Query aborted by user");
    } else {
        let _ = writeln!(err, "{}: error: {e:#}", cli::tool());
    }
}

fn println_out(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
