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

/// The column names of a Parquet file, from its footer.
fn columns(file: &Path) -> Vec<String> {
    let r = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
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
    let cols = columns(&d.path().join("events+0+0000000000+0000000004.parquet"));
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

/// With --partition-by (`kind=k0/`) or --split-by (a table `k0/`), each folder gets the
/// partition's rows of its value, in files named by the offsets they hold, and all of
/// them are committed together, under one claim folder at OUTPUT.
#[test]
fn partition_and_table_folders_hold_one_file_per_topic_partition() {
    for (flag, folder) in [("--partition-by", "kind="), ("--split-by", "")] {
        let d = tempfile::tempdir().unwrap();
        let out = format!("{}/", d.path().display());
        pq_write()
            .args([flag, "kind", &out])
            .write_stdin(envelopes(&[("t", 0, 0..6), ("t", 1, 0..3)]))
            .assert()
            .success();
        let want: Vec<(String, i64)> = [
            ("k0/t+0+0000000000+0000000004.parquet", 3),
            ("k0/t+1+0000000000+0000000002.parquet", 2),
            ("k1/t+0+0000000001+0000000005.parquet", 3),
            ("k1/t+1+0000000001+0000000001.parquet", 1),
        ]
        .iter()
        .map(|(f, n)| (format!("{folder}{f}"), *n))
        .collect();
        assert_eq!(files(d.path()), want, "{flag}");
        assert!(d.path().join("_lakepipe/claims").is_dir());
        assert!(!d.path().join(format!("{folder}k0/_lakepipe")).exists());
    }
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

// --split-by with --exactly-once: a table per `kind`, each Kafka partition committed in
// one step over all tables.

/// One kcat -J envelope whose payload is `payload` (a JSON text).
fn envelope(topic: &str, p: i32, o: i64, payload: &str) -> String {
    format!(
        "{{\"topic\":\"{topic}\",\"partition\":{p},\"offset\":{o},\"key\":null,\"payload\":{}}}\n",
        serde_json::to_string(payload).unwrap()
    )
}

/// Envelopes of partition `t`/0 with the given kinds, offsets from `first`.
fn kinds(first: i64, kinds: &[&str]) -> String {
    kinds
        .iter()
        .zip(first..)
        .map(|(k, o)| envelope("t", 0, o, &format!("{{\"n\":{o},\"kind\":\"{k}\"}}")))
        .collect()
}

/// Each visible file below `dir` (relative path) with its rows' `n` column.
fn n_by_file(dir: &Path) -> Vec<(String, Vec<i64>)> {
    use arrow_array::cast::AsArray;
    use arrow_array::Int64Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    files(dir)
        .into_iter()
        .map(|(rel, _)| {
            let f = std::fs::File::open(dir.join(&rel)).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap()
                .build()
                .unwrap();
            let mut n = Vec::new();
            for b in reader {
                let b = b.unwrap();
                let col: &Int64Array = b.column_by_name("n").unwrap().as_primitive();
                n.extend(col.values().iter().copied());
            }
            (rel, n)
        })
        .collect()
}

/// Every offset of `want` in exactly one file, each file in its kind's table and named
/// by the first and last offset it holds (payload `n` is the offset).
fn assert_each_offset_once(
    dir: &Path,
    want: std::ops::Range<i64>,
    kind_of: impl Fn(i64) -> String,
) {
    let mut all = Vec::new();
    for (rel, n) in n_by_file(dir) {
        let (table, name) = rel.split_once('/').expect("files sit in table folders");
        let range = lakepipe::committed::OffsetRange::parse(name).unwrap();
        assert_eq!(
            (range.first, range.last),
            (n[0], *n.last().unwrap()),
            "{rel}"
        );
        assert!(n.iter().all(|&o| kind_of(o) == table), "{rel}: {n:?}");
        all.extend(n);
    }
    all.sort();
    assert_eq!(all, want.collect::<Vec<_>>());
}

fn k_parity(o: i64) -> String {
    format!("k{}", o % 2)
}

/// A restart over the same input, with redeliveries: the committed offset of a
/// partition is the highest in any table, so nothing is written twice in any table.
/// Per table folder the audit shows the other tables' offsets as gaps; over OUTPUT
/// there are none.
#[test]
fn split_tables_drop_committed_offsets_and_redeliveries() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    pq_write()
        .args(["--split-by", "kind", &out])
        .write_stdin(envelopes(&[("t", 0, 0..10)]))
        .assert()
        .success();
    let again = envelopes(&[("t", 0, 0..15), ("t", 0, 12..20)]);
    pq_write()
        .args(["--split-by", "kind", "--roll-rows", "2", &out])
        .write_stdin(again)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "13 envelope(s) already committed or taken dropped",
        ));
    assert_each_offset_once(d.path(), 0..20, k_parity);
    let audit = |dir: &Path| {
        let loc = lakepipe::location::Location::Local(dir.to_path_buf());
        let found = lakepipe::committed::scan(&lakepipe::storage::Fs::Local, &loc).unwrap();
        lakepipe::committed::audit(&found)
    };
    let root = audit(d.path());
    assert_eq!((root[0].first, root[0].last), (0, 19));
    assert!(root[0].gaps.is_empty() && root[0].overlaps.is_empty());
    let k0 = audit(&d.path().join("k0"));
    assert_eq!(k0[0].gaps, [(9, 9), (13, 13), (17, 17)]);
    assert!(k0[0].overlaps.is_empty());
}

/// A roll in one table commits every other table's rows of that partition at or below
/// its last offset in the same step: killed right after it, nothing of table b is
/// missing, so a restart that resumes after the highest committed offset loses nothing.
#[test]
fn a_roll_in_one_table_commits_the_earlier_rows_of_the_others() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pq-write"))
        .args(["--envelope", "kcat", "--exactly-once", "--split-by", "kind"])
        .args(["--roll-rows", "3", "--infer-rows", "1", "-q", &out])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // a's third row (offset 3) rolls its file; b's open file holds offset 1
    let input = kinds(0, &["a", "b", "a", "a", "a", "a", "b"]);
    stdin.write_all(input.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let claims = d.path().join("_lakepipe/claims");
    let start = Instant::now();
    while files(d.path()).is_empty() || std::fs::read_dir(&claims).unwrap().next().is_some() {
        assert!(start.elapsed() < Duration::from_secs(30), "no commit");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL, with stdin still open
    child.wait().unwrap();
    assert_eq!(
        files(d.path()),
        [
            ("a/t+0+0000000000+0000000003.parquet".to_string(), 3),
            ("a/t+0+0000000004+0000000005.parquet".to_string(), 2),
            ("b/t+0+0000000001+0000000006.parquet".to_string(), 2),
        ]
    );
    // the restart gets offsets 0-6 again (or from 7 on, with --resume-from)
    let kind_of = |o: i64| if [1, 6].contains(&o) { "b" } else { "a" }.to_string();
    pq_write()
        .args(["--split-by", "kind", &out])
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicate::str::contains("7 envelope(s) already committed"));
    assert_each_offset_once(d.path(), 0..7, kind_of);
}

/// A writer killed between the renames of one commit left table a's file visible and
/// table b's hidden, with its claim: the next run finishes that commit (after the claim
/// stood unchanged for the stale time, at least 10 s), then goes on after offset 3.
#[test]
fn a_commit_left_half_done_between_tables_is_finished_by_the_next_run() {
    let scratch = tempfile::tempdir().unwrap();
    pq_write()
        .args([
            "--split-by",
            "kind",
            &format!("{}/", scratch.path().display()),
        ])
        .write_stdin(kinds(0, &["a", "b", "a", "b"]))
        .assert()
        .success();
    let d = tempfile::tempdir().unwrap();
    let (a_name, b_name) = (
        "a/t+0+0000000000+0000000002.parquet",
        "b/t+0+0000000001+0000000003.parquet",
    );
    let (dst_a, dst_b) = (d.path().join(a_name), d.path().join(b_name));
    let tmp_b = d
        .path()
        .join("b/.t+0+0000000001+0000000003.parquet.dead.inprogress");
    std::fs::create_dir_all(d.path().join("a")).unwrap();
    std::fs::create_dir_all(d.path().join("b")).unwrap();
    std::fs::create_dir_all(d.path().join("_lakepipe/claims")).unwrap();
    std::fs::rename(scratch.path().join(a_name), &dst_a).unwrap();
    std::fs::rename(scratch.path().join(b_name), &tmp_b).unwrap();
    let tmp_a = d.path().join("a/.gone.dead.inprogress");
    let claim = serde_json::json!({
        "writer": "dead", "topic": "t", "partition": 0, "first": 0,
        "renames": [[tmp_a, dst_a], [tmp_b, dst_b]],
    });
    std::fs::write(d.path().join("_lakepipe/claims/t+0"), claim.to_string()).unwrap();
    // what kcat-lite --resume-from sends: offsets after 2, the highest visible
    let kind_of = |o: i64| if o % 2 == 1 { "b" } else { "a" }.to_string();
    let input: String = (3..8).map(|o| kinds(o, &[kind_of(o).as_str()])).collect();
    pq_write()
        .args(["--split-by", "kind", "--timeout", "1"])
        .arg(format!("{}/", d.path().display()))
        .write_stdin(input)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("finishing the commit of writer dead")
                .and(predicate::str::contains("1 envelope(s) already committed")),
        );
    assert_each_offset_once(d.path(), 0..8, kind_of);
    assert_eq!(
        std::fs::read_dir(d.path().join("_lakepipe/claims"))
            .unwrap()
            .count(),
        0
    );
}

/// A line whose `kind` is missing, null or an object is a bad line under the policy;
/// with `--bad-lines FILE` the others are committed, with the default the run stops and
/// the rows before it are committed in every table.
#[test]
fn split_bad_lines_follow_the_policy() {
    let bad = [
        envelope("t", 0, 2, r#"{"n":2}"#),
        envelope("t", 0, 3, r#"{"n":3,"kind":null}"#),
        envelope("t", 0, 4, r#"{"n":4,"kind":{"x":1}}"#),
    ];
    let input = format!(
        "{}{}{}",
        kinds(0, &["k0", "k1"]),
        bad.concat(),
        kinds(5, &["k1", "k0"])
    );
    let d = tempfile::tempdir().unwrap();
    let rejects = d.path().join("rejects.jsonl");
    let out = d.path().join("out");
    pq_write()
        .args(["--split-by", "kind", "--bad-lines"])
        .arg(&rejects)
        .arg(format!("{}/", out.display()))
        .write_stdin(input.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains("3 line(s) rejected"));
    assert_eq!(std::fs::read_to_string(&rejects).unwrap(), bad.concat());
    assert_eq!(
        files(&out),
        [
            ("k0/t+0+0000000000+0000000006.parquet".to_string(), 2),
            ("k1/t+0+0000000001+0000000005.parquet".to_string(), 2),
        ]
    );
    let out = d.path().join("stopped");
    pq_write()
        .args(["--split-by", "kind"])
        .arg(format!("{}/", out.display()))
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "stdin:3: --split-by column 'kind' is missing",
        ));
    assert_eq!(
        files(&out),
        [
            ("k0/t+0+0000000000+0000000000.parquet".to_string(), 1),
            ("k1/t+0+0000000001+0000000001.parquet".to_string(), 1),
        ]
    );
}

/// A field first seen after inference widens its table (its open files close, new
/// ones start) and every offset is still committed once; a rerun adds nothing.
#[test]
fn schema_evolution_in_split_tables_commits_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let input: String = (0..20)
        .map(|o| {
            let late = if o >= 10 && o % 2 == 0 {
                ",\"late\":\"x\""
            } else {
                ""
            };
            envelope(
                "t",
                0,
                o,
                &format!("{{\"n\":{o},\"kind\":\"k{}\"{late}}}", o % 2),
            )
        })
        .collect();
    pq_write()
        .args(["--split-by", "kind", "--infer-rows", "5", &out])
        .write_stdin(input.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "new column 'late' of table kind=k0 from line 11",
        ));
    assert_each_offset_once(d.path(), 0..20, k_parity);
    let k0 = files(&d.path().join("k0"));
    assert_eq!(
        k0,
        [
            ("t+0+0000000000+0000000008.parquet".to_string(), 5),
            ("t+0+0000000010+0000000018.parquet".to_string(), 5),
        ]
    );
    let cols = columns(&d.path().join("k0").join(&k0[1].0));
    assert_eq!(cols, ["n", "kind", "late"]);
    pq_write()
        .args(["--split-by", "kind", "--infer-rows", "5", &out])
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicate::str::contains("20 envelope(s) already committed"));
    assert_eq!(n_by_file(d.path()).len(), 3);
}

/// A commit that fails (a rename refused, as when something holds the final name: the
/// failpoint makes t/0's renames fail) stops the run with exit 1 and leaves its claim.
/// The rows of that partition read after the failed ones stay hidden, in every table,
/// though nothing stands in their way (visible, they would move the next run's resume
/// point past the failed offsets), while the other partitions are committed.
#[test]
fn after_a_failed_commit_nothing_later_of_that_partition_is_visible() {
    let d = tempfile::tempdir().unwrap();
    let out = format!("{}/", d.path().display());
    let mut input = String::new();
    for o in 0..5 {
        input += &envelope("t", 0, o, &format!("{{\"n\":{o},\"kind\":\"a\"}}"));
    }
    input += &envelope("t", 0, 5, "{\"n\":5,\"kind\":\"b\"}");
    for o in 0..2 {
        input += &envelope("t", 1, o, &format!("{{\"n\":{o},\"kind\":\"b\"}}"));
    }
    let end = pq_write()
        .env("LAKEPIPE_FAILPOINT", "commit-rename-fails:t+0")
        .args(["--split-by", "kind"])
        .args(["--roll-rows", "3", "--timeout", "10", &out])
        .write_stdin(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&end.stderr);
    assert_eq!(end.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("committing"), "{stderr}");
    // t/0: nothing visible (offsets 0-2 wait in the claim for the next run, 3-4 of
    // table a and 5 of table b stay hidden); t/1 committed
    assert_eq!(
        n_by_file(d.path()),
        [(
            "b/t+1+0000000000+0000000001.parquet".to_string(),
            vec![0, 1]
        )]
    );
    assert!(d.path().join("_lakepipe/claims/t+0").exists());
    // the next run (no failpoint) finishes the claim: offsets 0-2 become visible
    pq_write()
        .args(["--split-by", "kind", "--timeout", "10", &out])
        .write_stdin("")
        .assert()
        .success();
    let files = n_by_file(d.path());
    assert!(
        files.contains(&(
            "a/t+0+0000000000+0000000002.parquet".to_string(),
            vec![0, 1, 2]
        )),
        "{files:?}"
    );
}
