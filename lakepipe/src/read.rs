//! Parquet inputs: files, folders, globs and stdin, with Hive-style `k=v` partition
//! columns, merged into one schema and read as a stream of record batches.
//!
//! - Which files an input names (folders, globs, hidden names) is [`crate::listing`]'s
//!   rule, the same for local paths and HDFS.
//! - `k=v` folder components below the input folder (or below a glob's literal prefix)
//!   become columns at the end: values `%XX`-unescaped, `__HIVE_DEFAULT_PARTITION__` is
//!   null, BIGINT when every value of the key is an integer, else STRING (as Spark does).
//! - Schemas merge by column name in first-seen order; a file without a column gives
//!   nulls; two files with different types (by their Hive type) for one name are an error.
//!
//! Input access goes through [`Origin`] and [`Data`]: local files, HDFS files (through
//! [`crate::storage`]) and stdin in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use arrow_array::{new_null_array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, Length};

use crate::ddl::{format_type, Dialect, Quote};
use crate::listing;
use crate::location::Location;
use crate::partition;

/// Where a Parquet file's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    Local(PathBuf),
    /// A file on HDFS (read through [`crate::storage`], footers by range reads).
    Remote(Location),
    /// Stdin, read into memory (Parquet needs random access).
    Memory(Bytes),
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name used in messages and `--meta`: the path, or `-` for stdin.
    pub name: String,
    pub origin: Origin,
    /// `(key, value)` from `k=v` folders; `None` is a null value.
    pub partitions: Vec<(String, Option<String>)>,
}

/// Open random-access bytes of a Parquet file (implements parquet's [`ChunkReader`]).
pub enum Data {
    File(File),
    Memory(Bytes),
    Remote(crate::storage::Reader),
}

impl Length for Data {
    fn len(&self) -> u64 {
        match self {
            Data::File(f) => f.len(),
            Data::Memory(b) => b.len() as u64,
            Data::Remote(r) => r.len(),
        }
    }
}

impl ChunkReader for Data {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            Data::File(f) => Box::new(f.get_read(start)?),
            Data::Memory(b) => Box::new(b.get_read(start)?),
            Data::Remote(r) => Box::new(r.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            Data::File(f) => f.get_bytes(start, length),
            Data::Memory(b) => b.get_bytes(start, length),
            Data::Remote(r) => r.get_bytes(start, length),
        }
    }
}

impl Source {
    /// Open the file's bytes.
    pub fn open(&self) -> anyhow::Result<Data> {
        Ok(match &self.origin {
            Origin::Local(p) => Data::File(File::open(p).with_context(|| self.name.clone())?),
            Origin::Memory(b) => Data::Memory(b.clone()),
            Origin::Remote(l) => Data::Remote(crate::storage::connect(l)?.open(l)?),
        })
    }

    /// Read the footer: Parquet metadata and the Arrow schema; see [`check_row_count`].
    pub fn footer(&self) -> anyhow::Result<ArrowReaderMetadata> {
        let footer = self.footer_unchecked()?;
        check_row_count(&self.name, footer.metadata())?;
        Ok(footer)
    }

    /// The footer as it is, for `--meta`, which shows even a corrupt one.
    pub fn footer_unchecked(&self) -> anyhow::Result<ArrowReaderMetadata> {
        let data = self.open()?;
        load_footer(&data).with_context(|| format!("{}: not a valid Parquet file", self.name))
    }
}

/// A footer whose row count differs from the sum of its row groups' is corrupt: readers
/// disagree on such a file (some print the footer's count, some the groups' rows), so
/// it is an error naming both counts, never a silently short read.
pub fn check_row_count(name: &str, meta: &ParquetMetaData) -> anyhow::Result<()> {
    let footer = meta.file_metadata().num_rows();
    let groups: i64 = meta.row_groups().iter().map(|g| g.num_rows()).sum();
    if footer != groups {
        bail!("{name}: corrupt footer: it says {footer} rows but its row groups hold {groups}");
    }
    Ok(())
}

/// Read only the footer of a Parquet file (hive-ddl and `--schema`/`--count` use no data).
pub fn load_footer<R: ChunkReader>(data: &R) -> parquet::errors::Result<ArrowReaderMetadata> {
    ArrowReaderMetadata::load(data, ArrowReaderOptions::new())
}

/// Expand command-line inputs into files: `-` (stdin), files, folders and globs, local
/// or `hdfs://`, by the rules of [`crate::listing`]. No input means stdin.
pub fn sources(inputs: &[String]) -> anyhow::Result<Vec<Source>> {
    if inputs.is_empty() {
        return Ok(vec![stdin_source()?]);
    }
    let mut out = Vec::new();
    for input in inputs {
        if input == "-" {
            out.push(stdin_source()?);
            continue;
        }
        out.extend(sources_of(input, &Location::parse(input)?)?);
    }
    Ok(out)
}

/// The files of one parsed input (`input` is its text, for names and errors): a table
/// folder found by listing is opened by its [`Location`], which a folder name with `%`
/// in it would not survive as text.
pub fn sources_of(input: &str, loc: &Location) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for found in listing::files(input, loc)? {
        let named = found.below.as_os_str().is_empty();
        let location = found.status.location;
        out.push(Source {
            // A file named directly keeps the name it was given.
            name: if named {
                input.to_string()
            } else {
                location.to_string()
            },
            partitions: partitions_of(&found.below),
            origin: match location {
                Location::Local(p) => Origin::Local(p),
                remote => Origin::Remote(remote),
            },
        });
    }
    Ok(out)
}

fn stdin_source() -> anyhow::Result<Source> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut buf)
        .context("reading stdin")?;
    Ok(Source {
        name: "-".into(),
        origin: Origin::Memory(Bytes::from(buf)),
        partitions: Vec::new(),
    })
}

/// `k=v` components of a relative file path's folders.
pub fn partitions_of(rel: &Path) -> Vec<(String, Option<String>)> {
    let mut parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.pop(); // the file name
    parts
        .iter()
        .filter_map(|c| partition::parse_folder(c))
        .collect()
}

/// One opened input: its source, footer and the columns it has.
pub struct InputFile {
    pub source: Source,
    pub footer: ArrowReaderMetadata,
}

/// The inputs and their merged schema (file columns, then partition columns).
pub struct Table {
    pub files: Vec<InputFile>,
    pub schema: SchemaRef,
    /// Names of the partition columns (the last fields of `schema`).
    pub partition_keys: Vec<String>,
}

/// Two types are compatible when they have the same Hive type (e.g. `STRING` for a plain
/// and a dictionary-encoded string column): the rows print the same.
fn compatible(a: &DataType, b: &DataType) -> bool {
    a == b
        || format_type(a, Dialect::Spark, Quote::Always)
            == format_type(b, Dialect::Spark, Quote::Always)
}

impl Table {
    /// Read every footer and merge the schemas.
    pub fn open(sources: Vec<Source>) -> anyhow::Result<Table> {
        let mut files = Vec::with_capacity(sources.len());
        for source in sources {
            let footer = source.footer()?;
            files.push(InputFile { source, footer });
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut first_file: Vec<usize> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (n, file) in files.iter().enumerate() {
            for f in file.footer.schema().fields() {
                match index.get(f.name()) {
                    Some(&i) if !compatible(fields[i].data_type(), f.data_type()) => bail!(
                        "column '{}' has type {} in {} but {} in {}",
                        f.name(),
                        format_type(fields[i].data_type(), Dialect::Spark, Quote::WhenNeeded),
                        files[first_file[i]].source.name,
                        format_type(f.data_type(), Dialect::Spark, Quote::WhenNeeded),
                        file.source.name
                    ),
                    Some(_) => {}
                    None => {
                        index.insert(f.name().clone(), fields.len());
                        fields.push(f.as_ref().clone().with_nullable(true));
                        first_file.push(n);
                    }
                }
            }
        }
        let partition_keys = partition_keys(&files);
        for key in &partition_keys {
            if let Some(&i) = index.get(key) {
                bail!(
                    "'{key}' is both a column in {} and a partition folder ({key}=...)",
                    files[first_file[i]].source.name
                );
            }
            let all_ints = files
                .iter()
                .filter_map(|f| partition_value(&f.source, key))
                .all(|v| v.parse::<i64>().is_ok());
            let any = files
                .iter()
                .any(|f| partition_value(&f.source, key).is_some());
            let dt = if all_ints && any {
                DataType::Int64
            } else {
                DataType::Utf8
            };
            fields.push(Field::new(key, dt, true));
        }
        Ok(Table {
            files,
            schema: Arc::new(Schema::new(fields)),
            partition_keys,
        })
    }

    /// Total rows from the footers (no data is read).
    pub fn num_rows(&self) -> i64 {
        self.files
            .iter()
            .map(|f| f.footer.metadata().file_metadata().num_rows())
            .sum()
    }

    /// The merged schema restricted to `columns` (in that order); an unknown name is an
    /// error listing the available ones.
    pub fn project(&self, columns: Option<&[String]>) -> anyhow::Result<SchemaRef> {
        let Some(columns) = columns else {
            return Ok(self.schema.clone());
        };
        let mut fields = Vec::with_capacity(columns.len());
        for (n, name) in columns.iter().enumerate() {
            if columns[..n].contains(name) {
                bail!("column '{name}' is given twice");
            }
            match self.schema.field_with_name(name) {
                Ok(f) => fields.push(f.clone()),
                Err(_) => {
                    let available: Vec<&str> = self
                        .schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect();
                    bail!("no column '{name}' (available: {})", available.join(", "))
                }
            }
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// Stream the rows of every file as batches with the columns of `schema` (from
    /// [`Table::project`]), at most `limit` rows in all. Memory stays bounded by a row
    /// group's column chunks and one batch.
    pub fn batches(self, schema: SchemaRef, limit: Option<usize>, batch_size: usize) -> Batches {
        Batches {
            files: self.files.into_iter(),
            schema,
            remaining: limit,
            batch_size,
            current: None,
        }
    }
}

fn partition_value<'a>(source: &'a Source, key: &str) -> Option<&'a str> {
    source
        .partitions
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_deref())
}

fn partition_keys(files: &[InputFile]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for f in files {
        for (k, _) in &f.source.partitions {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// The reader of the current file and how its columns map to the output.
struct Current {
    name: String,
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    /// For each output column: where it comes from.
    columns: Vec<ColumnSource>,
}

enum ColumnSource {
    /// The i-th column of the file reader's (projected) batches.
    File(usize),
    /// A partition value, repeated.
    Partition(Option<String>),
    /// Not in this file: nulls.
    Missing,
}

/// Iterator over the record batches of a [`Table`].
pub struct Batches {
    files: std::vec::IntoIter<InputFile>,
    schema: SchemaRef,
    remaining: Option<usize>,
    batch_size: usize,
    current: Option<Current>,
}

impl Batches {
    fn open_next(&mut self) -> anyhow::Result<bool> {
        let Some(file) = self.files.next() else {
            return Ok(false);
        };
        let name = file.source.name.clone();
        let file_schema = file.footer.schema().clone();
        // Read only the file's root columns that are wanted, in file order.
        let wanted: Vec<usize> = file_schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| self.schema.field_with_name(f.name()).is_ok())
            .map(|(i, _)| i)
            .collect();
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                if let Some(pos) = wanted
                    .iter()
                    .position(|&i| file_schema.field(i).name() == f.name())
                {
                    ColumnSource::File(pos)
                } else if let Some((_, v)) =
                    file.source.partitions.iter().find(|(k, _)| k == f.name())
                {
                    ColumnSource::Partition(v.clone())
                } else {
                    ColumnSource::Missing
                }
            })
            .collect();
        let mask = ProjectionMask::roots(file.footer.parquet_schema(), wanted);
        let data = file.source.open()?;
        let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(data, file.footer)
            .with_projection(mask)
            .with_batch_size(self.batch_size);
        if let Some(n) = self.remaining {
            builder = builder.with_limit(n);
        }
        let reader = builder.build().with_context(|| name.clone())?;
        self.current = Some(Current {
            name,
            reader,
            columns,
        });
        Ok(true)
    }

    /// The batch's columns arranged as the output schema.
    fn conform(&self, current: &Current, batch: RecordBatch) -> anyhow::Result<RecordBatch> {
        let n = batch.num_rows();
        let mut fields = Vec::with_capacity(self.schema.fields().len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(fields.capacity());
        for (field, source) in self.schema.fields().iter().zip(&current.columns) {
            let array = match source {
                ColumnSource::File(i) => batch.column(*i).clone(),
                ColumnSource::Missing => new_null_array(field.data_type(), n),
                ColumnSource::Partition(v) => partition_array(field.data_type(), v.as_deref(), n),
            };
            fields.push(Field::new(field.name(), array.data_type().clone(), true));
            arrays.push(array);
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(n));
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
            .with_context(|| current.name.clone())
    }
}

fn partition_array(dt: &DataType, value: Option<&str>, n: usize) -> ArrayRef {
    match (dt, value) {
        (DataType::Int64, Some(v)) => {
            Arc::new(Int64Array::from_value(v.parse().unwrap_or_default(), n))
        }
        (_, Some(v)) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, n))),
        (_, None) => new_null_array(dt, n),
    }
}

impl Iterator for Batches {
    type Item = anyhow::Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.remaining == Some(0) {
                return None;
            }
            if self.current.is_none() {
                match self.open_next() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
            let current = self.current.as_mut()?;
            match current.reader.next() {
                None => self.current = None,
                Some(Err(e)) => {
                    let name = current.name.clone();
                    self.current = None;
                    self.files = Vec::new().into_iter();
                    return Some(Err(
                        anyhow::Error::new(e).context(format!("{name}: cannot read data"))
                    ));
                }
                Some(Ok(batch)) => {
                    let mut batch = batch;
                    if let Some(r) = self.remaining.as_mut() {
                        if batch.num_rows() > *r {
                            batch = batch.slice(0, *r);
                        }
                        *r -= batch.num_rows();
                    }
                    let current = self.current.as_ref()?;
                    return Some(self.conform(current, batch));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading a footer reads the footer only: under 1 MB of a 64 MB file (the file's
    /// bytes are counted as the reader hands them out).
    #[test]
    fn a_footer_is_read_without_the_data() {
        use std::sync::atomic::{AtomicU64, Ordering};

        use arrow_array::{BinaryArray, Int64Array, RecordBatch};
        use arrow_schema::{DataType, Field, Schema};
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        use parquet::file::reader::Length;

        struct Counting {
            file: std::fs::File,
            read: AtomicU64,
        }
        impl Length for Counting {
            fn len(&self) -> u64 {
                self.file.len()
            }
        }
        impl ChunkReader for Counting {
            type T = <std::fs::File as ChunkReader>::T;
            fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
                // a streaming read could read anything: count it as the rest of the file
                self.read.fetch_add(self.len() - start, Ordering::Relaxed);
                self.file.get_read(start)
            }
            fn get_bytes(
                &self,
                start: u64,
                length: usize,
            ) -> parquet::errors::Result<bytes::Bytes> {
                self.read.fetch_add(length as u64, Ordering::Relaxed);
                self.file.get_bytes(start, length)
            }
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("blob", DataType::Binary, false),
        ]));
        let props = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .build();
        let file = std::fs::File::create(&path).unwrap();
        let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        let blob = vec![7u8; 1 << 20];
        for chunk in 0..4 {
            let ids = Int64Array::from_iter_values((0..16).map(|i| chunk * 16 + i));
            let blobs = BinaryArray::from_iter_values((0..16).map(|_| blob.as_slice()));
            let cols: Vec<arrow_array::ArrayRef> = vec![Arc::new(ids), Arc::new(blobs)];
            w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
                .unwrap();
            w.flush().unwrap(); // a row group each
        }
        w.close().unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size >= 64 << 20, "{size}");
        let counting = Counting {
            file: std::fs::File::open(&path).unwrap(),
            read: AtomicU64::new(0),
        };
        let meta = load_footer(&counting).unwrap();
        assert_eq!(meta.metadata().file_metadata().num_rows(), 64);
        assert_eq!(meta.metadata().num_row_groups(), 4);
        let read = counting.read.load(Ordering::Relaxed);
        assert!(read < 1 << 20, "read {read} bytes of a {size}-byte file");
    }

    #[test]
    fn partitions_come_from_folder_names() {
        let p = partitions_of(Path::new(
            "event_type=purchase%20sword/day=20240131/part-0.parquet",
        ));
        assert_eq!(
            p,
            vec![
                ("event_type".into(), Some("purchase sword".into())),
                ("day".into(), Some("20240131".into()))
            ]
        );
        let p = partitions_of(Path::new(&format!(
            "k={}/sub/x.parquet",
            partition::NULL_VALUE
        )));
        assert_eq!(p, vec![("k".into(), None)]);
        assert!(
            partitions_of(Path::new("k=v.parquet")).is_empty(),
            "the file name is not a partition"
        );
    }

    #[test]
    fn compatible_types_share_a_hive_type() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert!(compatible(&DataType::Utf8, &dict));
        assert!(compatible(&DataType::LargeUtf8, &DataType::Utf8));
        assert!(!compatible(&DataType::Int64, &DataType::Utf8));
    }
}
