//! `--kafka-meta`: the topic, partition, offset and timestamp of each row's kcat `-J`
//! envelope (read by `lakepipe::envelope`) as extra columns.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use lakepipe::envelope::Envelope;

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
