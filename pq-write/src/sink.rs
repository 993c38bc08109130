//! Where rows go: Parquet files that become visible only when complete.
//!
//! Each file is written under a hidden name (leading `.`, which Hive, Spark and Trino
//! skip) and renamed once its footer is written. A folder target gets Spark-style
//! `part-NNNNN-<run-id>.parquet` names, rolled by rows, bytes or age, and Hive-style
//! `col=value/` sub-folders with `--partition-by`. Local folders and HDFS go through the
//! same [`lakepipe::storage`] calls (create, rename, list, delete).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_cast::cast;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use arrow_select::take::take;
use lakepipe::listing;
use lakepipe::location::Location;
use lakepipe::partition;
use lakepipe::register::{self, Registry, TableDef};
use lakepipe::storage::{self, Fs, StorageError};
use parquet::file::properties::WriterProperties;

use crate::commit::{Staged, Tp, AT_ONCE};
use crate::kafka_meta::{self, TpColumns};
use lakepipe::parquet_write::ColumnWriter;

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
    writer: ColumnWriter<storage::Writer>,
    tmp: Location,
    path: Location,
    rows: u64,
    opened: Instant,
    /// With --exactly-once: each row's offset.
    offsets: Vec<i64>,
}

/// Which file a row goes to: its `k=v/` folder and, with --exactly-once, its
/// topic-partition (each file holds one partition's rows, named by their offsets).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct FileKey {
    tp: Option<Tp>,
    dir: String,
}

/// Rows of a batch bound for one file: the file, row indices, and (--exactly-once) offsets.
type Group = (FileKey, Vec<u32>, Vec<i64>);

/// `--exactly-once`: where the input batches carry each row's topic, partition and
/// offset, which route rows to files. Committing is the tables' job
/// ([`crate::exactly_once`]): a partition's files of every table go together.
struct ByPartition {
    /// Keep the metadata columns in the files (`--kafka-meta`); without it they only
    /// route rows.
    keep_meta: bool,
    /// Input column indices of `_topic`, `_partition` and `_offset`.
    meta: [usize; 3],
}

/// Totals for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub files: u64,
    /// --exactly-once: envelopes at or below the committed offset of their partition
    /// (or redelivered).
    pub dropped: u64,
    /// --exactly-once: rows another writer committed first (dropped at commit).
    pub trimmed: u64,
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
    open: BTreeMap<FileKey, OpenFile>,
    next_part: u32,
    overwrite: bool,
    by_partition: Option<ByPartition>,
    /// --exactly-once: closed files waiting for their partition's commit.
    staged: BTreeMap<Tp, Vec<Staged>>,
    pub written: Vec<Location>,
    pub totals: Totals,
    /// `--metastore`: the table files of this sink register in, and the partition keys'
    /// columns (with their types) of the current layout.
    registration: Option<Registration>,
    key_fields: Vec<Field>,
}

/// `--metastore`: one run's registry (shared by the tables' sinks) and this table's name.
#[derive(Clone)]
pub struct Registration {
    pub registry: Arc<Mutex<Registry>>,
    pub table: String,
    /// `-q`: the changes made are not printed.
    pub quiet: bool,
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
            registration: None,
            key_fields: key_fields(schema, &partition_cols),
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
            by_partition: None,
            staged: BTreeMap::new(),
            written: Vec::new(),
            totals: Totals::default(),
        })
    }

    /// One file per topic-partition (and folder), staged for a commit under claims
    /// ([`crate::commit`]) instead of renamed. The caller checked that OUTPUT is a folder
    /// and that `--overwrite` is off.
    pub fn with_exactly_once(mut self, keep_meta: bool, schema: &Schema) -> Result<Sink> {
        self.by_partition = Some(ByPartition {
            keep_meta,
            meta: [0; 3],
        });
        self.place_meta(schema)?;
        Ok(self)
    }

    /// `--metastore`: register the table and each file's partition before the file
    /// becomes visible (its rename, or its commit with --exactly-once).
    pub fn with_registration(mut self, r: Registration) -> Sink {
        self.registration = Some(r);
        self
    }

    /// Make sure the table has the files' columns and the partitions of `dirs` (`k=v/`
    /// folders below the table, "" without partitions) are registered; the registry
    /// calls the metastore only for what is new.
    fn register<'d>(&self, dirs: impl IntoIterator<Item = &'d str>) -> Result<()> {
        let Some(r) = &self.registration else {
            return Ok(());
        };
        let mut fields: Vec<Field> = self
            .file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(self.key_fields.iter().cloned());
        let schema = Schema::new(fields);
        let keys: Vec<String> = self.key_fields.iter().map(|f| f.name().clone()).collect();
        let location = table_url(self.target.location())?;
        let origin = |_: &str| format!("the rows pq-write writes to {location}");
        let def = TableDef {
            database: "",
            name: &r.table,
            location: &location,
            schema: &schema,
            partition_keys: &keys,
            origin: &origin,
        };
        let mut registry = r.registry.lock().unwrap_or_else(|p| p.into_inner());
        for dir in dirs {
            let part = (!keys.is_empty()).then(|| register::part_of_folder(dir));
            let changes = registry
                .ensure(&def, part)
                .with_context(|| format!("registering table {} in the metastore", r.table))?;
            for c in changes {
                lakepipe::cli::info(r.quiet, c);
            }
        }
        Ok(())
    }

    /// Find the metadata columns in `schema` (again after it widened).
    fn place_meta(&mut self, schema: &Schema) -> Result<()> {
        let Some(eo) = self.by_partition.as_mut() else {
            return Ok(());
        };
        eo.meta = kafka_meta::tp_indices(schema)?;
        if !eo.keep_meta {
            let hide: Vec<usize> = kafka_meta::NAMES
                .iter()
                .filter_map(|m| schema.index_of(m).ok())
                .collect();
            self.data_cols.retain(|c| !hide.contains(c));
            self.file_schema = Arc::new(schema.project(&self.data_cols)?);
        }
        Ok(())
    }

    /// Write a batch (schema of the input, partition columns included).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.partition_cols.is_empty() && self.by_partition.is_none() {
            let data = batch.project(&self.data_cols)?;
            return self.write_to(FileKey::default(), data, &[]);
        }
        for (key, rows, offsets) in self.group_rows(batch)? {
            let idx = UInt32Array::from(rows);
            let cols = self
                .data_cols
                .iter()
                .map(|&c| take(batch.column(c).as_ref(), &idx, None))
                .collect::<Result<Vec<ArrayRef>, _>>()?;
            let data = RecordBatch::try_new(self.file_schema.clone(), cols)?;
            self.write_to(key, data, &offsets)?;
        }
        Ok(())
    }

    /// Row indices (and offsets) grouped by file, in first-seen order.
    fn group_rows(&self, batch: &RecordBatch) -> Result<Vec<Group>> {
        let dirs = self.partition_dirs(batch)?;
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<FileKey, usize> = HashMap::new();
        let mut tps = self
            .by_partition
            .as_ref()
            .map(|b| TpColumns::new(batch, b.meta));
        for row in 0..batch.num_rows() {
            let (tp, offset) = match tps.as_mut() {
                Some(t) => {
                    let (tp, offset) = t.get(row);
                    (Some(tp), offset)
                }
                None => (None, 0),
            };
            let dir = dirs.as_ref().map_or_else(String::new, |d| d[row].clone());
            let key = FileKey { tp, dir };
            let g = match index.get(&key) {
                Some(&g) => g,
                None => {
                    index.insert(key.clone(), groups.len());
                    groups.push((key, Vec::new(), Vec::new()));
                    groups.len() - 1
                }
            };
            groups[g].1.push(row as u32);
            if tps.is_some() {
                groups[g].2.push(offset);
            }
        }
        Ok(groups)
    }

    /// Each row's `k=v/...` folder, or None without --partition-by.
    fn partition_dirs(&self, batch: &RecordBatch) -> Result<Option<Vec<String>>> {
        if self.partition_cols.is_empty() {
            return Ok(None);
        }
        let texts = self
            .partition_cols
            .iter()
            .map(|(i, _)| cast(batch.column(*i).as_ref(), &DataType::Utf8))
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let texts: Vec<&arrow_array::StringArray> = texts
            .iter()
            .map(|a| a.as_any().downcast_ref().expect("cast to Utf8"))
            .collect();
        let dirs = (0..batch.num_rows())
            .map(|row| {
                let mut dir = String::new();
                for ((_, name), col) in self.partition_cols.iter().zip(&texts) {
                    let value = (!col.is_null(row)).then(|| col.value(row));
                    dir.push_str(&partition::folder(name, value));
                    dir.push('/');
                }
                dir
            })
            .collect();
        Ok(Some(dirs))
    }

    fn write_to(&mut self, key: FileKey, mut data: RecordBatch, offsets: &[i64]) -> Result<()> {
        let mut offsets = offsets;
        while data.num_rows() > 0 {
            if !self.open.contains_key(&key) {
                let f = self.open_file(&key.dir)?;
                self.open.insert(key.clone(), f);
            }
            let file = self.open.get_mut(&key).expect("just opened");
            let room = self.roll.rows.map_or(u64::MAX, |r| r - file.rows);
            let n = (data.num_rows() as u64).min(room) as usize;
            let part = data.slice(0, n);
            data = data.slice(n, data.num_rows() - n);
            file.writer
                .write(&part)
                .with_context(|| format!("writing {}", file.tmp))?;
            if !offsets.is_empty() {
                file.offsets.extend_from_slice(&offsets[..n]);
                offsets = &offsets[n..];
            }
            file.rows += n as u64;
            self.totals.rows += n as u64;
            let full_rows = self.roll.rows.is_some_and(|r| file.rows >= r);
            let full_bytes = self.roll.bytes.is_some_and(|b| {
                (file.writer.bytes_written() + file.writer.in_progress_size()) as u64 >= b
            });
            if full_rows || full_bytes {
                self.close(&key)?;
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
        let writer = ColumnWriter::try_new(f, self.file_schema.clone(), self.props.clone())?;
        Ok(OpenFile {
            writer,
            tmp,
            path,
            rows: 0,
            opened: Instant::now(),
            offsets: Vec::new(),
        })
    }

    /// Write the footer and make the file visible; with --exactly-once, stage it for its
    /// partition's commit.
    fn close(&mut self, key: &FileKey) -> Result<()> {
        if !self.open.contains_key(key) {
            return Ok(());
        }
        self.register([key.dir.as_str()])?;
        let file = self.open.remove(key).expect("checked above");
        if let Some(tp) = &key.tp {
            let staged = stage(file)?;
            self.staged.entry(tp.clone()).or_default().push(staged);
            return Ok(());
        }
        let OpenFile {
            writer, tmp, path, ..
        } = file;
        let size = finish_file(writer, &tmp)?;
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

    /// --exactly-once: the partitions that have staged files (a commit is due).
    pub fn staged_partitions(&self) -> impl Iterator<Item = &Tp> {
        self.staged.keys()
    }

    /// --exactly-once: the staged files of `tp`, for its commit.
    pub fn take_staged(&mut self, tp: &Tp) -> Vec<Staged> {
        self.staged.remove(tp).unwrap_or_default()
    }

    /// --exactly-once: footers on the open files of `tp` holding an offset at or below
    /// `upto` (they must join a commit that reaches `upto`); later files stay open.
    pub fn close_through(&mut self, tp: &Tp, upto: i64) -> Result<Vec<Staged>> {
        let keys: Vec<FileKey> = self
            .open
            .iter()
            .filter(|(k, f)| k.tp.as_ref() == Some(tp) && f.offsets.first() <= Some(&upto))
            .map(|(k, _)| k.clone())
            .collect();
        self.register(keys.iter().map(|k| k.dir.as_str()))?;
        let files = keys
            .iter()
            .map(|k| self.open.remove(k).expect("listed above"));
        stage_all(files.collect()).into_iter().collect()
    }

    /// Close the files of `keys`: with --exactly-once their footers are written side by
    /// side and staged (see [`stage_all`]), others one by one. Every file is tried; the
    /// first error is returned (a failed file stays hidden).
    fn close_all(&mut self, keys: Vec<FileKey>) -> Result<()> {
        let (eo, plain): (Vec<FileKey>, Vec<FileKey>) =
            keys.into_iter().partition(|k| k.tp.is_some());
        self.register(eo.iter().map(|k| k.dir.as_str()))?;
        let (tps, files): (Vec<Tp>, Vec<OpenFile>) = eo
            .into_iter()
            .filter_map(|k| Some((k.tp.clone()?, self.open.remove(&k)?)))
            .unzip();
        let mut first_err = None;
        for (tp, staged) in tps.into_iter().zip(stage_all(files)) {
            match staged {
                Ok(s) => self.staged.entry(tp).or_default().push(s),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        for key in plain {
            if let Err(e) = self.close(&key) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Close every open file and continue with `schema` (a wider one: schema
    /// evolution). Files written so far keep their schema.
    pub fn widen(&mut self, schema: &Schema, partition_by: &[String]) -> Result<()> {
        let layout = layout(schema, partition_by)?;
        self.abort()?;
        (self.partition_cols, self.data_cols, self.file_schema) = layout;
        self.key_fields = key_fields(schema, &self.partition_cols);
        self.place_meta(schema)
    }

    /// Close files older than `--roll-secs` (called on every batch and on a timer).
    pub fn roll_old(&mut self) -> Result<()> {
        let Some(max) = self.roll.secs else {
            return Ok(());
        };
        let old: Vec<FileKey> = self
            .open
            .iter()
            .filter(|(_, f)| f.opened.elapsed() >= max)
            .map(|(k, _)| k.clone())
            .collect();
        self.close_all(old)
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
                self.open.insert(FileKey::default(), f);
            }
        }
        self.close_all(self.open.keys().cloned().collect())?;
        if self.overwrite {
            if let Target::Folder(root) = &self.target {
                remove_earlier_parts(&self.fs, root, &self.written.iter().cloned().collect())?;
            }
        }
        Ok(())
    }

    /// Close what is open, keeping rows written so far (used on errors and interrupts).
    pub fn abort(&mut self) -> Result<()> {
        // a failed file stays hidden, the others go on
        self.close_all(self.open.keys().cloned().collect())
    }
}

/// Footers of `files` written side by side, each result in the order of `files`. On HDFS
/// a close waits for the namenode to complete the file, which waits for the datanode's
/// report of the last block (retried with backoff, vendor/README.md): one after the other,
/// a roll of a file per topic-partition (and table) would pay that wait per file.
fn stage_all(files: Vec<OpenFile>) -> Vec<Result<Staged>> {
    // threads that mostly wait on the network; bounded for topics of many partitions
    lakepipe::workers::side_by_side(files, AT_ONCE, stage)
}

/// Footer written: the file under its hidden name, for a commit.
fn stage(f: OpenFile) -> Result<Staged> {
    let bytes = finish_file(f.writer, &f.tmp)?;
    Ok(Staged {
        folder: f.path.parent().expect("folder output"),
        tmp: f.tmp,
        offsets: f.offsets,
        bytes,
    })
}

/// Footer written and file closed: its size.
fn finish_file(writer: ColumnWriter<storage::Writer>, tmp: &Location) -> Result<u64> {
    let f = writer
        .into_inner()
        .with_context(|| format!("finishing {tmp}"))?;
    f.close().with_context(|| format!("closing {tmp}"))
}

/// The partition columns of the layout, as they are typed in the batches.
fn key_fields(schema: &Schema, partition_cols: &[(usize, String)]) -> Vec<Field> {
    partition_cols
        .iter()
        .map(|(i, _)| schema.field(*i).clone())
        .collect()
}

/// A table folder as the absolute URL the metastore keeps (file:///... for a local one).
fn table_url(root: &Location) -> Result<String> {
    match root {
        Location::Local(p) => {
            let abs = std::fs::canonicalize(p).with_context(|| format!("{}", p.display()))?;
            Ok(format!("file://{}", abs.display()))
        }
        Location::Hdfs { .. } => Ok(root.to_string().trim_end_matches('/').to_string()),
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
            if partition::parse_folder(&name).is_some() {
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
