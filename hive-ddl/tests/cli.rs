//! hive-ddl through its binary, without services.

use assert_cmd::Command;
use predicates::prelude::*;

fn hive_ddl() -> Command {
    let mut c = Command::cargo_bin("hive-ddl").unwrap();
    c.env_remove("HDFS_NAMENODE")
        .env_remove("HADOOP_CONF_DIR")
        .env_remove("HIVE_METASTORE");
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

#[test]
fn a_root_of_table_folders_gives_one_statement_per_table() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "root/purchase_sword/",
        "{\"a\":1,\"k\":\"x\"}\n",
        &["--partition-by", "k"],
    );
    write(dir.path(), "root/Join-Guild/", "{\"b\":\"s\"}\n", &[]);
    write(dir.path(), "root/a%2Fb/", "{\"c\":true}\n", &[]);
    let out = hive_ddl()
        .args(["--table", "lab_"])
        .arg(dir.path().join("root"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let sql = String::from_utf8(out).unwrap();
    let abs = std::fs::canonicalize(dir.path().join("root")).unwrap();
    let creates: Vec<&str> = sql.lines().filter(|l| l.starts_with("CREATE")).collect();
    assert_eq!(
        creates,
        [
            "CREATE EXTERNAL TABLE `lab_join_guild` (",
            "CREATE EXTERNAL TABLE `lab_a_b` (",
            "CREATE EXTERNAL TABLE `lab_purchase_sword` (",
        ],
        "{sql}"
    );
    assert!(sql.contains("  `b` STRING\n"), "{sql}");
    assert!(sql.contains("PARTITIONED BY (`k` STRING)"), "{sql}");
    assert!(
        sql.contains("MSCK REPAIR TABLE `lab_purchase_sword`;"),
        "{sql}"
    );
    assert_eq!(sql.matches("MSCK").count(), 1, "{sql}");
    assert!(
        sql.contains(&format!("LOCATION 'file://{}/a%2Fb';", abs.display())),
        "{sql}"
    );
    // a folder that holds k=v folders is one table, as before
    hive_ddl()
        .arg(dir.path().join("root/purchase_sword"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "CREATE EXTERNAL TABLE `purchase_sword`",
        ));
    // two folders that fold to one name are an error naming both
    write(dir.path(), "root/join_guild/", "{\"b\":\"s\"}\n", &[]);
    hive_ddl()
        .arg(dir.path().join("root"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("'Join-Guild' and 'join_guild'"));
}

#[test]
fn nested_names_hive_cannot_declare_are_left_out_or_kept_by_spark() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web/",
        "{\"id\":1,\"request\":{\"headers\":{\"X-Forwarded-For\":\"1.2.3.4\",\"host\":\"h\"}}}\n",
        &[],
    );
    for dialect in ["hive", "trino"] {
        hive_ddl()
            .args(["--dialect", dialect])
            .arg(dir.path().join("web"))
            .assert()
            .success()
            .stdout(predicate::str::contains("X-Forwarded-For").not())
            .stdout(predicate::str::contains("host"))
            .stderr(predicate::str::contains(
                "nested field request.headers.X-Forwarded-For left out",
            ));
    }
    hive_ddl()
        .args(["--dialect", "spark"])
        .arg(dir.path().join("web"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "`request` STRUCT<`headers`:STRUCT<`X-Forwarded-For`:STRING,`host`:STRING>>",
        ))
        .stdout(predicate::str::contains("USING parquet"))
        .stderr(predicate::str::contains("data-source table"));
}

#[test]
fn metastore_flags_and_unreachable_metastores() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t/", "{\"a\":1}\n", &[]);
    let t = dir.path().join("t");
    hive_ddl().arg("--dry-run").arg(&t).assert().code(2);
    hive_ddl()
        .arg("--metastore")
        .arg(&t)
        .env_remove("HIVE_METASTORE")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("HIVE_METASTORE"));
    // a port nothing listens on: named in the error, from the flag or the environment
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("thrift://{}", free.local_addr().unwrap());
    drop(free);
    hive_ddl()
        .args(["--metastore", &uri])
        .arg(&t)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("{uri}: cannot connect")));
    hive_ddl()
        .arg("--metastore")
        .arg(&t)
        .env("HIVE_METASTORE", &uri)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("{uri}: cannot connect")));
    // accepted, never answered: --timeout bounds the call
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("thrift://{}", silent.local_addr().unwrap());
    hive_ddl()
        .args(["--timeout", "1", "--metastore", &uri])
        .arg(&t)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("{uri}: get_database")));
}
