//! Reading JSON lines in chunks of whole lines, with their file and line numbers.
//!
//! A chunk is handed on as soon as the input has nothing more ready (a pipe returned
//! a short read), so a slow stream such as a Kafka topic is filtered line by line,
//! while a file is cut into large chunks that workers process in parallel.

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Target size of a chunk; one line longer than this makes a larger chunk.
const CHUNK: usize = 256 * 1024;

/// Whole lines of one input.
pub struct Chunk {
    /// Index into the list of input names.
    pub file: usize,
    /// 1-based number of the first line in `data`.
    pub first_line: u64,
    /// Lines, each ending in `\n` except maybe the last one of a file.
    pub data: Bytes,
}

impl Chunk {
    /// The lines with their numbers (the trailing `\n` removed).
    pub fn lines(&self) -> impl Iterator<Item = (u64, Bytes)> + '_ {
        let data = &self.data;
        let mut start = 0;
        let mut no = self.first_line;
        std::iter::from_fn(move || {
            if start >= data.len() {
                return None;
            }
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let line = data.slice(start..end);
            start = end + 1;
            no += 1;
            Some((no - 1, line))
        })
    }
}

/// Display names of the inputs: the path, or `<stdin>` for `-`.
pub fn names(files: &[PathBuf]) -> Vec<String> {
    if files.is_empty() {
        return vec!["<stdin>".into()];
    }
    files
        .iter()
        .map(|f| {
            if is_stdin(f) {
                "<stdin>".into()
            } else {
                f.display().to_string()
            }
        })
        .collect()
}

fn is_stdin(f: &Path) -> bool {
    f.as_os_str() == "-"
}

/// Read every input in order and pass its chunks to `emit`, which returns false to
/// stop early (the consumer has gone away).
pub fn read_all(files: &[PathBuf], mut emit: impl FnMut(Chunk) -> bool) -> anyhow::Result<()> {
    if files.is_empty() {
        read_one(&mut io::stdin().lock(), 0, &mut emit).context("reading <stdin>")?;
        return Ok(());
    }
    for (i, f) in files.iter().enumerate() {
        let more = if is_stdin(f) {
            read_one(&mut io::stdin().lock(), i, &mut emit).context("reading <stdin>")?
        } else {
            let mut file = File::open(f).with_context(|| format!("cannot open {}", f.display()))?;
            read_one(&mut file, i, &mut emit).with_context(|| format!("reading {}", f.display()))?
        };
        if !more {
            break;
        }
    }
    Ok(())
}

fn read_one(
    r: &mut dyn Read,
    file: usize,
    emit: &mut impl FnMut(Chunk) -> bool,
) -> io::Result<bool> {
    let mut buf = BytesMut::with_capacity(2 * CHUNK);
    let mut line = 1u64;
    loop {
        let len = buf.len();
        buf.resize(len + CHUNK, 0);
        let n = match r.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                buf.truncate(len);
                continue;
            }
            Err(e) => return Err(e),
        };
        buf.truncate(len + n);
        if n == 0 {
            // end of input: the rest is a last line without '\n'
            if !buf.is_empty() {
                return Ok(emit(Chunk {
                    file,
                    first_line: line,
                    data: buf.freeze(),
                }));
            }
            return Ok(true);
        }
        // a short read means the producer has nothing more for now: pass the lines on
        if buf.len() >= CHUNK || n < CHUNK {
            if let Some(last) = memchr::memrchr(b'\n', &buf) {
                let data = buf.split_to(last + 1).freeze();
                let count = memchr::memchr_iter(b'\n', &data).count() as u64;
                if !emit(Chunk {
                    file,
                    first_line: line,
                    data,
                }) {
                    return Ok(false);
                }
                line += count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_line_numbers_across_reads() {
        // a reader that returns a few bytes at a time, like a slow pipe
        struct Slow(Vec<u8>, usize);
        impl Read for Slow {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = 3.min(self.0.len() - self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let mut r = Slow(b"a\nbb\n\nccc\nlast".to_vec(), 0);
        let mut lines = Vec::new();
        read_one(&mut r, 0, &mut |c: Chunk| {
            lines.extend(
                c.lines()
                    .map(|(n, l)| (n, String::from_utf8(l.to_vec()).unwrap())),
            );
            true
        })
        .unwrap();
        let want = [(1, "a"), (2, "bb"), (3, ""), (4, "ccc"), (5, "last")];
        assert_eq!(lines, want.map(|(n, s)| (n, s.to_string())));
    }
}
