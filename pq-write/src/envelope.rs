//! `--envelope kcat`: input lines are kcat `-J` envelopes; the payload is the row.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields of a kcat `-J` line that pq-write uses.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub topic: Option<std::borrow::Cow<'a, str>>,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub ts: Option<i64>,
    /// A JSON string holding the row (kcat), or the row itself (`--payload-json`).
    #[serde(borrow)]
    pub payload: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    pub fn parse(line: &'a [u8]) -> Result<Self, String> {
        serde_json::from_slice(line).map_err(|e| format!("not a kcat -J envelope: {e}"))
    }

    /// The row's JSON text: the payload string unescaped, or the embedded object.
    pub fn row(&self) -> Result<std::borrow::Cow<'a, [u8]>, String> {
        let raw = self.payload.ok_or("envelope has no payload")?.get();
        if raw.starts_with('"') {
            let s: String = serde_json::from_str(raw).map_err(|e| e.to_string())?;
            Ok(std::borrow::Cow::Owned(s.into_bytes()))
        } else if raw == "null" {
            Err("payload is null (a tombstone has no row)".into())
        } else {
            Ok(std::borrow::Cow::Borrowed(raw.as_bytes()))
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_string_and_embedded_object() {
        let line = br#"{"topic":"t","partition":1,"offset":5,"tstype":"create","ts":1700000000000,"broker":1,"key":null,"payload":"{\"a\":1}"}"#;
        let e = Envelope::parse(line).unwrap();
        assert_eq!(&*e.row().unwrap(), br#"{"a":1}"#);
        assert_eq!(
            (e.partition, e.offset, e.ts),
            (Some(1), Some(5), Some(1700000000000))
        );
        let embedded = br#"{"topic":"t","partition":0,"offset":0,"payload":{"a":2}}"#;
        assert_eq!(
            &*Envelope::parse(embedded).unwrap().row().unwrap(),
            br#"{"a":2}"#
        );
        assert!(Envelope::parse(br#"{"topic":"t","payload":null}"#)
            .unwrap()
            .row()
            .is_err());
        assert!(Envelope::parse(b"not json").is_err());
    }
}
