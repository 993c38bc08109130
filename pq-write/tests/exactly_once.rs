//! `pq-write --exactly-once` on local folders (the live tests in tests/tests/streaming.rs
//! run the whole pipeline against the real Kafka and HDFS).

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use predicates::prelude::*;

fn pq_write() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pq-write").unwrap();
    c.env_remove("HDFS_NAMENODE").env_remove("HADOOP_CONF_DIR");
    c.args(["--envelope", "kcat", "--exactly-once"]);
    c
}

/// kcat -J envelopes: (topic, partition, offset) each with payload `{"n":offset}`.
fn envelopes(msgs: &[(&str, i32, std::ops::Range<i64>)]) -> String {
    let mut s = String::new();
    for (topic, p, offsets) in msgs {
        for o in offsets.clone() {
            s.push_str(&format!(
                "{{\"topic\":\"{topic}\",\"partition\":{p},\"offset\":{o},\"tstype\":\"create\",\"ts\":1700000000000,\"broker\":0,\"key\":null,\"payload\":\"{{\\\"n\\\":{o},\\\"kind\\\":\\\"k{}\\\"}}\"}}\n",
                o % 2
            ));
        }
    }
    s
}

/// Visible file names below `dir` (relative, sorted) with their footer row counts.
fn files(dir: &Path) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for e in walk(dir) {
        let rel = e.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if rel
            .split('/')
            .any(|c| c.starts_with('.') || c.starts_with('_'))
        {
            continue;
        }
        let r = SerializedFileReader::new(std::fs::File::open(&e).unwrap()).unwrap();
        out.push((rel, r.metadata().file_metadata().num_rows()));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn files_per_topic_partition_named_by_offsets() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let input = envelopes(&[
        ("events", 0, 0..5),
        ("events", 1, 10..13),
        ("_hidden", 0, 7..9),
    ]);
    pq_write().arg(&out).write_stdin(input).assert().success();
    assert_eq!(
        files(d.path()),
        [
            ("%5Fhidden+0+0000000007+0000000008.parquet".to_string(), 2),
            ("events+0+0000000000+0000000004.parquet".to_string(), 5),
            ("events+1+0000000010+0000000012.parquet".to_string(), 3),
        ]
    );
    // the offsets route rows; without --kafka-meta they stay out of the files
    let r = SerializedFileReader::new(
        std::fs::File::open(d.path().join("events+0+0000000000+0000000004.parquet")).unwrap(),
    )
    .unwrap();
    let cols: Vec<String> = r
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(cols, ["n", "kind"]);
}

/// A restart over the same input writes only what is not committed yet, and says so.
#[test]
fn committed_offsets_and_redeliveries_are_dropped_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    pq_write()
        .arg(&out)
        .write_stdin(envelopes(&[("t", 0, 0..10)]))
        .assert()
        .success();
    // offsets 0-19, with 12-14 delivered twice (a rebalance seeks back)
    let again = envelopes(&[("t", 0, 0..15), ("t", 0, 12..20)]);
    pq_write()
        .args(["--roll-rows", "4"])
        .arg(&out)
        .write_stdin(again)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "13 envelope(s) already committed or taken dropped",
        ));
    assert_eq!(
        files(d.path()),
        [
            ("t+0+0000000000+0000000009.parquet".to_string(), 10),
            ("t+0+0000000010+0000000013.parquet".to_string(), 4),
            ("t+0+0000000014+0000000017.parquet".to_string(), 4),
            ("t+0+0000000018+0000000019.parquet".to_string(), 2),
        ]
    );
}

/// With --partition-by, each folder gets the partition's rows of its value, and all of
/// them are committed together.
#[test]
fn partition_folders_hold_one_file_per_topic_partition() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    pq_write()
        .args(["--partition-by", "kind"])
        .arg(&out)
        .write_stdin(envelopes(&[("t", 0, 0..6), ("t", 1, 0..3)]))
        .assert()
        .success();
    assert_eq!(
        files(d.path()),
        [
            ("kind=k0/t+0+0000000000+0000000004.parquet".to_string(), 3),
            ("kind=k0/t+1+0000000000+0000000002.parquet".to_string(), 2),
            ("kind=k1/t+0+0000000001+0000000005.parquet".to_string(), 3),
            ("kind=k1/t+1+0000000001+0000000001.parquet".to_string(), 1),
        ]
    );
}

#[test]
fn an_envelope_without_its_offset_is_a_bad_line() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let mut input = envelopes(&[("t", 0, 0..2)]);
    input.push_str("{\"topic\":\"t\",\"partition\":0,\"payload\":\"{}\"}\n");
    pq_write()
        .arg(&out)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "stdin:3: --exactly-once needs topic, partition and offset",
        ));
    // the rows before it are committed
    assert_eq!(
        files(d.path()),
        [("t+0+0000000000+0000000001.parquet".to_string(), 2)]
    );
}

#[test]
fn usage_errors() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("x.parquet");
    let input = envelopes(&[("t", 0, 0..1)]);
    pq_write()
        .arg(&file)
        .write_stdin(input.clone())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("OUTPUT must end with '/'"));
    pq_write()
        .args(["--overwrite", &format!("{}/", d.path().display())])
        .write_stdin(input)
        .assert()
        .code(2);
    let mut c = assert_cmd::Command::cargo_bin("pq-write").unwrap();
    c.args(["--exactly-once", "out/"]).assert().code(2);
}

/// A quiet stream (schema inferred, nothing after the first lines) still gets its
/// committed file from --roll-secs, while pq-write keeps running.
#[test]
fn a_quiet_stream_is_committed_by_roll_secs() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pq-write"))
        .args([
            "--envelope",
            "kcat",
            "--exactly-once",
            "--roll-secs",
            "0.5",
            "-q",
            &out,
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(envelopes(&[("t", 0, 0..2)]).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    while files(d.path()).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no file while the input is quiet"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.try_wait().unwrap().is_none(), "pq-write ended early");
    assert_eq!(
        files(d.path()),
        [("t+0+0000000000+0000000001.parquet".to_string(), 2)]
    );
    stdin
        .write_all(envelopes(&[("t", 0, 2..3)]).as_bytes())
        .unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(files(d.path()).len(), 2);
}
