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

// ---- the shared Hive metastore (issue 15) ---------------------------------------------

const DB: &str = "lakepipe_tests";

/// JSON lines to Parquet under `url` (pq-write, local or hdfs://) with extra flags.
fn pq_write(lines: &str, flags: &str, url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.jsonl");
    std::fs::write(&f, lines).unwrap();
    sh(&format!("pq-write -q {flags} {url} < {}", f.display()));
}

/// Rows of a Spark SQL query as JSON lines (`to_json(struct(...))`).
fn spark_rows(sql: &str) -> String {
    let spark = live_env("LAKEPIPE_SPARK_SQL");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(&f, sql).unwrap();
    sh(&format!(
        "{spark} --conf spark.sql.session.timeZone=UTC -f {}",
        f.display()
    ))
}

/// Rows of a Trino query (trino-cli JSON lines, one object per row).
fn trino_json(sql: &str) -> String {
    let trino = live_env("LAKEPIPE_TRINO_CLI");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(&f, format!("{sql};\n")).unwrap();
    sh(&format!("{trino} --output-format JSON -f {}", f.display()))
}

fn trino_tsv(sql: &str) -> String {
    let trino = live_env("LAKEPIPE_TRINO_CLI");
    sh(&format!(
        "{trino} --output-format TSV --execute \"$(cat <<'SQL'\n{sql}\nSQL\n)\""
    ))
}

/// Both files hold the same rows (tests/py/same_rows.py), or the test fails showing why.
fn assert_same_rows(what: &str, expected: &str, actual: &str) {
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = (dir.path().join("e.jsonl"), dir.path().join("a.jsonl"));
    std::fs::write(&e, expected).unwrap();
    std::fs::write(&a, actual).unwrap();
    let cmp = sh_output(&format!(
        "{py} tests/py/same_rows.py {} {}",
        e.display(),
        a.display()
    ));
    assert!(
        cmp.status.success(),
        "{what} differs from pq-cat:\n{}",
        String::from_utf8_lossy(&cmp.stdout)
    );
}

/// `hive-ddl --metastore` with the environment's metastore; (stdout, stderr).
fn register(args: &str) -> (String, String) {
    live_env("HIVE_METASTORE");
    let out = sh_output(&format!("hive-ddl --metastore --database {DB} {args}"));
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "hive-ddl --metastore {args} failed:\n{e}"
    );
    (o, e)
}

/// The metastore's view of a table that a rerun must leave alone: its parameters and
/// its partitions (through Trino's hidden tables).
fn metastore_state(table: &str) -> (String, String) {
    let props = trino_tsv(&format!("SELECT * FROM hive.{DB}.\"{table}$properties\""));
    let parts = trino_tsv(&format!(
        "SELECT * FROM hive.{DB}.\"{table}$partitions\" ORDER BY 1"
    ));
    (props, parts)
}

fn events(n: usize, from: usize, days: usize, extra: &str) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"name\":\"n{i}\",\"amount\":{}.5,\"day\":\"2024-01-0{}\"{extra}}}\n",
                i % 7,
                1 + i % days
            )
        })
        .collect()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_metastore_partitions_new_columns_and_idempotent_rerun() {
    let nn = live_env("HDFS_NAMENODE");
    let t = unique("ms_parts");
    let url = format!("{nn}/lakepipe-tests/{t}/");
    pq_write(&events(300, 0, 3, ""), "--partition-by day", &url);
    let (_, err) = register(&format!("--table {t} {url}"));
    assert!(err.contains(&format!("create table {DB}.{t}")), "{err}");
    assert!(err.contains("add 3 partitions"), "{err}");

    // the same rows as pq-cat, through Spark SQL and through Trino
    let ours = sh(&format!("pq-cat {url}"));
    let spark = spark_rows(&format!("SELECT to_json(struct(*)) FROM {DB}.{t}"));
    assert_same_rows("Spark SQL", &ours, &spark);
    let trino = trino_json(&format!("SELECT * FROM hive.{DB}.{t}"));
    assert_same_rows("Trino", &ours, &trino);

    // nothing new: nothing changes (parameters and partitions identical)
    let before = metastore_state(&t);
    let (_, err) = register(&format!("--table {t} {url}"));
    assert!(err.contains("up to date"), "{err}");
    assert_eq!(metastore_state(&t), before);
    let (dry, _) = register(&format!("--dry-run --table {t} {url}"));
    assert_eq!(dry, "", "a dry run with nothing new prints no change");

    // a new partition whose files carry a new column
    pq_write(
        &events(50, 1000, 1, ",\"coupon\":\"c\"").replace("2024-01-01", "2024-01-09"),
        "--partition-by day",
        &url,
    );
    let (dry, _) = register(&format!("--dry-run --table {t} {url}"));
    assert!(
        dry.contains("add column coupon string") && dry.contains("add 1 partitions"),
        "{dry}"
    );
    assert_eq!(metastore_state(&t), before, "a dry run changes nothing");
    let (_, err) = register(&format!("--table {t} {url}"));
    assert!(
        err.contains(&format!("add column coupon string to {DB}.{t}")),
        "{err}"
    );
    assert!(
        err.contains("add 1 partitions") && err.contains("day=2024-01-09"),
        "{err}"
    );
    let counts =
        "SELECT count(*), count(coupon), count_if(coupon IS NULL AND day <> '2024-01-09') FROM";
    assert_eq!(
        spark_rows(&format!("{counts} {DB}.{t}")).trim(),
        "350\t50\t300"
    );
    assert_eq!(
        trino_tsv(&format!("{counts} hive.{DB}.{t}")).trim(),
        "350\t50\t300"
    );
    let ours = sh(&format!("pq-cat {url}"));
    let spark = spark_rows(&format!("SELECT to_json(struct(*)) FROM {DB}.{t}"));
    assert_same_rows("Spark SQL after the new column", &ours, &spark);
    let trino = trino_json(&format!("SELECT * FROM hive.{DB}.{t}"));
    assert_same_rows("Trino after the new column", &ours, &trino);

    // a column whose type changed is an error naming it, both types and a file
    pq_write(
        &events(5, 2000, 1, "").replace("\"amount\":", "\"amount\":\"text\",\"x\":"),
        "--partition-by day",
        &format!("{nn}/lakepipe-tests/{t}-typed/"),
    );
    sh(&format!(
        "{} -cp {nn}/lakepipe-tests/{t}-typed/day=2024-01-01/*.parquet {url}day=2024-01-01/",
        live_env("LAKEPIPE_HDFS_DFS")
    ));
    let out = sh_output(&format!(
        "hive-ddl --metastore --database {DB} --table {t} {url}"
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("'amount'") && err.contains(".parquet"),
        "{err}"
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_metastore_hostile_names_in_both_engines() {
    let py = live_env("LAKEPIPE_PYTHON");
    let nn = live_env("HDFS_NAMENODE");
    let hdfs = live_env("LAKEPIPE_HDFS_DFS");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    sh(&format!(
        "{py} -c \"import pyarrow as pa, pyarrow.parquet as pq, sys\n\
names = ['select', 'a b', 'weird\\`tick', '\\\"quoted\\\"', 'ключ', 'order', 'from', 'x); drop table y; --']\n\
cols = {{n: pa.array([i]) for i, n in enumerate(names)}}\n\
pq.write_table(pa.table(cols), sys.argv[1] + '/h.parquet')\" {d}"
    ));
    let t = unique("ms_hostile");
    let remote = format!("/lakepipe-tests/{t}");
    sh(&format!(
        "{hdfs} -mkdir -p {remote} && {hdfs} -put {d}/h.parquet {remote}/"
    ));
    register(&format!("--table {t} {nn}{remote}"));
    let want = [
        "select",
        "a b",
        "weird`tick",
        "\"quoted\"",
        "ключ",
        "order",
        "from",
        "x); drop table y; --",
    ];
    for (engine, out) in [
        (
            "Spark SQL",
            spark_rows(&format!("SELECT to_json(struct(*)) FROM {DB}.{t}")),
        ),
        ("Trino", trino_json(&format!("SELECT * FROM hive.{DB}.{t}"))),
    ] {
        let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let mut keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort();
        let mut want = want.to_vec();
        want.sort();
        assert_eq!(keys, want, "{engine}");
        assert_eq!(row["x); drop table y; --"], 7, "{engine}: {row}");
    }
}

/// Events whose `request.headers` has hyphenated keys, as the lab's web events do.
fn header_events() -> String {
    (0..20)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"request\":{{\"method\":\"GET\",\"headers\":{{\"X-Forwarded-For\":\"10.0.0.{i}\",\"host\":\"h{i}\"}}}}}}\n"
            )
        })
        .collect()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_hyphenated_nested_keys_give_readable_tables() {
    let nn = live_env("HDFS_NAMENODE");
    let t = unique("headers");
    let url = format!("{nn}/lakepipe-tests/{t}");
    pq_write(&header_events(), "", &format!("{url}/"));
    let want_host: String = (0..20).map(|i| format!("{i}\th{i}\n")).collect();
    let q = |from: &str| format!("SELECT id, request.headers.host FROM {from} ORDER BY id");

    // Hive DDL: the hyphenated field is left out with a warning; Spark reads the rest
    let out = sh_output(&format!("hive-ddl --table {t}_h --database {DB} {url}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("request.headers.X-Forwarded-For"), "{err}");
    let ddl = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!ddl.contains("X-Forwarded-For"), "{ddl}");
    let spark = spark_rows(&format!(
        "CREATE DATABASE IF NOT EXISTS {DB};\n{ddl}\n{};",
        q(&format!("{DB}.{t}_h"))
    ));
    assert_eq!(spark, want_host);

    // Spark dialect: a data-source table that keeps the hyphenated name
    let ddl = sh(&format!(
        "hive-ddl -q --dialect spark --table {t}_s --database {DB} {url}"
    ));
    assert!(ddl.contains("USING parquet"), "{ddl}");
    let spark = spark_rows(&format!(
        "{ddl}\nSELECT id, request.headers.`X-Forwarded-For` FROM {DB}.{t}_s ORDER BY id;"
    ));
    let want_xff: String = (0..20).map(|i| format!("{i}\t10.0.0.{i}\n")).collect();
    assert_eq!(spark, want_xff);

    // Trino DDL: accepted and readable
    let ddl = sh(&format!(
        "hive-ddl -q --dialect trino --schema {DB} --table {t}_t {url}"
    ));
    assert!(!ddl.contains("X-Forwarded-For"), "{ddl}");
    let trino = live_env("LAKEPIPE_TRINO_CLI");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.sql"), &ddl).unwrap();
    sh(&format!("{trino} -f {}/t.sql", dir.path().display()));
    assert_eq!(trino_tsv(&q(&format!("hive.{DB}.{t}_t"))), want_host);

    // --metastore: one table both engines read
    let (_, err) = register(&format!("--table {t}_m {url}"));
    assert!(err.contains("request.headers.X-Forwarded-For"), "{err}");
    assert_eq!(trino_tsv(&q(&format!("hive.{DB}.{t}_m"))), want_host);
    assert_eq!(
        spark_rows(&format!("{};", q(&format!("{DB}.{t}_m")))),
        want_host
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_root_of_table_folders_registers_every_table() {
    let nn = live_env("HDFS_NAMENODE");
    let t = unique("root");
    let root = format!("{nn}/lakepipe-tests/{t}");
    pq_write(
        &events(30, 0, 2, ""),
        "--partition-by day",
        &format!("{root}/purchase_sword/"),
    );
    pq_write(&header_events(), "", &format!("{root}/Join-Guild/"));
    let (_, err) = register(&format!("--table {t}_ {root}"));
    assert!(
        err.contains(&format!("create table {DB}.{t}_purchase_sword")),
        "{err}"
    );
    assert!(
        err.contains(&format!("create table {DB}.{t}_join_guild")),
        "{err}"
    );
    assert_eq!(
        trino_tsv(&format!(
            "SELECT (SELECT count(*) FROM hive.{DB}.{t}_purchase_sword), (SELECT count(*) FROM hive.{DB}.{t}_join_guild)"
        ))
        .trim(),
        "30\t20"
    );
    let (_, err) = register(&format!("--table {t}_ {root}"));
    assert_eq!(err.matches("up to date").count(), 2, "{err}");
}
