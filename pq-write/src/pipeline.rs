//! The threads of a pq-write run: a reader that only reads, a chunker (the calling
//! thread) that cuts complete lines into chunks and watches for signals and slow
//! input, decoder workers (one per core), and a writer that applies the bad-line policy
//! and writes Parquet. Reader, chunker, decoders and the input order are lakepipe's
//! line engine ([`lakepipe::lines`]), the one jq-lite runs on.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::decode::LineError;
use crate::infer::SchemaInference;
use anyhow::{anyhow, Context, Result};
use arrow_array::RecordBatch;
use lakepipe::lines::{Chunk, Cutting, Next, Ordered, Recycler};
use lakepipe::workers;

use crate::tables::{LineFormat, SchemaMap, Schemas, TableDecoder, TableRows, TableSchema, Tables};

/// Chunks of about 2 MiB (one decoded batch each), read in blocks of 1 MiB; the first
/// line of a partial chunk waits at most 200 ms for more input before the chunk is
/// decoded anyway, so a slow stream's rows reach their file at once (and its roll).
pub const CUTTING: Cutting = Cutting {
    chunk_bytes: 2 << 20,
    max_wait: Duration::from_millis(200),
};

/// Chunks between the chunker and the writer: the line engine's default (two per decoder
/// and two more) and six more, so that the decoders go on while the writer writes the
/// first row group, decoded during inference (some 20 chunks); with the default they
/// stopped for 40 ms there. Up to six more chunks (2 MiB and their rows each) in memory.
pub fn in_flight() -> usize {
    lakepipe::lines::in_flight(workers()) + 6
}

/// Schema inference per table.
pub type Inferences = BTreeMap<String, SchemaInference>;

/// Schema inference over lines 1..=`limit` of the buffered chunks, per table, on every
/// core: each chunk is inferred on its own and the results merged in input order, which
/// gives the same schema (and column order) as one pass, since merging shapes is
/// associative. `add` adds a line to the inference of its table.
pub fn infer(
    chunks: &[Chunk],
    limit: u64,
    add: impl Fn(&mut Inferences, &[u8]) + Sync,
) -> Result<Inferences> {
    let parts = each(chunks, "schema inference", |chunk| {
        let mut inf = BTreeMap::<String, SchemaInference>::new();
        for (_, line) in chunk.lines().take_while(|(n, _)| *n <= limit) {
            add(&mut inf, line);
        }
        inf
    })?;
    let mut all = BTreeMap::<String, SchemaInference>::new();
    for (key, inf) in parts.into_iter().flatten() {
        all.entry(key).or_default().merge(inf);
    }
    Ok(all)
}

/// The inference of lines 1..=`limit` of the buffered chunks, per table, as [`infer`]
/// gives it. With one table (no `--split-by`, no `--flatten`) whose first chunks settle
/// decoded rows, the chunks are decoded under its schema as it is inferred
/// ([`decode_inferring`]); those results come back when the schema held to the end.
pub fn infer_schemas(
    cfg: &DecodeConfig,
    chunks: &[Chunk],
    limit: u64,
) -> Result<(Inferences, Vec<Result<Decoded>>)> {
    let add = |inf: &mut Inferences, line: &[u8]| cfg.format.infer_line(inf, line);
    let (head, rest) = chunks.split_at(workers().min(chunks.len()));
    let mut inf = infer(head, limit, add)?;
    let one = cfg.format.flatten.is_none() && cfg.format.split_by.is_none() && inf.len() == 1;
    if let Some(h) = inf.get("").filter(|h| one && h.settles_decoded_rows()) {
        let schema = h.schema();
        let cfg = DecodeConfig {
            schemas: Schemas::default(),
            ..cfg.clone()
        };
        let row = TableSchema::of(schema.clone(), &cfg.format);
        cfg.schemas.set("", row);
        let (all, decoded) = decode_inferring(&cfg, chunks, limit, inf)?;
        let held = all.get("").is_some_and(|a| a.schema() == schema);
        return Ok((all, if held { decoded } else { Vec::new() }));
    }
    for (key, i) in infer(rest, limit, add)? {
        inf.entry(key).or_default().merge(i);
    }
    Ok((inf, Vec::new()))
}

/// `f` of every item, on every core, in order (see [`lakepipe::workers::each`]).
pub fn each<I: Sync, T: Send>(
    items: &[I],
    what: &str,
    f: impl Fn(&I) -> T + Sync,
) -> Result<Vec<T>> {
    lakepipe::workers::each(items, what, f)
}

/// What happens to a line that does not fit.
#[derive(Debug, Clone)]
pub enum BadLines {
    Error,
    Skip,
    File(std::path::PathBuf),
}

/// Fixes glibc's mmap threshold at 1 MB and its trim threshold at 64 MB. By default glibc
/// raises the mmap threshold (up to 32 MB), and the trim threshold with it, after the
/// first large free; freed buffers then stay in the threads' heaps and peak RSS grew
/// about 15% from 1M to 10M lines. With a fixed mmap threshold big buffers go back to
/// the system. The trim threshold is set too because fixing the other one pins it at
/// 128 KB: each decoded batch's columns, freed when written, then gave their heap top
/// back, and the next batch faulted it in again (350,000 page faults per 10M lines
/// against 46,000 now, 3% of the CPU; peak RSS 114 MB against 106). The buffers that
/// live for the whole run (reader blocks, chunks) are recycled rather than freed.
pub fn pin_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Why the chunker stopped reading.
#[derive(Debug, PartialEq)]
pub enum End {
    Eof,
    Interrupted,
    /// The downstream threads stopped (an error they will report).
    Downstream,
}

/// A rejected line, or (with `table`) one the writer must place: a new table, or a new
/// field under schema evolution.
pub struct Reject {
    pub line: u64,
    pub raw: Vec<u8>,
    pub error: LineError,
    pub table: Option<String>,
}

/// One decoded chunk.
pub struct Decoded {
    tables: Vec<TableRows>,
    /// In line order.
    rejects: Vec<Reject>,
    last_line: u64,
}

/// How workers turn lines into rows.
#[derive(Clone)]
pub struct DecodeConfig {
    pub format: LineFormat,
    pub schemas: Schemas,
    /// A line with a field its table lacks is pending (the writer widens the table).
    pub evolve: bool,
    pub stop_on_error: bool,
}

/// A decoder worker for [`lakepipe::lines::ordered`]: chunks to rows, buffers back to
/// the chunker.
pub fn decoder(cfg: DecodeConfig, recycle: Recycler) -> impl FnMut(Chunk) -> Result<Decoded> {
    let mut decs = BTreeMap::new();
    give_way_to_the_writer();
    move |chunk| {
        let d = decode_chunk(&cfg, &mut decs, &chunk, None);
        recycle.give(chunk.data);
        d
    }
}

/// Lowers the calling decoder thread by 5 nice levels (a third of the writer's share of a
/// core when both want one). The writer is the one thread that cannot be parallel: when the
/// decoders ran level with it, its backlog was left for one core at the end and the
/// decoders stalled at the start while it wrote the first row group. With the decoders
/// giving way, 1M bench events took 3% less wall time (README, "Measured"). A refusal
/// changes nothing but the speed, so it is ignored.
fn give_way_to_the_writer() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls about the calling thread itself.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        // Relative to the process's own nice value (`nice pq-write` stays lower).
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + DECODER_NICE).min(19));
    }
}

const DECODER_NICE: i32 = 5;

/// Decodes the buffered chunks that hold lines 1..=`rows` (side by side), then more one
/// at a time while `key`'s rows fall short of `rows` (bad lines, other tables). The
/// writer takes these results first, so the dictionary sample costs no second decode.
pub fn decode_first(
    cfg: &DecodeConfig,
    chunks: &[Chunk],
    key: &str,
    rows: usize,
) -> Result<Vec<Result<Decoded>>> {
    let first = chunks.partition_point(|c| c.first_line <= rows as u64);
    let decode = |chunk: &Chunk| decode_chunk(cfg, &mut BTreeMap::new(), chunk, None);
    let mut done = each(&chunks[..first], "a decoder", |chunk| {
        workers::maybe_panic(); // as the pipeline's decoders do
        decode(chunk)
    })?;
    for chunk in &chunks[first..] {
        if rows_of(&done, key).map(|b| b.num_rows()).sum::<usize>() >= rows {
            break;
        }
        done.push(decode(chunk));
    }
    Ok(done)
}

/// Decodes every chunk (side by side) under `cfg`'s schemas, which came from `head`, the
/// inference of the first chunks, and finishes the inference of lines 1..=`limit` on the
/// way: a line the decoder's fast path takes adds nothing to it when `head`
/// [settles decoded rows](SchemaInference::settles_decoded_rows), so only the other lines
/// are inferred, and the first row group is read once instead of twice. The inference
/// returned has the column types and order [`infer`] over all chunks would give; the
/// results are the writer's only if its schemas are the ones decoded with.
pub fn decode_inferring(
    cfg: &DecodeConfig,
    chunks: &[Chunk],
    limit: u64,
    head: Inferences,
) -> Result<(Inferences, Vec<Result<Decoded>>)> {
    let parts = each(chunks, "a decoder", |chunk| {
        workers::maybe_panic(); // as the pipeline's decoders do
        let mut inf = BTreeMap::new();
        let d = decode_chunk(cfg, &mut BTreeMap::new(), chunk, Some((&mut inf, limit)));
        // Lines after a bad line that stopped the run are not decoded but still inferred;
        // a chunk that failed is inferred again in full (its rows are never used).
        let stopped = match &d {
            Ok(d) => d.last_line,
            Err(_) => {
                inf.clear();
                chunk.first_line.saturating_sub(1)
            }
        };
        for (_, line) in chunk.lines().filter(|(n, _)| *n > stopped && *n <= limit) {
            cfg.format.infer_line(&mut inf, line);
        }
        (d, inf)
    })?;
    let mut all = head;
    let mut done = Vec::new();
    for (d, inf) in parts {
        for (key, i) in inf {
            all.entry(key).or_default().merge(i);
        }
        done.push(d);
    }
    Ok((all, done))
}

/// `key`'s decoded batches, in line order; none after a chunk that failed.
fn rows_of<'a>(
    decoded: &'a [Result<Decoded>],
    key: &'a str,
) -> impl Iterator<Item = &'a RecordBatch> {
    let ok = decoded.iter().map_while(|d| d.as_ref().ok());
    ok.flat_map(move |d| d.tables.iter().filter(move |t| t.key == key))
        .map(|t| &t.batch)
}

/// The first `rows` rows of table `key` in decoded chunks, as one batch.
pub fn sample(decoded: &[Result<Decoded>], key: &str, rows: usize) -> Option<RecordBatch> {
    // Only the batches the sample needs: inference may have decoded a whole row group.
    let mut have = 0;
    let batches: Vec<&RecordBatch> = rows_of(decoded, key)
        .take_while(|b| {
            let more = have < rows;
            have += b.num_rows();
            more
        })
        .collect();
    let schema = batches.first()?.schema();
    let all = arrow_select::concat::concat_batches(&schema, batches).ok()?;
    Some(all.slice(0, all.num_rows().min(rows)))
}

/// Lines 1..=`limit` still to infer, and the inference of the ones the decoder's fast
/// path does not take ([`decode_inferring`]).
type Uncovered<'a> = Option<(&'a mut Inferences, u64)>;

fn decode_chunk(
    cfg: &DecodeConfig,
    decs: &mut BTreeMap<String, TableDecoder>,
    chunk: &Chunk,
    mut uncovered: Uncovered,
) -> Result<Decoded> {
    // One look at the schemas per chunk: every row of a table here has the same one.
    let schemas = cfg.schemas.current();
    let mut rejects = Vec::new();
    let mut last_line = chunk.first_line.saturating_sub(1);
    for (n, line) in chunk.lines() {
        last_line = n;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some((inf, limit)) = &mut uncovered {
            if decode_covered(cfg, &schemas, decs, n, line) {
                continue;
            }
            if n <= *limit {
                cfg.format.infer_line(inf, line);
            }
        }
        if let Err((error, table)) = decode_line(cfg, &schemas, decs, n, line) {
            let stop = table.is_none() && cfg.stop_on_error;
            rejects.push(Reject {
                line: n,
                raw: line.to_vec(),
                error,
                table,
            });
            if stop {
                break;
            }
        }
    }
    let mut tables = Vec::new();
    for (key, d) in decs.iter_mut() {
        tables.extend(d.finish(key)?);
    }
    Ok(Decoded {
        tables,
        rejects,
        last_line,
    })
}

/// Decode one line into its table's decoder; the error says whether the writer should
/// place the line (`Some(table)`) or it is bad.
fn decode_line(
    cfg: &DecodeConfig,
    schemas: &SchemaMap,
    decs: &mut BTreeMap<String, TableDecoder>,
    n: u64,
    line: &[u8],
) -> Result<(), (LineError, Option<String>)> {
    let (env, row) = cfg.format.open(line).map_err(|e| (e, None))?;
    let key = cfg.format.table_of(&row).map_err(|e| (e, None))?;
    let dec = decoder_of(cfg, schemas, decs, &key)?;
    match dec.push(&row, env.as_ref(), n) {
        Ok(()) => Ok(()),
        Err(e @ LineError::UnknownField { .. }) if cfg.evolve => Err((e, Some(key))),
        Err(e) => Err((e, None)),
    }
}

/// Decodes one line by the decoder's fast path alone (`push_covered`); false leaves no
/// trace, and the caller infers and decodes the line in full.
fn decode_covered(
    cfg: &DecodeConfig,
    schemas: &SchemaMap,
    decs: &mut BTreeMap<String, TableDecoder>,
    n: u64,
    line: &[u8],
) -> bool {
    let Ok((env, row)) = cfg.format.open(line) else {
        return false;
    };
    let Ok(key) = cfg.format.table_of(&row) else {
        return false;
    };
    decoder_of(cfg, schemas, decs, &key).is_ok_and(|dec| dec.push_covered(&row, env.as_ref(), n))
}

/// Table `key`'s decoder for its current schema; the error says whether the writer
/// should place the line (`Some(table)`: no such table yet) or it is bad.
fn decoder_of<'d>(
    cfg: &DecodeConfig,
    schemas: &SchemaMap,
    decs: &'d mut BTreeMap<String, TableDecoder>,
    key: &str,
) -> Result<&'d mut TableDecoder, (LineError, Option<String>)> {
    let Some(schema) = schemas.get(key) else {
        let e = LineError::Syntax(format!("no table {key:?} yet"));
        return Err((e, Some(key.to_string())));
    };
    // A table's decoder is replaced only between chunks (it is empty then).
    if decs
        .get(key)
        .is_none_or(|d| !Arc::ptr_eq(&d.schema, schema))
    {
        let d = TableDecoder::new(schema.clone(), &cfg.format)
            .map_err(|e| (LineError::Type(format!("{e:#}")), None))?;
        decs.insert(key.to_string(), d);
    }
    Ok(decs.get_mut(key).expect("just made"))
}

/// What the writer did, for the summary.
#[derive(Default)]
pub struct Report {
    pub rejected: u64,
    pub unknown_fields: BTreeMap<String, u64>,
    /// Last input line whose fate is settled (written or rejected).
    pub last_line: u64,
}

/// Applies the bad-line policy to rejected lines.
struct Rejecter<'a> {
    policy: &'a BadLines,
    file: Option<std::io::BufWriter<std::fs::File>>,
    input_name: &'a str,
    quiet: bool,
}

impl Rejecter<'_> {
    /// Count and handle one bad line; true when the policy stops the run here.
    fn reject(&mut self, r: &Reject, report: &mut Report) -> Result<bool> {
        if let LineError::UnknownField { field, .. } = &r.error {
            *report.unknown_fields.entry(field.clone()).or_default() += 1;
        }
        match self.policy {
            BadLines::Error => return Ok(true),
            BadLines::Skip => {
                report.rejected += 1;
                if report.rejected <= 5 && !self.quiet {
                    lakepipe::cli::warn(format!(
                        "{}:{}: {} (line skipped)",
                        self.input_name, r.line, r.error
                    ));
                }
            }
            BadLines::File(p) => {
                report.rejected += 1;
                let w = self.file.as_mut().expect("opened");
                w.write_all(&r.raw)
                    .and_then(|()| w.write_all(b"\n"))
                    .with_context(|| format!("writing reject file {}", p.display()))?;
            }
        }
        Ok(false)
    }
}

/// Write one decoded chunk in line order: each table's rows, the pending lines placed
/// between them, bad lines to the policy. Returns the line that stopped the run.
fn settle(
    d: Decoded,
    tables: &mut Tables,
    rejecter: &mut Rejecter,
    report: &mut Report,
) -> Result<Option<Reject>> {
    let mut done = vec![0usize; d.tables.len()];
    // Rows of the tables (all, or only `key`'s) from lines before `line`.
    let mut flush = |tables: &mut Tables, key: Option<&str>, line: u64| -> Result<()> {
        for (rows, done) in d.tables.iter().zip(done.iter_mut()) {
            if key.is_some_and(|k| k != rows.key) {
                continue;
            }
            let to = *done + rows.lines[*done..].partition_point(|&l| l < line);
            tables.write(rows, *done, to)?;
            *done = to;
        }
        Ok(())
    };
    for mut r in d.rejects {
        if let Some(key) = r.table.take() {
            flush(tables, Some(&key), r.line)?;
            match tables.place(&key, &r.raw, r.line)? {
                Ok(()) => continue,
                Err(e) => r.error = e,
            }
        }
        if rejecter.reject(&r, report)? {
            flush(tables, None, r.line)?;
            return Ok(Some(r));
        }
    }
    flush(tables, None, u64::MAX)?;
    report.last_line = d.last_line;
    tables.commit_due()?;
    Ok(None)
}

/// Writes decoded chunks in input order: `first` (decoded before the pipeline started),
/// then `results`. Returns the report and the first error.
pub fn write_loop(
    first: Vec<Result<Decoded>>,
    mut results: Ordered<Result<Decoded>>,
    tables: &mut Tables,
    policy: &BadLines,
    input_name: &str,
    quiet: bool,
    progress: &lakepipe::progress::Progress,
) -> (Report, Option<anyhow::Error>) {
    let mut report = Report::default();
    let mut rejecter = Rejecter {
        policy,
        file: None,
        input_name,
        quiet,
    };
    if let BadLines::File(p) = policy {
        match std::fs::File::create(p) {
            Ok(f) => rejecter.file = Some(std::io::BufWriter::new(f)),
            Err(e) => {
                return (
                    report,
                    Some(anyhow!(e).context(format!("creating reject file {}", p.display()))),
                )
            }
        }
    }
    let mut first = first.into_iter();
    let mut next_of = |wait| match first.next() {
        Some(d) => Ok(Next::Ready(d)),
        None => results.next(Some(wait)),
    };
    let mut err = None;
    'outer: loop {
        let timeout = tables
            .next_roll_in()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let mut next = next_of(timeout);
        while let Ok(Next::Ready(d)) = next {
            match d.and_then(|d| settle(d, tables, &mut rejecter, &mut report)) {
                Ok(None) => {}
                Ok(Some(r)) => {
                    report.last_line = r.line - 1;
                    err = Some(anyhow!("{input_name}:{}: {}", r.line, r.error));
                    break 'outer;
                }
                Err(e) => {
                    err = Some(e);
                    break 'outer;
                }
            }
            next = next_of(Duration::ZERO);
        }
        match next {
            Err(e) => {
                err = Some(e);
                break;
            }
            Ok(Next::End) => break,
            _ => {}
        }
        if let Err(e) = tables.roll_old() {
            err = Some(e);
            break;
        }
        progress.set_rows(tables.totals().rows);
    }
    progress.finish();
    if let Some(mut w) = rejecter.file {
        if let Err(e) = w.flush() {
            err.get_or_insert(anyhow!(e).context("writing the reject file"));
        }
    }
    (report, err)
}

/// Decode-worker count: one per core, at most 4.
pub fn workers() -> usize {
    lakepipe::workers::cores().clamp(1, 4)
}

#[cfg(test)]
mod tests {
    /// A decoder thread runs 5 nice levels lower, and only that thread.
    #[cfg(target_os = "linux")]
    #[test]
    fn decoders_give_way_to_the_writer() {
        let nice = || {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            fields[16].parse::<i32>().unwrap()
        };
        let before = nice();
        let (decoder, after) = std::thread::spawn(move || {
            super::give_way_to_the_writer();
            nice()
        })
        .join()
        .map(|n| (n, nice()))
        .unwrap();
        assert_eq!(decoder, (before + super::DECODER_NICE).min(19));
        assert_eq!(after, before);
    }

    use super::*;
    use lakepipe::lines::{Chunker, Input};
    use std::io::Cursor;

    /// xorshift64*: the same rows on every run, no dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n
        }
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.below(of.len() as u64) as usize]
        }
    }

    /// Values of every kind inference and the decoder tell apart (index = kind).
    const KINDS: &[&[&str]] = &[
        &["7", "-3", "0", "123456789"],
        &["2.5", "3.0", "-0.0", "1e3", "4.0", "18446744073709551615"],
        &["\"s\"", "\"a\\\"b\"", "\"\\u00e9\"", "\"\""],
        &["true", "false"],
        &["[1,2]", "[]", "[\"x\"]", "[1.5]"],
        &["{\"x\":1}", "{\"x\":\"y\",\"w\":true}", "{\"x\":null}"],
        &["null"],
        &["{}"],
    ];

    /// Lines whose keys keep one kind each (per seed), with strays of other kinds, keys
    /// not seen before and bad lines, more of them after the first `clean` lines.
    fn lines(rng: &mut Rng, n: usize, clean: usize) -> String {
        // Null and empty-object columns (the last two kinds) are rarer: they never settle.
        let plan: Vec<usize> = (0..5)
            .map(|_| match rng.below(4) {
                0 => rng.below(KINDS.len() as u64) as usize,
                _ => rng.below(KINDS.len() as u64 - 2) as usize,
            })
            .collect();
        let mut text = String::new();
        for i in 0..n {
            let stray = if i < clean { 100_000 } else { 300 };
            if i >= clean && rng.below(40) == 0 {
                text += rng.pick(&[
                    "nope",
                    "{\"a\":",
                    "[1]",
                    "{\"a\":1}x",
                    " ",
                    "{\"a\":1,\"a\":2}",
                ]);
                text += "\n";
                continue;
            }
            let mut fields = Vec::new();
            for (k, kind) in plan.iter().enumerate() {
                // Half the strays are floats: whole ones must widen integer columns.
                let kind = match (rng.below(stray), rng.below(2)) {
                    (0, 0) => 1,
                    (0, _) => rng.below(KINDS.len() as u64) as usize,
                    _ => *kind,
                };
                if rng.below(6) != 0 {
                    fields.push(format!(
                        "\"{}\":{}",
                        (b'a' + k as u8) as char,
                        rng.pick(KINDS[kind])
                    ));
                }
            }
            if rng.below(stray * 2) == 0 {
                fields.push("\"z\":1".to_string());
            }
            text += &format!("{{{}}}\n", fields.join(","));
        }
        text
    }

    fn chunks(text: String, chunk_bytes: usize) -> Vec<Chunk> {
        let input = Input::open("t", Box::new(Cursor::new(text.into_bytes())));
        let cut = Cutting {
            chunk_bytes,
            max_wait: Duration::ZERO,
        };
        let mut chunker = Chunker::new(vec![input], cut);
        std::iter::from_fn(|| chunker.next_chunk().unwrap()).collect()
    }

    fn config(stop_on_error: bool) -> DecodeConfig {
        let format = LineFormat {
            envelope: false,
            kafka_meta: false,
            need_offsets: false,
            flatten: None,
            split_by: None,
            time: None,
        };
        DecodeConfig {
            format,
            schemas: Schemas::default(),
            evolve: false,
            stop_on_error,
        }
    }

    /// The same tables, rows and rejects, line for line.
    fn assert_same(got: &Decoded, want: &Decoded, seed: u64) {
        assert_eq!(got.last_line, want.last_line, "seed {seed}");
        let rows = |d: &Decoded| -> Vec<_> {
            d.tables
                .iter()
                .map(|t| (t.key.clone(), t.batch.clone(), t.lines.clone()))
                .collect()
        };
        assert_eq!(rows(got), rows(want), "seed {seed}");
        let rejects = |d: &Decoded| -> Vec<_> {
            d.rejects
                .iter()
                .map(|r| (r.line, r.raw.clone(), r.error.clone(), r.table.clone()))
                .collect()
        };
        assert_eq!(rejects(got), rejects(want), "seed {seed}");
    }

    /// Inference fused with decoding gives what inferring every line and then decoding
    /// gives: the same schema always, and (when the first chunks' schema held) the same
    /// rows and rejects; both outcomes occur.
    #[test]
    fn inferring_while_decoding_matches_inferring_then_decoding() {
        let (mut held, mut redone) = (0, 0);
        for seed in 1..=300u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let n = 200 + rng.below(200) as usize;
            let clean = 30 + rng.below(60) as usize;
            let text = lines(&mut rng, n, clean);
            let chunks = chunks(text, 200 + rng.below(600) as usize);
            let limit = 50 + rng.below(n as u64);
            let cfg = config(rng.below(3) == 0);
            let add = |inf: &mut Inferences, line: &[u8]| cfg.format.infer_line(inf, line);
            let want = infer(&chunks, limit, add).unwrap();
            let (got, decoded) = infer_schemas(&cfg, &chunks, limit).unwrap();
            let schemas = |m: &Inferences| -> Vec<_> {
                m.iter().map(|(k, i)| (k.clone(), i.schema())).collect()
            };
            assert_eq!(schemas(&got), schemas(&want), "seed {seed}");
            if decoded.is_empty() {
                redone += 1;
                continue;
            }
            held += 1;
            let plain = config(cfg.stop_on_error);
            plain
                .schemas
                .set("", TableSchema::new(want[""].schema(), false));
            assert_eq!(decoded.len(), chunks.len());
            for (got, chunk) in decoded.iter().zip(&chunks) {
                let want = decode_chunk(&plain, &mut BTreeMap::new(), chunk, None).unwrap();
                assert_same(got.as_ref().unwrap(), &want, seed);
            }
        }
        assert!(
            held > 30 && redone > 30,
            "held {held}, inferred again {redone}"
        );
    }
}
