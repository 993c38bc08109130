//! `--offsets DIR`: the Kafka offsets a folder of Kafka-Connect-named files holds, per
//! topic-partition, from the file names and footers only (no row is read).

use std::io::Write;

use anyhow::{bail, Context, Result};
use lakepipe::committed::{self, Found};
use lakepipe::location::Location;
use lakepipe::read::load_footer;
use lakepipe::storage::{self, Fs};
use serde_json::json;

/// Writes one JSON line per topic-partition; an error (exit 1) once all are written when
/// two files of one partition overlap (their rows were written twice).
pub fn audit(dir: &str, out: &mut impl Write) -> Result<()> {
    let loc = Location::parse(dir).with_context(|| format!("--offsets {dir}"))?;
    let fs = storage::connect(&loc)?;
    if !fs.is_dir(&loc)? {
        bail!("--offsets {dir}: not a folder");
    }
    let found = committed::scan(&fs, &loc)?;
    let mut overlapping = 0;
    for part in committed::audit(&found) {
        let files: Vec<&Found> = found
            .iter()
            .filter(|f| f.range.topic == part.topic && f.range.partition == part.partition)
            .collect();
        let rows = rows(&fs, &files)?;
        overlapping += part.overlaps.len();
        let line = json!({
            "topic": part.topic,
            "partition": part.partition,
            "files": part.files,
            "first": part.first,
            "last": part.last,
            "rows": rows,
            "gaps": part.gaps,
            "overlaps": part.overlaps,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    if overlapping > 0 {
        let pairs = if overlapping == 1 { "pair" } else { "pairs" };
        bail!("{dir}: {overlapping} {pairs} of files hold the same offsets (see \"overlaps\")");
    }
    Ok(())
}

/// Rows in the files, from their footers.
fn rows(fs: &Fs, files: &[&Found]) -> Result<i64> {
    let mut total = 0;
    for f in files {
        let data = fs.open(&f.location)?;
        let footer = load_footer(&data)
            .with_context(|| format!("{}: not a valid Parquet file", f.location))?;
        total += footer.metadata().file_metadata().num_rows();
    }
    Ok(total)
}
