//! jq-lite: filter and reshape JSON lines with the jq language (the jaq crates),
//! tolerant of a real topic's bad lines, streaming in bounded memory.
//!
//! ```sh
//! kcat-lite -b localhost:9092 -t events -C -e \
//!   | jq-lite --skip-invalid --flatten 'select(.event_type == "purchase_sword")' \
//!   | pq-write out/
//! ```
//!
//! Input lines are cut into chunks that worker threads parse, filter and print in
//! parallel; the output keeps the input order. Filters that read further inputs
//! (`input`, `inputs`), `-n` and `-s` run on one thread.

mod input;
pub mod jq;
pub mod json;

use anyhow::{anyhow, Context};
use crossbeam_channel::{bounded, Receiver};
use jaq_json::Val;
use jaq_std::input::RcIter;
use lakepipe::cli;
use lakepipe::flatten::{self, Tree};
use lakepipe::lines::{self, Chunk, Chunker, Next};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  # keep one event type from a topic, skipping (and counting) lines that are not JSON
  kcat-lite -b localhost:9092 -t events -C -e \\
    | jq-lite --skip-invalid 'select(.event_type == \"purchase_sword\")' | pq-write out/

  # flatten nested objects into columns, then pick some
  jq-lite --flatten '{event_type, uid: .user_id, country: .user_country}' events.jsonl

  # CSV of two fields, with a value from the shell
  jq-lite -r --arg t join_guild 'select(.event_type == $t) | [.seq, .guild.name] | @csv' events.jsonl

  # count events by type (-s reads every line into one array)
  jq-lite -s 'group_by(.event_type) | map({type: .[0].event_type, n: length})' events.jsonl

Input is JSON lines: one value per line, blank lines ignored. Numbers keep the text
they were written with (161.0 stays 161.0; jq 1.6 prints 161); numbers a filter
computes print as jq prints them.

--flatten: {\"user\":{\"id\":1,\"geo\":{\"cc\":\"DE\"}}} becomes
{\"user_id\":1,\"user_geo_cc\":\"DE\"}; arrays stay arrays, an empty nested object
stays {}. Key collisions: when two keys flatten to the same name, as in
{\"a_b\":1,\"a\":{\"b\":2}}, the line is rejected as invalid (never overwritten): the
run stops with its line number, or with --skip-invalid the line is skipped and
counted. Choose another separator (--flatten=.) to keep both.

Exit status: 0 success (also when stdout is closed early, as by `head`); 1 a line
that is not JSON (without --skip-invalid), a filter error on some input (reported
with its line number; the other inputs are still processed), or an I/O error;
2 bad flags or an invalid filter.";

/// Filter and reshape JSON lines with the jq language.
#[derive(clap::Parser, Debug)]
#[command(name = "jq-lite", version, about, after_long_help = EXAMPLES)]
pub struct Args {
    /// The jq filter, e.g. 'select(.event_type == "purchase_sword")'
    pub filter: String,

    /// Files of JSON lines; none or '-' means stdin
    pub files: Vec<PathBuf>,

    /// Print strings without quotes (for @csv, @tsv, plain text)
    #[arg(short = 'r', long = "raw-output")]
    pub raw_output: bool,

    /// Compact output (always on: one value per line; accepted for jq compatibility)
    #[arg(short = 'c', long = "compact-output")]
    pub compact_output: bool,

    /// Run the filter once with null as input (read lines with input/inputs)
    #[arg(short = 'n', long = "null-input")]
    pub null_input: bool,

    /// Read every line into one array and run the filter once on it
    #[arg(short = 's', long)]
    pub slurp: bool,

    /// Set $NAME to the string VALUE (repeatable)
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    pub arg: Vec<String>,

    /// Set $NAME to the JSON value TEXT (repeatable)
    #[arg(long, num_args = 2, value_names = ["NAME", "TEXT"], action = clap::ArgAction::Append)]
    pub argjson: Vec<String>,

    /// Skip lines that are not JSON: each is reported on stderr with its line number
    /// and counted, and the run goes on (exit 0)
    #[arg(long)]
    pub skip_invalid: bool,

    /// Flattens each input before the filter runs; see the collision rule below
    #[command(flatten)]
    pub flatten: flatten::Arg,

    #[command(flatten)]
    pub q: cli::Quiet,

    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Run jq-lite with parsed arguments. `halt` ends the run with its exit code through
/// [`cli::ExitWith`], after stdout was flushed.
pub fn run(args: Args) -> anyhow::Result<()> {
    let named = named_args(&args)?;
    // compile once here so an invalid filter is a usage error before any input is read
    jq::compile(&args.filter, &named.values())
        .map_err(|e| cli::usage(format!("invalid filter: {e}")))?;
    let opts = Opts {
        raw: args.raw_output,
        skip_invalid: args.skip_invalid,
        quiet: args.q.quiet,
        flatten: args.flatten.sep.clone(),
        names: input::names(&args.files),
    };
    // The threads are not scoped: on an error the run returns at once, even if the
    // reader still waits for stdin (an endless topic); exiting ends them.
    let (chunk_tx, chunk_rx) = bounded::<Chunk>(4);
    let files = args.files.clone();
    // Lines and bytes read, per chunk, when stdout is not the terminal stderr is.
    let progress = lakepipe::progress::Progress::new(args.q.quiet, true);
    let counter = progress.clone();
    let reader = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut chunker = Chunker::new(input::inputs(&files), input::CUTTING);
        while let Some(c) = chunker.next_chunk()? {
            if counter.is_shown() {
                let lines = memchr::memchr_iter(b'\n', &c.data).count();
                counter.add(lines as u64, c.data.len() as u64);
            }
            if chunk_tx.send(c).is_err() {
                break;
            }
        }
        Ok(())
    });
    // `input`/`inputs` read the shared stream, so such filters cannot be split up
    let sequential = args.null_input || args.slurp || args.filter.contains("input");
    let stats = if sequential {
        run_sequential(&args, &named.values(), &opts, chunk_rx)?
    } else {
        let threads = args
            .threads
            .map_or_else(lakepipe::workers::cores, usize::from);
        let job = Arc::new(Job {
            code: args.filter.clone(),
            named,
            opts,
        });
        run_parallel(job, chunk_rx, threads)?
    };
    // all chunks were consumed, so the reader has finished
    reader
        .join()
        .map_err(|_| anyhow!("the input reader panicked"))??;
    progress.finish();
    stats.finish()
}

/// `--arg` and `--argjson` values, kept as text so each thread builds its own values.
struct Named(Vec<(String, String, bool)>);

impl Named {
    fn values(&self) -> Vec<(String, Val)> {
        let val = |text: &String, is_json: bool| {
            if is_json {
                json::parse_str(text).unwrap_or(Val::Null)
            } else {
                Val::from(text.clone())
            }
        };
        self.0
            .iter()
            .map(|(name, text, is_json)| (name.clone(), val(text, *is_json)))
            .collect()
    }
}

fn named_args(args: &Args) -> anyhow::Result<Named> {
    let mut named = Vec::new();
    for pair in args.arg.chunks(2) {
        if let [name, value] = pair {
            named.push((name.clone(), value.clone(), false));
        }
    }
    for pair in args.argjson.chunks(2) {
        if let [name, text] = pair {
            json::parse_str(text).map_err(|e| cli::usage(format!("--argjson {name}: {e}")))?;
            named.push((name.clone(), text.clone(), true));
        }
    }
    Ok(Named(named))
}

/// What every worker needs.
struct Job {
    code: String,
    named: Named,
    opts: Opts,
}

struct Opts {
    raw: bool,
    skip_invalid: bool,
    quiet: bool,
    flatten: Option<String>,
    names: Vec<String>,
}

impl Opts {
    /// Parse (and flatten) one line; `Ok(None)` for a blank line.
    fn value(&self, line: &bytes::Bytes) -> Result<Option<Val>, String> {
        let v = match json::parse_line(line) {
            Ok(Some(v)) => v,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        match &self.flatten {
            None => Ok(Some(v)),
            Some(sep) => flatten::flatten(Flat(v), sep)
                .map(|f| Some(f.0))
                .map_err(|e| e.to_string()),
        }
    }

    fn print(&self, out: &mut Vec<u8>, v: &Val) {
        if self.raw {
            json::write_raw(out, v)
        } else {
            json::write_json(out, v)
        }
        out.push(b'\n');
    }
}

/// jaq values as a [`Tree`] for the shared flatten rules.
struct Flat(Val);

impl Tree for Flat {
    type Entries = Vec<(String, Flat)>;

    fn into_object(self) -> Result<Self::Entries, Self> {
        match self.0 {
            Val::Obj(o) if !o.is_empty() && o.keys().all(|k| matches!(k, Val::TStr(_))) => {
                let o = Rc::try_unwrap(o).unwrap_or_else(|o| (*o).clone());
                Ok(o.into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Val::TStr(b) => String::from_utf8_lossy(&b).into_owned(),
                            _ => String::new(),
                        };
                        (key, Flat(v))
                    })
                    .collect())
            }
            other => Err(Flat(other)),
        }
    }

    fn from_entries(entries: Vec<(String, Self)>) -> Self {
        Flat(Val::obj(
            entries
                .into_iter()
                .map(|(k, v)| (Val::from(k), v.0))
                .collect(),
        ))
    }
}

/// What happened to a line besides its output.
enum Event {
    /// Not JSON (or a flatten collision), skipped with --skip-invalid.
    Skipped { line: u64, reason: String },
    /// The filter failed on this input; the run goes on and exits 1.
    Failed { line: u64, msg: String },
    /// Not JSON without --skip-invalid: the run stops here.
    Fatal { line: u64, reason: String },
    /// The filter called `halt`: the run stops here with this exit code.
    Halt(i32),
}

/// Counts kept for the final report and the exit code.
#[derive(Default)]
struct Stats {
    skipped: u64,
    failed: u64,
}

impl Stats {
    /// Report one event on stderr; `Err` for a fatal one.
    fn report(&mut self, opts: &Opts, file: usize, ev: Event) -> anyhow::Result<()> {
        let name = opts.names.get(file).map_or("<stdin>", String::as_str);
        match ev {
            Event::Skipped { line, reason } => {
                self.skipped += 1;
                if !opts.quiet {
                    cli::warn(format!("{name}:{line}: {reason}"));
                }
            }
            Event::Failed { line, msg } => {
                self.failed += 1;
                cli::error(format_args!("{name}:{line}: {msg}"));
            }
            Event::Fatal { line, reason } => {
                return Err(anyhow!(
                    "{name}:{line}: {reason} (use --skip-invalid to skip such lines)"
                ));
            }
            Event::Halt(code) => return Err(cli::ExitWith(code).into()),
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        if self.skipped > 0 {
            let s = if self.skipped == 1 { "" } else { "s" };
            cli::info(false, format!("skipped {} invalid line{s}", self.skipped));
        }
        if self.failed > 0 {
            let s = if self.failed == 1 { "" } else { "s" };
            return Err(anyhow!("the filter failed on {} input{s}", self.failed));
        }
        Ok(())
    }
}

/// The result of one chunk: its output and events, in line order.
struct Done {
    file: usize,
    out: Vec<u8>,
    events: Vec<Event>,
}

fn run_parallel(job: Arc<Job>, chunks: Receiver<Chunk>, threads: usize) -> anyhow::Result<Stats> {
    let worker_job = Arc::clone(&job);
    let (mut feeder, done) = lines::ordered(
        threads,
        lines::in_flight(threads),
        "a jq-lite worker",
        move || worker(Arc::clone(&worker_job)),
    );
    // Not scoped: on an error the run returns at once, even if stdin is still open.
    std::thread::spawn(move || chunks.into_iter().all(|c| feeder.send(c)));
    write_in_order(&job.opts, done)
}

/// A worker: parse, filter and print whole chunks (each thread compiles its own filter,
/// as jaq values are not shared between threads).
fn worker(job: Arc<Job>) -> impl FnMut(Chunk) -> Done {
    let program = jq::compile(&job.code, &job.named.values());
    let none: Box<dyn Iterator<Item = Result<Val, String>>> = Box::new(std::iter::empty());
    let inputs = RcIter::new(none);
    move |chunk| {
        let opts = &job.opts;
        let mut out = Vec::with_capacity(chunk.data.len() + 64);
        let mut events = Vec::new();
        // The filter compiled in `run` already; this cannot fail.
        let Ok(program) = &program else {
            return Done {
                file: chunk.input,
                out,
                events,
            };
        };
        let file = chunk.input;
        for (line, text) in numbered(chunk) {
            let v = match opts.value(&text) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(reason) if opts.skip_invalid => {
                    events.push(Event::Skipped { line, reason });
                    continue;
                }
                Err(reason) => {
                    events.push(Event::Fatal { line, reason });
                    break;
                }
            };
            match program.run(&inputs, v, |y| opts.print(&mut out, &y)) {
                Ok(()) => {}
                Err(jq::Stop::Error(msg)) => events.push(Event::Failed { line, msg }),
                Err(jq::Stop::Halt(code)) => {
                    events.push(Event::Halt(code));
                    break;
                }
            }
        }
        Done { file, out, events }
    }
}

fn write_in_order(opts: &Opts, mut done: lines::Ordered<Done>) -> anyhow::Result<Stats> {
    let mut stdout = cli::stdout();
    let mut stats = Stats::default();
    loop {
        // flush before waiting, so a slow stream sees its results at once
        let mut next = done.next(Some(Duration::ZERO));
        if let Ok(Next::Waiting) = next {
            stdout.flush().context("writing to stdout")?;
            next = done.next(None);
        }
        let d = match next {
            Ok(Next::Ready(d)) => d,
            Ok(_) => break,
            Err(e) => {
                stdout.flush().context("writing to stdout")?;
                return Err(e);
            }
        };
        stdout.write_all(&d.out).context("writing to stdout")?;
        for ev in d.events {
            if let Err(e) = stats.report(opts, d.file, ev) {
                stdout.flush().context("writing to stdout")?;
                return Err(e);
            }
        }
    }
    stdout.flush().context("writing to stdout")?;
    Ok(stats)
}

/// Shared state of the line stream in sequential mode.
struct Seq<'o> {
    opts: &'o Opts,
    stdout: RefCell<Box<dyn Write>>,
    /// Set once a fatal line was met: the stream ends there.
    fatal: Cell<bool>,
    /// File and line of the value read last, for error messages.
    at: Cell<(usize, u64)>,
    stats: RefCell<Stats>,
    /// A write error met while flushing from inside the stream.
    io_error: RefCell<Option<std::io::Error>>,
}

/// The lines of a chunk as slices of one shared buffer (parsed values keep them).
fn numbered(chunk: Chunk) -> impl Iterator<Item = (u64, bytes::Bytes)> {
    let data = bytes::Bytes::from_owner(chunk.data);
    let spans: Vec<_> = lines::spans(&data, chunk.first_line).collect();
    spans.into_iter().map(move |(n, r)| (n, data.slice(r)))
}

/// Lines of the chunks as values, in order: the main input and `input`/`inputs`.
fn line_values<'a>(
    seq: &'a Seq<'a>,
    chunks: Receiver<Chunk>,
) -> impl Iterator<Item = Result<Val, String>> + 'a {
    let mut lines: Vec<(u64, bytes::Bytes)> = Vec::new();
    let mut file = 0;
    std::iter::from_fn(move || loop {
        if seq.fatal.get() {
            return None;
        }
        if lines.is_empty() {
            let chunk = match chunks.try_recv() {
                Ok(c) => c,
                Err(_) => {
                    // about to wait for input: let the reader of our output see it all
                    if let Err(e) = seq.stdout.borrow_mut().flush() {
                        seq.io_error.borrow_mut().get_or_insert(e);
                        return None;
                    }
                    chunks.recv().ok()?
                }
            };
            file = chunk.input;
            lines = numbered(chunk).collect();
            lines.reverse();
        }
        let (line, text) = lines.pop()?;
        seq.at.set((file, line));
        match seq.opts.value(&text) {
            Ok(Some(v)) => return Some(Ok(v)),
            Ok(None) => {}
            Err(reason) if seq.opts.skip_invalid => {
                let ev = Event::Skipped { line, reason };
                let _ = seq.stats.borrow_mut().report(seq.opts, file, ev);
            }
            Err(reason) => {
                seq.fatal.set(true);
                let name = seq.opts.names.get(file).map_or("<stdin>", String::as_str);
                return Some(Err(format!(
                    "{name}:{line}: {reason} (use --skip-invalid to skip such lines)"
                )));
            }
        }
    })
}

fn run_sequential(
    args: &Args,
    named: &[(String, Val)],
    opts: &Opts,
    chunks: Receiver<Chunk>,
) -> anyhow::Result<Stats> {
    let program =
        jq::compile(&args.filter, named).map_err(|e| cli::usage(format!("invalid filter: {e}")))?;
    let seq = Seq {
        opts,
        stdout: RefCell::new(cli::stdout()),
        fatal: Cell::new(false),
        at: Cell::new((0, 0)),
        stats: RefCell::new(Stats::default()),
        io_error: RefCell::new(None),
    };
    let stream: Box<dyn Iterator<Item = Result<Val, String>> + '_> =
        Box::new(line_values(&seq, chunks));
    let stream = RcIter::new(stream);

    // -s: one array of every value; -n: null, with the lines (or that array) as inputs
    let slurped = if args.slurp {
        let all: Result<Vec<Val>, String> = (&stream).collect();
        Some(all.map(|a| Val::Arr(jaq_json::Rc::new(a))))
    } else {
        None
    };
    let slurp_once: Box<dyn Iterator<Item = Result<Val, String>>> =
        match (&slurped, args.null_input) {
            (Some(Ok(a)), true) => Box::new(std::iter::once(Ok(a.clone()))),
            _ => Box::new(std::iter::empty()),
        };
    let slurp_inputs = RcIter::new(slurp_once);
    let inputs = if slurped.is_some() {
        &slurp_inputs
    } else {
        &stream
    };

    let mut buf = Vec::new();
    let mut run_one = |v: Val, (file, line): (usize, u64)| -> anyhow::Result<()> {
        let result = program.run(inputs, v, |y| {
            buf.clear();
            opts.print(&mut buf, &y);
            let mut out = seq.stdout.borrow_mut();
            if let Err(e) = out.write_all(&buf) {
                seq.io_error.borrow_mut().get_or_insert(e);
            }
        });
        if let Some(e) = seq.io_error.borrow_mut().take() {
            return Err(anyhow::Error::from(e).context("writing to stdout"));
        }
        let msg = match result {
            Ok(()) => return Ok(()),
            Err(jq::Stop::Halt(code)) => {
                seq.stdout
                    .borrow_mut()
                    .flush()
                    .context("writing to stdout")?;
                return Err(cli::ExitWith(code).into());
            }
            Err(jq::Stop::Error(msg)) => msg,
        };
        if seq.fatal.get() {
            // `input` met a line that is not JSON: that ends the run
            return Err(anyhow!(msg));
        }
        let line = if args.null_input || args.slurp {
            0
        } else {
            line
        };
        seq.stats
            .borrow_mut()
            .report(opts, file, Event::Failed { line, msg })
    };

    match slurped {
        Some(Err(msg)) => return Err(anyhow!(msg)),
        Some(Ok(array)) if !args.null_input => run_one(array, (0, 0))?,
        _ if args.null_input => run_one(Val::Null, (0, 0))?,
        _ => {
            for item in &stream {
                match item {
                    Ok(v) => run_one(v, seq.at.get())?,
                    Err(msg) => {
                        flushed(&seq, Err(anyhow!(msg)))?;
                    }
                }
            }
            if let Some(e) = seq.io_error.borrow_mut().take() {
                return Err(anyhow::Error::from(e).context("writing to stdout"));
            }
        }
    }
    flushed(&seq, Ok(()))?;
    let stats = std::mem::take(&mut *seq.stats.borrow_mut());
    Ok(stats)
}

/// Flush what was written before returning `result` (a write error wins).
fn flushed(seq: &Seq, result: anyhow::Result<()>) -> anyhow::Result<()> {
    seq.stdout
        .borrow_mut()
        .flush()
        .context("writing to stdout")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_applies_to_jaq_values() {
        let v = json::parse_str(r#"{"a":{"b":{"c":1},"d":[{"e":2}]},"f":"x"}"#).unwrap();
        let flat = flatten::flatten(Flat(v), "_").unwrap().0;
        let mut out = Vec::new();
        json::write_json(&mut out, &flat);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a_b_c":1,"a_d":[{"e":2}],"f":"x"}"#
        );
        let v = json::parse_str(r#"{"a_b":1,"a":{"b":2}}"#).unwrap();
        assert_eq!(flatten::flatten(Flat(v), "_").err().unwrap().key, "a_b");
    }
}
