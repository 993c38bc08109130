//! The threads of a pq-write run: a reader that only reads, a chunker (the calling
//! thread) that cuts complete lines into chunks and watches for signals and slow
//! input, decoder workers (one per core), and a writer that applies the bad-line policy
//! and writes Parquet. Reader, chunker, decoders and the input order are lakepipe's
//! line engine ([`lakepipe::lines`]), the one jq-lite runs on.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, Result};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use lakepipe::decode::{LineError, RowDecoder};
use lakepipe::infer::{SchemaInference, Shape};
use lakepipe::lines::{Chunk, Cutting, Next, Ordered, Recycler};
use lakepipe::workers;

use crate::kafka_meta::MetaColumns;
use crate::sink::{Sink, Totals};
use lakepipe::envelope::Envelope;

/// Chunks of about 2 MiB (one decoded batch each), read in blocks of 1 MiB; a partial
/// chunk waits at most 200 ms for more input before it is decoded anyway.
pub const CUTTING: Cutting = Cutting {
    chunk_bytes: 2 << 20,
    idle_flush: Duration::from_millis(200),
};

/// Schema inference over lines 1..=`limit` of the buffered chunks, on every core: each
/// chunk is inferred on its own and the results merged in input order, which gives the
/// same schema (and column order) as one pass, since merging shapes is associative.
pub fn infer(
    chunks: &[Chunk],
    limit: u64,
    shape: impl Fn(&[u8]) -> Option<Shape> + Sync,
) -> Result<SchemaInference> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, SchemaInference)> = std::thread::scope(|s| {
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else {
                    return done;
                };
                let mut inf = SchemaInference::default();
                for (_, line) in chunk.lines().take_while(|(n, _)| *n <= limit) {
                    if let Some(s) = shape(line) {
                        inf.add(s);
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
    let mut all = SchemaInference::default();
    for (_, inf) in parts {
        all.merge(inf);
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

/// A rejected line.
pub struct Reject {
    pub line: u64,
    pub raw: Vec<u8>,
    pub error: LineError,
}

/// One decoded chunk.
pub struct Decoded {
    batch: Option<RecordBatch>,
    rejects: Vec<Reject>,
    /// Under `--bad-lines error`: the chunk stopped at its last reject.
    stopped: bool,
    last_line: u64,
}

/// How workers turn lines into rows.
#[derive(Clone)]
pub struct DecodeConfig {
    pub schema: SchemaRef,
    /// The payload schema (without `--kafka-meta` columns).
    pub row_schema: SchemaRef,
    pub flatten: Option<String>,
    pub envelope: bool,
    pub kafka_meta: bool,
    /// --exactly-once: an envelope without topic, partition or offset is a bad line.
    pub need_offsets: bool,
    pub stop_on_error: bool,
}

/// A decoder worker for [`lakepipe::lines::ordered`]: chunks to rows, buffers back to
/// the chunker.
pub fn decoder(cfg: DecodeConfig, recycle: Recycler) -> impl FnMut(Chunk) -> Result<Decoded> {
    let mut dec = RowDecoder::new(cfg.row_schema.clone(), cfg.flatten.clone());
    let mut meta = MetaColumns::default();
    move |chunk| {
        let dec = dec.as_mut().map_err(|e| anyhow!("{e:#}"))?;
        let d = decode_chunk(&cfg, dec, &mut meta, &chunk);
        recycle.give(chunk.data);
        d
    }
}

/// The first `rows` good rows of the buffered chunks (bad lines skipped), as one batch.
pub fn sample(cfg: &DecodeConfig, chunks: &[Chunk], rows: usize) -> Option<RecordBatch> {
    let cfg = DecodeConfig {
        stop_on_error: false,
        ..cfg.clone()
    };
    let mut dec = RowDecoder::new(cfg.row_schema.clone(), cfg.flatten.clone()).ok()?;
    let mut meta = MetaColumns::default();
    let mut batches = Vec::new();
    let mut have = 0;
    for chunk in chunks {
        if have >= rows {
            break;
        }
        if let Some(b) = decode_chunk(&cfg, &mut dec, &mut meta, chunk).ok()?.batch {
            have += b.num_rows();
            batches.push(b);
        }
    }
    let all = arrow::compute::concat_batches(&cfg.schema, &batches).ok()?;
    Some(all.slice(0, all.num_rows().min(rows)))
}

fn decode_chunk(
    cfg: &DecodeConfig,
    dec: &mut RowDecoder,
    meta: &mut MetaColumns,
    chunk: &Chunk,
) -> Result<Decoded> {
    let mut rejects = Vec::new();
    let mut stopped = false;
    let mut last_line = chunk.first_line.saturating_sub(1);
    for (n, line) in chunk.lines() {
        last_line = n;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = if cfg.envelope {
            Envelope::parse(line)
                .and_then(|e| e.row().map(|r| (e, r)))
                .and_then(|(e, row)| match cfg.need_offsets && !e.has_offset() {
                    true => Err(
                        "--exactly-once needs topic, partition and offset in every envelope".into(),
                    ),
                    false => Ok((e, row)),
                })
                .map_err(LineError::Syntax)
                .and_then(|(e, row)| {
                    dec.push(&row)?;
                    if cfg.kafka_meta {
                        meta.push(&e);
                    }
                    Ok(())
                })
        } else {
            dec.push(line)
        };
        if let Err(error) = result {
            rejects.push(Reject {
                line: n,
                raw: line.to_vec(),
                error,
            });
            if cfg.stop_on_error {
                stopped = true;
                break;
            }
        }
    }
    let batch = if dec.is_empty() {
        None
    } else {
        let b = dec.finish()?;
        Some(if cfg.kafka_meta {
            let mut cols = b.columns().to_vec();
            cols.extend(meta.finish());
            RecordBatch::try_new(cfg.schema.clone(), cols)?
        } else {
            b
        })
    };
    Ok(Decoded {
        batch,
        rejects,
        stopped,
        last_line,
    })
}

/// What the writer did, for the summary.
#[derive(Default)]
pub struct Report {
    pub totals: Totals,
    pub rejected: u64,
    pub unknown_fields: BTreeMap<String, u64>,
    /// Last input line whose fate is settled (written or rejected).
    pub last_line: u64,
}

/// Writes decoded chunks in input order. Returns the report and the first error.
pub fn write_loop(
    mut results: Ordered<Result<Decoded>>,
    sink: &mut Sink,
    policy: &BadLines,
    input_name: &str,
    quiet: bool,
    progress: &lakepipe::progress::Progress,
) -> (Report, Option<anyhow::Error>) {
    let mut report = Report::default();
    let mut err = None;
    let mut reject_file = None;
    if let BadLines::File(p) = policy {
        match std::fs::File::create(p) {
            Ok(f) => reject_file = Some(std::io::BufWriter::new(f)),
            Err(e) => {
                return (
                    report,
                    Some(anyhow!(e).context(format!("creating reject file {}", p.display()))),
                )
            }
        }
    }
    'outer: loop {
        let timeout = sink
            .next_roll_in()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let mut next = results.next(Some(timeout));
        while let Ok(Next::Ready(d)) = next {
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    err = Some(e);
                    break 'outer;
                }
            };
            if let Some(b) = &d.batch {
                if let Err(e) = sink.write(b) {
                    err = Some(e);
                    break 'outer;
                }
            }
            for r in &d.rejects {
                report.rejected += 1;
                if let LineError::UnknownField { field, .. } = &r.error {
                    *report.unknown_fields.entry(field.clone()).or_default() += 1;
                }
                match policy {
                    BadLines::Error => {}
                    BadLines::Skip => {
                        if report.rejected <= 5 && !quiet {
                            lakepipe::cli::warn(format!(
                                "{input_name}:{}: {} (line skipped)",
                                r.line, r.error
                            ));
                        }
                    }
                    BadLines::File(p) => {
                        let w = reject_file.as_mut().expect("opened above");
                        if let Err(e) = w.write_all(&r.raw).and_then(|()| w.write_all(b"\n")) {
                            err = Some(
                                anyhow!(e).context(format!("writing reject file {}", p.display())),
                            );
                            break 'outer;
                        }
                    }
                }
            }
            if d.stopped {
                let r = d.rejects.last().expect("a stopped chunk has a reject");
                report.rejected -= 1; // reported as the error, not as a rejected line
                report.last_line = r.line - 1;
                err = Some(anyhow!("{input_name}:{}: {}", r.line, r.error));
                break 'outer;
            }
            report.last_line = d.last_line;
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
        if let Err(e) = sink.roll_old() {
            err = Some(e);
            break;
        }
        progress.set_rows(sink.totals.rows);
    }
    progress.finish();
    if let Some(mut w) = reject_file {
        if let Err(e) = w.flush() {
            err.get_or_insert(anyhow!(e).context("writing the reject file"));
        }
    }
    report.totals = sink.totals.clone();
    (report, err)
}

/// Decode-worker count: one per core, at most 4.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
}
