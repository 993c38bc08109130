//! Writing one merged file: every row of the inputs, in their order, under the union of
//! their schemas (by column name; a column a file lacks is null in its rows), with
//! pq-write's encoding choices (`lakepipe::parquet_write`) and the inputs' codec.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow_array::{new_null_array, ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema, SchemaRef};
use bytes::Bytes;
use lakepipe::location::Location;
use lakepipe::parquet_write::{self, ColumnWriter};
use lakepipe::progress::Progress;
use lakepipe::storage::Fs;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;

/// Rows per batch read from an input.
const BATCH_ROWS: usize = 8192;

/// What was written.
pub struct Merged {
    pub rows: u64,
    pub bytes: u64,
}

/// Merge `inputs` into the new file `out` (a hidden name: nobody reads it yet).
pub fn merge(
    fs: &Fs,
    inputs: &[Location],
    out: &Location,
    row_group_rows: usize,
    progress: &Progress,
) -> Result<Merged> {
    let mut opened = Vec::new();
    for (loc, r) in inputs.iter().zip(fetch(fs, inputs)?) {
        let meta = ArrowReaderMetadata::load(&r, ArrowReaderOptions::new())
            .with_context(|| format!("{loc}: not a valid Parquet file"))?;
        lakepipe::read::check_row_count(&loc.to_string(), meta.metadata())?;
        opened.push((loc, r, meta));
    }
    let schema = union(opened.iter().map(|(l, _, m)| (*l, m.schema().as_ref())))?;
    let codec = opened
        .iter()
        .flat_map(|(_, _, m)| m.metadata().row_groups().first())
        .flat_map(|g| g.columns().first())
        .map(|c| c.compression())
        .next()
        .unwrap_or(Compression::SNAPPY);
    let mut batches = opened
        .into_iter()
        .flat_map(|(loc, r, meta)| read(loc, r, meta));
    // the dictionary test needs a sample before the writer exists
    let mut head = Vec::new();
    let mut sampled = 0;
    while sampled < parquet_write::SAMPLE_ROWS {
        let Some(b) = batches.next() else { break };
        let b = align(&b?, &schema)?;
        sampled += b.num_rows();
        head.push(b);
    }
    let sample = arrow_select::concat::concat_batches(&schema, &head)?;
    let props = parquet_write::properties(codec, row_group_rows, Some(&sample));
    let file = fs
        .create(out, false)
        .with_context(|| format!("creating {out}"))?;
    let mut w = ColumnWriter::try_new(file, schema.clone(), props)?;
    let mut rows = 0u64;
    let mut write = |b: &RecordBatch, w: &mut ColumnWriter<_>| -> Result<()> {
        w.write(b).with_context(|| format!("writing {out}"))?;
        rows += b.num_rows() as u64;
        progress.add(b.num_rows() as u64, b.get_array_memory_size() as u64);
        Ok(())
    };
    for b in &head {
        write(b, &mut w)?;
    }
    for b in batches {
        write(&align(&b?, &schema)?, &mut w)?;
    }
    let f = w.into_inner().with_context(|| format!("finishing {out}"))?;
    let bytes = f.close().with_context(|| format!("closing {out}"))?;
    Ok(Merged { rows, bytes })
}

/// Every input whole in memory (a group is about --target-size), fetched by several
/// threads.
fn fetch(fs: &Fs, inputs: &[Location]) -> Result<Vec<Bytes>> {
    crate::swap::each(inputs, |loc| {
        fs.read_all(loc).with_context(|| format!("reading {loc}"))
    })
}

/// An input's batches, errors naming it.
fn read(
    loc: &Location,
    r: Bytes,
    meta: ArrowReaderMetadata,
) -> Box<dyn Iterator<Item = Result<RecordBatch>>> {
    let name = loc.to_string();
    match ParquetRecordBatchReaderBuilder::new_with_metadata(r, meta)
        .with_batch_size(BATCH_ROWS)
        .build()
    {
        Ok(it) => Box::new(it.map(move |b| b.with_context(|| format!("reading {name}")))),
        Err(e) => Box::new(std::iter::once(
            Err(e).with_context(|| format!("reading {loc}")),
        )),
    }
}

/// The columns of every schema by name, in order of first appearance; a column some
/// file lacks (schema growth) is nullable. The same name with two types is an error.
pub fn union<'a>(schemas: impl Iterator<Item = (&'a Location, &'a Schema)>) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = Vec::new();
    let mut seen_in: Vec<usize> = Vec::new();
    let mut files = 0;
    let mut metadata = None;
    for (loc, s) in schemas {
        files += 1;
        metadata.get_or_insert_with(|| s.metadata().clone());
        for f in s.fields() {
            match fields.iter().position(|g| g.name() == f.name()) {
                Some(i) if fields[i].data_type() != f.data_type() => bail!(
                    "{loc}: column '{}' is {} here but {} in an earlier file (not merged)",
                    f.name(),
                    f.data_type(),
                    fields[i].data_type()
                ),
                Some(i) => {
                    let nullable = fields[i].is_nullable() || f.is_nullable();
                    fields[i] = fields[i].clone().with_nullable(nullable);
                    seen_in[i] += 1;
                }
                None => {
                    fields.push(
                        f.as_ref()
                            .clone()
                            .with_nullable(f.is_nullable() || files > 1),
                    );
                    seen_in.push(1);
                }
            }
        }
    }
    let fields = fields
        .into_iter()
        .zip(seen_in)
        .map(|(f, n)| {
            let nullable = f.is_nullable() || n < files;
            f.with_nullable(nullable)
        })
        .collect::<Vec<_>>();
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        metadata.unwrap_or_default(),
    )))
}

/// `b`'s columns in `schema`'s order, nulls for those it lacks.
fn align(b: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match b.column_by_name(f.name()) {
            Some(c) => c.clone(),
            None => new_null_array(f.data_type(), b.num_rows()),
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}
