//! The input half of the line engine: inputs read on a thread of their own and cut
//! into chunks of complete, numbered lines for [`super::ordered`].
//!
//! A chunk is handed on when it is full, when its first line has waited the idle flush
//! (a slow or paced stream such as a Kafka topic is not held back), at the end of each
//! input (a chunk never spans two), or when SIGINT/SIGTERM arrived (see
//! [`crate::cli::interrupted`]). The read blocks and the chunk buffers are recycled, so
//! a long run reuses the same few buffers for its whole length.
//!
//! Files are read, never mapped: the decoders check a line's UTF-8 once and then build
//! Arrow strings without checking again, which is sound only for bytes no one else can
//! change. A shared mapping of a file that is rewritten while it is read changes bytes
//! already checked (undefined behaviour), and one truncated ends the run with SIGBUS;
//! a read copies the bytes into our own buffers, so such a file gives an error or lines
//! as they were read.

use std::io::Read;
use std::ops::{Deref, Range};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::workers;

/// How often the chunker looks at the interrupt flag while no input comes.
const POLL: Duration = Duration::from_millis(50);

/// How a tool wants its input cut.
#[derive(Debug, Clone, Copy)]
pub struct Cutting {
    /// Target size of a chunk; one line longer than this makes a larger chunk.
    pub chunk_bytes: usize,
    /// How long the first line of a partial chunk may wait for more input; zero: hand
    /// it on as soon as nothing more is ready. Counted from the first line, not the
    /// last, so a steady trickle (a consumer's pipe) is not held until a chunk fills.
    pub max_wait: Duration,
}

impl Cutting {
    /// Size of one read: half a chunk (so a chunk is cut after two reads), at most 1 MiB.
    fn block_bytes(&self) -> usize {
        (self.chunk_bytes / 2).clamp(1, 1 << 20)
    }

    /// A chunk buffer's capacity: a chunk is cut once it passes `chunk_bytes`, and one
    /// block (plus a short carried-over line) is added at a time.
    fn capacity(&self) -> usize {
        self.chunk_bytes + 2 * self.block_bytes()
    }
}

/// What an input is once open.
enum Source {
    Reader(Box<dyn Read + Send>),
    File(std::fs::File),
}

/// Opens an input when its turn comes; its errors name the input.
type Open = Box<dyn FnOnce() -> Result<Source> + Send>;

/// One input: its name in messages and how to open it.
pub struct Input {
    name: String,
    open: Open,
}

impl Input {
    /// An input opened only when the ones before it are read (a missing second file is
    /// an error after the first one's lines).
    pub fn lazy(
        name: impl Into<String>,
        open: impl FnOnce() -> Result<Box<dyn Read + Send>> + Send + 'static,
    ) -> Input {
        Input {
            name: name.into(),
            open: Box::new(|| open().map(Source::Reader)),
        }
    }

    /// A local file, opened when its turn comes.
    pub fn file(
        name: impl Into<String>,
        open: impl FnOnce() -> Result<std::fs::File> + Send + 'static,
    ) -> Input {
        Input {
            name: name.into(),
            open: Box::new(|| open().map(Source::File)),
        }
    }

    /// An input that is open already.
    pub fn open(name: impl Into<String>, reader: Box<dyn Read + Send>) -> Input {
        Input::lazy(name, move || Ok(reader))
    }
}

/// Complete lines of one input, numbered from `first_line` (1-based).
pub struct Chunk {
    /// Index of the input in the list given to [`Chunker::new`].
    pub input: usize,
    pub first_line: u64,
    /// The lines, each ending in `\n` (one is added to an input's unterminated last line).
    pub data: Data,
    /// The number of the last line, counted as the chunk was cut.
    last: u64,
}

/// A chunk's bytes: a buffer of its own (given back through [`Recycler::give`]).
pub struct Data(Vec<u8>);

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Data {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Chunk {
    /// The lines with their numbers, without `\n` or `\r\n`.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        spans(&self.data, self.first_line).map(|(n, r)| (n, &self.data[r]))
    }

    /// The number of the chunk's last line.
    pub fn last_line(&self) -> u64 {
        self.last
    }
}

/// Where each line of `data` is (without `\n` or `\r\n`), numbered from `first_line`;
/// for callers that slice a shared buffer (`bytes::Bytes`) instead of borrowing.
pub fn spans(data: &[u8], first_line: u64) -> impl Iterator<Item = (u64, Range<usize>)> + '_ {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    let mut start = 0;
    ends.enumerate()
        .filter(move |_| !data.is_empty())
        .map(move |(i, end)| {
            let cr = end > start && body[end - 1] == b'\r';
            let span = start..end - usize::from(cr);
            start = end + 1;
            (first_line + i as u64, span)
        })
}

/// What the reader thread sends.
enum Block {
    /// Bytes of the current input: the first `.1` bytes of the buffer, which stays full
    /// length so that it can be read into again without being zeroed again.
    Data(Vec<u8>, usize),
    /// The current input is read; the next one (if any) follows.
    End,
    /// Opening or reading failed; nothing follows.
    Failed(anyhow::Error),
}

/// Reads the inputs in order on its own thread, so the chunker can watch the clock and
/// signals. Blocks come back once copied and are read into again.
fn spawn_reader(
    inputs: Vec<Input>,
    block_bytes: usize,
) -> (
    Receiver<Block>,
    Sender<Vec<u8>>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = bounded(4);
    let (give_back, returned) = bounded::<Vec<u8>>(8);
    let reader = std::thread::spawn(move || {
        for input in inputs {
            let name = input.name;
            let block = match (input.open)() {
                Ok(src) => send_input(src, &returned, &tx, block_bytes)
                    .with_context(|| format!("reading {name}")),
                Err(e) => Err(e),
            };
            let sent = match block {
                Ok(()) => tx.send(Block::End),
                Err(e) => {
                    let _ = tx.send(Block::Failed(e));
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    (rx, give_back, reader)
}

/// Send one input's bytes.
fn send_input(
    src: Source,
    returned: &Receiver<Vec<u8>>,
    tx: &Sender<Block>,
    block_bytes: usize,
) -> std::io::Result<()> {
    match src {
        Source::Reader(mut r) => read_all(&mut r, returned, tx, block_bytes),
        Source::File(mut f) => read_all(&mut f, returned, tx, block_bytes),
    }
}

/// Send one input's blocks; Ok also when the chunker is gone (nobody to tell).
fn read_all(
    r: &mut dyn Read,
    returned: &Receiver<Vec<u8>>,
    tx: &Sender<Block>,
    block_bytes: usize,
) -> std::io::Result<()> {
    loop {
        // Only a new buffer is zeroed: a pipe's reads are small, and zeroing 1 MiB for
        // each was a tenth of pq-write's CPU behind a paced kcat-lite.
        let mut buf = returned.try_recv().unwrap_or_default();
        buf.resize(block_bytes, 0);
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if tx.send(Block::Data(buf, n)).is_err() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Cuts the inputs into chunks of complete lines (see the module comment).
pub struct Chunker {
    cut: Cutting,
    blocks: Receiver<Block>,
    give_back: Sender<Vec<u8>>,
    /// Joined at the end of input: a panic there is an error, not an early EOF.
    reader: Option<std::thread::JoinHandle<()>>,
    /// Chunk buffers the workers are done with.
    spare: Receiver<Vec<u8>>,
    spare_tx: Sender<Vec<u8>>,
    /// An incomplete last line, waiting for the rest.
    pending: Vec<u8>,
    cur: Vec<u8>,
    input: usize,
    cur_first: u64,
    next_line: u64,
    /// The current input is read; `cur` holds its last lines.
    input_done: bool,
    eof: bool,
}

impl Chunker {
    /// Start reading `inputs`, in order, on a thread of their own.
    pub fn new(inputs: Vec<Input>, cut: Cutting) -> Chunker {
        let (blocks, give_back, reader) = spawn_reader(inputs, cut.block_bytes());
        let (spare_tx, spare) = bounded(8);
        Chunker {
            cut,
            blocks,
            give_back,
            reader: Some(reader),
            spare,
            spare_tx,
            pending: vec![],
            cur: Vec::with_capacity(cut.capacity()),
            input: 0,
            cur_first: 1,
            next_line: 1,
            input_done: false,
            eof: false,
        }
    }

    /// Where workers return chunk buffers for reuse ([`Recycler::give`]).
    pub fn recycler(&self) -> Recycler {
        Recycler {
            tx: self.spare_tx.clone(),
            capacity: self.cut.capacity(),
        }
    }

    /// The next chunk: None after the last one, or once interrupted (the lines read
    /// until then are handed on first; the rest is left unread).
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.next_chunk_before(None)
    }

    /// [`Self::next_chunk`], but at `deadline` the lines read so far are handed on (None
    /// when there are none): a caller that must act on a clock (pq-write's inference
    /// under `--roll-secs`) is not held by a quiet input.
    pub fn next_chunk_before(&mut self, deadline: Option<Instant>) -> Result<Option<Chunk>> {
        // When the oldest line of `cur` was read: a partial chunk is handed on once that
        // line has waited the idle flush, so a steady trickle (a paced Kafka topic, a
        // block every 100 ms) is not held until the chunk fills.
        let mut oldest = (!self.cur.is_empty()).then(Instant::now);
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok((!self.cur.is_empty()).then(|| self.take()));
            }
            if crate::cli::interrupted() {
                return Ok((!self.cur.is_empty()).then(|| self.take()));
            }
            if self.cur.len() >= self.cut.chunk_bytes || (self.input_done && !self.cur.is_empty()) {
                return Ok(Some(self.take()));
            }
            if self.input_done {
                self.next_input();
            }
            if self.eof {
                return Ok(None);
            }
            let waited = oldest.map_or(Duration::ZERO, |t| t.elapsed());
            let wait = if self.cur.is_empty() {
                POLL
            } else {
                (self.cut.max_wait.saturating_sub(waited)).min(POLL)
            };
            let wait = deadline.map_or(wait, |d| {
                wait.min(d.saturating_duration_since(Instant::now()))
            });
            match self.blocks.recv_timeout(wait) {
                Ok(Block::Data(block, n)) => {
                    self.add(&block[..n]);
                    let _ = self.give_back.try_send(block);
                    if self.cur.is_empty() {
                        continue;
                    }
                    let since = *oldest.get_or_insert_with(Instant::now);
                    // (a zero idle flush hands on only once nothing more is ready)
                    if !self.cut.max_wait.is_zero() && since.elapsed() >= self.cut.max_wait {
                        return Ok(Some(self.take()));
                    }
                }
                Ok(Block::End) => self.end_input(),
                Ok(Block::Failed(e)) => return Err(e),
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(reader) = self.reader.take() {
                        workers::join(reader, "the input reader")?;
                    }
                    self.eof = true;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let waited = oldest.map_or(Duration::ZERO, |t| t.elapsed());
                    if !self.cur.is_empty() && waited >= self.cut.max_wait {
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

    /// The input ended: its unterminated last line is a line too.
    fn end_input(&mut self) {
        if !self.pending.is_empty() {
            self.cur.append(&mut self.pending);
            self.cur.push(b'\n');
            self.next_line += 1;
        }
        self.input_done = true;
    }

    /// Number the next input's lines from 1.
    fn next_input(&mut self) {
        self.input += 1;
        self.cur_first = 1;
        self.next_line = 1;
        self.input_done = false;
    }

    fn take(&mut self) -> Chunk {
        let next = match self.spare.try_recv() {
            Ok(mut v) => {
                v.clear();
                v
            }
            Err(_) => Vec::with_capacity(self.cut.capacity()),
        };
        let data = Data(std::mem::replace(&mut self.cur, next));
        self.chunk(data)
    }

    /// The lines counted since the last chunk, as the next chunk.
    fn chunk(&mut self, data: Data) -> Chunk {
        let c = Chunk {
            input: self.input,
            first_line: self.cur_first,
            data,
            last: self.next_line - 1,
        };
        self.cur_first = self.next_line;
        c
    }
}

/// Hands chunk buffers back to the chunker; ordinary-sized ones only, so one huge
/// line does not keep its buffer alive for the rest of the run.
#[derive(Clone)]
pub struct Recycler {
    tx: Sender<Vec<u8>>,
    capacity: usize,
}

impl Recycler {
    pub fn give(&self, data: Data) {
        if data.0.capacity() <= self.capacity {
            let _ = self.tx.try_send(data.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;
    use std::io::Cursor;

    const BIG: Cutting = Cutting {
        chunk_bytes: 2 << 20,
        max_wait: Duration::from_millis(200),
    };

    fn all_lines(mut chunker: Chunker) -> Vec<(usize, u64, String)> {
        let mut got = Vec::new();
        while let Some(c) = chunker.next_chunk().unwrap() {
            for (n, l) in c.lines() {
                got.push((c.input, n, String::from_utf8(l.to_vec()).unwrap()));
            }
        }
        got
    }

    /// Recycled buffers must come back empty: every chunk holds exactly its own lines,
    /// numbered right, across many reuses of the same blocks and chunk buffers.
    #[test]
    fn recycled_buffers_keep_lines_and_numbers() {
        let input: Vec<u8> = (1..=800_000)
            .flat_map(|i| {
                format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 37)).into_bytes()
            })
            .collect();
        assert!(input.len() > 8 * BIG.chunk_bytes);
        let src = Input::open("test", Box::new(Cursor::new(input.clone())));
        let mut chunker = Chunker::new(vec![src], BIG);
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
            assert_eq!(c.last_line(), expect_line - 1);
            out.extend_from_slice(&c.data);
            chunks += 1;
            back.give(c.data);
        }
        assert!(chunks > 8, "{chunks} chunks");
        assert_eq!(expect_line, 800_001);
        assert!(out == input, "chunks joined differ from the input");
    }

    /// A reader that returns a few bytes at a time, like a slow pipe.
    struct Slow(Vec<u8>, usize);

    impl Read for Slow {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = 3.min(self.0.len() - self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn each_input_numbers_its_own_lines_across_short_reads() {
        let eager = Cutting {
            chunk_bytes: 4,
            max_wait: Duration::ZERO,
        };
        let inputs = vec![
            Input::open("a", Box::new(Slow(b"a\nbb\r\n\nccc\nlast".to_vec(), 0))),
            Input::open("b", Box::new(Cursor::new(b"x\ny\n".to_vec()))),
        ];
        let got = all_lines(Chunker::new(inputs, eager));
        let want = [
            (0, 1, "a"),
            (0, 2, "bb"),
            (0, 3, ""),
            (0, 4, "ccc"),
            (0, 5, "last"),
            (1, 1, "x"),
            (1, 2, "y"),
        ];
        assert_eq!(got, want.map(|(i, n, s)| (i, n, s.to_string())));
    }

    #[test]
    fn an_input_that_fails_to_open_ends_after_the_earlier_lines() {
        let inputs = vec![
            Input::open("a", Box::new(Cursor::new(b"1\n2".to_vec()))),
            Input::lazy("b", || Err(anyhow!("cannot open b"))),
        ];
        let mut chunker = Chunker::new(inputs, BIG);
        let first = chunker.next_chunk().unwrap().unwrap();
        assert_eq!((first.input, first.last_line()), (0, 2));
        let err = chunker.next_chunk().err().expect("the open error");
        assert_eq!(err.to_string(), "cannot open b");
    }

    /// Real files, big and small, give every line, in order, with an unterminated last
    /// line completed.
    #[test]
    fn files_big_and_small_give_the_same_lines() {
        let line = |i: usize| format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 53));
        let big: String = (1..=200_000).map(|i| line(i) + "\n").collect::<String>() + "end";
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("big"), dir.path().join("small"));
        std::fs::write(&p1, &big).unwrap();
        std::fs::write(&p2, "s1\ns2").unwrap();
        let open = |p: std::path::PathBuf| Input::file("f", move || Ok(std::fs::File::open(p)?));
        let mut chunker = Chunker::new(vec![open(p1), open(p2)], BIG);
        let mut got = Vec::new();
        while let Some(c) = chunker.next_chunk().unwrap() {
            assert_eq!(c.last_line(), c.lines().last().unwrap().0);
            got.extend(
                c.lines()
                    .map(|(n, l)| (c.input, n, String::from_utf8(l.to_vec()).unwrap())),
            );
        }
        let mut want: Vec<_> = (1..=200_000).map(|i| (0, i as u64, line(i))).collect();
        want.push((0, 200_001, "end".into()));
        want.extend([(1, 1, "s1".into()), (1, 2, "s2".into())]);
        assert!(got == want, "lines differ");
    }

    #[test]
    fn a_steady_trickle_is_handed_on_within_the_idle_time() {
        // A line every 20 ms, never quiet for the idle flush: the first chunk still comes
        // once its first line has waited the idle flush, not when the chunk is full.
        let (r, mut w) = std::io::pipe().unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..60 {
                if std::io::Write::write_all(&mut w, format!("{i}\n").as_bytes()).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let cut = Cutting {
            chunk_bytes: 1 << 20,
            max_wait: Duration::from_millis(200),
        };
        let mut chunker = Chunker::new(vec![Input::open("pipe", Box::new(r))], cut);
        let c = chunker.next_chunk().unwrap().unwrap();
        assert!(c.last_line() < 30, "held until line {}", c.last_line());
        drop(chunker);
        writer.join().unwrap();
    }

    #[test]
    fn a_quiet_input_is_flushed_after_the_idle_time() {
        // Two lines, then the writer waits until the first chunk was handed on.
        let (r, mut w) = std::io::pipe().unwrap();
        std::io::Write::write_all(&mut w, b"1\n2\n").unwrap();
        let cut = Cutting {
            chunk_bytes: 1 << 20,
            max_wait: Duration::from_millis(200),
        };
        let mut chunker = Chunker::new(vec![Input::open("pipe", Box::new(r))], cut);
        let c = chunker.next_chunk().unwrap().unwrap();
        assert_eq!((c.first_line, c.last_line()), (1, 2));
        drop(w);
        assert!(chunker.next_chunk().unwrap().is_none());
    }
}
