//! A Parquet file writer that encodes a batch's columns on two threads. The writer
//! thread is pq-write's critical path: it encodes and compresses every column of every
//! row group while the decoders wait for room. Columns encode independently and their
//! chunks are appended in schema order, so the file is byte for byte the one parquet's
//! `ArrowWriter` writes with the same properties (a test checks); only sooner.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::errors::Result;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

/// Below this many rows a batch is encoded on the calling thread: a thread costs more
/// than it saves.
const SPLIT_ROWS: usize = 4096;

pub struct ColumnWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Leaf (Parquet) columns per top-level field, in order.
    leaves: Vec<usize>,
    /// The open row group's column writers, per top-level field.
    open: Option<Vec<Mutex<Vec<ArrowColumnWriter>>>>,
    /// Rows in the open row group.
    rows: usize,
    max_rows: Option<usize>,
}

impl<W: Write + Send> ColumnWriter<W> {
    /// `props` must not limit row groups by bytes (`ArrowWriter` splits those by
    /// estimates this writer does not repeat).
    pub fn try_new(w: W, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        debug_assert!(props.max_row_group_bytes().is_none());
        let max_rows = props.max_row_group_row_count();
        // ArrowWriter makes the file writer as it would for itself (schema conversion,
        // the Arrow schema in the footer's metadata) and hands it over empty.
        let (file, factory) =
            ArrowWriter::try_new(w, schema.clone(), Some(props))?.into_serialized_writer()?;
        let descr = file.schema_descr();
        let mut leaves = vec![0; schema.fields().len()];
        for i in 0..descr.num_columns() {
            leaves[descr.get_column_root_idx(i)] += 1;
        }
        Ok(ColumnWriter {
            file,
            factory,
            schema,
            leaves,
            open: None,
            rows: 0,
            max_rows,
        })
    }

    /// Bytes in the file so far (row groups closed).
    pub fn bytes_written(&self) -> usize {
        self.file.bytes_written()
    }

    /// The open row group's expected encoded size.
    pub fn in_progress_size(&self) -> usize {
        let fields = self.open.iter().flatten();
        let writers = fields.map(|f| {
            let f = f.lock().expect("no encoder panicked");
            f.iter()
                .map(|w| w.get_estimated_total_bytes())
                .sum::<usize>()
        });
        writers.sum()
    }

    /// Writes `batch`, closing a row group whenever it reaches the row limit (where
    /// `ArrowWriter::write` would).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut rest = batch.clone();
        while rest.num_rows() > 0 {
            let room = self.max_rows.map_or(usize::MAX, |m| m - self.rows);
            let n = rest.num_rows().min(room);
            self.encode(&rest.slice(0, n))?;
            rest = rest.slice(n, rest.num_rows() - n);
            if self.max_rows.is_some_and(|m| self.rows >= m) {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Flushes the open row group and returns the file, footer written.
    pub fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        self.file.into_inner()
    }

    /// Adds `batch` to the open row group: each thread takes the next field not taken.
    fn encode(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.open.is_none() {
            let index = self.file.flushed_row_groups().len();
            let mut writers = self.factory.create_column_writers(index)?.into_iter();
            let fields = self
                .leaves
                .iter()
                .map(|n| writers.by_ref().take(*n).collect());
            self.open = Some(fields.map(Mutex::new).collect());
        }
        let open = self.open.as_ref().expect("just opened");
        let fields = self.schema.fields();
        let next = AtomicUsize::new(0);
        let work = || -> Result<()> {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(column) = batch.columns().get(i) else {
                    return Ok(());
                };
                let mut writers = open[i].lock().expect("no encoder panicked");
                for (w, leaf) in writers.iter_mut().zip(compute_leaves(&fields[i], column)?) {
                    w.write(&leaf)?;
                }
            }
        };
        on_two_threads(batch.num_rows() >= SPLIT_ROWS, work)?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Closes the open row group: its columns' last pages are compressed side by side,
    /// then the chunks go into the file in schema order.
    fn flush(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let next = AtomicUsize::new(0);
        let closed: Vec<Mutex<Vec<_>>> = open.iter().map(|_| Mutex::new(Vec::new())).collect();
        let work = || -> Result<()> {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(field) = open.get(i) else {
                    return Ok(());
                };
                let writers = std::mem::take(&mut *field.lock().expect("no encoder panicked"));
                let chunks = writers.into_iter().map(|w| w.close());
                *closed[i].lock().expect("no encoder panicked") = chunks.collect::<Result<_>>()?;
            }
        };
        on_two_threads(self.rows >= SPLIT_ROWS, work)?;
        let mut group = self.file.next_row_group()?;
        for field in closed {
            for chunk in field.into_inner().expect("no encoder panicked") {
                chunk.append_to_row_group(&mut group)?;
            }
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }
}

/// `work` on this thread and, when `split`, on one more; the first error.
fn on_two_threads(split: bool, work: impl Fn() -> Result<()> + Sync) -> Result<()> {
    if !split {
        return work();
    }
    std::thread::scope(|s| {
        let helper = s.spawn(&work);
        let mine = work();
        let theirs = helper
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        mine.and(theirs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::types::Int64Type;
    use arrow_array::{ArrayRef, Int64Array, ListArray, StringArray, StructArray};
    use arrow_schema::{DataType, Field};
    use parquet::basic::Compression;
    use std::sync::Arc;

    /// Flat, nested and list columns, some with nulls, over batches of uneven sizes.
    fn batches() -> Vec<RecordBatch> {
        let sizes = [1, 5000, 3, 12000, 4096, 7, 9000];
        let mut start = 0i64;
        let mut out = Vec::new();
        for n in sizes {
            let ids: Vec<i64> = (start..start + n).collect();
            start += n;
            let id: ArrayRef = Arc::new(Int64Array::from(ids.clone()));
            let name: ArrayRef = Arc::new(StringArray::from_iter(
                ids.iter()
                    .map(|i| (i % 7 != 0).then(|| format!("n{}", i % 300))),
            ));
            let tags: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
                ids.iter()
                    .map(|i| (i % 5 != 0).then(|| (0..i % 4).map(Some).collect::<Vec<_>>())),
            ));
            let inner = StructArray::from(vec![
                (Arc::new(Field::new("x", DataType::Int64, true)), id.clone()),
                (
                    Arc::new(Field::new("y", DataType::Utf8, true)),
                    name.clone(),
                ),
            ]);
            let cols = vec![id, name, tags, Arc::new(inner) as ArrayRef];
            out.push(
                RecordBatch::try_from_iter(["id", "name", "tags", "s"].into_iter().zip(cols))
                    .unwrap(),
            );
        }
        out
    }

    /// The same bytes as ArrowWriter, with row groups cut inside and between batches.
    #[test]
    fn writes_the_bytes_arrow_writer_writes() {
        let batches = batches();
        let schema = batches[0].schema();
        for rows in [1000, 4096, 10_000, 1 << 20] {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(rows))
                .build();
            let mut want =
                ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.clone())).unwrap();
            let mut got = ColumnWriter::try_new(Vec::new(), schema.clone(), props).unwrap();
            for b in &batches {
                want.write(b).unwrap();
                got.write(b).unwrap();
                assert_eq!(got.bytes_written(), want.bytes_written(), "rows {rows}");
                assert_eq!(
                    got.in_progress_size(),
                    want.in_progress_size(),
                    "rows {rows}"
                );
            }
            let (want, got) = (want.into_inner().unwrap(), got.into_inner().unwrap());
            assert!(got.len() > 1000);
            assert!(got == want, "row groups of {rows}: the files differ");
        }
    }

    /// Dictionary-encoded text reads back as written when values differ in one byte
    /// anywhere (vendor/parquet's interner compares short values a word at a time).
    #[test]
    fn dictionary_keeps_values_that_differ_in_one_byte() {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::basic::Encoding;

        let mut values = vec![];
        for n in 0..40 {
            let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            values.push(base.clone());
            for at in 0..n {
                let mut v = base.clone();
                v[at] = b'Z';
                values.push(v);
            }
        }
        let text: Vec<String> = values
            .iter()
            .chain(values.iter().rev())
            .map(|v| String::from_utf8(v.clone()).unwrap())
            .collect();
        let array: ArrayRef = Arc::new(StringArray::from(text));
        let batch = RecordBatch::try_from_iter([("v", array)]).unwrap();
        let file = tempfile::tempfile().unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        let file = w.into_inner().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let chunk = reader.metadata().row_group(0).column(0);
        assert!(chunk.encodings().any(|e| e == Encoding::RLE_DICTIONARY));
        let back: Vec<ArrayRef> = reader
            .with_batch_size(1 << 16)
            .build()
            .unwrap()
            .map(|b| b.unwrap().column(0).clone())
            .collect();
        assert_eq!(back, [batch.column(0).clone()]);
    }

    /// Page and chunk statistics of dictionary-encoded text are the min and max of each
    /// page's values (vendor/parquet takes them from the dictionary's keys, each distinct
    /// value once per page), also across a dictionary that falls back to plain mid-chunk.
    #[test]
    fn dictionary_pages_keep_exact_statistics() {
        use parquet::basic::Encoding;
        use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
        use parquet::file::page_index::column_index::ColumnIndexMetaData;

        const WORDS: [&str; 9] = ["", "a", "ab", "abc", "b", "ba", "zz", "é", "\u{10000}"];
        let mut state = 1u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let rows = 30_000;
        let few: Vec<Option<String>> = (0..rows)
            .map(|_| match next(10) {
                0 => None,
                _ => Some(format!("{}{}", WORDS[next(9) as usize], next(5))),
            })
            .collect();
        let many: Vec<Option<String>> = (0..rows)
            .map(|_| Some(format!("v{}", next(1 << 30))))
            .collect();
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("few", Arc::new(StringArray::from(few.clone()))),
            ("many", Arc::new(StringArray::from(many.clone()))),
        ];
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(12_000))
            .set_data_page_row_count_limit(700)
            .set_write_batch_size(256)
            .set_dictionary_page_size_limit(4096)
            .build();
        let file = tempfile::tempfile().unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        for at in (0..rows).step_by(7_000) {
            w.write(&batch.slice(at, 7_000.min(rows - at))).unwrap();
        }
        let file = w.into_inner().unwrap();
        let md = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Required)
            .parse_and_finish(&file)
            .unwrap();
        let (mut start, mut pages) = (0usize, 0);
        for (g, group) in md.row_groups().iter().enumerate() {
            let n = group.num_rows() as usize;
            let page_index = md.page_index_for_row_group(g);
            for (c, values) in [&few, &many].into_iter().enumerate() {
                let chunk = group.column(c);
                assert!(chunk.encodings().any(|e| e == Encoding::RLE_DICTIONARY));
                let locations = page_index.offset_index(c).unwrap().page_locations();
                let Some(ColumnIndexMetaData::BYTE_ARRAY(pages_index)) = page_index.column_index(c)
                else {
                    panic!("row group {g} column {c}: no text column index")
                };
                let stats = chunk.statistics().unwrap();
                let all = values[start..start + n].iter().flatten();
                assert_eq!(
                    stats.min_bytes_opt(),
                    all.clone().min().map(|v| v.as_bytes())
                );
                assert_eq!(stats.max_bytes_opt(), all.max().map(|v| v.as_bytes()));
                for (p, loc) in locations.iter().enumerate() {
                    let from = start + loc.first_row_index as usize;
                    let to = locations
                        .get(p + 1)
                        .map_or(start + n, |l| start + l.first_row_index as usize);
                    let page = values[from..to].iter().flatten();
                    let want = (page.clone().min(), page.max());
                    let want = (want.0.map(|v| v.as_bytes()), want.1.map(|v| v.as_bytes()));
                    assert_eq!((pages_index.min_value(p), pages_index.max_value(p)), want);
                    pages += 1;
                }
            }
            start += n;
        }
        assert_eq!(start, rows);
        assert!(pages > 40, "{pages} pages");
    }
}
