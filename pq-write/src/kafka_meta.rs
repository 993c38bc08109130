//! `--kafka-meta`: the topic, partition, offset and timestamp of each row's kcat `-J`
//! envelope (read by `lakepipe::envelope`) as extra columns.

use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, FieldRef, Schema, TimeUnit};
use lakepipe::envelope::Envelope;

use crate::commit::Tp;

/// The names of the `--kafka-meta` columns, in their order.
pub const NAMES: [&str; 4] = ["_topic", "_partition", "_offset", "_timestamp"];

/// The `--kafka-meta` columns.
pub fn meta_fields() -> Vec<FieldRef> {
    let types = [
        DataType::Utf8,
        DataType::Int32,
        DataType::Int64,
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
    ];
    NAMES
        .iter()
        .zip(types)
        .map(|(name, t)| Arc::new(Field::new(*name, t, true)))
        .collect()
}

/// Accumulates metadata for the rows that decoded.
#[derive(Default)]
pub struct MetaColumns {
    topic: Vec<Option<String>>,
    partition: Vec<Option<i32>>,
    offset: Vec<Option<i64>>,
    ts: Vec<Option<i64>>,
}

impl MetaColumns {
    pub fn push(&mut self, e: &Envelope) {
        self.topic.push(e.topic.as_ref().map(|t| t.to_string()));
        self.partition.push(e.partition);
        self.offset.push(e.offset);
        self.ts.push(e.ts);
    }

    pub fn finish(&mut self) -> Vec<ArrayRef> {
        let m = std::mem::take(self);
        vec![
            Arc::new(StringArray::from(m.topic)),
            Arc::new(Int32Array::from(m.partition)),
            Arc::new(Int64Array::from(m.offset)),
            Arc::new(TimestampMillisecondArray::from(m.ts).with_timezone("UTC")),
        ]
    }
}

/// Indices in `schema` of `_topic`, `_partition` and `_offset` (--exactly-once routes
/// and drops rows by them).
pub fn tp_indices(schema: &Schema) -> Result<[usize; 3]> {
    let idx = |name: &str| {
        schema
            .index_of(name)
            .with_context(|| format!("--exactly-once: no {name} column"))
    };
    let [t, p, o, _] = NAMES;
    Ok([idx(t)?, idx(p)?, idx(o)?])
}

/// The `_topic`, `_partition` and `_offset` columns of a batch, read row by row.
pub struct TpColumns<'a> {
    topic: &'a StringArray,
    partition: &'a Int32Array,
    offset: &'a Int64Array,
    /// The last topic seen, shared by its rows (one allocation per topic change).
    cached: Option<Arc<str>>,
}

impl<'a> TpColumns<'a> {
    /// `at`: the columns' indices ([`tp_indices`]).
    pub fn new(batch: &'a RecordBatch, at: [usize; 3]) -> TpColumns<'a> {
        let [t, p, o] = at;
        TpColumns {
            topic: batch.column(t).as_string(),
            partition: batch.column(p).as_primitive::<Int32Type>(),
            offset: batch.column(o).as_primitive::<Int64Type>(),
            cached: None,
        }
    }

    /// The row's partition and offset (the decoder rejects envelopes without them).
    pub fn get(&mut self, row: usize) -> (Tp, i64) {
        let name = self.topic.value(row);
        let topic = match &self.cached {
            Some(t) if &**t == name => t.clone(),
            _ => self.cached.insert(Arc::from(name)).clone(),
        };
        ((topic, self.partition.value(row)), self.offset.value(row))
    }
}
