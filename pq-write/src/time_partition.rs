//! `--time-partition`: Hive-style folders by a time bucket of each row
//! (`dt=2026-12-07/hour=05/`), as Kafka Connect's `TimeBasedPartitioner` lays them out.
//!
//! The time is the Kafka record's (`_timestamp` of a kcat envelope) or a field of the
//! row (ISO-8601 text, or epoch milliseconds); the folders are its wall-clock time in
//! `--timezone` (UTC by default). Each `key=FORMAT` component of the layout becomes a
//! string column that the sink routes rows by, as `--partition-by` columns, and that
//! registration declares as a partition key (string, as Kafka Connect's hive
//! integration does). A row without a usable time is a bad line.

use std::sync::Arc;

use arrow_array::{ArrayRef, StringArray};
use arrow_schema::{DataType, Field, FieldRef, TimeUnit};
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lakepipe::envelope::Envelope;

use crate::decode::{parse_timestamp, LineError};

/// The field that names the Kafka record time.
pub const RECORD_TIME: &str = "_timestamp";

/// How rows are bucketed by time.
#[derive(Debug, Clone)]
pub struct TimeBuckets {
    /// (partition key, strftime format of its value), in folder order.
    parts: Vec<(String, String)>,
    /// A row field, or [`RECORD_TIME`].
    field: String,
    tz: Tz,
}

impl TimeBuckets {
    /// From `--time-partition LAYOUT` (`day`, `hour`, or `key=FORMAT[/key=FORMAT...]`),
    /// `--time-field` and `--timezone`. `envelope`: lines are kcat envelopes, whose record
    /// time is the default field.
    pub fn parse(
        layout: &str,
        field: Option<&str>,
        tz: Option<&str>,
        envelope: bool,
    ) -> Result<TimeBuckets, String> {
        let layout = match layout {
            "day" => "dt=%Y-%m-%d",
            "hour" => "dt=%Y-%m-%d/hour=%H",
            l => l,
        };
        let mut parts = Vec::new();
        for comp in layout.trim_matches('/').split('/') {
            let Some((key, fmt)) = comp.split_once('=') else {
                return Err(format!(
                    "--time-partition: '{comp}' is not key=FORMAT (e.g. dt=%Y-%m-%d/hour=%H)"
                ));
            };
            let bad = StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error));
            if key.is_empty() || !fmt.contains('%') || bad {
                return Err(format!(
                    "--time-partition: '{comp}' needs a key and a strftime FORMAT with % fields (e.g. hour=%H)"
                ));
            }
            if parts.iter().any(|(k, _)| k == key) {
                return Err(format!("--time-partition: key '{key}' appears twice"));
            }
            parts.push((key.to_string(), fmt.to_string()));
        }
        let field = match field {
            Some("") => return Err("--time-field needs a field name".into()),
            Some(f) => f.to_string(),
            None if envelope => RECORD_TIME.to_string(),
            None => {
                return Err(
                    "--time-partition needs --time-field FIELD (or --envelope kcat, whose record time is the default)"
                        .into(),
                )
            }
        };
        if field == RECORD_TIME && !envelope {
            return Err(
                "--time-field _timestamp is the Kafka record time: it needs --envelope kcat".into(),
            );
        }
        let tz = match tz {
            None => Tz::UTC,
            Some(name) => name
                .parse()
                .map_err(|_| format!("--timezone: unknown time zone '{name}' (an IANA name such as Europe/Paris, or UTC)"))?,
        };
        Ok(TimeBuckets { parts, field, tz })
    }

    /// The partition keys, in folder order.
    pub fn keys(&self) -> Vec<String> {
        self.parts.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The string columns the keys become in the batches.
    pub fn fields(&self) -> Vec<FieldRef> {
        self.parts
            .iter()
            .map(|(k, _)| Arc::new(Field::new(k, DataType::Utf8, true)))
            .collect()
    }

    /// The bucket values of one row; a missing or unusable time is a bad line.
    pub fn values(&self, row: &[u8], env: Option<&Envelope>) -> Result<Vec<String>, LineError> {
        let ms = match (self.field.as_str(), env) {
            (RECORD_TIME, Some(e)) => e.ts.ok_or_else(|| {
                LineError::Type(
                    "the envelope has no record timestamp (ts) for --time-partition".into(),
                )
            })?,
            (field, _) => self.field_ms(row, field)?,
        };
        let t = DateTime::<Utc>::from_timestamp_millis(ms)
            .ok_or_else(|| LineError::Type(format!("time {ms} ms is out of range")))?
            .with_timezone(&self.tz);
        Ok(self
            .parts
            .iter()
            .map(|(_, fmt)| t.format(fmt).to_string())
            .collect())
    }

    /// A row field's time in epoch milliseconds: a JSON integer, or ISO-8601 text
    /// (a time without an offset is UTC, as pq-write's TIMESTAMP columns read it).
    fn field_ms(&self, row: &[u8], field: &str) -> Result<i64, LineError> {
        let bad = |why: String| {
            LineError::Type(format!(
                "--time-field '{field}' {why} (it must be ISO-8601 text or epoch milliseconds)"
            ))
        };
        match crate::tables::top_field(row, field)? {
            Some(serde_json::Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .ok_or_else(|| bad(format!("is {n}"))),
            Some(serde_json::Value::String(s)) => parse_timestamp(&s, TimeUnit::Millisecond)
                .ok_or_else(|| bad(format!("is '{s}', not a time"))),
            None => Err(bad("is missing".into())),
            Some(v) => Err(bad(format!("is {v}"))),
        }
    }
}

/// The bucket columns of the rows that decoded.
#[derive(Default)]
pub struct TimeColumns {
    cols: Vec<Vec<String>>,
}

impl TimeColumns {
    pub fn push(&mut self, values: Vec<String>) {
        self.cols.resize_with(values.len(), Vec::new);
        for (c, v) in self.cols.iter_mut().zip(values) {
            c.push(v);
        }
    }

    pub fn finish(&mut self) -> Vec<ArrayRef> {
        std::mem::take(&mut self.cols)
            .into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(layout: &str, field: &str, tz: Option<&str>) -> TimeBuckets {
        TimeBuckets::parse(layout, Some(field), tz, false).unwrap()
    }

    fn vals(t: &TimeBuckets, row: &str) -> Result<Vec<String>, String> {
        t.values(row.as_bytes(), None).map_err(|e| e.to_string())
    }

    #[test]
    fn utc_hour_folders_from_iso_text_and_epoch_ms() {
        let t = b("hour", "ts", None);
        assert_eq!(t.keys(), ["dt", "hour"]);
        let want = ["2026-12-07", "05"];
        assert_eq!(vals(&t, r#"{"ts":"2026-12-07T05:59:59Z"}"#).unwrap(), want);
        // an offset is taken into account: 07:30+02:00 is 05:30 UTC
        assert_eq!(
            vals(&t, r#"{"ts":"2026-12-07T07:30:00+02:00"}"#).unwrap(),
            want
        );
        assert_eq!(
            vals(&t, r#"{"ts":"2026-12-07 05:00:00.123"}"#).unwrap(),
            want
        );
        // 2026-12-07T05:10:00Z in epoch milliseconds
        assert_eq!(vals(&t, r#"{"ts":1796620200000}"#).unwrap(), want);
    }

    #[test]
    fn a_time_zone_moves_the_day() {
        let t = b("hour", "ts", Some("America/New_York"));
        // 03:00 UTC is 22:00 the day before in New York (EST, UTC-5)
        assert_eq!(
            vals(&t, r#"{"ts":"2026-12-07T03:00:00Z"}"#).unwrap(),
            ["2026-12-06", "22"]
        );
        let t = b("day", "ts", Some("Asia/Tokyo"));
        assert_eq!(
            vals(&t, r#"{"ts":"2026-12-07T20:00:00Z"}"#).unwrap(),
            ["2026-12-08"]
        );
    }

    #[test]
    fn a_named_layout() {
        let t = b("year=%Y/month=%m/day=%d", "ts", None);
        assert_eq!(t.keys(), ["year", "month", "day"]);
        assert_eq!(
            vals(&t, r#"{"ts":"2026-01-02T00:00:00Z"}"#).unwrap(),
            ["2026", "01", "02"]
        );
    }

    #[test]
    fn missing_or_unusable_times_are_bad_lines() {
        let t = b("day", "ts", None);
        for (row, why) in [
            (r#"{"a":1}"#, "is missing"),
            (r#"{"ts":null}"#, "is null"),
            (r#"{"ts":"yesterday"}"#, "not a time"),
            (r#"{"ts":true}"#, "is true"),
        ] {
            let e = t.values(row.as_bytes(), None).unwrap_err();
            assert!(matches!(e, LineError::Type(_)), "{row}");
            assert!(
                e.to_string().contains(why) && e.to_string().contains("'ts'"),
                "{row}: {e}"
            );
        }
    }

    #[test]
    fn record_time_of_an_envelope() {
        let t = TimeBuckets::parse("hour", None, None, true).unwrap();
        let line = br#"{"topic":"t","partition":0,"offset":1,"ts":1796620200000,"payload":"{}"}"#;
        let e = Envelope::parse(line).unwrap();
        assert_eq!(t.values(b"{}", Some(&e)).unwrap(), ["2026-12-07", "05"]);
        let line = br#"{"topic":"t","partition":0,"offset":1,"payload":"{}"}"#;
        let e = Envelope::parse(line).unwrap();
        assert!(t.values(b"{}", Some(&e)).is_err());
    }

    #[test]
    fn bad_layouts_and_zones_are_usage_errors() {
        for (layout, field, tz, env) in [
            ("dt", Some("ts"), None, false),
            ("dt=day", Some("ts"), None, false),
            ("=%Y", Some("ts"), None, false),
            ("day", None, None, false),
            ("day", Some("_timestamp"), None, false),
            ("day", Some("ts"), Some("Mars/Olympus"), false),
            ("dt=%Y/dt=%m", Some("ts"), None, false),
        ] {
            assert!(
                TimeBuckets::parse(layout, field, tz, env).is_err(),
                "{layout} {field:?} {tz:?}"
            );
        }
    }
}
