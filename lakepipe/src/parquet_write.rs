//! Writing Parquet files the way pq-write does, so that every tool writing our files
//! (pq-write, pq-compact) makes the same encoding choices: the codec, row groups of a
//! number of rows, Spark's dictionary rule per column ([`dictionary`]), and the
//! two-thread column encoder ([`column_writer`]), byte for byte parquet's `ArrowWriter`.

pub mod column_writer;
pub mod dictionary;

use arrow_array::RecordBatch;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

pub use column_writer::ColumnWriter;

/// pq-write's default `--row-group-rows`.
pub const ROW_GROUP_ROWS: usize = 131_072;
/// Rows pq-write decodes from its first input to choose the dictionary columns.
pub const SAMPLE_ROWS: usize = 20_000;

/// The writer properties: `compression`, row groups of `row_group_rows` rows, and
/// dictionaries except on the columns of `sample` where they do not pay.
pub fn properties(
    compression: Compression,
    row_group_rows: usize,
    sample: Option<&RecordBatch>,
) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_dictionary_enabled(true);
    for col in sample.map(dictionary::plain_columns).unwrap_or_default() {
        props = props.set_column_dictionary_enabled(col, false);
    }
    props.build()
}
