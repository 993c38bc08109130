//! jq-lite's inputs: the files named on the command line (`-` or none: stdin), read
//! and cut into numbered chunks of lines by lakepipe's line engine.
//!
//! A chunk is handed on as soon as the input has nothing more ready, so a slow stream
//! such as a Kafka topic is filtered line by line, while a file is cut into large
//! chunks that workers process in parallel.

use anyhow::Context;
use lakepipe::lines::{Cutting, Input};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Chunks of 256 KiB, handed on without waiting when the input pauses.
pub const CUTTING: Cutting = Cutting {
    chunk_bytes: 256 * 1024,
    max_wait: Duration::ZERO,
};

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

/// The inputs in order, each opened when its turn comes.
pub fn inputs(files: &[PathBuf]) -> Vec<Input> {
    let stdin = || -> Box<dyn Read + Send> { Box::new(std::io::stdin()) };
    if files.is_empty() {
        return vec![Input::open("<stdin>", stdin())];
    }
    files
        .iter()
        .map(|f| {
            if is_stdin(f) {
                return Input::open("<stdin>", stdin());
            }
            let f = f.clone();
            Input::file(f.display().to_string(), move || {
                File::open(&f).with_context(|| format!("cannot open {}", f.display()))
            })
        })
        .collect()
}
