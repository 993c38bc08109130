//! pq-write: JSON lines to Parquet files that are never seen half-written.
//!
//! ```sh
//! kcat-lite -C -e -t events -J | pq-write --envelope kcat --kafka-meta --partition-by event_type out/
//! ```

mod commit;
mod decode;
mod exactly_once;
mod infer;
mod kafka_meta;
mod pipeline;
mod shape;
mod sink;
mod tables;
mod time_partition;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use clap::{Parser, ValueEnum};
use lakepipe::cli;
use lakepipe::location::Location;
use lakepipe::parquet_write::SAMPLE_ROWS;
use lakepipe::register::{self, default_table_name, Registry, TableArgs};
use lakepipe::storage;
use lakepipe::{lines, workers};
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use lakepipe::lines::{Chunk, Chunker, Input};
use pipeline::{BadLines, DecodeConfig};
use sink::{Roll, Target};
use tables::{LineFormat, SinkArgs, TableSchema, Tables};
use time_partition::TimeBuckets;

const EXAMPLES: &str = "\
Examples:
  # events from a topic, one folder per event type
  kcat-lite -b localhost:9092 -t events -C -e | pq-write --partition-by event_type lake/events/

  # a fixed schema; lines that do not fit go to a file instead of stopping the run
  pq-write --schema 'id BIGINT, user STRUCT<id:BIGINT, country:STRING>, ts TIMESTAMP' \\
           --bad-lines rejects.jsonl -i events.jsonl events.parquet

  # kcat -J envelopes with Kafka metadata columns, a new file every 60 s
  kcat-lite -C -t events -J | pq-write --envelope kcat --kafka-meta --roll-secs 60 lake/raw/

  # a table per event type, every message exactly once across restarts
  kcat-lite -G lab -J --resume-from lake/bytype/ events \\
    | pq-write --envelope kcat --exactly-once --split-by event_type --roll-secs 10 lake/bytype/

  # copy a Parquet file with the same types
  pq-cat x.parquet | pq-write --schema \"$(pq-cat --schema x.parquet)\" y.parquet";

/// Write JSON lines (stdin or -i FILE) to Parquet: one file, or a folder of part files.
///
/// Files are written under a hidden name and renamed when complete, so Hive, Spark
/// and Trino never see a partial file, even after SIGKILL. SIGINT/SIGTERM and EOF
/// close the current file with a valid footer.
#[derive(Parser, Debug)]
#[command(version, after_long_help = EXAMPLES)]
pub struct Args {
    /// A file (out.parquet) or a folder (ends with '/', or exists as a folder), local, file:// or hdfs://
    pub output: String,

    /// Read JSON lines from FILE instead of stdin ('-' is stdin)
    #[arg(short = 'i', long, value_name = "FILE", default_value = "-")]
    pub input: String,

    /// Column types in Hive/Spark DDL syntax ('id BIGINT, tags ARRAY<STRING>'), or @FILE holding them
    #[arg(long, value_name = "DDL")]
    pub schema: Option<String>,

    /// Infer the schema from the first N lines [default: the first row group]
    #[arg(long, value_name = "N")]
    pub infer_rows: Option<usize>,

    #[command(flatten)]
    pub flatten: lakepipe::flatten::Arg,

    /// Lines that are not JSON or do not fit the schema: 'error' (stop, keep earlier rows), 'skip', or a FILE to copy them to
    #[arg(long, value_name = "error|skip|FILE", default_value = "error")]
    pub bad_lines: String,

    /// Compression codec
    #[arg(long, value_enum, default_value_t = Codec::Snappy)]
    pub compression: Codec,

    /// Rows per row group (also bounds memory)
    #[arg(long, value_name = "N", default_value_t = 131072)]
    pub row_group_rows: usize,

    /// Start a new file after N rows (folder output)
    #[arg(long, value_name = "N")]
    pub roll_rows: Option<u64>,

    /// Start a new file once a file reaches N bytes (folder output)
    #[arg(long, value_name = "N")]
    pub roll_bytes: Option<u64>,

    /// Start a new file every S seconds, even when input is slow (folder output)
    #[arg(long, value_name = "S")]
    pub roll_secs: Option<f64>,

    /// Hive-style folders COL=value/ for these columns (folder output)
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub partition_by: Vec<String>,

    /// One table folder per value of COL (OUTPUT/<value>/), each with its own schema and files
    #[arg(long, value_name = "COL")]
    pub split_by: Option<String>,

    /// Input lines are envelopes: 'kcat' for kcat/kcat-lite -J lines (the payload is the row)
    #[arg(long, value_enum, value_name = "KIND")]
    pub envelope: Option<EnvelopeKind>,

    /// With --envelope kcat: add _topic, _partition, _offset and _timestamp columns
    #[arg(long, requires = "envelope")]
    pub kafka_meta: bool,

    /// With --envelope kcat and a folder: each file holds one topic-partition's rows and is
    /// named <topic>+<partition>+<first>+<last>.parquet; offsets already in OUTPUT are not
    /// written again, and two writers never commit the same offsets (see README). With
    /// --split-by, a partition's files in every table are committed in one step
    #[arg(long, requires = "envelope")]
    pub exactly_once: bool,

    /// With --exactly-once: ride out an HDFS outage (namenode or datanode restart, safe
    /// mode) for up to DURATION (30s, 5m, 1h): writing waits, stdin is not read, one warning
    /// when it starts and one when it ends; 0 fails at once [default: 5m with
    /// --exactly-once, else 0]
    #[arg(long, value_name = "DURATION", value_parser = lakepipe::retry::parse_duration)]
    pub retry_for: Option<Duration>,

    /// Folders by a time bucket of each row, before --partition-by's: 'day' (dt=%Y-%m-%d),
    /// 'hour' (dt=%Y-%m-%d/hour=%H) or a layout of key=FORMAT (strftime) folders such as
    /// 'year=%Y/month=%m/day=%d' (Kafka Connect's path.format)
    #[arg(long, value_name = "day|hour|LAYOUT")]
    pub time_partition: Option<String>,

    /// With --time-partition: the row field holding the time (ISO-8601 text or epoch
    /// milliseconds), or _timestamp, the Kafka record time [default with --envelope kcat: _timestamp]
    #[arg(long, value_name = "FIELD", requires = "time_partition")]
    pub time_field: Option<String>,

    /// With --time-partition: the time zone of the folders (an IANA name) [default: UTC]
    #[arg(long, value_name = "TZ", requires = "time_partition")]
    pub timezone: Option<String>,

    /// Register the table(s) in this Hive metastore (thrift://host:port) before files
    /// become visible: creates the database and table, adds partitions and new columns
    /// (never retypes one); without URI, $HIVE_METASTORE
    #[arg(long, value_name = "URI", num_args = 0..=1, default_missing_value = "")]
    pub metastore: Option<String>,

    #[command(flatten)]
    pub registered: TableArgs,

    /// Replace an existing output file; in a folder, remove earlier part files once the run succeeds
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: cli::Common,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Codec {
    Snappy,
    Zstd,
    Gzip,
    Lz4,
    None,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnvelopeKind {
    Kcat,
}

impl Codec {
    fn parquet(self) -> Compression {
        match self {
            Codec::Snappy => Compression::SNAPPY,
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
            Codec::Gzip => Compression::GZIP(GzipLevel::default()),
            Codec::Lz4 => Compression::LZ4_RAW,
            Codec::None => Compression::UNCOMPRESSED,
        }
    }
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// What the command line asks for, checked before any input is read.
struct Options {
    policy: BadLines,
    target: Target,
    roll_secs: Option<Duration>,
    given_schema: Option<Schema>,
    time: Option<Arc<TimeBuckets>>,
    /// The sink's partition keys: the time buckets', then --partition-by's.
    partition_by: Vec<String>,
}

fn options(args: &Args) -> Result<Options> {
    let policy = match args.bad_lines.as_str() {
        "error" => BadLines::Error,
        "skip" => BadLines::Skip,
        "" => return Err(cli::usage("--bad-lines needs error, skip or a file name")),
        f => BadLines::File(PathBuf::from(f)),
    };
    let target = resolve_target(args)?;
    if args.row_group_rows == 0 || args.roll_rows == Some(0) || args.roll_bytes == Some(0) {
        return Err(cli::usage(
            "--row-group-rows, --roll-rows and --roll-bytes must be at least 1",
        ));
    }
    let roll_secs = match args.roll_secs {
        Some(s) if !(s > 0.0 && s.is_finite()) => {
            return Err(cli::usage("--roll-secs must be a positive number"))
        }
        s => s.map(Duration::from_secs_f64),
    };
    let given_schema = match &args.schema {
        Some(s) => Some(load_schema(s)?),
        None => None,
    };
    let time = match &args.time_partition {
        Some(layout) => Some(Arc::new(
            TimeBuckets::parse(
                layout,
                args.time_field.as_deref(),
                args.timezone.as_deref(),
                args.envelope.is_some(),
            )
            .map_err(cli::usage)?,
        )),
        None => None,
    };
    let mut partition_by = time.as_ref().map(|t| t.keys()).unwrap_or_default();
    partition_by.extend(args.partition_by.iter().cloned());
    Ok(Options {
        policy,
        target,
        roll_secs,
        given_schema,
        time,
        partition_by,
    })
}

/// `--metastore`: the run's registry and the table name (or prefix); the metastore is
/// called at the first file to commit.
fn registration(args: &Args, target: &Target) -> Result<Option<(Arc<Mutex<Registry>>, String)>> {
    let Some(given) = &args.metastore else {
        return Ok(None);
    };
    let uri = register::uri(given)?;
    if matches!(target, Target::File(_)) {
        return Err(cli::usage(
            "--metastore registers a table: OUTPUT must be a folder (end it with '/')",
        ));
    }
    let name = match (&args.registered.table, &args.split_by) {
        (Some(t), _) => t.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => default_table_name(target.location()),
    };
    if name.is_empty() && args.split_by.is_none() {
        return Err(cli::usage(
            "cannot tell a table name from OUTPUT: give --table",
        ));
    }
    let registry = Registry::new(&uri, &args.registered.database, args.common.timeout);
    Ok(Some((Arc::new(Mutex::new(registry)), name)))
}

pub fn run(args: Args) -> Result<()> {
    pipeline::pin_allocator();
    cli::install_interrupt_handler();
    storage::set_timeout(args.common.timeout);
    // A stream waits out outages; a batch run fails fast as --timeout says.
    let stream_default = match args.exactly_once {
        true => lakepipe::retry::STREAM_DEFAULT,
        false => Duration::ZERO,
    };
    lakepipe::retry::set_retry_for(args.retry_for.unwrap_or(stream_default));
    let opts = options(&args)?;
    let register = registration(&args, &opts.target)?;
    let (input, input_name) = open_input(&args.input)?;
    let mut chunker = Chunker::new(vec![input], pipeline::CUTTING);
    let mut start = start(&args, opts, register, &mut chunker)?;
    // Rows written and input bytes read, on a terminal's stderr.
    let progress = lakepipe::progress::Progress::new(args.common.quiet(), false);
    let (end, report, err) = stream(&args, &mut start, chunker, &input_name, &progress);
    finish(&args, start, end, &report, err, &input_name)
}

/// What the first lines settle before the pipeline starts: the schemas (given, or inferred
/// from the first row group of lines), the tables they open, and the lines read so far.
struct Start {
    opts: Options,
    cfg: DecodeConfig,
    tables: Tables,
    /// Lines read for inference or the dictionary sample, not yet written.
    buffered: Vec<Chunk>,
    /// The rows of the first `first.len()` chunks of `buffered`, already decoded.
    first: Vec<Result<pipeline::Decoded>>,
    /// False when the input held no object to take columns from: nothing to write.
    have_columns: bool,
}

fn start(
    args: &Args,
    opts: Options,
    register: Option<(Arc<Mutex<Registry>>, String)>,
    chunker: &mut Chunker,
) -> Result<Start> {
    let format = LineFormat {
        envelope: args.envelope.is_some(),
        kafka_meta: args.kafka_meta || args.exactly_once,
        need_offsets: args.exactly_once,
        flatten: args.flatten.sep.clone(),
        split_by: args.split_by.clone(),
        time: opts.time.clone(),
    };
    // Folder output without --schema follows new fields (schema evolution).
    let evolve = opts.given_schema.is_none() && matches!(opts.target, Target::Folder(_));
    let mut cfg = DecodeConfig {
        format: format.clone(),
        schemas: Default::default(),
        evolve,
        stop_on_error: matches!(opts.policy, BadLines::Error),
    };
    let mut buffered: Vec<Chunk> = Vec::new();
    let (initial, decoded) = first_schemas(args, &opts, &cfg, chunker, &mut buffered)?;
    let have_columns = evolve || opts.given_schema.is_some() || !initial.is_empty();

    // With one table, its first rows are decoded now (unless inference did), for the
    // dictionary sample; the writer takes them first and the pipeline starts after them.
    let (first, sample) = match (&args.split_by, initial.as_slice()) {
        (None, [(key, schema)]) => {
            cfg.schemas
                .set(key, TableSchema::of(schema.clone(), &format));
            let first = match decoded.is_empty() {
                true => pipeline::decode_first(&cfg, &buffered, key, SAMPLE_ROWS)?,
                false => decoded,
            };
            let sample = pipeline::sample(&first, key, SAMPLE_ROWS);
            (first, sample)
        }
        _ => (vec![], None),
    };
    let sink_args = SinkArgs {
        target: opts.target.clone(),
        partition_by: opts.partition_by.clone(),
        props: writer_props(args, sample.as_ref()),
        roll: Roll {
            rows: args.roll_rows,
            bytes: args.roll_bytes,
            secs: opts.roll_secs,
        },
        overwrite: args.overwrite,
        run_id: uuid::Uuid::new_v4().to_string(),
        exactly_once: exactly_once(args, &opts.target)?,
        register,
        quiet: args.common.quiet(),
    };
    let mut tables = Tables::new(format, evolve, opts.given_schema.clone(), sink_args)?;
    for (key, schema) in initial {
        tables.add(&key, schema)?;
    }
    cfg.schemas = tables.schemas.clone();
    Ok(Start {
        opts,
        cfg,
        tables,
        buffered,
        first,
        have_columns,
    })
}

/// The schemas known before the pipeline starts, per table key: the given one, or those
/// inferred from the first row group of lines (which inference may decode on the way).
#[allow(clippy::type_complexity)]
fn first_schemas(
    args: &Args,
    opts: &Options,
    cfg: &DecodeConfig,
    chunker: &mut Chunker,
    buffered: &mut Vec<Chunk>,
) -> Result<(Vec<(String, Schema)>, Vec<Result<pipeline::Decoded>>)> {
    let deadline = opts.roll_secs.map(|r| Instant::now() + r);
    match &opts.given_schema {
        Some(s) if args.split_by.is_none() => {
            // Lines for the dictionary sample (writer_props), as inference has them.
            buffer_lines(chunker, buffered, SAMPLE_ROWS as u64, deadline)?;
            Ok((vec![(String::new(), s.clone())], vec![]))
        }
        Some(_) => Ok((vec![], vec![])),
        None => {
            let limit = args.infer_rows.unwrap_or(args.row_group_rows).max(1) as u64;
            buffer_lines(chunker, buffered, limit, deadline)?;
            let (inf, decoded) = pipeline::infer_schemas(cfg, buffered, limit)?;
            let schemas = inf
                .into_iter()
                .map(|(k, i)| (k, i.schema()))
                .filter(|(_, s)| !s.fields().is_empty())
                .collect();
            Ok((schemas, decoded))
        }
    }
}

/// Feeds the rest of the input through the decoders to the writer, which takes the rows
/// decoded at the start first; returns how the input ended and the writer's report.
fn stream(
    args: &Args,
    start: &mut Start,
    mut chunker: Chunker,
    input_name: &str,
    progress: &lakepipe::progress::Progress,
) -> (pipeline::End, pipeline::Report, Option<anyhow::Error>) {
    let decoded_first = start.first.len();
    let first = std::mem::take(&mut start.first);
    let (tables, opts, buffered) = (&mut start.tables, &start.opts, &mut start.buffered);
    std::thread::scope(|s| {
        let (cfg, back) = (start.cfg.clone(), chunker.recycler());
        let (threads, room) = (pipeline::workers(), pipeline::in_flight());
        let (mut feeder, decoded) = lines::ordered(threads, room, "a decoder", move || {
            pipeline::decoder(cfg.clone(), back.clone())
        });
        let writer = s.spawn(|| match start.have_columns {
            true => {
                let quiet = args.common.quiet();
                let policy = &opts.policy;
                pipeline::write_loop(first, decoded, tables, policy, input_name, quiet, progress)
            }
            false => (pipeline::Report::default(), None),
        });
        let mut feed = |c: Chunk| {
            progress.add(0, c.data.len() as u64);
            feeder.send(c)
        };
        for c in buffered.drain(..decoded_first) {
            progress.add(0, c.data.len() as u64);
            chunker.recycler().give(c.data);
        }
        let mut ok = buffered.drain(..).all(&mut feed);
        while ok {
            match chunker.next_chunk() {
                Ok(Some(c)) => ok = feed(c),
                Ok(None) => break,
                Err(e) => {
                    drop(feeder);
                    let (report, werr) = joined(writer);
                    return (pipeline::End::Eof, report, Some(werr.unwrap_or(e)));
                }
            }
        }
        drop(feeder);
        let end = match (ok, cli::interrupted()) {
            (false, _) => pipeline::End::Downstream,
            (true, true) => pipeline::End::Interrupted,
            (true, false) => pipeline::End::Eof,
        };
        let (report, err) = joined(writer);
        (end, report, err)
    })
}

/// Closes the files (completely on success, keeping earlier rows on errors and
/// interrupts), prints the summary, and says how the run ended.
fn finish(
    args: &Args,
    mut start: Start,
    end: pipeline::End,
    report: &pipeline::Report,
    err: Option<anyhow::Error>,
    input_name: &str,
) -> Result<()> {
    let tables = &mut start.tables;
    let close = match err.is_none() && end == pipeline::End::Eof {
        true => tables.finish(args.schema.is_some()),
        false => tables.abort(),
    };
    let totals = tables.totals();
    summarize(args, &start.opts.target, report, tables, &start.opts.policy);
    if let Some(e) = err {
        if cli::is_broken_pipe(&e) {
            return Err(e);
        }
        return Err(anyhow::anyhow!(
            "{e:#} (stopped; {} rows from earlier lines are in {} complete file(s))",
            totals.rows,
            totals.files
        ));
    }
    close?;
    if end == pipeline::End::Interrupted {
        return Err(cli::Interrupted(format!(
            "{} rows from lines 1-{} written to {} file(s); input after line {} was not read",
            totals.rows, report.last_line, totals.files, report.last_line
        ))
        .into());
    }
    if tables.is_empty() {
        cli::warn(format!(
            "{input_name}: no JSON objects in the input; no file written"
        ));
    }
    Ok(())
}

/// The writer's report and error; a panic there is the error.
fn joined(
    writer: std::thread::ScopedJoinHandle<'_, (pipeline::Report, Option<anyhow::Error>)>,
) -> (pipeline::Report, Option<anyhow::Error>) {
    writer
        .join()
        .unwrap_or_else(|p| (Default::default(), Some(workers::panicked("the writer", p))))
}

fn summarize(
    args: &Args,
    target: &Target,
    report: &pipeline::Report,
    tables: &Tables,
    policy: &BadLines,
) {
    let totals = tables.totals();
    for a in &tables.added {
        let table = match &args.split_by {
            Some(col) => format!(" of table {col}={}", a.table),
            None => String::new(),
        };
        cli::info(
            args.common.quiet(),
            format!(
                "new column '{}'{table} from line {}: later files have it",
                a.column, a.line
            ),
        );
    }
    if !report.unknown_fields.is_empty() {
        let list: Vec<String> = report
            .unknown_fields
            .iter()
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        cli::warn(format!(
            "{} line(s) had fields that are not in the schema and were rejected: {} (use --schema, or a larger --infer-rows)",
            report.unknown_fields.values().sum::<u64>(),
            list.join(", ")
        ));
    }
    let where_ = match target {
        Target::File(p) | Target::Folder(p) => p.to_string(),
    };
    let dropped = match totals.dropped + totals.trimmed {
        0 => String::new(),
        _ => format!(
            ", {} envelope(s) already committed or taken dropped, {} row(s) committed by another writer first dropped",
            totals.dropped, totals.trimmed
        ),
    };
    let rejected = match (report.rejected, policy) {
        (0, _) => String::new(),
        (n, BadLines::File(p)) => format!(", {n} line(s) rejected to {}", p.display()),
        (n, _) => format!(", {n} line(s) rejected"),
    };
    cli::info(
        args.common.quiet(),
        format!(
            "{} rows, {} file(s), {} bytes -> {where_}{rejected}{dropped}",
            totals.rows, totals.files, totals.bytes
        ),
    );
}

/// Writer properties; dictionaries only where they pay, judged on the first rows of the
/// one table (see dictionary.rs).
fn writer_props(args: &Args, sample: Option<&RecordBatch>) -> WriterProperties {
    lakepipe::parquet_write::properties(args.compression.parquet(), args.row_group_rows, sample)
}

/// The input: stdin, a local file (read, see [`Input::file`]), or an HDFS
/// file read in sequence; and its name in messages.
fn open_input(arg: &str) -> Result<(Input, String)> {
    if arg == "-" {
        return Ok((
            Input::open("stdin", Box::new(std::io::stdin())),
            "stdin".into(),
        ));
    }
    let loc = Location::parse(arg)?;
    let name = loc.to_string();
    let reader = storage::connect(&loc)?
        .open(&loc)
        .with_context(|| format!("opening {loc}"))?;
    let input = match reader.into_local_file() {
        Ok(f) => Input::file(&name, move || Ok(f)),
        Err(r) => {
            let read = parquet::file::reader::ChunkReader::get_read(&r, 0)
                .with_context(|| format!("reading {loc}"))?;
            Input::open(&name, read)
        }
    };
    Ok((input, name))
}

/// Read chunks into `buffered` until it holds line `limit`, the input ends, or (once it
/// has some lines) `deadline` passes: under --roll-secs a quiet input does not hold the
/// run.
fn buffer_lines(
    chunker: &mut Chunker,
    buffered: &mut Vec<Chunk>,
    limit: u64,
    deadline: Option<Instant>,
) -> Result<()> {
    while buffered.last().is_none_or(|c| c.last_line() < limit) {
        let by = deadline.filter(|_| !buffered.is_empty());
        let Some(chunk) = chunker.next_chunk_before(by)? else {
            break;
        };
        buffered.push(chunk);
    }
    Ok(())
}

fn load_schema(s: &str) -> Result<Schema> {
    let text = match s.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading schema file {path}"))?
        }
        None => s.to_string(),
    };
    lakepipe::ddl::parse_schema(&text).map_err(|e| cli::usage(e.to_string()))
}

/// `--exactly-once`: whether the metadata columns stay in the files, and how long a
/// foreign claim may stand before it counts as abandoned (see commit.rs).
fn exactly_once(args: &Args, target: &Target) -> Result<Option<(bool, Duration)>> {
    if !args.exactly_once {
        return Ok(None);
    }
    if matches!(target, Target::File(_)) {
        return Err(cli::usage(
            "--exactly-once writes a folder: OUTPUT must end with '/'",
        ));
    }
    if args.overwrite {
        return Err(cli::usage(
            "--exactly-once and --overwrite do not go together",
        ));
    }
    // a claim unchanged this long belongs to a writer that died or froze
    let stale = storage::timeout().max(Duration::from_secs(10));
    Ok(Some((args.kafka_meta, stale)))
}

fn resolve_target(args: &Args) -> Result<Target> {
    let loc = Location::parse(&args.output)?;
    let fs = storage::connect(&loc)?;
    let existing = fs.stat(&loc)?;
    let folder = args.output.ends_with('/') || existing.as_ref().is_some_and(|s| s.is_dir);
    let needs_folder = !args.partition_by.is_empty()
        || args.time_partition.is_some()
        || args.split_by.is_some()
        || args.roll_rows.is_some()
        || args.roll_bytes.is_some()
        || args.roll_secs.is_some();
    if !folder {
        if needs_folder {
            return Err(cli::usage(format!(
                "--split-by, --partition-by, --time-partition and --roll-* write several files: OUTPUT must be a folder (end it with '/'), not {}",
                args.output
            )));
        }
        if existing.is_some() && !args.overwrite {
            anyhow::bail!("{loc}: file exists (use --overwrite to replace it)");
        }
        return Ok(Target::File(loc));
    }
    Ok(Target::Folder(loc))
}
