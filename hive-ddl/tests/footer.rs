//! A footer whose row count disagrees with its row groups is corrupt: hive-ddl, which
//! reads only footers, must say so (naming the file and both counts) instead of
//! writing a table definition for it.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use assert_cmd::Command;
use lakepipe_tests::corrupt::footer_saying_zero_rows;
use parquet::arrow::ArrowWriter;

fn hive_ddl() -> Command {
    let mut c = Command::cargo_bin("hive-ddl").unwrap();
    c.env_remove("HDFS_NAMENODE").env_remove("HADOOP_CONF_DIR");
    c
}

/// One row group of `rows` ids.
fn write_ids(path: &Path, rows: i64) {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let ids = Int64Array::from_iter_values(0..rows);
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn a_footer_row_count_that_disagrees_with_its_row_groups_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("t").join("good.parquet");
    std::fs::create_dir(good.parent().unwrap()).unwrap();
    write_ids(&good, 3);
    // The good file reads, so what fails below is the patch and nothing else.
    hive_ddl().arg(&good).assert().success();
    let bad = footer_saying_zero_rows(&good, 3);
    let counts = "zero-rows.parquet: corrupt footer: it says 0 rows but its row groups hold 3";
    // Alone, and as one file of a table folder: the error names the file.
    hive_ddl()
        .arg(&bad)
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "hive-ddl: error: {}: corrupt footer: it says 0 rows but its row groups hold 3\n",
            bad.display()
        ));
    let folder = hive_ddl()
        .arg(good.parent().unwrap())
        .assert()
        .code(1)
        .stdout("");
    let err = String::from_utf8_lossy(&folder.get_output().stderr).into_owned();
    assert!(
        err.starts_with("hive-ddl: error: ") && err.contains(counts),
        "{err}"
    );
}
