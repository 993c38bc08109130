//! Where rows go: Parquet files that become visible only when complete.
//!
//! Each file is written under a hidden name (leading `.`, which Hive, Spark and Trino
//! skip) and renamed once its footer is written. A folder target gets Spark-style
//! `part-NNNNN-<run-id>.parquet` names, rolled by rows, bytes or age, and Hive-style
//! `col=value/` sub-folders with `--partition-by`. Local folders and HDFS go through the
//! same [`lakepipe::storage`] calls (create, rename, list, delete).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use lakepipe::listing;
use lakepipe::location::Location;
use lakepipe::partition;
use lakepipe::storage::{self, Fs, StorageError};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// Rolling policy for folder targets (all optional).
#[derive(Debug, Clone, Default)]
pub struct Roll {
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub secs: Option<Duration>,
}

/// One output file or a folder of part files.
#[derive(Debug, Clone)]
pub enum Target {
    File(Location),
    Folder(Location),
}

impl Target {
    pub fn location(&self) -> &Location {
        match self {
            Target::File(l) | Target::Folder(l) => l,
        }
    }
}

struct OpenFile {
    writer: ArrowWriter<storage::Writer>,
    tmp: Location,
    path: Location,
    rows: u64,
    opened: Instant,
}

/// Totals for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub files: u64,
}

pub struct Sink {
    target: Target,
    fs: Fs,
    run_id: String,
    props: WriterProperties,
    /// The schema of the files: the input schema less partition columns.
    file_schema: SchemaRef,
    /// Indices in the input batches of the partition columns, and of the others.
    partition_cols: Vec<(usize, String)>,
    data_cols: Vec<usize>,
    roll: Roll,
    open: BTreeMap<String, OpenFile>,
    next_part: u32,
    overwrite: bool,
    pub written: Vec<Location>,
    pub totals: Totals,
}

impl Sink {
    pub fn new(
        target: Target,
        schema: &Schema,
        partition_by: &[String],
        props: WriterProperties,
        roll: Roll,
        overwrite: bool,
        run_id: String,
    ) -> Result<Sink> {
        let (partition_cols, data_cols, file_schema) = layout(schema, partition_by)?;
        let fs = storage::connect(target.location())?;
        Ok(Sink {
            target,
            fs,
            run_id,
            props,
            file_schema,
            partition_cols,
            data_cols,
            roll,
            open: BTreeMap::new(),
            next_part: 0,
            overwrite,
            written: Vec::new(),
            totals: Totals::default(),
        })
    }

    /// Write a batch (schema of the input, partition columns included).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.partition_cols.is_empty() {
            let data = batch.project(&self.data_cols)?;
            return self.write_to(String::new(), data);
        }
        for (dir, rows) in self.split_by_partition(batch)? {
            let idx = UInt32Array::from(rows);
            let cols = self
                .data_cols
                .iter()
                .map(|&c| take(batch.column(c).as_ref(), &idx, None))
                .collect::<Result<Vec<ArrayRef>, _>>()?;
            let data = RecordBatch::try_new(self.file_schema.clone(), cols)?;
            self.write_to(dir, data)?;
        }
        Ok(())
    }

    /// Row indices grouped by their `k=v/...` folder, in first-seen order of values.
    fn split_by_partition(&self, batch: &RecordBatch) -> Result<Vec<(String, Vec<u32>)>> {
        let texts = self
            .partition_cols
            .iter()
            .map(|(i, _)| cast(batch.column(*i).as_ref(), &DataType::Utf8))
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let texts: Vec<&arrow::array::StringArray> = texts
            .iter()
            .map(|a| a.as_any().downcast_ref().expect("cast to Utf8"))
            .collect();
        let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for row in 0..batch.num_rows() {
            let mut dir = String::new();
            for ((_, name), col) in self.partition_cols.iter().zip(&texts) {
                let value = (!col.is_null(row)).then(|| col.value(row));
                dir.push_str(&partition::folder(name, value));
                dir.push('/');
            }
            let g = *index.entry(dir.clone()).or_insert_with(|| {
                groups.push((dir, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(row as u32);
        }
        Ok(groups)
    }

    fn write_to(&mut self, dir: String, mut data: RecordBatch) -> Result<()> {
        while data.num_rows() > 0 {
            if !self.open.contains_key(&dir) {
                let f = self.open_file(&dir)?;
                self.open.insert(dir.clone(), f);
            }
            let file = self.open.get_mut(&dir).expect("just opened");
            let room = self.roll.rows.map_or(u64::MAX, |r| r - file.rows);
            let n = (data.num_rows() as u64).min(room) as usize;
            let part = data.slice(0, n);
            data = data.slice(n, data.num_rows() - n);
            file.writer
                .write(&part)
                .with_context(|| format!("writing {}", file.tmp))?;
            file.rows += n as u64;
            self.totals.rows += n as u64;
            let full_rows = self.roll.rows.is_some_and(|r| file.rows >= r);
            let full_bytes = self.roll.bytes.is_some_and(|b| {
                (file.writer.bytes_written() + file.writer.in_progress_size()) as u64 >= b
            });
            if full_rows || full_bytes {
                self.close(&dir)?;
            }
        }
        Ok(())
    }

    fn open_file(&mut self, dir: &str) -> Result<OpenFile> {
        let path = match &self.target {
            Target::File(p) => p.clone(),
            Target::Folder(root) => {
                let name = format!("part-{:05}-{}.parquet", self.next_part, self.run_id);
                self.next_part += 1;
                root.join(&format!("{dir}{name}"))
            }
        };
        // The hidden name sits next to the final one, so the rename stays in one folder.
        let tmp_name = format!(".{}.{}.inprogress", path.file_name(), self.run_id);
        let tmp = match path.parent() {
            Some(parent) => parent.join(&tmp_name),
            None => Location::Local(PathBuf::from(tmp_name)),
        };
        // create() makes missing parent folders, on HDFS too.
        let f = self
            .fs
            .create(&tmp, false)
            .with_context(|| format!("creating {tmp}"))?;
        let writer = ArrowWriter::try_new(f, self.file_schema.clone(), Some(self.props.clone()))?;
        Ok(OpenFile {
            writer,
            tmp,
            path,
            rows: 0,
            opened: Instant::now(),
        })
    }

    /// Write the footer and make the file visible.
    fn close(&mut self, dir: &str) -> Result<()> {
        let Some(file) = self.open.remove(dir) else {
            return Ok(());
        };
        let OpenFile {
            writer, tmp, path, ..
        } = file;
        let f = writer
            .into_inner()
            .with_context(|| format!("finishing {tmp}"))?;
        let size = f.close().with_context(|| format!("closing {tmp}"))?;
        let replace = matches!(self.target, Target::File(_)) && self.overwrite;
        match self.fs.rename(&tmp, &path, replace) {
            Ok(()) => {}
            Err(StorageError::AlreadyExists(_)) => {
                bail!("{path} appeared while writing (use --overwrite); the rows are in {tmp}")
            }
            Err(e) => {
                return Err(anyhow::Error::from(e).context(format!("renaming {tmp} to {path}")))
            }
        }
        self.totals.bytes += size;
        self.totals.files += 1;
        self.written.push(path);
        Ok(())
    }

    /// Close every open file and continue with `schema` (a wider one: schema
    /// evolution). Files written so far keep their schema.
    pub fn widen(&mut self, schema: &Schema, partition_by: &[String]) -> Result<()> {
        let layout = layout(schema, partition_by)?;
        self.abort()?;
        (self.partition_cols, self.data_cols, self.file_schema) = layout;
        Ok(())
    }

    /// Close files older than `--roll-secs` (called on every batch and on a timer).
    pub fn roll_old(&mut self) -> Result<()> {
        let Some(max) = self.roll.secs else {
            return Ok(());
        };
        let old: Vec<String> = self
            .open
            .iter()
            .filter(|(_, f)| f.opened.elapsed() >= max)
            .map(|(k, _)| k.clone())
            .collect();
        for dir in old {
            self.close(&dir)?;
        }
        Ok(())
    }

    /// Time until the oldest open file must roll, if rolling by time.
    pub fn next_roll_in(&self) -> Option<Duration> {
        let max = self.roll.secs?;
        self.open
            .values()
            .map(|f| max.saturating_sub(f.opened.elapsed()))
            .min()
    }

    /// Close every open file. A file target with no rows at all still gets a valid,
    /// empty file when a schema is known, so scripts find what they asked for.
    pub fn finish(&mut self, write_empty_file: bool) -> Result<()> {
        if let (Target::File(_), true, true) =
            (&self.target, self.open.is_empty(), self.written.is_empty())
        {
            if write_empty_file {
                let f = self.open_file("")?;
                self.open.insert(String::new(), f);
            }
        }
        let dirs: Vec<String> = self.open.keys().cloned().collect();
        for dir in dirs {
            self.close(&dir)?;
        }
        if self.overwrite {
            if let Target::Folder(root) = &self.target {
                remove_earlier_parts(&self.fs, root, &self.written.iter().cloned().collect())?;
            }
        }
        Ok(())
    }

    /// Close what is open, keeping rows written so far (used on errors and interrupts).
    pub fn abort(&mut self) -> Result<()> {
        let dirs: Vec<String> = self.open.keys().cloned().collect();
        let mut first_err = None;
        for dir in dirs {
            if let Err(e) = self.close(&dir) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Partition columns (index, name), data column indices, and the schema of the files.
type Layout = (Vec<(usize, String)>, Vec<usize>, SchemaRef);

fn layout(schema: &Schema, partition_by: &[String]) -> Result<Layout> {
    let mut partition_cols = Vec::new();
    for name in partition_by {
        let (i, f) = schema
            .column_with_name(name)
            .with_context(|| format!("--partition-by: no column '{name}' in the schema"))?;
        if f.data_type().is_nested()
            || matches!(
                f.data_type(),
                DataType::Binary | DataType::Float32 | DataType::Float64
            )
        {
            bail!("--partition-by: column '{name}' has type {} (use a string, integer, boolean or date column)", f.data_type());
        }
        partition_cols.push((i, name.clone()));
    }
    let data_cols: Vec<usize> = (0..schema.fields().len())
        .filter(|i| !partition_cols.iter().any(|(p, _)| p == i))
        .collect();
    if data_cols.is_empty() {
        bail!("--partition-by: every column is a partition column; nothing would be left in the files");
    }
    let file_schema = Arc::new(schema.project(&data_cols)?);
    Ok((partition_cols, data_cols, file_schema))
}

/// `--overwrite` on a folder: once the new files are complete, remove the visible
/// Parquet files that an earlier run left (never hidden files, never other data).
fn remove_earlier_parts(fs: &Fs, root: &Location, keep: &HashSet<Location>) -> Result<()> {
    let entries = match fs.list(root, false) {
        Ok(entries) => entries,
        Err(StorageError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for e in entries {
        let name = e.name();
        if listing::is_hidden(&name) {
            continue;
        }
        if e.is_dir {
            if name.contains('=') {
                remove_earlier_parts(fs, &e.location, keep)?;
                let _ = fs.delete(&e.location, false); // only succeeds when now empty
            }
        } else if name.ends_with(".parquet") && !keep.contains(&e.location) {
            fs.delete(&e.location, false)
                .with_context(|| format!("removing earlier file {}", e.location))?;
        }
    }
    Ok(())
}
