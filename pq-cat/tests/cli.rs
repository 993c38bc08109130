//! CLI tests of pq-cat alone. Fixtures are written at test time with parquet's ArrowWriter.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::*;
use assert_cmd::Command;
use parquet::arrow::ArrowWriter;
use predicates::prelude::*;
use serde_json::{json, Value};

/// The binary with a clean environment (no HDFS settings leak in from the caller).
fn pq_cat() -> Command {
    let mut cmd = Command::cargo_bin("pq-cat").unwrap();
    for var in ["HDFS_NAMENODE", "HADOOP_CONF_DIR", "HADOOP_USER_NAME", "TZ"] {
        cmd.env_remove(var);
    }
    cmd
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// Three rows with a string, a float, a list, a timestamp and some nulls.
fn events() -> RecordBatch {
    let tags = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![]),
    ]);
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![Some("alice"), None, Some("c,d")])) as ArrayRef,
        ),
        (
            "price",
            Arc::new(Float64Array::from(vec![Some(52.0), Some(2.5), None])) as ArrayRef,
        ),
        ("tags", Arc::new(tags) as ArrayRef),
        (
            "ts",
            Arc::new(
                TimestampMillisecondArray::from(vec![1_700_000_000_037, 1_700_000_000_000, 0])
                    .with_timezone("UTC"),
            ) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.parquet");
    write_parquet(&file, &events());
    (dir, file)
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn jsonl_prints_every_column_in_order_with_nulls() {
    let (_d, file) = fixture();
    let out = stdout_of(pq_cat().arg(&file));
    assert_eq!(
        out.lines().next().unwrap(),
        r#"{"id":1,"name":"alice","price":52.0,"tags":[1,2],"ts":"2023-11-14T22:13:20.037Z"}"#
    );
    assert_eq!(
        json_lines(&out)[1..],
        [
            json!({"id":2,"name":null,"price":2.5,"tags":null,"ts":"2023-11-14T22:13:20Z"}),
            json!({"id":3,"name":"c,d","price":null,"tags":[],"ts":"1970-01-01T00:00:00Z"}),
        ]
    );
}

#[test]
fn csv_tsv_and_table() {
    let (_d, file) = fixture();
    let csv = stdout_of(pq_cat().args(["--format", "csv", "--header"]).arg(&file));
    assert_eq!(
        csv,
        "id,name,price,tags,ts\n1,alice,52.0,\"[1,2]\",2023-11-14T22:13:20.037Z\n2,,2.5,,2023-11-14T22:13:20Z\n3,\"c,d\",,[],1970-01-01T00:00:00Z\n"
    );
    let csv_plain = stdout_of(pq_cat().args(["--format", "csv"]).arg(&file));
    assert!(
        csv_plain.starts_with("1,alice,"),
        "no header without --header: {csv_plain}"
    );
    let tsv = stdout_of(
        pq_cat()
            .args(["--format", "tsv", "--header", "-n", "1"])
            .arg(&file),
    );
    assert_eq!(
        tsv,
        "id\tname\tprice\ttags\tts\n1\talice\t52.0\t[1,2]\t2023-11-14T22:13:20.037Z\n"
    );
    let table = stdout_of(
        pq_cat()
            .args(["--format", "table", "--columns", "id,name,price"])
            .arg(&file),
    );
    assert_eq!(
        table,
        " id | name  | price\n\
         ----+-------+-------\n\
         \x20 1 | alice |  52.0\n\
         \x20 2 | NULL  |   2.5\n\
         \x20 3 | c,d   |  NULL\n\
         (3 rows)\n"
    );
}

/// Wide characters take two terminal cells, so `東京都` is as wide as six ASCII letters
/// and the bars still line up (as presto-q's table does).
#[test]
fn table_aligns_wide_characters() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cities.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        (
            "city",
            Arc::new(StringArray::from(vec!["東京都", "Lyon"])) as ArrayRef,
        ),
        ("pop", Arc::new(Int64Array::from(vec![14, 1])) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&file, &batch);
    let table = stdout_of(pq_cat().args(["--format", "table"]).arg(&file));
    assert_eq!(
        table,
        "  city  | pop\n\
         --------+-----\n\
         \x20東京都 |  14\n\
         \x20Lyon   |   1\n\
         (2 rows)\n"
    );
}

#[test]
fn summary_on_stderr_unless_quiet() {
    let (_d, file) = fixture();
    pq_cat()
        .args(["--format", "csv"])
        .arg(&file)
        .assert()
        .success()
        .stderr("pq-cat: 3 rows from 1 file, 108 bytes written\n");
    pq_cat().arg("-q").arg(&file).assert().success().stderr("");
}

#[test]
fn header_needs_csv_or_tsv() {
    let (_d, file) = fixture();
    pq_cat()
        .arg("--header")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--header"));
}

#[test]
fn head_limits_rows_across_files() {
    let (dir, file) = fixture();
    write_parquet(&dir.path().join("more.parquet"), &events());
    assert_eq!(
        stdout_of(pq_cat().args(["-n", "2"]).arg(&file))
            .lines()
            .count(),
        2
    );
    let out = stdout_of(pq_cat().args(["--head", "4"]).arg(dir.path()));
    let ids: Vec<i64> = json_lines(&out)
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [1, 2, 3, 1],
        "events.parquet then more.parquet, sorted by name"
    );
    assert_eq!(stdout_of(pq_cat().args(["-n", "0"]).arg(&file)), "");
}

#[test]
fn columns_select_and_order() {
    let (_d, file) = fixture();
    let out = stdout_of(pq_cat().args(["--columns", "price,id"]).arg(&file));
    assert_eq!(out.lines().next().unwrap(), r#"{"price":52.0,"id":1}"#);
    pq_cat()
        .args(["--columns", "id,nope"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no column 'nope' (available: id, name, price, tags, ts)",
        ));
    pq_cat()
        .args(["--columns", "id,id"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("given twice"));
}

#[test]
fn count_schema_and_meta() {
    let (dir, file) = fixture();
    write_parquet(&dir.path().join("more.parquet"), &events());
    assert_eq!(stdout_of(pq_cat().arg("--count").arg(&file)), "3\n");
    assert_eq!(stdout_of(pq_cat().arg("--count").arg(dir.path())), "6\n");
    assert_eq!(
        stdout_of(pq_cat().arg("--schema").arg(&file)),
        "id BIGINT, name STRING, price DOUBLE, tags ARRAY<INT>, ts TIMESTAMP\n"
    );
    let meta = json_lines(&stdout_of(pq_cat().arg("--meta").arg(dir.path())));
    assert_eq!(meta.len(), 2);
    let m = &meta[0];
    assert!(m["path"].as_str().unwrap().ends_with("events.parquet"));
    assert!(m["created_by"].as_str().unwrap().contains("parquet-rs"));
    assert_eq!(m["num_rows"], 3);
    let col = &m["row_groups"][0]["columns"][1];
    assert_eq!(col["path"], "name");
    assert_eq!(col["physical_type"], "BYTE_ARRAY");
    assert_eq!(col["logical_type"], "STRING");
    assert_eq!(col["codec"], "UNCOMPRESSED");
    assert!(!col["encodings"].as_array().unwrap().is_empty());
    assert_eq!(
        col["statistics"],
        json!({"min": "alice", "max": "c,d", "null_count": 1})
    );
    assert_eq!(
        m["row_groups"][0]["columns"][4]["logical_type"],
        "TIMESTAMP(MILLIS,true)"
    );
}

/// A Spark-style folder: `k=v` partitions, a marker file, hidden and `_temporary` files.
fn partitioned() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("t");
    let one = |id: i64| {
        RecordBatch::try_from_iter(vec![(
            "id",
            Arc::new(Int64Array::from(vec![id])) as ArrayRef,
        )])
        .unwrap()
    };
    write_parquet(
        &root.join("event_type=buy%20now/day=20240131/part-00000-a.snappy.parquet"),
        &one(1),
    );
    write_parquet(
        &root.join("event_type=sell/day=7/part-00000-b.snappy.parquet"),
        &one(2),
    );
    write_parquet(
        &root.join("event_type=__HIVE_DEFAULT_PARTITION__/day=8/part-00000-c.parquet"),
        &one(3),
    );
    std::fs::write(root.join("_SUCCESS"), "").unwrap();
    std::fs::write(root.join("event_type=sell/.part-00001.crc"), "not parquet").unwrap();
    std::fs::create_dir_all(root.join("_temporary/0")).unwrap();
    std::fs::write(root.join("_temporary/0/part-9.parquet"), "half written").unwrap();
    dir
}

#[test]
fn folder_partitions_become_columns() {
    let dir = partitioned();
    let out = stdout_of(pq_cat().arg(dir.path().join("t")));
    let mut rows = json_lines(&out);
    rows.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(
        rows,
        [
            json!({"id":1,"event_type":"buy now","day":20240131}),
            json!({"id":2,"event_type":"sell","day":7}),
            json!({"id":3,"event_type":null,"day":8}),
        ]
    );
    assert_eq!(
        stdout_of(pq_cat().arg("--schema").arg(dir.path().join("t"))),
        "id BIGINT, event_type STRING, day BIGINT\n"
    );
    let only = stdout_of(
        pq_cat()
            .args(["--columns", "day", "--format", "csv"])
            .arg(dir.path().join("t")),
    );
    let mut days: Vec<&str> = only.lines().collect();
    days.sort();
    assert_eq!(days, ["20240131", "7", "8"]);
}

#[test]
fn quoted_globs_are_expanded() {
    let dir = partitioned();
    let pattern = format!("{}/t/event_type=*/day=*/*.parquet", dir.path().display());
    let out = stdout_of(pq_cat().arg("--columns").arg("id,event_type").arg(&pattern));
    let mut rows = json_lines(&out);
    rows.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(
        rows[0],
        json!({"id":1,"event_type":"buy now"}),
        "partitions below the glob's literal prefix"
    );
    assert_eq!(rows.len(), 3);
    pq_cat()
        .arg(format!("{}/nothing-*.parquet", dir.path().display()))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "nothing-*.parquet: no files match",
        ));
}

/// A glob with no literal prefix (`*`, relative to the working folder) skips hidden
/// names too: the hidden rule is the same whatever the prefix, local or HDFS.
#[test]
fn glob_without_a_prefix_skips_hidden_names() {
    let dir = partitioned();
    let root = dir.path().join("t");
    std::fs::copy(
        root.join("event_type=sell/day=7/part-00000-b.snappy.parquet"),
        root.join("_hidden.parquet"),
    )
    .unwrap();
    let out = stdout_of(pq_cat().current_dir(&root).args(["--count", "*"]));
    assert_eq!(
        out, "3\n",
        "_SUCCESS, _temporary/ and _hidden.parquet skipped"
    );
    let out = stdout_of(
        pq_cat()
            .current_dir(&root)
            .args(["--count", "_hidden.parquet"]),
    );
    assert_eq!(out, "1\n", "a file named directly is read");
}

#[test]
fn files_with_different_columns_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    let a = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("x", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
    ])
    .unwrap();
    let b = RecordBatch::try_from_iter(vec![
        ("y", Arc::new(BooleanArray::from(vec![true])) as ArrayRef),
        ("id", Arc::new(Int64Array::from(vec![2])) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&dir.path().join("a.parquet"), &a);
    write_parquet(&dir.path().join("b.parquet"), &b);
    let out = stdout_of(pq_cat().arg(dir.path()));
    assert_eq!(
        out,
        "{\"id\":1,\"x\":\"a\",\"y\":null}\n{\"id\":2,\"x\":null,\"y\":true}\n"
    );

    let c =
        RecordBatch::try_from_iter(vec![("x", Arc::new(Int32Array::from(vec![1])) as ArrayRef)])
            .unwrap();
    write_parquet(&dir.path().join("c.parquet"), &c);
    pq_cat().arg(dir.path()).assert().code(1).stderr(
        predicate::str::contains("column 'x' has type STRING in")
            .and(predicate::str::contains("a.parquet but INT in"))
            .and(predicate::str::contains("c.parquet")),
    );
}

#[test]
fn stdin_dash_and_no_input() {
    let (_d, file) = fixture();
    let bytes = std::fs::read(&file).unwrap();
    let out = stdout_of(pq_cat().args(["-", "--count"]).write_stdin(bytes.clone()));
    assert_eq!(out, "3\n");
    let out = stdout_of(pq_cat().args(["-n", "1"]).write_stdin(bytes));
    assert!(out.starts_with("{\"id\":1,"), "{out}");
}

#[test]
fn broken_files_are_named() {
    let (dir, file) = fixture();
    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    pq_cat().arg(&truncated).assert().code(1).stdout("").stderr(
        predicate::str::starts_with("pq-cat: error: ").and(predicate::str::contains(
            "truncated.parquet: not a valid Parquet file",
        )),
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "id,name\n1,alice\n").unwrap();
    pq_cat()
        .arg(&text)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "notes.txt: not a valid Parquet file",
        ));
    pq_cat()
        .arg(dir.path().join("missing.parquet"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "missing.parquet: No such file or directory",
        ));
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("_temporary")).unwrap();
    pq_cat()
        .arg(&empty)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no Parquet files"));
}

#[test]
fn bad_flag_is_a_usage_error() {
    pq_cat()
        .arg("--no-such-flag")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    pq_cat()
        .args(["--format", "xml", "x.parquet"])
        .assert()
        .code(2);
}

#[test]
fn help_and_version() {
    pq_cat().arg("--help").assert().success().stdout(
        predicate::str::contains("Examples:").and(predicate::str::contains("pq-cat --count")),
    );
    pq_cat()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("pq-cat "));
}

#[test]
fn closed_stdout_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.parquet");
    let n = 300_000;
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
        ),
        (
            "s",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("row number {i}")),
            )) as ArrayRef,
        ),
    ])
    .unwrap();
    write_parquet(&file, &batch);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pq-cat"))
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\"id\":0,\"s\":\"row number 0\"}\n");
    // The reader is dropped here: the next write hits a closed pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn every_row_of_a_multi_row_group_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rg.parquet");
    let n = 20_000;
    let batch = RecordBatch::try_from_iter(vec![(
        "id",
        Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
    )])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(3000))
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&file).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let out = stdout_of(pq_cat().args(["--format", "csv"]).arg(&file));
    let ids: Vec<i64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(ids, (0..n).collect::<Vec<_>>());
    let meta = json_lines(&stdout_of(pq_cat().arg("--meta").arg(&file)));
    assert_eq!(meta[0]["num_row_groups"], 7);
}

/// A file as Spark 2 / parquet-mr writes with default settings: a 2-level legacy list
/// (`repeated binary array`) and INT96 timestamps, built with parquet's low-level writer.
#[test]
fn spark_legacy_list_and_int96() {
    use parquet::data_type::{ByteArray, ByteArrayType, Int96, Int96Type};
    use parquet::file::writer::SerializedFileWriter;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spark.parquet");
    let schema = parquet::schema::parser::parse_message_type(
        "message spark_schema {
            optional group tags (LIST) { repeated binary array (UTF8); }
            optional int96 ts;
        }",
    )
    .unwrap();
    let mut writer = SerializedFileWriter::new(
        std::fs::File::create(&file).unwrap(),
        Arc::new(schema),
        Default::default(),
    )
    .unwrap();
    let mut rg = writer.next_row_group().unwrap();
    // Rows: ["a","b"], null, [].
    let mut col = rg.next_column().unwrap().unwrap();
    let values = [ByteArray::from("a"), ByteArray::from("b")];
    col.typed::<ByteArrayType>()
        .write_batch(&values, Some(&[2, 2, 0, 1]), Some(&[0, 1, 0, 0]))
        .unwrap();
    col.close().unwrap();
    // 2023-11-14T22:13:20.037 as INT96: nanoseconds of the day, then the Julian day.
    let mut col = rg.next_column().unwrap().unwrap();
    let nanos: u64 = 80_000 * 1_000_000_000 + 37_000_000;
    let mut ts = Int96::new();
    ts.set_data(nanos as u32, (nanos >> 32) as u32, 2_440_588 + 19_675);
    col.typed::<Int96Type>()
        .write_batch(&[ts], Some(&[1, 0, 0]), None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    writer.close().unwrap();

    let out = stdout_of(pq_cat().arg(&file));
    assert_eq!(
        out,
        "{\"tags\":[\"a\",\"b\"],\"ts\":\"2023-11-14T22:13:20.037000000\"}\n{\"tags\":null,\"ts\":null}\n{\"tags\":[],\"ts\":null}\n"
    );
    assert_eq!(
        stdout_of(pq_cat().arg("--schema").arg(&file)),
        "tags ARRAY<STRING>, ts TIMESTAMP_NTZ\n"
    );
}

#[test]
fn unreachable_namenode_is_a_clear_error() {
    let started = std::time::Instant::now();
    pq_cat()
        .arg("hdfs://127.0.0.1:9/data/t")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("127.0.0.1:9"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "fails within the 30 s default timeout"
    );
}

#[test]
fn silent_namenode_fails_within_timeout_naming_it() {
    let (_silent, addr) = lakepipe_tests::silent_address();
    let err = lakepipe_tests::fails_within(std::time::Duration::from_secs(20), || {
        let url = format!("hdfs://{addr}/data/t");
        pq_cat().args(["--timeout", "2", &url]).output().unwrap()
    });
    assert!(err.contains(&addr) && err.contains("--timeout"), "{err}");
}

/// A file of `n` rows under a Kafka Connect name.
fn offsets_file(dir: &Path, rel: &str, n: i64) {
    let batch = RecordBatch::try_from_iter(vec![(
        "id",
        Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
    )])
    .unwrap();
    write_parquet(&dir.join(rel), &batch);
}

#[test]
fn offsets_audit_per_partition_from_names_and_footers() {
    let dir = tempfile::tempdir().unwrap();
    offsets_file(dir.path(), "ev+0+0000000000+0000000009.parquet", 10);
    offsets_file(dir.path(), "ev+0+0000000010+0000000019.parquet", 9); // one bad line
    offsets_file(dir.path(), "ev+0+0000000025+0000000029.parquet", 5);
    offsets_file(dir.path(), "kind=a/ev+1+0000000000+0000000003.parquet", 4);
    offsets_file(
        dir.path(),
        ".ev+1+0000000004+0000000009.parquet.x.inprogress",
        6,
    );
    offsets_file(dir.path(), "part-00000-x.parquet", 3);
    let out = pq_cat()
        .args(["--offsets", dir.path().to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"topic":"ev","partition":0,"files":3,"first":0,"last":29,"rows":24,"gaps":[[20,24]],"overlaps":[]}),
            json!({"topic":"ev","partition":1,"files":1,"first":0,"last":3,"rows":4,"gaps":[],"overlaps":[]}),
        ]
    );
}

#[test]
fn offsets_overlap_exits_1_after_the_report() {
    let dir = tempfile::tempdir().unwrap();
    offsets_file(dir.path(), "ev+2+0000000000+0000000009.parquet", 10);
    offsets_file(dir.path(), "ev+2+0000000005+0000000014.parquet", 10);
    pq_cat()
        .args(["--offsets", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "ev+2+0000000005+0000000014.parquet",
        ))
        .stderr(predicate::str::contains(
            "1 pair of files hold the same offsets",
        ));
    // not a Parquet file under an offsets name: an error naming it
    std::fs::write(
        dir.path().join("ev+3+0000000000+0000000001.parquet"),
        b"junk",
    )
    .unwrap();
    pq_cat()
        .args(["--offsets", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ev+3+0000000000+0000000001.parquet",
        ));
}

/// A reader or encoder thread that panics ends the run with exit 1 and an error line,
/// after the rows already handed over (never exit 0 with short output, never a hang).
/// The failpoint panics both; a table has no encoders, so there the reader's is seen.
#[test]
fn a_panicking_worker_is_an_error() {
    let (_d, file) = fixture();
    for (format, who) in [
        ("jsonl", "(the Parquet reader|a text encoder)"),
        ("csv", "(the Parquet reader|a text encoder)"),
        ("table", "the Parquet reader"),
    ] {
        pq_cat()
            .env("LAKEPIPE_FAILPOINT", "worker-panic")
            .args(["--format", format])
            .arg(&file)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(
                predicate::str::is_match(format!(
                    "pq-cat: error: {who} panicked: failpoint worker-panic"
                ))
                .unwrap(),
            );
    }
}

#[test]
fn footer_row_count_that_disagrees_with_row_groups_is_an_error() {
    let (_d, file) = fixture();
    let bad = lakepipe_tests::corrupt::footer_saying_zero_rows(&file, 3);
    // The patch is what we think it is: the footer says 0 and the row group holds 3.
    let meta = stdout_of(pq_cat().arg("--meta").arg(&bad));
    let meta: Value = serde_json::from_str(meta.trim()).unwrap();
    assert_eq!(meta["num_rows"], 0, "{meta}");
    assert_eq!(meta["row_groups"][0]["num_rows"], 3, "{meta}");
    let want = format!(
        "pq-cat: error: {}: corrupt footer: it says 0 rows but its row groups hold 3",
        bad.display()
    );
    for args in [&[][..], &["--count"], &["--format", "csv"]] {
        pq_cat()
            .args(args)
            .arg(&bad)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains(want.as_str()));
    }
}
