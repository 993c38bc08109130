//! `--kafka-meta`: the topic, partition, offset and timestamp of each row's kcat `-J`
//! envelope (read by `lakepipe::envelope`) as extra columns.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use lakepipe::envelope::Envelope;

/// The `--kafka-meta` columns.
pub fn meta_fields() -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new("_topic", DataType::Utf8, true)),
        Arc::new(Field::new("_partition", DataType::Int32, true)),
        Arc::new(Field::new("_offset", DataType::Int64, true)),
        Arc::new(Field::new(
            "_timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        )),
    ]
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
