//! pq-write against the real services: one Kafka topic of several event types, split
//! into a table per type on HDFS, and each table counted in Trino and Spark SQL.
//! Run: `cargo test --profile ci -p pq-write --test live -- --ignored`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lakepipe_tests::{live_env, sh, sh_output};

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// Run `cmd` until it succeeds: Trino may be restarting (another test switches its
/// metastore). Fails with the last error after `within`.
fn until_ok(cmd: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let out = sh_output(cmd);
        if out.status.success() {
            return String::from_utf8(out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "`{cmd}` kept failing:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Count per type in the generated input, and the number of events carrying `late`.
fn expected_counts(events: &str, late: &str) -> (BTreeMap<String, u64>, u64) {
    let mut counts = BTreeMap::new();
    let mut with_late = 0;
    for l in events.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        *counts
            .entry(v["event_type"].as_str().unwrap().to_string())
            .or_default() += 1;
        with_late += u64::from(v.get(late).is_some());
    }
    (counts, with_late)
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_kafka_split_by_type_to_hdfs_counted_in_trino_and_spark() {
    let brokers = live_env("KAFKA_BROKERS");
    let nn = live_env("HDFS_NAMENODE");
    let trino = live_env("LAKEPIPE_TRINO_CLI");
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let topic = unique("types");
    let remote = format!("{nn}/lakepipe-tests/{topic}");

    // Lab events; from event 3000 on, purchases carry a `coupon` the inference never saw.
    sh(&format!(
        "python3 bench/gen_events.py 4000 21 | python3 -c '{}' > {d}/ev.jsonl",
        "import json, sys\nfor i, l in enumerate(sys.stdin):\n r = json.loads(l)\n if i >= 3000 and r[\"event_type\"] == \"purchase_sword\": r[\"coupon\"] = \"C%d\" % (i % 7)\n print(json.dumps(r))"
    ));
    let events = std::fs::read_to_string(dir.path().join("ev.jsonl")).unwrap();
    let (counts, with_coupon) = expected_counts(&events, "coupon");
    assert!(with_coupon > 0 && counts.len() == 5, "{counts:?}");
    // One partition keeps the file's order: with several, a partition holding late events
    // can come first (consumed in batches) and `coupon` lands in the inference sample.
    sh(&format!(
        "kcat-lite -b {brokers} --create-topic {topic} --partitions 1 --replication-factor 1 \
         && kcat-lite -b {brokers} -P -t {topic} < {d}/ev.jsonl"
    ));
    let run = sh_output(&format!(
        "kcat-lite -b {brokers} -C -e -J -t {topic} \
         | pq-write --envelope kcat --kafka-meta --split-by event_type --infer-rows 2000 {remote}/"
    ));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("new column 'coupon' of table event_type=purchase_sword"),
        "{stderr}"
    );

    let schema = unique("lp_types");
    until_ok(
        &format!("{trino} --execute \"CREATE SCHEMA IF NOT EXISTS hive.{schema} WITH (location = '{nn}/lakepipe-tests/{schema}')\""),
        Duration::from_secs(180),
    );
    for (ty, n) in &counts {
        let table = format!("{ty}_{}", std::process::id());
        let folder = format!("{remote}/{ty}");
        let ddl = sh(&format!(
            "hive-ddl -q --dialect trino --schema {schema} --table {table} {folder}"
        ));
        std::fs::write(format!("{d}/{ty}.trino.sql"), &ddl).unwrap();
        until_ok(
            &format!("{trino} -f {d}/{ty}.trino.sql"),
            Duration::from_secs(180),
        );
        let late = if ty == "purchase_sword" {
            "count(coupon)"
        } else {
            "0"
        };
        let got = until_ok(
            &format!("{trino} --execute \"SELECT count(*), {late} FROM hive.{schema}.{table}\""),
            Duration::from_secs(180),
        );
        let want_late = if ty == "purchase_sword" {
            with_coupon
        } else {
            0
        };
        assert_eq!(
            got.trim(),
            format!("\"{n}\",\"{want_late}\""),
            "Trino: {ty}"
        );

        // Spark SQL: the same table from the Hive DDL.
        let ddl = sh(&format!(
            "hive-ddl -q --dialect spark --table {table} {folder}"
        ));
        let sql =
            format!("{ddl}\nSELECT count(*), {late} FROM `{table}`;\nDROP TABLE `{table}`;\n");
        std::fs::write(format!("{d}/{ty}.spark.sql"), sql).unwrap();
        let got = sh(&format!("{spark} -f {d}/{ty}.spark.sql"));
        assert_eq!(
            got.split_whitespace().collect::<Vec<_>>(),
            [n.to_string(), want_late.to_string()],
            "Spark: {ty}"
        );
    }
    // The purchase table has no guild columns: each table holds its own type's fields.
    let cols = until_ok(
        &format!(
            "{trino} --execute \"SELECT column_name FROM hive.information_schema.columns WHERE table_schema = '{schema}' AND table_name = 'purchase_sword_{}'\"",
            std::process::id()
        ),
        Duration::from_secs(60),
    );
    assert!(cols.contains("coupon") && !cols.contains("guild"), "{cols}");
    // Best-effort cleanup of the shared services (not part of what is tested).
    let drops: String = counts
        .keys()
        .map(|ty| {
            format!(
                "DROP TABLE IF EXISTS hive.{schema}.{ty}_{};",
                std::process::id()
            )
        })
        .collect();
    sh_output(&format!(
        "{trino} --execute \"{drops} DROP SCHEMA IF EXISTS hive.{schema}\""
    ));
    sh(&format!("kcat-lite -b {brokers} --delete-topic {topic}"));
}
