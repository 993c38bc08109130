//! The threads of a pq-write run: a reader that only reads, a chunker (the calling
//! thread) that cuts complete lines into chunks and watches for signals and slow
//! input, decoder workers (one per core), and a writer that applies the bad-line policy
//! and writes Parquet. Decoders and the input order are lakepipe's ordered engine
//! ([`lakepipe::lines`]), the one jq-lite runs on.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use arrow::record_batch::RecordBatch;
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use lakepipe::decode::LineError;
use lakepipe::infer::{SchemaInference, Shape};
use lakepipe::lines::{Next, Ordered};
use lakepipe::workers;

use crate::tables::{LineFormat, SchemaMap, Schemas, TableDecoder, TableRows, Tables};

/// Target size of one chunk of input (one decoded batch).
const CHUNK_BYTES: usize = 2 << 20;
/// Size of one read from the input.
const BLOCK_BYTES: usize = 1 << 20;
/// A chunk buffer's capacity: a chunk is cut once it passes CHUNK_BYTES, and one block
/// (plus a short carried-over line) is added at a time.
const CHUNK_CAPACITY: usize = CHUNK_BYTES + 2 * BLOCK_BYTES;
/// How long a partial chunk may wait for more input before it is decoded anyway.
const IDLE_FLUSH: Duration = Duration::from_millis(200);

/// Complete input lines, numbered from `first_line` (1-based).
pub struct Chunk {
    pub first_line: u64,
    pub data: Vec<u8>,
}

impl Chunk {
    /// The lines with their numbers; a trailing newline does not start a line.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let data = self.data.strip_suffix(b"\n").unwrap_or(&self.data);
        let first = self.first_line;
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        ends.enumerate().map(move |(i, end)| {
            let l = &data[start..end];
            start = end + 1;
            (first + i as u64, l.strip_suffix(b"\r").unwrap_or(l))
        })
    }

    /// The number of the chunk's last line.
    pub fn last_line(&self) -> u64 {
        let data = self.data.strip_suffix(b"\n").unwrap_or(&self.data);
        self.first_line + memchr::memchr_iter(b'\n', data).count() as u64
    }
}

/// Schema inference over lines 1..=`limit` of the buffered chunks, per table, on every
/// core: each chunk is inferred on its own and the results merged in input order, which
/// gives the same schema (and column order) as one pass, since merging shapes is
/// associative. `shape` gives a line's table and row shape (None: a bad line).
pub fn infer(
    chunks: &[Chunk],
    limit: u64,
    shape: impl Fn(&[u8]) -> Option<(String, Shape)> + Sync,
) -> Result<BTreeMap<String, SchemaInference>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, BTreeMap<String, SchemaInference>)> = std::thread::scope(|s| {
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else {
                    return done;
                };
                let mut inf = BTreeMap::<String, SchemaInference>::new();
                for (_, line) in chunk.lines().take_while(|(n, _)| *n <= limit) {
                    if let Some((key, s)) = shape(line) {
                        inf.entry(key).or_default().add(s);
                    }
                }
                done.push((i, inf));
            }
        };
        let threads: Vec<_> = (0..workers()).map(|_| s.spawn(work)).collect();
        let parts = threads
            .into_iter()
            .map(|t| {
                t.join()
                    .map_err(|p| workers::panicked("schema inference", p))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok::<_, anyhow::Error>(parts.into_iter().flatten().collect())
    })?;
    parts.sort_by_key(|(i, _)| *i);
    let mut all = BTreeMap::<String, SchemaInference>::new();
    for (key, inf) in parts.into_iter().flat_map(|(_, p)| p) {
        all.entry(key).or_default().merge(inf);
    }
    Ok(all)
}

/// What happens to a line that does not fit.
#[derive(Debug, Clone)]
pub enum BadLines {
    Error,
    Skip,
    File(std::path::PathBuf),
}

/// Blocks of input from the reader thread, and the way back for emptied blocks.
pub struct Blocks {
    rx: Receiver<std::io::Result<Vec<u8>>>,
    give_back: Sender<Vec<u8>>,
    /// Joined at the end of input: a panic there is an error, not an early EOF.
    reader: Option<std::thread::JoinHandle<()>>,
}

/// Reads the input on its own thread, so the chunker can watch the clock and signals.
/// Blocks come back once copied and are read into again: a long run then allocates
/// the same few buffers for its whole length (see [`pin_allocator`]).
pub fn spawn_reader(mut input: Box<dyn Read + Send>) -> Blocks {
    let (tx, rx) = bounded(4);
    let (give_back, returned) = bounded::<Vec<u8>>(8);
    let reader = std::thread::spawn(move || loop {
        let mut buf = returned.try_recv().unwrap_or_default();
        buf.resize(BLOCK_BYTES, 0);
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                buf.truncate(n);
                if tx.send(Ok(buf)).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Err(e));
                break;
            }
        }
    });
    Blocks {
        rx,
        give_back,
        reader: Some(reader),
    }
}

/// Fixes glibc's mmap threshold at 1 MB. By default glibc raises it (up to 32 MB), and
/// the trim threshold with it, after the first large free; freed buffers then stay in
/// the threads' heaps and peak RSS grew about 15% from 1M to 10M lines. With fixed
/// thresholds big buffers and free heap tops go back to the system. The buffers that
/// live for the whole run (reader blocks, chunks) are recycled rather than freed, so
/// this costs no page faults per block.
pub fn pin_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
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

/// Cuts the input into chunks of complete lines.
pub struct Chunker {
    blocks: Blocks,
    /// Chunk buffers the decoders are done with.
    spare: Receiver<Vec<u8>>,
    spare_tx: Sender<Vec<u8>>,
    pending: Vec<u8>,
    cur: Vec<u8>,
    cur_first: u64,
    next_line: u64,
    eof: bool,
    pub input_name: String,
}

impl Chunker {
    pub fn new(blocks: Blocks, input_name: String) -> Self {
        let (spare_tx, spare) = bounded(8);
        let cur = Vec::with_capacity(CHUNK_CAPACITY);
        Chunker {
            blocks,
            spare,
            spare_tx,
            pending: vec![],
            cur,
            cur_first: 1,
            next_line: 1,
            eof: false,
            input_name,
        }
    }

    /// Where decoders return chunk buffers for reuse ([`Recycler::give`]).
    pub fn recycler(&self) -> Recycler {
        Recycler(self.spare_tx.clone())
    }

    /// The next chunk: when full, after `IDLE_FLUSH` without input, at EOF (None after
    /// the last), or None when interrupted.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut waiting_since = Instant::now();
        loop {
            if lakepipe::cli::interrupted() {
                // Lines already read are still written; the rest is left unread.
                return Ok((!self.cur.is_empty()).then(|| self.take()));
            }
            if self.cur.len() >= CHUNK_BYTES || (self.eof && !self.cur.is_empty()) {
                return Ok(Some(self.take()));
            }
            if self.eof {
                return Ok(None);
            }
            match self.blocks.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(block) => {
                    let block = block
                        .map_err(|e| anyhow!(e).context(format!("reading {}", self.input_name)))?;
                    self.add(&block);
                    let _ = self.blocks.give_back.try_send(block);
                    waiting_since = Instant::now();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(reader) = self.blocks.reader.take() {
                        workers::join(reader, "the input reader")?;
                    }
                    self.eof = true;
                    if !self.pending.is_empty() {
                        let p = std::mem::take(&mut self.pending);
                        self.cur.extend_from_slice(&p);
                        self.cur.push(b'\n');
                        self.next_line += 1;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.cur.is_empty() && waiting_since.elapsed() >= IDLE_FLUSH {
                        return Ok(Some(self.take()));
                    }
                }
            }
        }
    }

    fn add(&mut self, block: &[u8]) {
        match memchr::memrchr(b'\n', block) {
            None => self.pending.extend_from_slice(block),
            Some(last) => {
                let (complete, rest) = block.split_at(last + 1);
                self.cur.append(&mut self.pending);
                self.cur.extend_from_slice(complete);
                self.next_line += memchr::memchr_iter(b'\n', complete).count() as u64;
                self.pending.extend_from_slice(rest);
            }
        }
    }

    fn take(&mut self) -> Chunk {
        let next = match self.spare.try_recv() {
            Ok(mut v) => {
                v.clear();
                v
            }
            Err(_) => Vec::with_capacity(CHUNK_CAPACITY),
        };
        let c = Chunk {
            first_line: self.cur_first,
            data: std::mem::replace(&mut self.cur, next),
        };
        self.cur_first = self.next_line;
        c
    }
}

/// Hands chunk buffers back to the chunker; ordinary-sized ones only, so one huge
/// line does not keep its buffer alive for the rest of the run.
#[derive(Clone)]
pub struct Recycler(Sender<Vec<u8>>);

impl Recycler {
    pub fn give(&self, buf: Vec<u8>) {
        if buf.capacity() <= CHUNK_CAPACITY {
            let _ = self.0.try_send(buf);
        }
    }
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
    let mut decs = HashMap::new();
    move |chunk| {
        let d = decode_chunk(&cfg, &mut decs, &chunk);
        recycle.give(chunk.data);
        d
    }
}

/// The first `rows` good rows of table `key` in the buffered chunks, as one batch.
pub fn sample(cfg: &DecodeConfig, chunks: &[Chunk], key: &str, rows: usize) -> Option<RecordBatch> {
    let cfg = DecodeConfig {
        stop_on_error: false,
        evolve: false,
        ..cfg.clone()
    };
    let mut decs = HashMap::new();
    let mut batches = Vec::new();
    let mut have = 0;
    for chunk in chunks {
        if have >= rows {
            break;
        }
        let d = decode_chunk(&cfg, &mut decs, chunk).ok()?;
        for t in d.tables.into_iter().filter(|t| t.key == key) {
            have += t.batch.num_rows();
            batches.push(t.batch);
        }
    }
    let schema = batches.first()?.schema();
    let all = arrow::compute::concat_batches(&schema, &batches).ok()?;
    Some(all.slice(0, all.num_rows().min(rows)))
}

fn decode_chunk(
    cfg: &DecodeConfig,
    decs: &mut HashMap<String, TableDecoder>,
    chunk: &Chunk,
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
    decs: &mut HashMap<String, TableDecoder>,
    n: u64,
    line: &[u8],
) -> Result<(), (LineError, Option<String>)> {
    let (env, row) = cfg.format.open(line).map_err(|e| (e, None))?;
    let key = cfg.format.table_of(&row).map_err(|e| (e, None))?;
    let Some(schema) = schemas.get(&key) else {
        let e = LineError::Syntax(format!("no table {key:?} yet"));
        return Err((e, Some(key)));
    };
    // A table's decoder is replaced only between chunks (it is empty then).
    if decs
        .get(&key)
        .is_none_or(|d| !Arc::ptr_eq(&d.schema, schema))
    {
        let d = TableDecoder::new(schema.clone(), &cfg.format)
            .map_err(|e| (LineError::Type(format!("{e:#}")), None))?;
        decs.insert(key.clone(), d);
    }
    let dec = decs.get_mut(&key).expect("just made");
    match dec.push(&row, env.as_ref(), n) {
        Ok(()) => Ok(()),
        Err(e @ LineError::UnknownField { .. }) if cfg.evolve => Err((e, Some(key))),
        Err(e) => Err((e, None)),
    }
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
    Ok(None)
}

/// Writes decoded chunks in input order. Returns the report and the first error.
pub fn write_loop(
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
    let mut err = None;
    'outer: loop {
        let timeout = tables
            .next_roll_in()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let mut next = results.next(Some(timeout));
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
            next = results.next(Some(Duration::ZERO));
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
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recycled buffers must come back empty: every chunk holds exactly its own lines,
    /// numbered right, across many reuses of the same blocks and chunk buffers.
    #[test]
    fn recycled_buffers_keep_lines_and_numbers() {
        let input: Vec<u8> = (1..=800_000)
            .flat_map(|i| {
                format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 37)).into_bytes()
            })
            .collect();
        assert!(input.len() > 8 * CHUNK_BYTES);
        let mut chunker = Chunker::new(
            spawn_reader(Box::new(std::io::Cursor::new(input.clone()))),
            "test".into(),
        );
        let back = chunker.recycler();
        let (mut out, mut chunks, mut expect_line) = (Vec::new(), 0, 1u64);
        while let Some(c) = chunker.next_chunk().unwrap() {
            for (n, line) in c.lines() {
                assert_eq!(n, expect_line);
                assert!(
                    line.starts_with(format!("{{\"n\":{n},").as_bytes()),
                    "line {n}"
                );
                expect_line += 1;
            }
            out.extend_from_slice(&c.data);
            chunks += 1;
            back.give(c.data);
        }
        assert!(chunks > 8, "{chunks} chunks");
        assert_eq!(expect_line, 800_001);
        assert!(out == input, "chunks joined differ from the input");
    }
}
