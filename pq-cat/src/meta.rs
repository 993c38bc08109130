//! `--meta`: a file's footer as one JSON object (row groups, sizes, codecs, encodings,
//! statistics, created_by).

use base64::Engine;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit};
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::statistics::Statistics;
use serde_json::{json, Map, Value};

pub fn describe(path: &str, meta: &ParquetMetaData) -> Value {
    let file = meta.file_metadata();
    let row_groups: Vec<Value> = meta
        .row_groups()
        .iter()
        .map(|rg| {
            json!({
                "num_rows": rg.num_rows(),
                "total_byte_size": rg.total_byte_size(),
                "compressed_size": rg.compressed_size(),
                "columns": rg.columns().iter().map(column).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "path": path,
        "created_by": file.created_by(),
        "version": file.version(),
        "num_rows": file.num_rows(),
        "num_row_groups": meta.num_row_groups(),
        "total_byte_size": meta.row_groups().iter().map(|rg| rg.total_byte_size()).sum::<i64>(),
        "compressed_size": meta.row_groups().iter().map(|rg| rg.compressed_size()).sum::<i64>(),
        "row_groups": row_groups,
    })
}

fn column(c: &ColumnChunkMetaData) -> Value {
    let descr = c.column_descr();
    let mut obj = Map::new();
    obj.insert("path".into(), c.column_path().string().into());
    obj.insert(
        "physical_type".into(),
        format!("{:?}", c.column_type()).into(),
    );
    obj.insert(
        "logical_type".into(),
        descr.logical_type_ref().map(logical_type).into(),
    );
    if descr.converted_type() != ConvertedType::NONE {
        obj.insert(
            "converted_type".into(),
            format!("{:?}", descr.converted_type()).into(),
        );
    }
    obj.insert(
        "codec".into(),
        format!("{:?}", c.compression_codec()).into(),
    );
    obj.insert(
        "encodings".into(),
        c.encodings()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .into(),
    );
    obj.insert("num_values".into(), c.num_values().into());
    obj.insert("compressed_size".into(), c.compressed_size().into());
    obj.insert("uncompressed_size".into(), c.uncompressed_size().into());
    if let Some(stats) = c.statistics() {
        let text = is_text(descr.logical_type_ref(), descr.converted_type());
        let mut s = Map::new();
        if let Some(v) = stat_value(stats, true, text) {
            s.insert("min".into(), v);
        }
        if let Some(v) = stat_value(stats, false, text) {
            s.insert("max".into(), v);
        }
        if let Some(n) = stats.null_count_opt() {
            s.insert("null_count".into(), n.into());
        }
        if let Some(n) = stats.distinct_count_opt() {
            s.insert("distinct_count".into(), n.into());
        }
        obj.insert("statistics".into(), s.into());
    }
    obj.into()
}

fn is_text(logical: Option<&LogicalType>, converted: ConvertedType) -> bool {
    matches!(
        logical,
        Some(LogicalType::String | LogicalType::Enum | LogicalType::Json)
    ) || matches!(
        converted,
        ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON
    )
}

/// A min/max statistic as JSON: the physical value (numbers, booleans), text for string
/// columns, base64 for other bytes.
fn stat_value(stats: &Statistics, min: bool, text: bool) -> Option<Value> {
    fn pick<T>(s: &parquet::file::statistics::ValueStatistics<T>, min: bool) -> Option<&T> {
        if min {
            s.min_opt()
        } else {
            s.max_opt()
        }
    }
    let bytes = |b: &[u8]| -> Value {
        match std::str::from_utf8(b) {
            Ok(s) if text => s.into(),
            _ => base64::engine::general_purpose::STANDARD.encode(b).into(),
        }
    };
    let float = |f: f64| {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| f.to_string().into())
    };
    Some(match stats {
        Statistics::Boolean(s) => (*pick(s, min)?).into(),
        Statistics::Int32(s) => (*pick(s, min)?).into(),
        Statistics::Int64(s) => (*pick(s, min)?).into(),
        Statistics::Int96(s) => pick(s, min)?.to_string().into(),
        Statistics::Float(s) => float(f64::from(*pick(s, min)?)),
        Statistics::Double(s) => float(*pick(s, min)?),
        Statistics::ByteArray(s) => bytes(pick(s, min)?.data()),
        Statistics::FixedLenByteArray(s) => bytes(pick(s, min)?.data()),
    })
}

fn unit(u: &TimeUnit) -> &'static str {
    match u {
        TimeUnit::MILLIS => "MILLIS",
        TimeUnit::MICROS => "MICROS",
        TimeUnit::NANOS => "NANOS",
    }
}

/// The Parquet spec's notation for a logical type (`TIMESTAMP(MICROS,true)`).
fn logical_type(t: &LogicalType) -> String {
    match t {
        LogicalType::String => "STRING".into(),
        LogicalType::Map => "MAP".into(),
        LogicalType::List => "LIST".into(),
        LogicalType::Enum => "ENUM".into(),
        LogicalType::Decimal(d) => format!("DECIMAL({},{})", d.precision, d.scale),
        LogicalType::Date => "DATE".into(),
        LogicalType::Time(t) => format!("TIME({},{})", unit(&t.unit), t.is_adjusted_to_u_t_c),
        LogicalType::Timestamp(t) => {
            format!("TIMESTAMP({},{})", unit(&t.unit), t.is_adjusted_to_u_t_c)
        }
        LogicalType::Integer(i) => format!("INT({},{})", i.bit_width, i.is_signed),
        LogicalType::Unknown => "UNKNOWN".into(),
        LogicalType::Json => "JSON".into(),
        LogicalType::Bson => "BSON".into(),
        LogicalType::Uuid => "UUID".into(),
        LogicalType::Float16 => "FLOAT16".into(),
        other => format!("{other:?}"),
    }
}
