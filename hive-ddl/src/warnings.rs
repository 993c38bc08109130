//! Columns that the target engine's Parquet reader cannot read correctly, from the
//! Parquet physical and logical types in the footers (facts checked with Spark 4.3,
//! its Hive 2.3 reader, and Trino).

use std::collections::BTreeSet;

use lakepipe::read::Table;
use parquet::basic::{LogicalType, TimeUnit, Type as PhysicalType};

use crate::Dialect;

/// One warning per column and reason, in column order.
pub fn for_table(table: &Table, dialect: Dialect) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut ordered = Vec::new();
    for file in &table.files {
        let descr = file.footer.metadata().file_metadata().schema_descr();
        for col in descr.columns() {
            let path = col.path().string();
            let reason = match (col.physical_type(), shape(col.logical_type_ref()), dialect) {
                (PhysicalType::INT64, Shape::Timestamp(TimeUnit::NANOS), Dialect::Hive | Dialect::Spark) => {
                    Some("nanosecond timestamps cannot be read by Spark's or Hive's Parquet reader")
                }
                (PhysicalType::INT64, Shape::Timestamp(TimeUnit::NANOS), Dialect::Trino) => {
                    Some("nanosecond timestamps are rounded to the Hive connector's timestamp precision (milliseconds by default)")
                }
                (PhysicalType::INT64, Shape::Timestamp(_), Dialect::Hive) => Some(
                    "Hive 2.3's own Parquet reader cannot read INT64 timestamps (Spark's reader, its default for these tables, can)",
                ),
                (_, Shape::Unsigned(64), Dialect::Hive) => {
                    Some("Hive 2.3's own Parquet reader fails on UINT64 (declared DECIMAL(20,0); Spark's reader can read it)")
                }
                (_, Shape::Unsigned(32), Dialect::Hive) => Some(
                    "Hive 2.3's own Parquet reader reads UINT32 values above 2147483647 as negative numbers, without an error",
                ),
                (_, Shape::Time, _) => {
                    Some("Hive has no TIME type: declared as STRING, which the reader cannot read from a TIME column")
                }
                (PhysicalType::FIXED_LEN_BYTE_ARRAY, Shape::Float16, _) => {
                    Some("FLOAT16 is declared FLOAT, but the readers may not read half floats")
                }
                _ => None,
            };
            if let Some(reason) = reason {
                let msg = format!("column {path}: {reason}");
                if out.insert(msg.clone()) {
                    ordered.push(msg);
                }
            }
        }
    }
    ordered
}

/// Nested struct fields left out of table `table`'s declared types (Hive's type syntax
/// cannot name them), or, for a Spark data-source table, the one warning that Hive and
/// Trino cannot read that table.
pub fn nested_names(table: &str, left_out: &[String], data_source: bool) -> Vec<String> {
    if left_out.is_empty() {
        return Vec::new();
    }
    if data_source {
        return vec![format!(
            "table {table}: nested field names Hive's type syntax cannot carry ({}): a Spark data-source table (USING parquet) keeps them; Hive and Trino cannot read it",
            left_out.join(", ")
        )];
    }
    left_out
        .iter()
        .map(|path| format!(
            "table {table}: nested field {path} left out of the declared type: Hive's type syntax cannot name it (the rest of the struct stays readable; pq-write --flatten keeps it as a column)"
        ))
        .collect()
}

/// The parts of a logical type that decide readability.
enum Shape {
    Timestamp(TimeUnit),
    Unsigned(i8),
    Time,
    Float16,
    Other,
}

fn shape(t: Option<&LogicalType>) -> Shape {
    match t {
        Some(LogicalType::Timestamp(ts)) => Shape::Timestamp(ts.unit),
        Some(LogicalType::Integer(i)) if !i.is_signed => Shape::Unsigned(i.bit_width),
        Some(LogicalType::Time(_)) => Shape::Time,
        Some(LogicalType::Float16) => Shape::Float16,
        _ => Shape::Other,
    }
}
