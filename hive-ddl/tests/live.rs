//! The emitted SQL runs unchanged in the real Spark SQL (Hive metastore) and Trino, and
//! the tables return what pq-cat reads from the same files.

use lakepipe_tests::{live_env, sh, sh_output};

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// Run hive-ddl on `dir` for Spark, then compare `SELECT *` (as JSON) with pq-cat.
fn check_in_spark(dir: &str, dialect: &str, table: &str, extra_conf: &str) {
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let py = live_env("LAKEPIPE_PYTHON");
    let ddl = sh(&format!(
        "hive-ddl -q --dialect {dialect} --table {table} {dir}"
    ));
    let select = format!(
        "SELECT to_json(struct(*), map('timestampFormat', 'yyyy-MM-dd''T''HH:mm:ss.SSSSSSXXX')) FROM `{table}`"
    );
    let script = format!("{ddl}\n{select};\nDROP TABLE `{table}`;\n");
    std::fs::write(format!("{dir}.sql"), &script).unwrap();
    let rows = sh(&format!(
        "{spark} --conf spark.sql.session.timeZone=UTC {extra_conf} -f {dir}.sql"
    ));
    std::fs::write(format!("{dir}.spark.jsonl"), rows).unwrap();
    sh(&format!("pq-cat {dir} > {dir}.ours.jsonl"));
    let cmp = sh_output(&format!(
        "{py} tests/py/same_rows.py {dir}.ours.jsonl {dir}.spark.jsonl"
    ));
    assert!(
        cmp.status.success(),
        "{dialect}: Spark differs from pq-cat:\n{}\nDDL:\n{ddl}",
        String::from_utf8_lossy(&cmp.stdout)
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_type_matrix_in_spark_both_dialects() {
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("matrix");
    std::fs::create_dir(&m).unwrap();
    let m = m.display().to_string();
    sh(&format!("{py} tests/py/type_matrix.py {m} spark"));
    // pq-write's own files beside pyarrow's would be a schema conflict: their own table
    let pw = format!("{}/pqwrite", dir.path().display());
    sh(&format!(
        "python3 bench/gen_events.py 300 4 | pq-write -q {pw}/"
    ));
    for dialect in ["hive", "spark"] {
        check_in_spark(&m, dialect, &unique(&format!("matrix_{dialect}")), "");
        check_in_spark(&pw, dialect, &unique(&format!("pqw_{dialect}")), "");
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_spark_written_int96_files() {
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/int96", dir.path().display());
    let src = unique("src96");
    sh(&format!(
        "{spark} --conf spark.sql.parquet.outputTimestampType=INT96 --conf spark.sql.session.timeZone=UTC -e \"\
         CREATE TABLE {src} USING parquet LOCATION 'file://{out}' AS \
         SELECT id, TIMESTAMP '2024-01-02 03:04:05.123456' + make_interval(0,0,0,0,0,0,id) AS ts, \
         named_struct('a', id, 'b', array(id, id)) AS st FROM range(50); DROP TABLE {src}\""
    ));
    assert!(
        sh(&format!("pq-cat --meta {out}")).contains("INT96"),
        "Spark wrote INT96"
    );
    check_in_spark(&out, "hive", &unique("int96"), "");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_partitions_are_registered() {
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let dir = tempfile::tempdir().unwrap();
    let lake = format!("{}/lake", dir.path().display());
    sh(&format!(
        "python3 bench/gen_events.py 2000 9 | python3 -c '{}' | pq-write -q --partition-by event_type,day {lake}/",
        "import json, sys\nfor l in sys.stdin:\n r = json.loads(l); r[\"day\"] = \"2024-01-0%d\" % (1 + r[\"seq\"] % 2); print(json.dumps(r))"
    ));
    let table = unique("parts");
    let ddl = sh(&format!("hive-ddl -q --table {table} {lake}"));
    assert!(
        ddl.contains("PARTITIONED BY (`event_type` STRING, `day` STRING)"),
        "{ddl}"
    );
    let sql = format!("{ddl}SELECT event_type, day, count(*) FROM `{table}` GROUP BY 1, 2 ORDER BY 1, 2;\nDROP TABLE `{table}`;\n");
    std::fs::write(format!("{lake}.sql"), sql).unwrap();
    let counts = sh(&format!("{spark} -f {lake}.sql"));
    let ours = sh(&format!(
        "pq-cat --format tsv --columns event_type,day {lake} | sort | uniq -c | awk '{{print $2 \"\\t\" $3 \"\\t\" $1}}'"
    ));
    assert_eq!(counts.trim(), ours.trim());
    assert_eq!(counts.lines().count(), 10, "5 event types x 2 days");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_hostile_names_stay_names() {
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let d = format!("{}/hostile", dir.path().display());
    std::fs::create_dir(&d).unwrap();
    sh(&format!(
        "{py} -c \"import pyarrow as pa, pyarrow.parquet as pq, sys\n\
names = ['select', 'a b', 'weird\\`tick', '\\\"quoted\\\"', 'ключ', 'order', 'from', 'x); DROP TABLE y; --']\n\
cols = {{n: pa.array([i]) for i, n in enumerate(names)}}\n\
cols['st'] = pa.array([{{'location': 'here'}}])\n\
pq.write_table(pa.table(cols), sys.argv[1] + '/h.parquet')\" {d}"
    ));
    let table = unique("hostile");
    let ddl = sh(&format!("hive-ddl -q --table {table} {d}"));
    let out = sh(&format!("{spark} -e \"$(cat <<'SQL'\n{ddl}\nSELECT to_json(struct(*)) FROM `{table}`;\nDROP TABLE `{table}`\nSQL\n)\""));
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "select",
            "a b",
            "weird`tick",
            "\"quoted\"",
            "ключ",
            "order",
            "from",
            "x); DROP TABLE y; --",
            "st"
        ]
    );
    assert_eq!(row["st"]["location"], "here");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_trino_table_over_hdfs() {
    let trino = live_env("LAKEPIPE_TRINO_CLI");
    let hdfs = live_env("LAKEPIPE_HDFS_DFS");
    let nn = live_env("HDFS_NAMENODE");
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let m = format!("{}/m", dir.path().display());
    std::fs::create_dir(&m).unwrap();
    sh(&format!("{py} tests/py/type_matrix.py {m} trino"));
    let name = unique("tm");
    let remote = format!("/lakepipe-tests/{name}");
    sh(&format!(
        "{hdfs} -mkdir -p {remote} && {hdfs} -put {m}/matrix.parquet {remote}/"
    ));
    let ddl = sh(&format!("hive-ddl -q --dialect trino --schema lakepipe_tests --table {name} --location {nn}{remote} {m}"));
    sh(&format!(
        "{trino} --execute \"CREATE SCHEMA IF NOT EXISTS hive.lakepipe_tests WITH (location = '{nn}/lakepipe-tests')\""
    ));
    std::fs::write(format!("{m}.sql"), &ddl).unwrap();
    sh(&format!("{trino} -f {m}.sql"));
    // every value of every column, as JSON built by Trino itself
    // (trino-cli's JSON output cannot serialize arrays: nested values come as JSON text)
    let cols = "b, i8, i16, i32, i64, f32, f64, d_small, d_big, s, to_base64(bin) AS bin, day, \
                to_iso8601(ts_ms) AS ts_ms, to_iso8601(ts_us) AS ts_us, json_format(CAST(l AS JSON)) AS l, \
                json_format(CAST(m AS JSON)) AS m, json_format(CAST(st AS JSON)) AS st, json_format(CAST(deep AS JSON)) AS deep";
    let rows = sh(&format!(
        "{trino} --session hive.timestamp_precision=MICROSECONDS --output-format JSON \
         --execute \"SELECT {cols} FROM hive.lakepipe_tests.{name}\""
    ));
    let rows: String = rows
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            for k in ["l", "m", "st", "deep"] {
                if let Some(text) = v[k].as_str() {
                    v[k] = serde_json::from_str(text).unwrap();
                }
            }
            format!("{v}\n")
        })
        .collect();
    std::fs::write(format!("{m}.trino.jsonl"), rows).unwrap();
    sh(&format!("pq-cat {m} > {m}.ours.jsonl"));
    let cmp = sh_output(&format!(
        "{py} tests/py/same_rows.py {m}.ours.jsonl {m}.trino.jsonl"
    ));
    assert!(
        cmp.status.success(),
        "Trino differs from pq-cat:\n{}\nDDL:\n{ddl}",
        String::from_utf8_lossy(&cmp.stdout)
    );
    sh(&format!(
        "{trino} --execute \"DROP TABLE hive.lakepipe_tests.{name}\""
    ));
}
