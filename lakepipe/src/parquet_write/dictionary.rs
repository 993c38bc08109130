//! Which columns get dictionary encoding. Spark (parquet-mr) tries a dictionary on every
//! column and drops it after the first page when it does not make the data smaller;
//! parquet-rs keeps one until it reaches 1 MB in every row group, which on columns of
//! unique values (ids, timestamps, session keys) costs time (hashing every value) and
//! bytes (a dictionary as large as the data, then plain pages anyway). Like Spark, we
//! keep dictionaries where they pay, judged once on a sample of the first rows.

use std::collections::HashSet;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::schema::types::ColumnPath;

/// A sample smaller than this keeps every dictionary (small inputs: nothing to gain).
pub const MIN_SAMPLE_ROWS: usize = 2000;

/// Leaf columns of `batch` whose dictionary would not be smaller than plain encoding
/// (parquet-mr's test: dictionary bytes + index bits < plain bytes), tested on every
/// core: the pipeline waits for this.
pub fn plain_columns(batch: &RecordBatch) -> Vec<ColumnPath> {
    let mut leaves = Vec::new();
    if batch.num_rows() >= MIN_SAMPLE_ROWS {
        for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
            walk(vec![f.name().clone()], col.as_ref(), &mut leaves);
        }
    }
    let plain = |(path, a): &(Vec<String>, &dyn Array)| (!pays_for(*a)).then(|| path.clone());
    let tested = crate::workers::each(&leaves, "the dictionary test", plain);
    // A test that panicked keeps its dictionary (parquet-rs's default).
    let tested = tested.unwrap_or_default().into_iter().flatten();
    tested.map(ColumnPath::new).collect()
}

/// The leaf columns below `a` (`path`), as parquet names them.
fn walk<'a>(path: Vec<String>, a: &'a dyn Array, out: &mut Vec<(Vec<String>, &'a dyn Array)>) {
    let with = |p: &[&str]| {
        path.iter()
            .cloned()
            .chain(p.iter().map(|s| s.to_string()))
            .collect::<Vec<_>>()
    };
    match a.data_type() {
        DataType::Struct(fields) => {
            for (f, c) in fields.iter().zip(a.as_struct().columns()) {
                walk(with(&[f.name()]), c.as_ref(), out);
            }
        }
        // Written as Spark's 3-level lists: NAME.list.element.
        DataType::List(_) => walk(
            with(&["list", "element"]),
            a.as_list::<i32>().values().as_ref(),
            out,
        ),
        _ => out.push((path, a)),
    }
}

/// Would a dictionary make this leaf column smaller? True for the types that never get
/// one here (booleans, maps and the rest keep parquet-rs's default).
fn pays_for(a: &dyn Array) -> bool {
    match a.data_type() {
        DataType::Utf8 => pays(a.as_string::<i32>().iter().flatten().map(str::as_bytes), 4),
        DataType::Binary => pays(a.as_binary::<i32>().iter().flatten(), 4),
        // Fixed-width values: compare their bytes.
        t if t.primitive_width().is_some() && !matches!(t, DataType::Boolean) => {
            let w = t.primitive_width().expect("checked");
            let data = a.to_data();
            let values = &data.buffers()[0].as_slice()[data.offset() * w..];
            let items = (0..a.len())
                .filter(|&i| a.is_valid(i))
                .map(|i| &values[i * w..(i + 1) * w]);
            pays(items, 0)
        }
        _ => true,
    }
}

/// Would a dictionary make these values smaller? `prefix`: bytes plain encoding adds per
/// value (a 4-byte length for byte arrays).
fn pays<'a>(values: impl Iterator<Item = &'a [u8]>, prefix: usize) -> bool {
    let (mut n, mut plain, mut dict_bytes) = (0usize, 0usize, 0usize);
    // ahash: SipHash made this test 14 ms of the start-up for 1M bench events.
    let mut seen: HashSet<&[u8], ahash::RandomState> = HashSet::default();
    for v in values {
        n += 1;
        plain += v.len() + prefix;
        if seen.insert(v) {
            dict_bytes += v.len() + prefix;
        }
    }
    let bits = usize::BITS - seen.len().leading_zeros();
    let indices = (n * bits as usize).div_ceil(8);
    n == 0 || dict_bytes + indices < plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::types::Int64Type;
    use arrow_array::{ArrayRef, Int64Array, ListArray, StringArray, StructArray};
    use arrow_schema::{Field, Schema};

    #[test]
    fn unique_columns_go_plain_repeated_ones_keep_dictionaries() {
        let n = 5000;
        let uniq: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| format!("2023-11-14T22:13:{i:06}Z")),
        ));
        let few: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| ["DE", "US", "JP"][i % 3]),
        ));
        let seq: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
        let small: ArrayRef = Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i % 7)));
        let user = StructArray::from(vec![
            (
                Arc::new(Field::new("id", DataType::Int64, true)),
                seq.clone(),
            ),
            (
                Arc::new(Field::new("country", DataType::Utf8, true)),
                few.clone(),
            ),
        ]);
        let tags = ListArray::from_iter_primitive::<Int64Type, _, _>(
            (0..n).map(|i| Some(vec![Some(i as i64), Some((i + n) as i64)])),
        );
        let schema = Schema::new(vec![
            Field::new("ts", DataType::Utf8, true),
            Field::new("seq", DataType::Int64, true),
            Field::new("rank", DataType::Int64, true),
            Field::new("user", user.data_type().clone(), true),
            Field::new("ids", tags.data_type().clone(), true),
        ]);
        let cols: Vec<ArrayRef> = vec![uniq, seq, small, Arc::new(user), Arc::new(tags)];
        let batch = RecordBatch::try_new(Arc::new(schema), cols).unwrap();
        let plain: Vec<String> = plain_columns(&batch).iter().map(|p| p.string()).collect();
        assert_eq!(plain, ["ts", "seq", "user.id", "ids.list.element"]);
        // Too small a sample decides nothing.
        assert!(plain_columns(&batch.slice(0, 100)).is_empty());
    }
}
