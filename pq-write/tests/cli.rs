//! pq-write through its binary: bad input, policies, rolling, partitions, signals.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use arrow_array::RecordBatch;
use assert_cmd::prelude::*;
use lakepipe_tests::wait_until;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use predicates::prelude::*;

fn pq_write() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pq-write").unwrap();
    for v in ["HDFS_NAMENODE", "HADOOP_CONF_DIR"] {
        c.env_remove(v);
    }
    c
}

/// For runs that are spawned and signalled.
fn pq_write_spawnable() -> Command {
    let mut c = Command::cargo_bin("pq-write").unwrap();
    for v in ["HDFS_NAMENODE", "HADOOP_CONF_DIR"] {
        c.env_remove(v);
    }
    c
}

/// Rows of a Parquet file as JSON lines (arrow's writer; null fields omitted).
fn read_rows(path: &Path) -> Vec<serde_json::Value> {
    let f = fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    String::from_utf8(w.into_inner())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every visible file below `dir` (skipping names starting with '.' or '_').
fn visible_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            out.extend(visible_files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

fn lines(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\":{i},\"name\":\"n{i}\",\"kind\":\"k{}\"}}\n", i % 3))
        .collect()
}

#[test]
fn bad_lines_file_gets_exactly_the_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = "{\"id\":1}\nnot json\n{\"id\":2}\n{\"id\":\"x\"}\n\n{\"id\":3}\n{\"id\":4,\"late\":5}\n[1]\n{\"id\":5}";
    let out = dir.path().join("o.parquet");
    let rej = dir.path().join("rej.jsonl");
    pq_write()
        .args(["--infer-rows", "1", "--bad-lines"])
        .arg(&rej)
        .arg(&out)
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicate::str::contains("4 line(s) rejected"))
        .stderr(predicate::str::contains("late (1)"));
    assert_eq!(
        fs::read_to_string(&rej).unwrap(),
        "not json\n{\"id\":\"x\"}\n{\"id\":4,\"late\":5}\n[1]\n"
    );
    let ids: Vec<i64> = read_rows(&out)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 5]);
}

/// A line rejected inside a list (after some of its items fitted) gives nothing to the
/// next row: its items once leaked into the next good row's list.
#[test]
fn a_line_rejected_inside_a_list_leaves_no_items_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let input = "{\"id\":1,\"tags\":[1,2]}\n{\"id\":2,\"tags\":[3,\"x\"]}\n\
                 {\"id\":3,\"tags\":[4,5,{\"a\":1}]}\n{\"id\":4,\"tags\":[6]}\n{\"id\":5}\n";
    pq_write()
        .args([
            "--schema",
            "id BIGINT, tags ARRAY<INT>",
            "--bad-lines",
            "skip",
        ])
        .arg(&out)
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicate::str::contains("2 line(s) rejected"));
    let rows: Vec<String> = read_rows(&out).iter().map(|r| r.to_string()).collect();
    assert_eq!(
        rows,
        [
            r#"{"id":1,"tags":[1,2]}"#,
            r#"{"id":4,"tags":[6]}"#,
            r#"{"id":5}"#
        ]
    );
}

#[test]
fn default_policy_stops_at_the_first_bad_line_and_keeps_earlier_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let mut input = lines(5000);
    input.push_str("{\"id\":oops}\n");
    input.push_str(&lines(10));
    pq_write()
        .arg(&out)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pq-write: error: stdin:5001: "))
        .stderr(predicate::str::contains("5000 rows from earlier lines"));
    assert_eq!(read_rows(&out).len(), 5000);
    assert_eq!(visible_files(dir.path()), [out]);
}

#[test]
fn skip_policy_counts_and_names_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    pq_write()
        .args(["--bad-lines", "skip", "--infer-rows", "2"])
        .arg(&out)
        .write_stdin("{\"a\":1}\n{\"a\":2.5}\n{\"a\":true}\n{\"a\":3}\n")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "stdin:3: field a: expected a number, found true (column 9) (line skipped)",
        ));
    // int + float widen to double during inference; the boolean does not fit
    let rows = read_rows(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["a"], serde_json::json!(2.5));
}

#[test]
fn a_type_change_after_inference_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    pq_write()
        .args(["--infer-rows", "2"])
        .arg(&out)
        .write_stdin("{\"a\":1}\n{\"a\":2}\n{\"a\":3.5}\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "stdin:3: field a: expected an integer, found 3.5",
        ));
    assert_eq!(read_rows(&out).len(), 2);
}

#[test]
fn invalid_utf8_is_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let rej = dir.path().join("r");
    let mut input = b"{\"s\":\"ok\"}\n{\"s\":\"".to_vec();
    input.extend_from_slice(&[0xff, 0xfe]);
    input.extend_from_slice(b"\"}\n{\"s\":\"fine\"}\n");
    pq_write()
        .arg("--bad-lines")
        .arg(&rej)
        .arg(&out)
        .write_stdin(input.clone())
        .assert()
        .success();
    assert_eq!(fs::read(&rej).unwrap(), &input[11..22], "rejected verbatim");
    assert_eq!(read_rows(&out).len(), 2);
    pq_write()
        .arg("--overwrite")
        .arg(&out)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("stdin:2:"));
}

#[test]
fn empty_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    pq_write()
        .arg(&out)
        .write_stdin("")
        .assert()
        .success()
        .stderr(predicate::str::contains("no file written"));
    assert!(!out.exists());
    // with a schema, an empty but valid file
    pq_write()
        .args(["--schema", "id BIGINT"])
        .arg(&out)
        .write_stdin("")
        .assert()
        .success();
    assert_eq!(read_rows(&out).len(), 0);
}

#[test]
fn a_50mb_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let big = "x".repeat(50 << 20);
    let input = format!(
        "{{\"id\":1,\"s\":\"a\"}}\n{{\"id\":2,\"s\":\"{big}\"}}\n{{\"id\":3,\"s\":\"c\"}}\n"
    );
    pq_write()
        .arg("-q")
        .arg(&out)
        .write_stdin(input)
        .assert()
        .success()
        .stderr("");
    let rows = read_rows(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["s"].as_str().unwrap().len(), 50 << 20);
}

#[test]
fn existing_file_needs_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    fs::write(&out, "keep me").unwrap();
    pq_write()
        .arg(&out)
        .write_stdin(lines(3))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("file exists"));
    assert_eq!(fs::read_to_string(&out).unwrap(), "keep me");
    pq_write()
        .arg("--overwrite")
        .arg(&out)
        .write_stdin(lines(3))
        .assert()
        .success();
    assert_eq!(read_rows(&out).len(), 3);
}

#[test]
fn partition_by_writes_hive_folders_without_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    pq_write()
        .args(["--partition-by", "kind", "--roll-rows", "40"])
        .arg(format!("{}/", out.display()))
        .write_stdin(lines(300) + "{\"id\":9999,\"name\":\"x\",\"kind\":null}\n{\"id\":10000,\"name\":\"y\",\"kind\":\"a/b\"}\n")
        .assert()
        .success();
    let files = visible_files(&out);
    let mut total = 0;
    for f in &files {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        let (part, name) = rel.split_once('/').unwrap();
        assert!(
            name.starts_with("part-") && name.ends_with(".parquet"),
            "{rel}"
        );
        let rows = read_rows(f);
        assert!(rows.len() <= 40, "rolled at 40 rows: {rel}");
        for r in &rows {
            assert!(
                r.get("kind").is_none(),
                "partition column is not in the file"
            );
            let id = r["id"].as_i64().unwrap();
            let want = match id {
                9999 => "kind=__HIVE_DEFAULT_PARTITION__".to_string(),
                10000 => "kind=a%2Fb".to_string(),
                _ => format!("kind=k{}", id % 3),
            };
            assert_eq!(part, want);
        }
        total += rows.len();
    }
    assert_eq!(total, 302);
    assert_eq!(
        files.len(),
        3 * 3 + 2,
        "100 rows per kind in 40-row files, plus two single rows"
    );
}

#[test]
fn roll_secs_closes_files_while_input_is_slow() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().join("s").display());
    let mut child = pq_write_spawnable()
        .args(["--roll-secs", "0.5", "--schema", "id BIGINT", "-q", &out])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{{\"id\":1}}").unwrap();
    stdin.flush().unwrap();
    // the first file is complete and visible while the run goes on
    wait_until("the first rolled file", Duration::from_secs(30), || {
        let d = dir.path().join("s");
        d.exists() && !visible_files(&d).is_empty()
    });
    assert!(child.try_wait().unwrap().is_none(), "pq-write ended early");
    let files = visible_files(&dir.path().join("s"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(read_rows(&files[0]).len(), 1);
    writeln!(stdin, "{{\"id\":2}}").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(visible_files(&dir.path().join("s")).len(), 2);
}

#[test]
fn sigterm_closes_the_current_file_validly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let mut child = pq_write_spawnable()
        .arg(&out)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(lines(1000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_until(
        "pq-write to read its input",
        Duration::from_secs(30),
        || pipe_unread(&stdin) == 0,
    );
    unsafe_kill(child.id(), "TERM");
    let out_put = child.wait_with_output().unwrap();
    assert_eq!(out_put.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out_put.stderr);
    assert!(
        err.contains("interrupted: 1000 rows from lines 1-1000"),
        "{err}"
    );
    assert_eq!(read_rows(&out).len(), 1000);
    drop(stdin);
}

#[test]
fn sigkill_leaves_no_visible_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().join("k").display());
    let mut child = pq_write_spawnable()
        .args(["--roll-rows", "20000", "-q", &out])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(lines(150_000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    // kill -9 mid-run: some files rolled, the input still open, so one file is in progress
    wait_until("a rolled file", Duration::from_secs(30), || {
        let d = dir.path().join("k");
        d.exists() && !visible_files(&d).is_empty()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let visible = visible_files(&dir.path().join("k"));
    // at most the 7 full files: the 8th (10,000 rows) is still open, its input not ended
    // (on a quiet machine pq-write reads all 150,000 lines before the kill)
    assert!(
        !visible.is_empty() && visible.len() <= 150_000 / 20_000,
        "{visible:?}"
    );
    for f in visible {
        assert_eq!(
            read_rows(&f).len(),
            20000,
            "every visible file is complete: {}",
            f.display()
        );
    }
}

#[test]
fn envelope_kcat_with_kafka_meta() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let input = concat!(
        r#"{"topic":"t","partition":1,"offset":7,"tstype":"create","ts":1700000000000,"broker":1,"key":null,"payload":"{\"a\":1}"}"#,
        "\n",
        r#"{"topic":"t","partition":0,"offset":8,"key":"k","payload":{"a":2}}"#,
        "\n"
    );
    pq_write()
        .args(["--envelope", "kcat", "--kafka-meta"])
        .arg(&out)
        .write_stdin(input)
        .assert()
        .success();
    let rows = read_rows(&out);
    assert_eq!(rows[0]["a"], 1);
    assert_eq!(rows[0]["_topic"], "t");
    assert_eq!(rows[0]["_partition"], 1);
    assert_eq!(rows[0]["_offset"], 7);
    assert!(rows[0]["_timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2023-11-14T22:13:20"));
    assert_eq!(rows[1]["a"], 2);
}

#[test]
fn flatten_makes_top_level_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    pq_write()
        .arg("--flatten")
        .arg(&out)
        .write_stdin("{\"user\":{\"id\":1,\"geo\":{\"cc\":\"DE\"}},\"tags\":[1,2]}\n")
        .assert()
        .success();
    assert_eq!(
        read_rows(&out)[0],
        serde_json::json!({"user_id":1,"user_geo_cc":"DE","tags":[1,2]})
    );
}

/// A line whose keys collide after flattening is a bad line with jq-lite's message, and
/// adds no column: `a_b` appears only when a good line has it.
#[test]
fn flatten_collision_is_a_bad_line_and_adds_no_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let input = "{\"id\":1,\"a_b\":1,\"a\":{\"b\":2}}\n{\"id\":2,\"a\":{\"c\":3}}\n";
    pq_write()
        .args(["--flatten", "--bad-lines", "skip"])
        .arg(&out)
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "stdin:1: --flatten: key \"a_b\" occurs twice after flattening",
        ));
    assert_eq!(read_rows(&out), [serde_json::json!({"id":2,"a_c":3})]);
    let file = fs::File::open(&out).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .schema()
        .clone();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["id", "a_c"]);

    // the default policy stops at the line with the same message
    let out2 = dir.path().join("o2.parquet");
    pq_write()
        .arg("--flatten")
        .arg(&out2)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "stdin:1: --flatten: key \"a_b\" occurs twice after flattening",
        ));
}

#[test]
fn every_codec_writes_a_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    for codec in ["snappy", "zstd", "gzip", "lz4", "none"] {
        let out = dir.path().join(format!("{codec}.parquet"));
        pq_write()
            .args(["--compression", codec])
            .arg(&out)
            .write_stdin(lines(100))
            .assert()
            .success();
        let meta = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&out).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let used = format!("{:?}", meta.row_group(0).column(0).compression());
        let want = match codec {
            "none" => "UNCOMPRESSED",
            "lz4" => "LZ4_RAW",
            c => &c.to_uppercase(),
        };
        assert!(used.starts_with(want), "{codec}: {used}");
        assert_eq!(read_rows(&out).len(), 100);
    }
}

#[test]
fn schema_types_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    pq_write()
        .args(["--schema", "d DECIMAL(10,2), ts TIMESTAMP, day DATE, m MAP<STRING,INT>, b BINARY"])
        .arg(&out)
        .write_stdin("{\"d\":\"12.30\",\"ts\":\"2024-01-02T03:04:05Z\",\"day\":\"2024-01-02\",\"m\":{\"x\":1},\"b\":\"aGk=\"}\n")
        .assert()
        .success();
    let f = fs::File::open(&out).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .schema()
        .clone();
    assert_eq!(
        lakepipe::ddl::format_schema(
            &schema,
            lakepipe::ddl::Dialect::Spark,
            lakepipe::ddl::Quote::WhenNeeded
        ),
        "d DECIMAL(10,2), ts TIMESTAMP, day DATE, m MAP<STRING,INT>, b BINARY"
    );
}

#[test]
fn usage_errors_exit_2() {
    pq_write().args(["--bogus", "x"]).assert().code(2);
    pq_write()
        .args(["--roll-rows", "5", "file.parquet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("folder"));
    pq_write()
        .args(["--schema", "id BIGNIT", "x.parquet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("position 4"));
    pq_write()
        .arg("hdfs://127.0.0.1:1/x/")
        .write_stdin("")
        .assert()
        .code(1);
}

/// One `--flatten` definition with jq-lite: an empty separator is a usage error in both.
#[test]
fn empty_flatten_separator_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    pq_write()
        .args(["--flatten="])
        .arg(dir.path().join("x.parquet"))
        .write_stdin("{\"a\":{\"b\":1}}\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the separator must not be empty"));
}

#[test]
fn help_has_examples() {
    pq_write()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
    pq_write().arg("--version").assert().success();
}

/// Bytes written to the child's stdin pipe that it has not read yet (FIONREAD).
fn pipe_unread(stdin: &std::process::ChildStdin) -> i32 {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int for a valid pipe descriptor.
    let rc = unsafe { libc::ioctl(stdin.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD on the stdin pipe");
    n
}

fn unsafe_kill(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success());
}

/// Unique columns are written without a dictionary, repeated ones with one (as Spark ends
/// up writing them), and the rows are the same either way; with `--schema` too (the
/// sample then comes from lines read for it alone).
#[test]
fn dictionaries_only_where_they_pay() {
    for schema in [None, Some("id BIGINT, ts STRING, kind STRING")] {
        dictionaries_only_where_they_pay_with(schema);
    }
}

fn dictionaries_only_where_they_pay_with(schema: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let input: String = (0..5000)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"ts\":\"2024-01-01T00:{:02}:{:02}.{:03}Z\",\"kind\":\"{}\"}}\n",
                i / 3600 % 60,
                i / 60 % 60,
                i % 1000,
                ["a", "b", "c"][i % 3]
            )
        })
        .collect();
    let out = dir.path().join("d.parquet");
    let mut run = pq_write();
    if let Some(ddl) = schema {
        run.args(["--schema", ddl]);
    }
    run.arg(&out).write_stdin(input.clone()).assert().success();
    let f = fs::File::open(&out).unwrap();
    let meta = parquet::file::reader::SerializedFileReader::new(f).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(&meta);
    for col in meta.row_group(0).columns() {
        let dict = col.dictionary_page_offset().is_some();
        let name = col.column_path().string();
        assert_eq!(
            dict,
            name == "kind",
            "{schema:?} {name}: dictionary page {dict}"
        );
    }
    let expect: Vec<serde_json::Value> = input
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(read_rows(&out), expect);
}

#[test]
fn silent_namenode_fails_within_timeout_naming_it() {
    let (_silent, addr) = lakepipe_tests::silent_address();
    let err = lakepipe_tests::fails_within(Duration::from_secs(20), || {
        let url = format!("hdfs://{addr}/lake/events/");
        let mut run = pq_write();
        run.args(["--timeout", "2", &url])
            .write_stdin("{\"a\":1}\n");
        run.output().unwrap()
    });
    assert!(err.contains(&addr) && err.contains("--timeout"), "{err}");
}

/// A decoder thread that panics ends the run with exit 1 and an error line, and leaves
/// no visible partial file; before, the writer waited for the lost chunk (or the run
/// ended with a panic of the main thread, exit 101).
#[test]
fn a_panicking_decoder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    pq_write()
        .env("LAKEPIPE_FAILPOINT", "worker-panic")
        .arg(dir.path().join("o.parquet"))
        .write_stdin(lines(1000))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "pq-write: error: a decoder panicked: failpoint worker-panic",
        ));
    assert!(visible_files(dir.path()).is_empty());
}

/// A file rewritten (truncated, refilled with other bytes, some not UTF-8) while pq-write
/// reads it gives an error naming the input or a valid file, never a crash: files are
/// read, not mapped, so the bytes the decoders checked cannot change under them (a
/// mapping ended such a run with SIGBUS).
#[test]
fn a_file_rewritten_while_it_is_read_is_an_error_or_valid_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.jsonl");
    let line = |i: usize| format!("{{\"n\":{i},\"s\":\"{}\"}}\n", "é".repeat(i % 40));
    let good: String = (0..600_000).map(line).collect();
    fs::write(&input, &good).unwrap();
    let out = dir.path().join("out.parquet");
    let mut child = pq_write_spawnable()
        .args(["-q", "--bad-lines", "error", "-i"])
        .arg(&input)
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut rewrites = 0;
    let bad: Vec<u8> = good
        .bytes()
        .take(1 << 20)
        .map(|b| if b == b'"' { 0xff } else { b })
        .collect();
    while child.try_wait().unwrap().is_none() {
        let mut f = fs::File::create(&input).unwrap(); // truncates
        f.write_all(&bad).unwrap();
        f.write_all(&good.as_bytes()[..good.len() / 3]).unwrap();
        rewrites += 1;
    }
    let res = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(rewrites > 0, "pq-write ended before the first rewrite");
    match res.status.code() {
        // the whole file valid (or none: the input was empty when it was read)
        Some(0) => assert!(!out.exists() || read_rows(&out).len() <= 600_000),
        Some(1) => assert!(
            stderr.contains("line") && !stderr.contains("panicked"),
            "after {rewrites} rewrites: {stderr}"
        ),
        other => panic!("pq-write ended with {other:?} after {rewrites} rewrites: {stderr}"),
    }
}
