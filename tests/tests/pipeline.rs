//! Pipelines through the real binaries, no services needed.

use lakepipe_tests::{assert_same_rows, parse_lines, sh, sh_output};

#[test]
fn generated_events_round_trip_through_pq_write_and_pq_cat() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    sh(&format!(
        "python3 bench/gen_events.py 5000 7 > {d}/ev.jsonl"
    ));
    sh(&format!("pq-write -q -i {d}/ev.jsonl {d}/ev.parquet"));
    let original = parse_lines(&std::fs::read_to_string(dir.path().join("ev.jsonl")).unwrap());
    let back = parse_lines(&sh(&format!("pq-cat {d}/ev.parquet")));
    assert_same_rows(&original, &back, "pq-write -> pq-cat");
}

#[test]
fn schema_from_pq_cat_reproduces_the_same_types() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    sh(&format!(
        "python3 bench/gen_events.py 2000 3 | pq-write -q --schema 'event_type STRING, seq INT, price DECIMAL(9,2), \
         user STRUCT<id:BIGINT,country:STRING,premium:BOOLEAN>, timestamp TIMESTAMP, tags ARRAY<STRING>, \
         metadata MAP<STRING,STRING>' --bad-lines skip {d}/x.parquet"
    ));
    let schema = sh(&format!("pq-cat --schema {d}/x.parquet"));
    sh(&format!("pq-cat {d}/x.parquet | pq-write -q --schema \"$(pq-cat --schema {d}/x.parquet)\" {d}/y.parquet"));
    assert_eq!(sh(&format!("pq-cat --schema {d}/y.parquet")), schema);
    assert_eq!(
        sh(&format!("pq-cat {d}/y.parquet")),
        sh(&format!("pq-cat {d}/x.parquet"))
    );
}

#[test]
fn partitioned_folder_reads_back_with_partition_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    sh(&format!(
        "python3 bench/gen_events.py 3000 5 > {d}/ev.jsonl"
    ));
    sh(&format!(
        "pq-write -q --partition-by event_type {d}/lake/ < {d}/ev.jsonl"
    ));
    let original = parse_lines(&std::fs::read_to_string(dir.path().join("ev.jsonl")).unwrap());
    let mut back = parse_lines(&sh(&format!("pq-cat {d}/lake")));
    assert_eq!(sh(&format!("pq-cat --count {d}/lake")).trim(), "3000");
    back.sort_by_key(|r| r["seq"].as_i64());
    assert_same_rows(&original, &back, "partitioned round trip");
}

#[test]
fn pq_cat_into_head_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    sh(&format!(
        "python3 bench/gen_events.py 200000 1 | pq-write -q {d}/big.parquet"
    ));
    let out = sh_output(&format!("pq-cat {d}/big.parquet | head -1"));
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
