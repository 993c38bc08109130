//! hive-ddl through its binary, without services.

use assert_cmd::Command;
use predicates::prelude::*;

fn hive_ddl() -> Command {
    let mut c = Command::cargo_bin("hive-ddl").unwrap();
    c.env_remove("HDFS_NAMENODE").env_remove("HADOOP_CONF_DIR");
    c
}

fn write(dir: &std::path::Path, name: &str, lines: &str, extra: &[&str]) {
    let pq_write = std::path::Path::new(env!("CARGO_BIN_EXE_hive-ddl")).with_file_name("pq-write");
    let out = std::process::Command::new(pq_write)
        .args(extra)
        .arg("-q")
        .arg(dir.join(name))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(lines.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn folder_with_partitions_hive_and_trino() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("events");
    write(
        dir.path(),
        "events/",
        "{\"a\":1,\"k\":\"x\"}\n{\"a\":2,\"k\":\"y\"}\n",
        &["--partition-by", "k"],
    );
    let abs = std::fs::canonicalize(&lake).unwrap();
    hive_ddl().arg(&lake).assert().success().stdout(format!(
        "CREATE EXTERNAL TABLE `events` (\n  `a` BIGINT\n)\nPARTITIONED BY (`k` STRING)\nSTORED AS PARQUET\n\
         LOCATION 'file://{}';\nMSCK REPAIR TABLE `events`;\n",
        abs.display()
    ));
    hive_ddl()
        .args(["--dialect", "trino", "--schema", "lab", "--if-not-exists"])
        .arg(&lake)
        .assert()
        .success()
        .stdout(predicate::str::contains("CREATE TABLE IF NOT EXISTS \"hive\".\"lab\".\"events\" (\n  \"a\" BIGINT,\n  \"k\" VARCHAR\n)"))
        .stdout(predicate::str::contains("partitioned_by = ARRAY['k']"))
        .stdout(predicate::str::contains("CALL \"hive\".system.sync_partition_metadata(schema_name => 'lab', table_name => 'events', mode => 'FULL');"));
}

#[test]
fn merged_columns_and_conflicts_name_both_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t/1.parquet", "{\"a\":1}\n", &[]);
    write(dir.path(), "t/2.parquet", "{\"a\":2,\"b\":\"new\"}\n", &[]);
    hive_ddl()
        .arg(dir.path().join("t"))
        .assert()
        .success()
        .stdout(predicate::str::contains("  `a` BIGINT,\n  `b` STRING\n"));
    write(dir.path(), "t/3.parquet", "{\"a\":\"text\"}\n", &[]);
    hive_ddl()
        .arg(dir.path().join("t"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("column 'a'"))
        .stderr(predicate::str::contains("1.parquet"))
        .stderr(predicate::str::contains("3.parquet"));
}

#[test]
fn names_differing_only_by_case_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/1.parquet",
        "{\"Host\":\"a\",\"host\":\"b\"}\n",
        &[],
    );
    hive_ddl()
        .arg(dir.path().join("c"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("'Host'"))
        .stderr(predicate::str::contains("'host'"))
        .stderr(predicate::str::contains("differ only by case"));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    hive_ddl()
        .arg(dir.path().join("empty"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no Parquet files"));
    std::fs::write(dir.path().join("not.parquet"), "hello, I am text").unwrap();
    hive_ddl()
        .arg(dir.path().join("not.parquet"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not.parquet"));
    write(dir.path(), "ok.parquet", "{\"a\":1}\n", &[]);
    let bytes = std::fs::read(dir.path().join("ok.parquet")).unwrap();
    std::fs::write(dir.path().join("cut.parquet"), &bytes[..bytes.len() - 10]).unwrap();
    hive_ddl()
        .arg(dir.path().join("cut.parquet"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cut.parquet"));
    hive_ddl()
        .arg(dir.path().join("missing"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("No such file"));
    hive_ddl()
        .args(["--dialect", "oracle", "x"])
        .assert()
        .code(2);
}

#[test]
fn help_has_examples() {
    hive_ddl()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}

#[test]
fn silent_namenode_fails_within_timeout_naming_it() {
    let (_silent, addr) = lakepipe_tests::silent_address();
    let err = lakepipe_tests::fails_within(std::time::Duration::from_secs(20), || {
        let url = format!("hdfs://{addr}/lake/events");
        hive_ddl().args(["--timeout", "2", &url]).output().unwrap()
    });
    assert!(err.contains(&addr) && err.contains("--timeout"), "{err}");
}
