//! pq-cat: print Parquet files as JSON lines, CSV, TSV or an aligned table.
//!
//! Inputs are files, folders (Hive-style `k=v/` folders add columns), globs or stdin.
//! Rows stream from one row group at a time: decoding runs on one thread, text encoding
//! on one thread per core, and the text is written in order, so memory stays bounded
//! whatever the file size. A summary line
//! (rows, files, bytes) goes to stderr unless `-q`.
//!
//! ```sh
//! pq-cat events.parquet | jq-lite 'select(.price > 100)'
//! ```

mod encode;
mod meta;
mod offsets;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use anyhow::Context;
use arrow_array::RecordBatch;
use clap::Parser;
use encode::Format;
use lakepipe::ddl::{format_schema, Dialect, Quote};
use lakepipe::lines::{self, Next};
use lakepipe::read::{self, Table};
use lakepipe::{cli, workers};

const EXAMPLES: &str = "\
Examples:
  # The first rows of a Spark output folder (k=v partitions become columns)
  pq-cat -n 5 out/events/

  # CSV with a header, two columns, from every file matching a glob
  pq-cat --format csv --header --columns user_id,price 'data/*.parquet' > prices.csv

  # Round trip: rewrite a file with exactly its own types
  pq-cat x.parquet | pq-write --schema \"$(pq-cat --schema x.parquet)\" y.parquet

  # Row count and footers, without reading any data
  pq-cat --count data/ && pq-cat --meta data/part-00000.parquet | jq-lite .row_groups

  # Which Kafka offsets a streamed folder holds (pq-write --exactly-once, Kafka Connect)
  pq-cat --offsets hdfs:///lake/events/

NOTES:
  JSON lines print every column (null as null); timestamps as ISO-8601 (Z or +hh:mm for
  zoned, none for naive), decimals as exact strings, binary as base64, maps as objects.
  CSV/TSV print a null as an empty field and nested values as JSON text. `--format table`
  holds the rows it prints in memory: use it with --head on large inputs.
  An unknown --columns name is a usage error (exit 2); a folder without files, a corrupt
  or truncated file, or files with conflicting column types are errors (exit 1).";

#[derive(Parser, Debug)]
#[command(
    name = "pq-cat",
    version,
    about = "Print Parquet files as JSON lines, CSV, TSV or a table",
    after_long_help = EXAMPLES
)]
pub struct Args {
    /// Parquet files, folders or globs (quoted globs are expanded); `-` or none reads stdin
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,

    /// Print a header line with the column names (csv, tsv)
    #[arg(long)]
    pub header: bool,

    /// Print at most N rows
    #[arg(short = 'n', long = "head", value_name = "N")]
    pub head: Option<usize>,

    /// Print only these top-level columns, in this order (partition columns included)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// Print the number of rows, from the footers only
    #[arg(long, conflicts_with_all = ["schema", "meta", "head"])]
    pub count: bool,

    /// Print the merged schema as one line of DDL (`id BIGINT, name STRING`), as pq-write --schema reads it
    #[arg(long, conflicts_with = "meta")]
    pub schema: bool,

    /// Print each file's footer as one JSON object: row groups, sizes, codecs, encodings, statistics
    #[arg(long)]
    pub meta: bool,

    /// Audit a folder of Kafka-Connect-named files (`topic+partition+first+last.parquet`):
    /// per topic-partition, files, offsets, rows, gaps and overlaps as JSON lines; exit 1 on overlap
    #[arg(long, value_name = "DIR", conflicts_with_all = ["inputs", "count", "schema", "meta", "head", "columns"])]
    pub offsets: Option<String>,

    #[command(flatten)]
    pub common: cli::Common,
}

/// Rows per decoded batch: large enough to amortize per-batch work, small enough for
/// the cache.
const BATCH_ROWS: usize = 8192;

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    lakepipe::storage::set_timeout(args.common.timeout);
    if args.header && !matches!(args.format, Format::Csv | Format::Tsv) {
        return Err(cli::usage("--header applies to --format csv and tsv"));
    }
    if let Some(dir) = &args.offsets {
        return offsets::audit(dir, &mut cli::stdout());
    }
    if (args.inputs.is_empty() || args.inputs.iter().any(|i| i == "-"))
        && std::io::stdin().is_terminal()
    {
        return Err(cli::usage(
            "no input: give Parquet files or folders, or pipe a file on stdin",
        ));
    }
    let sources = read::sources(&args.inputs)?;
    let mut out = cli::stdout();

    if args.count {
        let mut total = 0i64;
        for s in &sources {
            total += s.footer()?.metadata().file_metadata().num_rows();
        }
        writeln!(out, "{total}")?;
        return Ok(out.flush()?);
    }
    if args.meta {
        for s in &sources {
            let footer = s.footer_unchecked()?;
            let mut line = serde_json::to_vec(&meta::describe(&s.name, footer.metadata()))?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        return Ok(out.flush()?);
    }

    let table = Table::open(sources)?;
    let schema = table
        .project(args.columns.as_deref())
        .map_err(|e| cli::usage(format!("{e:#}")))?;
    if args.schema {
        writeln!(
            out,
            "{}",
            format_schema(&schema, Dialect::Spark, Quote::WhenNeeded)
        )?;
        return Ok(out.flush()?);
    }

    let files = table.files.len();
    let bytes = Arc::new(AtomicU64::new(0));
    let mut counted = Counted {
        inner: out,
        bytes: Arc::clone(&bytes),
    };
    // Rows and bytes written, per batch, when stdout is not the terminal stderr is.
    let progress = lakepipe::progress::Progress::new(args.common.quiet(), true);
    let batches = table.batches(schema.clone(), args.head, BATCH_ROWS);
    let rows = match args.format {
        Format::Table => {
            let writer = encode::writer(args.format, &schema, false, Box::new(counted));
            write_whole(writer, batches, &bytes, &progress)?
        }
        format => {
            if args.header {
                let header = encode::header_line(format, &schema);
                counted.write_all(&header).context("writing rows")?;
            }
            write_side_by_side(format, batches, &mut counted, &progress)?
        }
    };
    progress.finish();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    cli::info(
        args.common.quiet(),
        format_args!(
            "{} from {}, {} bytes written",
            plural(rows, "row"),
            plural(files, "file"),
            bytes.load(Ordering::Relaxed)
        ),
    );
    Ok(())
}

/// Counts the bytes written, for the summary line.
struct Counted<W> {
    inner: W,
    bytes: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A table holds every row before its first line: one writer, batches decoded on a
/// second thread while this one encodes.
fn write_whole(
    mut writer: Box<dyn encode::BatchWriter + '_>,
    batches: read::Batches,
    bytes: &AtomicU64,
    progress: &lakepipe::progress::Progress,
) -> anyhow::Result<usize> {
    let (mut rows, mut counted) = (0, 0);
    for batch in prefetch(batches) {
        let batch = batch?;
        rows += batch.num_rows();
        writer.write_batch(&batch).context("writing rows")?;
        let written = bytes.load(Ordering::Relaxed);
        progress.add(batch.num_rows() as u64, written - counted);
        counted = written;
    }
    writer.finish().context("writing rows")?;
    Ok(rows)
}

/// JSON lines, CSV and TSV: a reader thread decodes batches, an encoder per core turns
/// each into text, and this thread writes the texts in order. Encoding was 70% of the
/// CPU (perf, 1M events) and ran on one thread, the reader's decoding the rest.
fn write_side_by_side(
    format: Format,
    batches: read::Batches,
    out: &mut dyn Write,
    progress: &lakepipe::progress::Progress,
) -> anyhow::Result<usize> {
    let threads = lakepipe::workers::cores();
    let in_flight = lines::in_flight(threads);
    // Text buffers go back to the encoders: a fresh 2-3 MB buffer per batch would be
    // mapped and faulted in again each time.
    let spare: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let (mut feed, mut texts) = lines::ordered(threads, in_flight, "a text encoder", {
        let spare = Arc::clone(&spare);
        move || {
            let spare = Arc::clone(&spare);
            move |batch: anyhow::Result<RecordBatch>| -> anyhow::Result<(Vec<u8>, usize)> {
                let batch = batch?;
                let mut text = spare.lock().unwrap().pop().unwrap_or_default();
                encode::rows_into(format, &batch, &mut text);
                Ok((text, batch.num_rows()))
            }
        }
    });
    let reader = spawn_reader(batches, move |item| feed.send(item));
    let mut rows = 0;
    loop {
        let (mut text, n) = match texts.next(None)? {
            Next::Ready(done) => done?,
            Next::Waiting => continue,
            Next::End => break,
        };
        out.write_all(&text).context("writing rows")?;
        rows += n;
        progress.add(n as u64, text.len() as u64);
        text.clear();
        spare.lock().unwrap().push(text);
    }
    workers::join(reader, "the Parquet reader")?;
    out.flush().context("writing rows")?;
    Ok(rows)
}

/// Decode on a second thread while this one encodes; two batches in flight keep both
/// cores busy with bounded memory. Dropping the iterator stops the reader. When the
/// reader ends, it is joined: a panic there is an error, not a short, successful output.
fn prefetch(batches: read::Batches) -> Prefetch {
    let (tx, rx) = mpsc::sync_channel(2);
    let reader = spawn_reader(batches, move |item| tx.send(item).is_ok());
    Prefetch {
        rx,
        reader: Some(reader),
    }
}

/// The Parquet reader's thread: each batch, or the error that ends the batches, goes to
/// `send` until it returns false (the other side is gone).
fn spawn_reader(
    batches: read::Batches,
    mut send: impl FnMut(anyhow::Result<RecordBatch>) -> bool + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for (n, item) in batches.enumerate() {
            let failed = item.is_err();
            if !send(item) || failed {
                break;
            }
            if n == 0 {
                // After some output, as a real panic would be.
                workers::maybe_panic();
            }
        }
    })
}

struct Prefetch {
    rx: mpsc::Receiver<anyhow::Result<RecordBatch>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Iterator for Prefetch {
    type Item = anyhow::Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.recv() {
            Ok(item) => Some(item),
            Err(_) => workers::join(self.reader.take()?, "the Parquet reader")
                .err()
                .map(Err),
        }
    }
}
